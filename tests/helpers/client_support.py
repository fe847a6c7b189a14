"""Helpers shared by the client tests (tests/client/)."""

from __future__ import annotations

import base64
import io
import socket
import threading
from contextlib import contextmanager

from PIL import Image

from airflow_provider_hwocr.client import AkSkCredentials, IamTokenCredentials, OcrClient, RetryPolicy
from tests.helpers.constants import AK, IAM_DOMAIN, IAM_PASSWORD, IAM_USER, PROJECT_ID, REGION, SK

SLUG = "general-text"


def _png() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (120, 60), "white").save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


#: A body the emulator accepts for general-text.
BODY = {"image": _png()}


def fast_policy(**overrides) -> RetryPolicy:
    """Tiny delays so retry tests stay fast."""
    settings = {
        "max_attempts": 5,
        "base_delay": 0.01,
        "max_delay": 0.05,
        "throttle_min_delay": 0.01,
        "max_elapsed": 10.0,
    }
    settings.update(overrides)
    return RetryPolicy(**settings)


def aksk_client(emulator, *, ak=AK, sk=SK, security_token=None, **kwargs) -> OcrClient:
    kwargs.setdefault("retry", fast_policy())
    kwargs.setdefault("iam_endpoint", emulator.url)
    return OcrClient(
        region=REGION,
        project_id=kwargs.pop("project_id", PROJECT_ID),
        credentials=AkSkCredentials(ak, sk, security_token=security_token),
        endpoint=kwargs.pop("endpoint", emulator.url),
        **kwargs,
    )


def token_credentials(emulator, *, password=IAM_PASSWORD, **kwargs) -> IamTokenCredentials:
    return IamTokenCredentials(IAM_USER, password, IAM_DOMAIN, REGION, emulator.url, **kwargs)


def token_client(emulator, credentials=None, **kwargs) -> OcrClient:
    kwargs.setdefault("retry", fast_policy())
    return OcrClient(
        region=REGION,
        project_id=PROJECT_ID,
        credentials=credentials or token_credentials(emulator),
        endpoint=emulator.url,
        iam_endpoint=emulator.url,
        **kwargs,
    )


def closed_port() -> int:
    """A local port nobody listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def silent_server():
    """A listening socket that accepts connections but never answers (read timeouts)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept_loop():
        srv.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                accepted.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept_loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.getsockname()[1]}", accepted
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in accepted:
            conn.close()
        srv.close()


@contextmanager
def tls_server(tmp_path):
    """An HTTPS server with a self-signed certificate answering every POST with ``{"result": {}}``.

    Yields (base_url, cert_path).
    """
    import datetime as dt
    import http.server
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path = tmp_path / "cert.pem"
    key_path = tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            payload = b'{"result": {"ok": true}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", str(cert_path)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)
