"""``hwocr-emulator``: run the emulator from a shell until Ctrl-C or SIGTERM.

Every flag has an environment variable ``HWOCR_EMULATOR_<NAME>`` (the flag's
name upper-cased, dashes as underscores); a flag given on the command line
wins over the variable. Repeatable flags take a comma-separated list in
their variable (``HWOCR_EMULATOR_AK=AK1,AK2``).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import secrets
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from airflow_provider_hwocr.catalog import APIS
from airflow_provider_hwocr.emulator.config import (
    DEFAULT_PROJECT_ID,
    DEFAULT_REGION,
    OCR_ENGINES,
    RESULT_MODES,
    EmulatorConfig,
)
from airflow_provider_hwocr.emulator.ocr import describe_engine
from airflow_provider_hwocr.emulator.server import OcrEmulator

ENV_PREFIX = "HWOCR_EMULATOR_"
_SLUGS = sorted(api.slug for api in APIS)


def _rate(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"a rate is within 0..1, not {text}")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {text}")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port: {text}")
    return value


def _slug(text: str) -> str:
    if text not in _SLUGS:
        raise argparse.ArgumentTypeError(f"unknown API {text!r}; known: {', '.join(_SLUGS)}")
    return text


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise argparse.ArgumentTypeError(f"not a yes/no value: {text!r}")


# (flag, type, default, help, extra argparse keywords); the variable name comes from the flag.
_OPTIONS: tuple[tuple[str, Callable[[str], Any] | None, Any, str, dict[str, Any]], ...] = (
    ("--host", str, "127.0.0.1", "address to listen on (loopback only unless --allow-remote)", {}),
    ("--allow-remote", None, False, "allow a --host that is not a loopback address", {"action": "store_true"}),
    ("--port", _port, 0, "port to listen on (0 = a free port)", {}),
    ("--ak", str, [], "access key accepted for AK/SK signatures (repeatable; pairs with --sk)",
     {"action": "append"}),
    ("--sk", str, [], "secret key of the --ak at the same position (repeatable)", {"action": "append"}),
    ("--temp-key", str, [], "temporary credentials AK:SK:SECURITY_TOKEN (repeatable)",
     {"action": "append", "metavar": "AK:SK:TOKEN"}),
    ("--project-id", str, None, f"project id of the emulated account (default: {DEFAULT_PROJECT_ID})", {}),
    ("--region", str, None, ("play this region: APIs the vendor's endpoint tables do not offer there are answered "
     f"404 APIG.0101, as the service does (default: every live API, as region {DEFAULT_REGION}); also the IAM "
     "project name"), {}),
    ("--iam-user", str, [], "IAM user allowed to get a token (repeatable)",
     {"action": "append", "metavar": "DOMAIN:USER:PASSWORD"}),
    ("--token-lifetime", _positive, 86400.0, "lifetime of issued IAM tokens, seconds", {}),
    ("--latency-ms", _non_negative, 0.0, "added to every OCR request past the gateway, ms", {}),
    ("--jitter-ms", _non_negative, 0.0, "random extra latency, uniform in [0, N] ms", {}),
    ("--qps", _positive, None, "requests per second allowed per API; beyond: 429 APIG.0308", {}),
    ("--qps-api", str, [], "limit of one API, overriding --qps (repeatable)",
     {"action": "append", "metavar": "SLUG=N"}),
    ("--error-500-rate", _rate, 0.0, "share of valid requests answered 500 ModelArts.4505", {}),
    ("--error-503-rate", _rate, 0.0, "share of valid requests answered 503 ModelArts.4403", {}),
    ("--drop-rate", _rate, 0.0, "share of valid requests whose connection is closed unanswered", {}),
    ("--slow-rate", _rate, 0.0, "share of valid requests answered after --slow-seconds", {}),
    ("--slow-seconds", _non_negative, 30.0, "delay of a slow reply, seconds", {}),
    ("--truncate-rate", _rate, 0.0, "share of valid requests whose 200 body is cut in half", {}),
    ("--misread-rate", _rate, 0.0, ("share of documents with one scored field misread (a digit changed, a low "
     "confidence), for a review gate to catch"), {}),
    ("--false-alarm-rate", _rate, 0.0, "share of correctly read scored fields given a lowish confidence", {}),
    ("--not-subscribed", _slug, [], "API answered 403 ModelArts.4204 (repeatable)",
     {"action": "append", "metavar": "SLUG"}),
    ("--serve-retired", _slug, [], ("retired or removed API answered anyway, as for an account the vendor still "
     "serves (repeatable; the others get 404 APIG.0101)"), {"action": "append", "metavar": "SLUG"}),
    ("--lockout-seconds", _non_negative, 300.0, "how long more than 5 AK/SK failures in a row lock the key", {}),
    ("--seed", int, None, "seed of the random faults and jitter (reproducible runs)", {}),
    ("--ocr", str, "auto", "text reader: tesserocr, else the tesseract binary (auto); or one of them, or synthetic",
     {"choices": OCR_ENGINES}),
    ("--results", str, "computed", "computed from the image, or each API's documented example",
     {"choices": RESULT_MODES}),
)  # fmt: skip


def env_name(flag: str) -> str:
    return ENV_PREFIX + flag.lstrip("-").upper().replace("-", "_")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hwocr-emulator",
        description="Local Huawei Cloud OCR service: every live API of the catalog, one region or all, AK/SK "
        "(with the gateway's lockout) and IAM token auth, real OCR (Tesseract in-process, RapidOCR for Chinese "
        "documents, from pip), latency, throttling and fault injection.",
        epilog=f"Every flag can also be set with an environment variable {ENV_PREFIX}<FLAG> "
        f"(e.g. {env_name('--latency-ms')}=200); repeatable flags take a comma-separated list there.",
    )
    for flag, kind, _, help_text, extra in _OPTIONS:
        kwargs: dict[str, Any] = {"help": f"{help_text} [env {env_name(flag)}]", "default": None, **extra}
        if kind is not None:
            kwargs["type"] = kind
        p.add_argument(flag, **kwargs)
    return p


def _env_parts(raw: str, action: str | None) -> list[str]:
    """A repeatable flag's variable holds a comma-separated list; any other, one value."""
    if action == "append":
        return [x.strip() for x in raw.split(",") if x.strip()]
    return [raw]


def _env_value(
    p: argparse.ArgumentParser, flag: str, kind: Callable[[str], Any] | None, extra: dict[str, Any], raw: str
) -> Any:
    """The value of ``flag``'s variable, converted and checked like the flag (``p.error`` if it is not)."""
    action = extra.get("action")
    convert = _bool if action == "store_true" else (kind or str)
    try:
        converted = [convert(x) for x in _env_parts(raw, action)]
    except (ValueError, argparse.ArgumentTypeError) as exc:
        p.error(f"{env_name(flag)}: {exc}")
    if "choices" in extra and any(c not in extra["choices"] for c in converted):
        p.error(f"{env_name(flag)} must be one of {', '.join(extra['choices'])}")
    return converted if action == "append" else converted[0]


def _from_env(p: argparse.ArgumentParser, env: Mapping[str, str]) -> dict[str, Any]:
    """Each option's value from its environment variable, converted and checked like the flag."""
    values: dict[str, Any] = {}
    for flag, kind, default, _, extra in _OPTIONS:
        dest = flag.lstrip("-").replace("-", "_")
        raw = env.get(env_name(flag))
        # An empty variable is unset, except a yes/no one (empty means no).
        if raw is None or (raw == "" and extra.get("action") != "store_true"):
            values[dest] = list(default) if isinstance(default, list) else default
        else:
            values[dest] = _env_value(p, flag, kind, extra, raw)
    return values


def parse(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> argparse.Namespace:
    """Flags over environment variables over defaults."""
    p = parser()
    args = p.parse_args(argv)
    for dest, value in _from_env(p, os.environ if env is None else env).items():
        given = getattr(args, dest)
        if given is None or (dest == "allow_remote" and given is False):
            setattr(args, dest, value)
    return args


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _temporary_keys(p: argparse.ArgumentParser, specs: Sequence[str]) -> dict[str, tuple[str, str]]:
    """``--temp-key AK:SK:TOKEN`` (the token may hold colons) -> {AK: (SK, TOKEN)}."""
    temporary = {}
    for spec in specs:
        parts = spec.split(":", 2)
        if len(parts) != 3 or not all(parts):
            p.error(f"--temp-key wants AK:SK:TOKEN, got {spec.split(':', 1)[0]!r}:...")
        temporary[parts[0]] = (parts[1], parts[2])
    return temporary


def _iam_users(p: argparse.ArgumentParser, specs: Sequence[str]) -> dict[tuple[str, str], str]:
    """``--iam-user DOMAIN:USER:PASSWORD`` (the password may hold colons) -> {(DOMAIN, USER): PASSWORD}."""
    users = {}
    for spec in specs:
        domain, sep1, rest = spec.partition(":")
        user, sep2, password = rest.partition(":")
        if not (sep1 and sep2 and domain and user and password):
            p.error(f"--iam-user wants DOMAIN:USER:PASSWORD, got {domain!r}:...")
        users[(domain, user)] = password
    return users


def _qps_limits(p: argparse.ArgumentParser, specs: Sequence[str]) -> dict[str, float]:
    """``--qps-api SLUG=N`` -> {SLUG: N}."""
    limits = {}
    for spec in specs:
        slug, sep, value = spec.partition("=")
        try:
            limits[_slug(slug)] = _positive(value)
        except (ValueError, argparse.ArgumentTypeError) as exc:
            p.error(f"--qps-api {spec!r}: {exc}" if sep else f"--qps-api wants SLUG=N, got {spec!r}")
    return limits


def config_from_args(args: argparse.Namespace, p: argparse.ArgumentParser | None = None) -> EmulatorConfig:
    """The :class:`EmulatorConfig` the parsed options describe (``p.error`` on a bad combination)."""
    p = p or parser()
    if not _is_loopback(args.host) and not args.allow_remote:
        p.error(f"--host {args.host} is not a loopback address; add --allow-remote to serve other machines")
    if len(args.ak) != len(args.sk):
        p.error("--ak and --sk go in pairs: give as many of each")
    temporary = _temporary_keys(p, args.temp_key)
    iam_users = _iam_users(p, args.iam_user)
    qps_limits = _qps_limits(p, args.qps_api)
    try:
        return EmulatorConfig(
            credentials=dict(zip(args.ak, args.sk)),
            temporary_credentials=temporary,
            project_id=args.project_id or DEFAULT_PROJECT_ID,
            region=args.region or DEFAULT_REGION,
            region_only=args.region is not None,
            serve_retired=set(args.serve_retired),
            lockout_seconds=args.lockout_seconds,
            iam_users=iam_users,
            token_lifetime=args.token_lifetime,
            not_subscribed=set(args.not_subscribed),
            latency_ms=args.latency_ms,
            latency_jitter_ms=args.jitter_ms,
            qps_limit=args.qps,
            qps_limits=qps_limits,
            error_500_rate=args.error_500_rate,
            error_503_rate=args.error_503_rate,
            drop_rate=args.drop_rate,
            slow_rate=args.slow_rate,
            slow_reply_seconds=args.slow_seconds,
            truncate_rate=args.truncate_rate,
            misread_rate=args.misread_rate,
            false_alarm_rate=args.false_alarm_rate,
            seed=args.seed,
            ocr_engine=args.ocr,
            results=args.results,
        )
    except (ValueError, KeyError) as exc:
        p.error(str(exc))
    raise AssertionError("unreachable")  # p.error exits


def _key_lines(config: EmulatorConfig, generated_key: bool) -> list[str]:
    """The accepted keys and IAM users; a secret key only if it was generated (the caller needs it)."""
    lines = []
    for ak, sk in config.credentials.items():
        if generated_key:  # the caller needs it; a key the caller chose is not echoed
            lines.append(f"  AK/SK: {ak} / {sk}  (generated; choose your own with --ak/--sk)")
        else:
            lines.append(f"  AK: {ak}")
    lines.extend(f"  temporary AK: {ak} (needs its X-Security-Token)" for ak in config.temporary_credentials)
    lines.extend(f"  IAM user: {domain}/{user}" for domain, user in config.iam_users)
    return lines


def _timing_knobs(config: EmulatorConfig) -> list[str]:
    """Latency and QPS limits."""
    knobs = []
    if config.latency_ms or config.latency_jitter_ms:
        knobs.append(f"latency {config.latency_ms:g} ms + up to {config.latency_jitter_ms:g} ms")
    if config.qps_limit is not None:
        knobs.append(f"{config.qps_limit:g} requests/s per API")
    knobs.extend(f"{slug} {qps:g} requests/s" for slug, qps in sorted(config.qps_limits.items()))
    return knobs


def _fault_knobs(config: EmulatorConfig) -> list[str]:
    """The injected faults' rates, and how long a slow reply takes."""
    knobs = [f"{kind} {rate:g}" for kind, rate in config.fault_rates().items() if rate]
    if config.slow_rate:
        knobs.append(f"slow replies take {config.slow_reply_seconds:g} s")
    if config.misread_rate:
        knobs.append(f"misreads {config.misread_rate:g} of documents")
    if config.false_alarm_rate:
        knobs.append(f"false alarms {config.false_alarm_rate:g} of fields")
    return knobs


def _account_knobs(config: EmulatorConfig) -> list[str]:
    """APIs not subscribed, retired APIs served, the faults' seed, a token lifetime other than IAM's 24 h."""
    knobs = []
    if config.not_subscribed:
        knobs.append(f"not subscribed: {', '.join(sorted(config.not_subscribed))}")
    if config.serve_retired:
        knobs.append(f"retired but served: {', '.join(sorted(config.serve_retired))}")
    if config.seed is not None:
        knobs.append(f"seed {config.seed}")
    if config.token_lifetime != 86400:
        knobs.append(f"tokens last {config.token_lifetime:g} s")
    return knobs


def _behaviour(config: EmulatorConfig) -> str:
    knobs = [*_timing_knobs(config), *_fault_knobs(config), *_account_knobs(config)]
    return "; ".join(knobs) if knobs else "no latency, no limits, no faults"


def banner(emulator: OcrEmulator, generated_key: bool) -> list[str]:
    """What the emulator prints at start-up; the first line holds the URL."""
    config = emulator.config
    where = (
        f"region {config.region} (only the APIs its endpoint tables list)"
        if config.region_only
        else f"every live API, as region {config.region} (--region R plays one region)"
    )
    return [
        f"Huawei OCR emulator listening on {emulator.url}",
        f"  {where}, project id {config.project_id}",
        f"  OCR path: {emulator.url}/v2/{config.project_id}/ocr/<api>  (IAM: {emulator.url}/v3/auth/tokens)",
        *_key_lines(config, generated_key),
        f"  {describe_engine(emulator.reader, config.results)}",
        f"  behaviour: {_behaviour(config)}",
        f"  stats: GET {emulator.url}/_emulator/stats, reset: POST {emulator.url}/_emulator/reset",
        "  Ctrl-C to stop",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = parse(argv)
    generated = not args.ak and not args.temp_key and not args.iam_user
    if generated:
        args.ak, args.sk = ["EMU" + secrets.token_hex(8).upper()], [secrets.token_urlsafe(30)]
    config = config_from_args(args, p)
    if args.allow_remote and not _is_loopback(args.host):
        print(f"warning: serving on {args.host}: other machines can reach this emulator", file=sys.stderr)
    try:
        emulator = OcrEmulator(config, host=args.host, port=args.port)
        emulator.start()
    except (OSError, RuntimeError) as exc:
        print(f"hwocr-emulator: cannot start: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print("\n".join(banner(emulator, generated)), flush=True)
        while not stop.wait(3600):
            pass
        print("stopping", file=sys.stderr, flush=True)
    finally:
        emulator.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
