"""``python -m airflow_provider_hwocr.emulator``: run the emulator until Ctrl-C."""

from __future__ import annotations

import argparse
import secrets
import sys
import threading

from airflow_provider_hwocr.emulator.config import EmulatorConfig
from airflow_provider_hwocr.emulator.server import OcrEmulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hwocr-emulator",
        description="Local stand-in for the Huawei Cloud OCR service (AK/SK and IAM token auth).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free port)")
    parser.add_argument("--ak", help="access key accepted for AK/SK signatures")
    parser.add_argument("--sk", help="secret key of --ak")
    parser.add_argument(
        "--project-id", default=None, help="project id of the emulated account (default: random)"
    )
    parser.add_argument("--region", default="ap-southeast-1", help="region / IAM project name")
    parser.add_argument(
        "--iam-user",
        action="append",
        default=[],
        metavar="DOMAIN:USER:PASSWORD",
        help="IAM user allowed to get a token (repeatable)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if (args.ak is None) != (args.sk is None):
        _parser().error("--ak and --sk go together")
    iam_users = {}
    for spec in args.iam_user:
        domain, sep1, rest = spec.partition(":")
        user, sep2, password = rest.partition(":")
        if not (sep1 and sep2 and domain and user and password):
            _parser().error(f"--iam-user wants DOMAIN:USER:PASSWORD, got {spec!r}")
        iam_users[(domain, user)] = password
    config = EmulatorConfig(
        credentials={args.ak: args.sk} if args.ak else {},
        project_id=args.project_id or secrets.token_hex(16),
        region=args.region,
        iam_users=iam_users,
    )
    emulator = OcrEmulator(config, host=args.host, port=args.port).start()
    print(f"Huawei OCR emulator listening on {emulator.url}", flush=True)
    print(f"  region {config.region}, project id {config.project_id}", flush=True)
    print(f"  OCR path: {emulator.url}/v2/{config.project_id}/ocr/<api>", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
