"""``hwocr-object-server``: the local OBS-compatible object server, from a shell.

Runs :func:`airflow_provider_hwocr.testing.local_object_server` (moto's S3
server) on 127.0.0.1 until Ctrl-C or SIGTERM, optionally creates buckets, and
prints the connection extras (and a whole ``AIRFLOW_CONN_...`` value) that
point a ``huaweicloud_ocr`` connection at it. Next to ``hwocr-emulator``, that
is a complete offline stand-in for OCR plus OBS::

    hwocr-emulator --ak MYAK --sk MYSECRETKEY &
    hwocr-object-server --bucket hwocr-demo --ak MYAK --sk MYSECRETKEY

The first line printed holds the URL; a later one a whole ``AIRFLOW_CONN_...``
export that works when pasted into a shell (with ``--sk`` given, it holds that
SK: these are the local stand-ins' keys, never give it a real one). moto does
not check signatures, so any AK/SK works against it; give the emulator's so one
connection serves both. Needs moto: the ``object-server`` extra
(``pip install "airflow-provider-hwocr[object-server]"``); without it the
command says so in one line and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from airflow_provider_hwocr.testing.connections import local_connection, object_server_extras
from airflow_provider_hwocr.testing.object_server import local_object_server, require_moto

_PLACEHOLDER_AK = "LOCALOBJECTSERVERAK"
_PLACEHOLDER_SK = "local-object-server-secret-key"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hwocr-object-server",
        description="Local OBS-compatible object server (moto, S3 API) on 127.0.0.1, "
        "with the huaweicloud_ocr connection extras to use it.",
        epilog='Needs the object-server extra: pip install "airflow-provider-hwocr[object-server]".',
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the epilog's command on one line
    )
    p.add_argument("--port", type=int, default=0, help="port to listen on (0 = a free port)")
    p.add_argument(
        "--bucket", action="append", default=[], help="create this bucket at start-up (repeatable)"
    )
    p.add_argument("--ak", default=None, help="AK to put in the printed connection (not checked)")
    p.add_argument(
        "--sk",
        default=None,
        help="SK to put in the printed connection (not checked here; the emulator checks it). "
        "Printed as given: use local keys only",
    )
    p.add_argument(
        "--ocr-endpoint",
        default=None,
        help="OCR endpoint for the printed connection (e.g. the hwocr-emulator URL)",
    )
    p.add_argument("--region", default="ap-southeast-1", help="region for the printed connection")
    p.add_argument("--project-id", default=None, help="project id for the printed connection")
    return p


def connection(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """A ``huaweicloud_ocr`` connection (``AIRFLOW_CONN_*`` JSON form) using the server for OBS."""
    return local_connection(
        ak=args.ak or _PLACEHOLDER_AK,
        sk=args.sk or _PLACEHOLDER_SK,
        region=args.region,
        project_id=args.project_id,
        ocr_endpoint=args.ocr_endpoint,
        obs_endpoint=url,
    )


def _create_buckets(url: str, names: Sequence[str], ak: str, sk: str) -> None:
    from obs import ObsClient

    client = ObsClient(
        access_key_id=ak,
        secret_access_key=sk,
        server=url,
        signature="v2",
        path_style=True,
        is_secure=False,
        max_retry_count=0,
    )
    try:
        for name in names:
            resp = client.createBucket(name)
            if resp.status >= 300:
                raise SystemExit(f"hwocr-object-server: cannot create bucket {name!r}: {resp.errorMessage}")
    finally:
        client.close()


def export_line(conn: dict[str, Any]) -> str:
    """``export AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT='...'``, quoted for a POSIX shell."""
    return f"export AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT={shlex.quote(json.dumps(conn))}"


def banner(url: str, args: argparse.Namespace) -> list[str]:
    # The connection as it works, SK included: a placeholder (as before) could not be pasted.
    # The SK is the local stand-ins' key the caller typed on this command line.
    conn = connection(url, args)
    lines = [
        f"Local object server (OBS/S3 API) listening on {url}",
        "  connection extras for the OBS side: " + json.dumps(object_server_extras(url)),
        "  whole connection (paste it into a shell):",
        "  " + export_line(conn),
    ]
    if not args.ak:
        lines.append("  (AK/SK above are placeholders: the server does not check signatures)")
    if args.bucket:
        lines.append(f"  buckets: {', '.join(args.bucket)}")
    lines.append("  Ctrl-C or SIGTERM stops it; objects live in memory only.")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser().error(f"not a port: {args.port}")
    try:
        require_moto()
    except ModuleNotFoundError as exc:
        print(f"hwocr-object-server: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def _stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    # No request log: it would be noise, and its lines carry signed URLs' signatures.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with local_object_server(port=args.port) as url:
        if args.bucket:
            _create_buckets(url, args.bucket, args.ak or _PLACEHOLDER_AK, args.sk or _PLACEHOLDER_SK)
        for line in banner(url, args):
            print(line, flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
