"""What one emulated account looks like: keys, project, region, IAM users, limits."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.catalog.invoice_rules import ISSUE_DATES

#: The service refuses request bodies above 10 MB (ModelArts.4104).
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024

#: The region an emulator plays unless told otherwise: the vendor's main mainland region
#: (Beijing4), the region the docs use. ``hwocr-object-server`` prints it in its connection.
DEFAULT_REGION = "cn-north-4"
#: The emulated account's project id unless told otherwise (32 lowercase hex, as real ones are);
#: fixed, so that a connection printed elsewhere (``hwocr-object-server``) can name it.
DEFAULT_PROJECT_ID = "0123456789abcdef0123456789abcdef"

#: ``results``: compute answers from the image, or send the documented examples verbatim.
RESULT_MODES = ("computed", "documented")
#: ``ocr_engine``: ``auto`` uses Tesseract in-process (tesserocr), else the tesseract binary, else the
#: synthetic reader; Chinese documents (the mainland APIs) are read with RapidOCR where it is installed.
OCR_ENGINES = ("auto", "rapidocr", "tesserocr", "tesseract", "synthetic")
#: Names of the injected fault kinds, in the order their rates are drawn.
FAULT_KINDS = ("error_500", "error_503", "drop", "slow", "truncate")

#: Fields that describe how the service behaves (not who the account is). A
#: test may change them on a running emulator; ``OcrEmulator.reset`` restores
#: the values they had when the emulator was built.
BEHAVIOUR_FIELDS = (
    "not_subscribed",
    "serve_retired",
    "region_only",
    "results",
    "ocr_engine",
    "latency_ms",
    "latency_jitter_ms",
    "qps_limit",
    "qps_limits",
    "error_500_rate",
    "error_503_rate",
    "drop_rate",
    "slow_rate",
    "slow_reply_seconds",
    "truncate_rate",
    "misread_rate",
    "false_alarm_rate",
    "seed",
)


def _finite(value: object) -> bool:
    """A finite int or float (a bool counts, as it is an int)."""
    return isinstance(value, (int, float)) and math.isfinite(value)


def _whole_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _non_negative(value: Any) -> bool:
    return _finite(value) and value >= 0


#: The scalar knobs' rules, in the order they are checked: (field, check, what the value must be).
_KNOB_RULES: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("lockout_failures", _whole_number, "a whole number >= 1"),
    ("invoice_checks_per_day", _whole_number, "a whole number >= 1"),
    ("results", RESULT_MODES.__contains__, f"one of {RESULT_MODES}"),
    ("ocr_engine", OCR_ENGINES.__contains__, f"one of {OCR_ENGINES}"),
    ("latency_ms", _non_negative, "a number >= 0"),
    ("latency_jitter_ms", _non_negative, "a number >= 0"),
    ("slow_reply_seconds", _non_negative, "a number >= 0"),
    ("lockout_seconds", _non_negative, "a number >= 0"),
    ("misread_rate", lambda v: _finite(v) and 0 <= v <= 1, "within 0..1"),
    ("false_alarm_rate", lambda v: _finite(v) and 0 <= v <= 1, "within 0..1"),
)


@dataclass
class EmulatorConfig:
    """Settings of an :class:`~airflow_provider_hwocr.emulator.OcrEmulator`.

    Mutable on purpose: a test may change ``not_subscribed`` or ``clock_skew``
    on a running emulator. :meth:`OcrEmulator.reset` puts ``not_subscribed``
    back to its value at construction.
    """

    #: Permanent access keys: AK -> SK.
    credentials: dict[str, str] = field(default_factory=dict)
    #: Temporary access keys: AK -> (SK, security token). Requests signed with
    #: these must carry the token in a signed ``X-Security-Token`` header.
    temporary_credentials: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: The account's project id for ``region`` (32 lowercase hex in real life).
    project_id: str = DEFAULT_PROJECT_ID
    #: The region this endpoint pretends to be; also the IAM project name.
    region: str = DEFAULT_REGION
    #: Play ``region`` as the vendor does: an API its endpoint tables do not offer there is
    #: answered 404 APIG.0101, as the service answers a path it does not serve. Off (the
    #: default): every live API is served, whatever the region (one emulator for all regions;
    #: cn-north-4's tables leave out a dozen international ones, which the demo and tests call).
    region_only: bool = False
    #: Retired or removed APIs answered anyway (an account the vendor still serves); the others
    #: get 404 APIG.0101, as a withdrawn API does.
    serve_retired: set[str] = field(default_factory=set)
    #: IAM users allowed to get a token: (domain_name, user_name) -> password.
    iam_users: dict[tuple[str, str], str] = field(default_factory=dict)
    #: Lifetime of issued IAM tokens, in seconds (the real service: 24 h).
    token_lifetime: float = 86400.0
    #: Largest accepted difference between ``X-Sdk-Date`` and the clock, seconds.
    clock_skew: float = 900.0
    #: More than this many AK/SK failures in a row lock the access key (APIG.0301 even for a
    #: right signature) for ``lockout_seconds``, as the gateway does (5 failures, 5 minutes).
    lockout_failures: int = 5
    lockout_seconds: float = 300.0
    #: invoice-verification: checks of one invoice allowed per China day (the tax authority's, in
    #: the catalog: 5).
    invoice_checks_per_day: int = ISSUE_DATES.checks_per_invoice_per_day
    #: Slugs of the APIs this account has not subscribed to (ModelArts.4204).
    not_subscribed: set[str] = field(default_factory=set)
    #: Timeout, in seconds, for downloading images given by ``url``.
    fetch_timeout: float = 10.0
    #: Bodies above this size are refused with ModelArts.4104.
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    #: Bodies announced above this size are refused without being read, and
    #: the connection is closed.
    max_read_bytes: int = 64 * 1024 * 1024
    #: How many recent calls :meth:`OcrEmulator.calls` keeps (None = all); each
    #: keeps its body, images included. Counters and stats count every call.
    max_recorded_calls: int | None = 1_000
    #: How many (start, end, status) timestamps ``stats()["timestamps"]`` keeps per API.
    max_timestamps: int = 2_000

    # --- what answers look like ------------------------------------------------
    #: ``computed``: answers read from the image (see :mod:`.results`), the
    #: documented example fitted to the image where nothing can be read.
    #: ``documented``: every API sends its documented example verbatim.
    results: str = "computed"
    #: ``auto``, ``tesserocr`` or ``tesseract`` (fail at start-up when missing) or ``synthetic``.
    ocr_engine: str = "auto"

    # --- service behaviour knobs ---------------------------------------------------
    #: Added to every OCR request that gets past the gateway (auth, throttling).
    latency_ms: float = 0.0
    #: A uniform random extra delay in [0, latency_jitter_ms] on top of ``latency_ms``.
    latency_jitter_ms: float = 0.0
    #: Requests per second allowed per API (token bucket, burst = one second's
    #: worth); beyond it: HTTP 429 APIG.0308. None = unlimited.
    qps_limit: float | None = None
    #: Per-API overrides of ``qps_limit``: slug -> requests per second.
    qps_limits: dict[str, float] = field(default_factory=dict)
    #: Probability, per valid request, of each injected fault. Their sum must be <= 1.
    #: 500 ModelArts.4505.
    error_500_rate: float = 0.0
    #: 503 ModelArts.4403.
    error_503_rate: float = 0.0
    #: The connection is closed without an answer.
    drop_rate: float = 0.0
    #: The answer (a normal one) comes after ``slow_reply_seconds``.
    slow_rate: float = 0.0
    slow_reply_seconds: float = 30.0
    #: A 200 whose body stops half-way and whose connection is then closed.
    truncate_rate: float = 0.0
    #: Share of documents (pages) with one scored field misread: a digit changed, a low
    #: confidence (``emulator/misreads.py`` models the confidences), so a review gate has
    #: something to catch.
    misread_rate: float = 0.0
    #: Share of correctly read scored fields given a lowish confidence (false alarms).
    false_alarm_rate: float = 0.0
    #: Seed of the random faults and jitter; the same seed and the same
    #: sequence of requests give the same faults. None = unpredictable. Misreads depend
    #: on it and on the image alone (None is a seed of its own there: still reproducible).
    seed: int | None = None

    def __post_init__(self) -> None:
        if not self.project_id or "/" in self.project_id:
            raise ValueError(f"invalid project_id {self.project_id!r}")
        self.not_subscribed = set(self.not_subscribed)
        self.serve_retired = set(self.serve_retired)
        self.qps_limits = dict(self.qps_limits)
        self.check_behaviour()
        for ak, value in self.temporary_credentials.items():
            if not (isinstance(value, tuple) and len(value) == 2):
                raise ValueError(f"temporary_credentials[{ak!r}] must be (sk, security_token)")

    def check_behaviour(self) -> None:
        """Raise ``ValueError`` (``KeyError`` for an unknown slug) if a behaviour knob is out of range."""
        for slug in (*self.not_subscribed, *self.qps_limits, *self.serve_retired):
            get_api(slug)  # raises KeyError for unknown slugs
        for name, acceptable, what in _KNOB_RULES:
            value = getattr(self, name)
            if not acceptable(value):
                raise ValueError(f"{name} must be {what}, not {value!r}")
        self._check_qps_limits()
        self._check_fault_rates()

    def _check_qps_limits(self) -> None:
        limits = dict(self.qps_limits)
        if self.qps_limit is not None:
            limits["*"] = self.qps_limit
        for slug, qps in limits.items():
            if not (_finite(qps) and qps > 0):
                raise ValueError(f"QPS limit of {slug} must be a number > 0, not {qps!r}")

    def _check_fault_rates(self) -> None:
        rates = self.fault_rates()
        for kind, rate in rates.items():
            if not (isinstance(rate, (int, float)) and 0 <= rate <= 1):
                raise ValueError(f"{kind}_rate must be within 0..1, not {rate!r}")
        if sum(rates.values()) > 1 + 1e-9:
            raise ValueError("the fault rates add up to more than 1")

    def fault_rates(self) -> dict[str, float]:
        """Rate of each injected fault kind, keyed by the names in ``FAULT_KINDS``."""
        return {kind: getattr(self, f"{kind}_rate") for kind in FAULT_KINDS}

    def qps_for(self, slug: str) -> float | None:
        """The requests-per-second limit of API ``slug`` (None = unlimited)."""
        return self.qps_limits.get(slug, self.qps_limit)

    def secret_for(self, ak: str) -> tuple[str, str | None] | None:
        """(SK, required security token or None) for ``ak``, or None if unknown."""
        if ak in self.credentials:
            return self.credentials[ak], None
        if ak in self.temporary_credentials:
            sk, token = self.temporary_credentials[ak]
            return sk, token
        return None
