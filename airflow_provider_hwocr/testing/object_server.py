"""A local OBS-compatible object server: moto's S3 server on 127.0.0.1 and a free port.

Point a ``huaweicloud_ocr`` connection at it with
:func:`~airflow_provider_hwocr.testing.connections.object_server_extras`. Needs moto: the
``object-server`` extra (``pip install "airflow-provider-hwocr[object-server]"``; the ``test``
extra has it too).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["MISSING_MOTO", "anonymous_read_policy", "local_object_server", "require_moto"]

#: What a missing moto means, and the extra that brings it.
MISSING_MOTO = (
    'the local object server needs moto: pip install "airflow-provider-hwocr[object-server]" '
    "(the extra that installs moto's S3 server)"
)


def require_moto() -> None:
    """Raise :class:`ModuleNotFoundError` naming the ``object-server`` extra when moto is missing."""
    try:
        import moto.server  # noqa: F401
        from moto.moto_server import werkzeug_app  # noqa: F401
    except ImportError as exc:
        raise ModuleNotFoundError(MISSING_MOTO, name=exc.name) from exc


@contextmanager
def _sigv2_always_s3() -> Iterator[None]:
    """Work around two moto bugs that fail a few SigV2-signed requests with HTTP 500.

    moto reads the Authorization header as SigV4 (``Credential=AK/date/region/service/aws4_request``,
    split on ``/``) in two places. A SigV2 header is ``AWS AK:base64-signature``:

    * routing: when the signature happens to hold exactly four ``/`` (about 1 request in 1,400),
      the split "works" and names a service that does not exist. moto's own fallback for headers
      that are not SigV4 is S3, so SigV2 (and OBS-signed) requests are sent there directly;
    * the region: a header that holds ``AWS4`` anywhere is taken for SigV4, so a signature with
      ``AWS4`` in it (about 1 in 700,000) fails the split. For SigV2 (and OBS-signed) requests the
      region comes from the URL, else moto's default, as for any other header that is not SigV4.

    Only the server's routing and region are changed.
    """
    from moto.core.responses import BaseResponse
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.infer_service_region_host
    original_region = BaseResponse.get_region_from_url

    def infer(self: Any, environ: Any, path: Any) -> Any:
        if _signed_v2(environ.get("HTTP_AUTHORIZATION")):
            return None  # -> moto's default service, S3
        return original(self, environ, path)

    def region(self: Any, request: Any, full_url: str) -> str:
        if _signed_v2(request.headers.get("Authorization")):
            found = self.region_regex.search(full_url)
            return str(found.group(1)) if found else str(self.default_region)
        return str(original_region(self, request, full_url))

    DomainDispatcherApplication.infer_service_region_host = infer  # type: ignore[method-assign]
    BaseResponse.get_region_from_url = region  # type: ignore[method-assign]
    try:
        yield
    finally:
        DomainDispatcherApplication.infer_service_region_host = original  # type: ignore[method-assign]
        BaseResponse.get_region_from_url = original_region  # type: ignore[method-assign]


def _signed_v2(authorization: str | None) -> bool:
    """Whether an Authorization header is SigV2 (``AWS AK:sig``) or OBS-signed (``OBS AK:sig``)."""
    return (authorization or "").startswith(("AWS ", "OBS "))


@contextmanager
def local_object_server(port: int = 0) -> Iterator[str]:
    """Run an S3/OBS-compatible server on loopback; yields ``http://127.0.0.1:PORT``.

    ``port=0`` picks a free port. From a shell: ``hwocr-object-server``.
    """
    require_moto()
    from moto.server import ThreadedMotoServer

    with _sigv2_always_s3():
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


def anonymous_read_policy(bucket: str) -> str:
    """A bucket policy letting anyone GET the bucket's objects, as JSON.

    On a local object server it stands in for what OCR's OBS authorization grants on
    Huawei Cloud, so the emulator can fetch plain object URLs (``image_source="authorized"``).
    """
    import json

    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": ["s3:GetObject"],
        "Resource": [f"arn:aws:s3:::{bucket}/*"],
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})
