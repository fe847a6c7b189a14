"""``hwocr-object-server``: the local OBS-compatible object server, from a shell.

Runs :func:`airflow_provider_hwocr.testing.local_object_server` (moto's S3
server) on 127.0.0.1 until Ctrl-C or SIGTERM, optionally creates buckets, and
prints the connection extras (and a whole ``AIRFLOW_CONN_...`` value) that
point a ``huaweicloud_ocr`` connection at it. Next to ``hwocr-emulator``, that
is a complete offline stand-in for OCR plus OBS::

    hwocr-emulator --port 8790 --ak MYAK --sk MYSECRETKEY &
    hwocr-object-server --bucket hwocr-demo --ak MYAK --sk MYSECRETKEY --ocr-endpoint http://127.0.0.1:8790

The first line printed holds the URL; a later one a whole ``AIRFLOW_CONN_...``
export that works when pasted into a shell (with ``--sk`` given, it holds that
SK: these are the local stand-ins' keys, never give it a real one). Its region
and project id are the emulator's defaults (cn-north-4 and
``0123456789abcdef0123456789abcdef``), so with the emulator's URL as
``--ocr-endpoint`` the connection passes ``airflow connections test``. moto
does not check signatures, so any AK/SK works against it; give the emulator's so
one connection serves both. Needs moto: the ``object-server`` extra
(``pip install "airflow-provider-hwocr[object-server]"``); without it the
command says so in one line and exits with status 2.

``hwocr-object-server upload FILE obs://BUCKET/KEY`` puts a file on a running
server (the one of ``--endpoint URL``, else the ``obs_endpoint`` of the pasted
connection); it needs no moto.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import mimetypes
import os
import shlex
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_hwocr.testing.connections import (
    LOCAL_PROJECT_ID,
    LOCAL_REGION,
    local_connection,
    object_server_extras,
)
from airflow_provider_hwocr.testing.object_server import local_object_server, require_moto

_PLACEHOLDER_AK = "LOCALOBJECTSERVERAK"
_PLACEHOLDER_SK = "local-object-server-secret-key"
#: The connection the printed ``export`` line sets, and its id for ``airflow connections test``.
CONN_ENV = "AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT"
CONN_ID = "huaweicloud_ocr_default"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hwocr-object-server",
        description="Local OBS-compatible object server (moto, S3 API) on 127.0.0.1, "
        "with the huaweicloud_ocr connection extras to use it.",
        epilog='Needs the object-server extra: pip install "airflow-provider-hwocr[object-server]".\n'
        "To put a file on a running server: hwocr-object-server upload FILE obs://BUCKET/KEY (upload --help).",
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the epilog's commands on a line each
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
    p.add_argument(
        "--region",
        default=LOCAL_REGION,
        help=f"region for the printed connection (default: {LOCAL_REGION}, as hwocr-emulator plays)",
    )
    p.add_argument(
        "--project-id",
        default=LOCAL_PROJECT_ID,
        help=f"project id for the printed connection (default: {LOCAL_PROJECT_ID}, hwocr-emulator's)",
    )
    return p


def connection(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """A ``huaweicloud_ocr`` connection (``AIRFLOW_CONN_*`` JSON form) using the server for OBS."""
    return local_connection(
        ak=args.ak or _PLACEHOLDER_AK,
        sk=args.sk or _PLACEHOLDER_SK,
        region=args.region,
        project_id=args.project_id or None,  # --project-id "": left out
        ocr_endpoint=args.ocr_endpoint,
        obs_endpoint=url,
    )


def _client(url: str, ak: str = _PLACEHOLDER_AK, sk: str = _PLACEHOLDER_SK) -> Any:
    """An OBS SDK client for the local server at ``url`` (path-style, SigV2, no retries)."""
    from obs import ObsClient

    return ObsClient(
        access_key_id=ak,
        secret_access_key=sk,
        server=url,
        signature="v2",
        path_style=True,
        is_secure=False,
        max_retry_count=0,
    )


def _create_buckets(url: str, names: Sequence[str], ak: str, sk: str) -> None:
    client = _client(url, ak, sk)
    try:
        for name in names:
            resp = client.createBucket(name)
            if resp.status >= 300:
                raise SystemExit(f"hwocr-object-server: cannot create bucket {name!r}: {resp.errorMessage}")
    finally:
        client.close()


def export_line(conn: dict[str, Any]) -> str:
    """``export AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT='...'``, quoted for a POSIX shell."""
    return f"export {CONN_ENV}={shlex.quote(json.dumps(conn))}"


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
    if args.ocr_endpoint:
        lines.append(
            f"  test it (needs hwocr-emulator at {args.ocr_endpoint} with the same AK/SK): "
            f"AIRFLOW__CORE__TEST_CONNECTION=Enabled airflow connections test {CONN_ID}"
        )
    else:
        lines.append(
            "  (no --ocr-endpoint: OCR and IAM would go to Huawei Cloud; give the hwocr-emulator URL)"
        )
    if not args.ak:
        lines.append("  (AK/SK above are placeholders: the server does not check signatures)")
    if args.bucket:
        lines.append(f"  buckets: {', '.join(args.bucket)}")
    lines.append("  Ctrl-C or SIGTERM stops it; objects live in memory only.")
    return lines


# --- upload: a file onto a running server ----------------------------------------------------


def upload_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hwocr-object-server upload",
        description="Put a file on a running local object server (hwocr-object-server), "
        "e.g. a test image for a DAG. The bucket must exist (hwocr-object-server --bucket NAME).",
    )
    p.add_argument("file", help="the file to upload")
    p.add_argument(
        "target",
        metavar="obs://BUCKET/KEY",
        help="where to put it; a KEY ending in / (or none) gets the file's name",
    )
    p.add_argument(
        "--endpoint",
        default=None,
        help=f"the server's URL, as it printed it (default: the obs_endpoint of ${CONN_ENV}, "
        "the connection it printed)",
    )
    p.add_argument(
        "--content-type", default=None, help="the object's type (default: guessed from the file name)"
    )
    return p


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _endpoint_from_connection(env: Mapping[str, str]) -> str | None:
    """The ``obs_endpoint`` extra of the connection in ``$AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT`` (JSON form)."""
    try:
        conn = json.loads(env.get(CONN_ENV, ""))
        extra = conn.get("extra") or {}
        extra = json.loads(extra) if isinstance(extra, str) else extra
        endpoint = extra.get("obs_endpoint")
    except (ValueError, AttributeError):
        return None
    return endpoint if isinstance(endpoint, str) and endpoint else None


def _split_target(target: str, file: str) -> tuple[str, str] | None:
    """(bucket, key) of ``obs://BUCKET/KEY``; a key ending in ``/`` (or none) gets the file's name."""
    if not target.startswith("obs://"):
        return None
    bucket, _, key = target[len("obs://") :].partition("/")
    if not key or key.endswith("/"):
        key += os.path.basename(file)
    return (bucket, key) if bucket else None


def _upload_endpoint(p: argparse.ArgumentParser, given: str | None, env: Mapping[str, str]) -> str:
    """The server to upload to: ``--endpoint``, else the pasted connection's; on this machine only."""
    endpoint = given or _endpoint_from_connection(env)
    if endpoint is None:
        p.error(
            f"give --endpoint URL (the URL hwocr-object-server printed), or set {CONN_ENV} as it printed it"
        )
    if not _is_loopback(endpoint):
        p.error(f"--endpoint {endpoint} is not on this machine: this command is for the local object server")
    return endpoint


def _put_file(endpoint: str, bucket: str, key: str, path: str, content_type: str) -> str | None:
    """Put the file at ``path`` on the server; None once it has it, else why not."""
    from obs import PutObjectHeader

    client = _client(endpoint)
    try:
        resp = client.putFile(bucket, key, path, headers=PutObjectHeader(contentType=content_type))
    except OSError as exc:
        return f"cannot reach {endpoint} ({exc}): is the server running?"
    finally:
        client.close()
    if resp.status is not None and resp.status < 300:
        return None
    hint = f" (start the server with --bucket {bucket})" if resp.errorCode == "NoSuchBucket" else ""
    return f"cannot put obs://{bucket}/{key} on {endpoint}: {resp.errorMessage or resp.reason or 'no answer'}{hint}"


def upload(argv: Sequence[str], env: Mapping[str, str] | None = None) -> int:
    """``hwocr-object-server upload FILE obs://BUCKET/KEY [--endpoint URL]``: 0 once the server has it."""
    p = upload_parser()
    args = p.parse_args(argv)
    endpoint = _upload_endpoint(p, args.endpoint, os.environ if env is None else env)
    where = _split_target(args.target, args.file)
    if where is None:
        p.error(f"the target is obs://BUCKET/KEY, not {args.target!r}")
    if not os.path.isfile(args.file):
        p.error(f"no such file: {args.file}")
    bucket, key = where
    content_type = args.content_type or mimetypes.guess_type(args.file)[0] or "application/octet-stream"
    problem = _put_file(endpoint, bucket, key, args.file, content_type)
    if problem is not None:
        print(f"hwocr-object-server upload: {problem}", file=sys.stderr)
        return 1
    size = os.path.getsize(args.file)
    print(
        f"uploaded {args.file} ({size} bytes, {content_type}) to obs://{bucket}/{key} on {endpoint}",
        flush=True,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["upload"]:
        return upload(argv[1:])
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
