"""The OBS hook (``hooks/obs.py``) against a real object server (moto, server mode) through the real
esdk-obs-python: reading, writing, listing, URLs, credentials, TLS and proxies."""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import time

import pytest
import requests

from airflow_provider_hwocr.client.errors import HuaweiOcrConfigurationError
from airflow_provider_hwocr.errors import HuaweiCloudNonRetryableError
from airflow_provider_hwocr.hooks.obs import (
    HuaweiObsHook,
    HuaweiObsTlsError,
    HuaweiObsTransientError,
    ObsObjectInfo,
)
from tests.helpers.airflow_env import CONN_ENV, conn_json
from tests.helpers.constants import AK, SK
from tests.helpers.fast_env import provider_connections, provider_requests
from tests.helpers.obs_env import allow_anonymous_read, bulk_put, create_bucket, moto_front, obs_client

ODD_KEY = "scans/2024 06/reçu n°1 ü.png"  # spaces and non-ASCII


def _use_conn(monkeypatch, emulator, **extra):
    monkeypatch.setenv(CONN_ENV, conn_json(emulator, extra=extra))
    return HuaweiObsHook()


# --- reading and writing -----------------------------------------------------------------------------


def test_put_head_get_round_trip_with_metadata(hook, obs_bucket):
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    data = b"\x89PNG fake image bytes"
    hook.put_bytes(
        obs_bucket,
        ODD_KEY,
        data,
        content_type="image/png",
        metadata={"Source": "scanner-7", "hwocr-note": 'reçu n°1 50% {"a": 1}'},
    )

    info = hook.head(obs_bucket, ODD_KEY)
    assert isinstance(info, ObsObjectInfo)
    assert (info.bucket, info.key, info.size) == (obs_bucket, ODD_KEY, len(data))
    assert info.content_type == "image/png"
    import hashlib

    assert info.etag == hashlib.md5(data).hexdigest()  # no quotes
    # names come back lower case; the non-ASCII value comes back as written
    assert info.metadata == {"source": "scanner-7", "hwocr-note": 'reçu n°1 50% {"a": 1}'}
    assert info.last_modified.tzinfo is not None and info.last_modified.utcoffset() == dt.timedelta(0)
    assert before - dt.timedelta(seconds=5) <= info.last_modified <= before + dt.timedelta(seconds=60)
    assert info.uri == f"obs://{obs_bucket}/{ODD_KEY}"
    as_dict = json.loads(json.dumps(info.to_dict()))
    assert as_dict["last_modified"] == info.last_modified.isoformat()
    assert as_dict["uri"] == info.uri and as_dict["metadata"]["source"] == "scanner-7"

    assert hook.exists(obs_bucket, ODD_KEY) is True
    assert hook.get_bytes(obs_bucket, ODD_KEY) == data


def test_put_file_sends_a_spooled_body_from_its_start_and_keeps_it_open(hook, obs_bucket):
    import hashlib

    from airflow_provider_hwocr.runtime.batch.state import SpooledBody

    data = "".join(
        f'{{"n": {i}, "text": "reçu 你好"}}, ' for i in range(60_000)
    ).encode()  # 2.3 MB: many chunks
    with SpooledBody() as body:
        body.write(data[:1000])
        body.write(data[1000:])
        assert (body.size, body.md5) == (len(data), hashlib.md5(data).hexdigest())
        body.file.seek(123)  # wherever the file stands, the whole body is sent
        etag = hook.put_file(obs_bucket, "runs/a.json", body.file, size=body.size, md5=body.md5,
                             content_type="application/json")  # fmt: skip
        assert not body.file.closed  # the same body goes to the next key
        hook.put_file(obs_bucket, "runs/b.json", body.file, size=body.size, md5=body.md5)
    assert etag == hashlib.md5(data).hexdigest()
    assert hook.get_bytes(obs_bucket, "runs/a.json") == data == hook.get_bytes(obs_bucket, "runs/b.json")
    assert hook.head(obs_bucket, "runs/a.json").content_type == "application/json"


def test_put_file_tries_again_from_the_start_after_no_answer(hook, obs_bucket, monkeypatch):
    """The SDK does not retry a body read from a file; the hook does, from the file's start."""
    from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsTransientError
    from airflow_provider_hwocr.runtime.batch.state import SpooledBody

    real_call, tries, lose = HuaweiObsHook._call, [], [1]

    def losing(self, operation, bucket, key, method, *args, **kwargs):
        tries.append(key)
        if len(tries) in lose:
            kwargs["content"].read()  # half sent, then the connection broke
            raise HuaweiObsTransientError("no response", bucket=bucket, key=key, operation=operation)
        return real_call(self, operation, bucket, key, method, *args, **kwargs)

    monkeypatch.setattr(HuaweiObsHook, "_call", losing)
    monkeypatch.setattr(time, "sleep", lambda s: None)
    with SpooledBody() as body:
        body.write(b'{"images": []}')
        hook.put_file(obs_bucket, "runs/c.json", body.file, size=body.size, md5=body.md5)
        assert tries == ["runs/c.json", "runs/c.json"]
        tries.clear()
        lose[:] = [1, 2, 3]
        with pytest.raises(HuaweiObsTransientError):
            hook.put_file(obs_bucket, "runs/d.json", body.file, size=body.size, md5=body.md5)
        assert len(tries) == 3
    assert hook.get_bytes(obs_bucket, "runs/c.json") == b'{"images": []}'
    assert not hook.exists(obs_bucket, "runs/d.json")


def test_copy_makes_the_same_object_under_another_key_inside_obs(hook, obs_bucket):
    from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsNotFoundError

    hook.put_json(obs_bucket, "runs/a.json", {"run": "a", "text": "你好"}, metadata={"api": "general-text"})
    etag = hook.copy(obs_bucket, "runs/a.json", obs_bucket, "manifest.json")
    assert hook.get_bytes(obs_bucket, "manifest.json") == hook.get_bytes(obs_bucket, "runs/a.json")
    info = hook.head(obs_bucket, "manifest.json")
    assert etag == info.etag and info.content_type == "application/json"
    assert info.metadata == {"api": "general-text"}
    with pytest.raises(HuaweiObsNotFoundError):
        hook.copy(obs_bucket, "runs/missing.json", obs_bucket, "other.json")


def test_put_json_is_utf8_json_with_its_content_type(hook, obs_bucket):
    doc = {"text": "Grüße 你好", "n": [1, 2.5, None]}
    hook.put_json(obs_bucket, "out/result.json", doc, metadata={"api": "general-text"})

    assert hook.get_json(obs_bucket, "out/result.json") == doc
    raw = hook.get_bytes(obs_bucket, "out/result.json")
    assert "Grüße 你好".encode() in raw  # ensure_ascii=False
    info = hook.head(obs_bucket, "out/result.json")
    assert info.content_type == "application/json"
    assert info.metadata == {"api": "general-text"}


def test_get_json_of_non_json_names_the_object(hook, obs_bucket):
    hook.put_bytes(obs_bucket, "x.bin", b"\xff\xfe not json")
    with pytest.raises(ValueError, match=f"obs://{obs_bucket}/x.bin"):
        hook.get_json(obs_bucket, "x.bin")


def test_empty_object(hook, obs_bucket):
    hook.put_bytes(obs_bucket, "empty", b"")
    assert hook.get_bytes(obs_bucket, "empty") == b""
    assert hook.head(obs_bucket, "empty").size == 0


def test_missing_key_is_none_for_head_and_false_for_exists(hook, obs_bucket):
    assert hook.head(obs_bucket, "nope/none.png") is None
    assert hook.exists(obs_bucket, "nope/none.png") is False


def test_delete_then_gone_and_deleting_again_is_fine(hook, obs_bucket):
    hook.put_bytes(obs_bucket, ODD_KEY, b"1")
    hook.delete(obs_bucket, ODD_KEY)
    assert hook.exists(obs_bucket, ODD_KEY) is False
    hook.delete(obs_bucket, ODD_KEY)  # as in OBS: not an error


def test_bad_metadata_is_refused_before_any_request(hook, obs_bucket):
    for bad, error in (
        ({"bad name": "x"}, ValueError),
        ({"etag": "x"}, ValueError),  # would be taken for OBS's own header
        ({"request-id": "x"}, ValueError),
        ({"n": 1}, TypeError),
        ({"a": "x", "A": "y"}, ValueError),
        ({"big": "x" * 9000}, ValueError),
    ):
        with pytest.raises(error):
            hook.put_bytes(obs_bucket, "k", b"1", metadata=bad)
    with pytest.raises(TypeError, match="bytes"):
        hook.put_bytes(obs_bucket, "k", "text")  # type: ignore[arg-type]
    assert hook.list_keys(obs_bucket) == []


# --- listing -----------------------------------------------------------------------------------------


def test_listing_pages_past_1000(hook, obs_bucket):
    keys = [f"batch/{i:05d}.png" for i in range(1100)]
    bulk_put(obs_bucket, keys)
    hook.put_bytes(obs_bucket, "other/a.png", b"12345")

    listed = hook.list_keys(obs_bucket, "batch/")
    assert listed == keys  # all pages, in order, nothing twice

    objects = hook.list_objects(obs_bucket)
    assert len(objects) == 1101
    other = objects[-1]
    assert (other.key, other.size, other.uri) == ("other/a.png", 5, f"obs://{obs_bucket}/other/a.png")
    assert other.content_type is None and other.metadata == {}  # a listing does not carry them
    assert abs(other.last_modified - hook.head(obs_bucket, "other/a.png").last_modified) <= dt.timedelta(
        seconds=1
    )

    assert len(hook.list_objects(obs_bucket, "batch/", max_items=1005)) == 1005
    assert hook.list_keys(obs_bucket, "batch/", max_items=3) == keys[:3]
    assert hook.list_keys(obs_bucket, "nothing-here/") == []


def test_listing_times_are_utc_whatever_the_local_zone(monkeypatch):
    """The SDK turns listing times into local wall time; the hook turns them back."""
    from obs.model import DateTime

    from airflow_provider_hwocr.hooks.obs import _listing_time

    original = time.tzname
    try:
        for zone in ("America/New_York", "Asia/Shanghai", "UTC"):
            monkeypatch.setenv("TZ", zone)
            time.tzset()
            for raw, expected in (
                ("2024-01-15T10:20:30.000Z", dt.datetime(2024, 1, 15, 10, 20, 30, tzinfo=dt.timezone.utc)),
                ("2024-07-01T23:59:59.123Z", dt.datetime(2024, 7, 1, 23, 59, 59, tzinfo=dt.timezone.utc)),
            ):
                assert _listing_time(DateTime.UTCToLocal(raw)) == expected, zone
    finally:
        monkeypatch.undo()
        time.tzset()
    assert time.tzname == original


# --- URLs --------------------------------------------------------------------------------------------


def test_signed_url_downloads_with_plain_requests_and_is_not_handed_to_the_masker(hook, obs_bucket):
    from airflow.sdk._shared.secrets_masker import redact

    hook.put_bytes(obs_bucket, ODD_KEY, b"signed bytes")
    # the bucket is private: the plain URL is refused
    assert requests.get(hook.object_url(obs_bucket, ODD_KEY), timeout=5).status_code == 403

    url = hook.signed_get_url(obs_bucket, ODD_KEY, expires=120)
    assert url.isascii()
    response = requests.get(url, timeout=5)
    assert response.status_code == 200 and response.content == b"signed bytes"
    # Per-object secrets are kept out of logs by construction (tests/operators/test_batch_scale.py), not
    # registered with Airflow's masker, whose cost grows with every value it holds.
    signature = url.rsplit("Signature=", 1)[1]
    assert signature in redact(f"fetching {url}")
    with pytest.raises(ValueError):
        hook.signed_get_url(obs_bucket, ODD_KEY, expires=0)


def test_object_url_of_odd_key_downloads_path_style(hook, obs_bucket, obs_server):
    hook.put_bytes(obs_bucket, ODD_KEY, b"public bytes")
    allow_anonymous_read(obs_bucket)  # what OCR's OBS authorization stands for here

    url = hook.object_url(obs_bucket, ODD_KEY)
    assert url == f"{obs_server}/{obs_bucket}/scans/2024%2006/re%C3%A7u%20n%C2%B01%20%C3%BC.png"
    response = requests.get(url, timeout=5)
    assert response.status_code == 200 and response.content == b"public bytes"


def test_object_url_forms(monkeypatch, emulator):
    # Huawei Cloud: virtual-host style on the region's OBS domain
    hook = _use_conn(monkeypatch, emulator)
    assert hook.object_url("my-bucket", "a b/ü~x.png") == (
        "https://my-bucket.obs.ap-southeast-1.myhuaweicloud.com/a%20b/%C3%BC~x.png"
    )
    assert (
        HuaweiObsHook(region="cn-north-4").object_url("b-1", "k")
        == "https://b-1.obs.cn-north-4.myhuaweicloud.com/k"
    )
    # a region the catalog does not know: the same host pattern
    assert HuaweiObsHook(region="me-east-9").endpoint == "https://obs.me-east-9.myhuaweicloud.com"
    assert (
        HuaweiObsHook(region="me-east-9").object_url("b-1", "k")
        == "https://b-1.obs.me-east-9.myhuaweicloud.com/k"
    )
    # an endpoint override, virtual-host style
    hook = _use_conn(monkeypatch, emulator, obs_endpoint="https://obs.example.test:8443")
    assert hook.object_url("my-bucket", "k 1") == "https://my-bucket.obs.example.test:8443/k%201"
    # ... and path style
    hook = _use_conn(monkeypatch, emulator, obs_endpoint="http://127.0.0.1:9000", obs_path_style=True)
    assert hook.object_url("my-bucket", "k 1") == "http://127.0.0.1:9000/my-bucket/k%201"


# --- credentials, TLS and proxies --------------------------------------------------------------------


def test_empty_credentials_fail_before_any_request(monkeypatch, emulator):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        for field, overrides in (("login", {"login": ""}), ("password", {"password": "  "})):
            monkeypatch.setenv(
                CONN_ENV,
                conn_json(emulator, **overrides, extra={"obs_endpoint": endpoint, "obs_path_style": True}),
            )
            hook = HuaweiObsHook()
            with pytest.raises(HuaweiOcrConfigurationError) as info:
                hook.exists("some-bucket", "k")
            assert info.value.field == field and "unsigned" in str(info.value)
            assert hook._client is None
        # an IAM-token connection has no AK/SK to sign OBS requests with
        monkeypatch.setenv(
            CONN_ENV,
            conn_json(
                emulator, login=None, password=None, extra={"auth_type": "token", "obs_endpoint": endpoint}
            ),
        )
        with pytest.raises(HuaweiOcrConfigurationError, match="IAM token"):
            HuaweiObsHook().list_keys("some-bucket")
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody ever connected
    finally:
        listener.close()


def test_secrets_are_masked(hook):
    from airflow.sdk._shared.secrets_masker import redact

    hook.get_client()
    assert redact(f"ak={AK} sk={SK}") == "ak=*** sk=***"
    assert AK not in repr(hook.settings) and SK not in repr(hook.settings)


def test_tls_verification_is_on_by_default(monkeypatch, emulator):
    import certifi

    # default: the certifi bundle, certificates and host names checked
    client = _use_conn(monkeypatch, emulator, verify=None).get_client()
    assert client.ssl_verify == certifi.where()
    client = _use_conn(
        monkeypatch, emulator, verify=None, obs_endpoint="https://obs.example.test"
    ).get_client()
    assert client.is_secure and client.ssl_verify == certifi.where()
    assert client.context.verify_mode == ssl.CERT_REQUIRED and client.context.check_hostname is True
    # verify=false switches it off
    client = _use_conn(
        monkeypatch, emulator, verify=False, obs_endpoint="https://obs.example.test"
    ).get_client()
    assert client.ssl_verify is False and client.context.verify_mode == ssl.CERT_NONE
    # a CA bundle path is passed on as is
    client = _use_conn(
        monkeypatch, emulator, verify=certifi.where(), obs_endpoint="https://obs.example.test"
    ).get_client()
    assert client.ssl_verify == certifi.where() and client.context.verify_mode == ssl.CERT_REQUIRED


def _self_signed(tmp_path, name: str, *, ip: str | None = None, dns: str | None = None) -> tuple[str, str]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    sans = [x509.IPAddress(ipaddress.ip_address(ip))] if ip else [x509.DNSName(dns)]
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_path), str(key_path)


@pytest.mark.timing
def test_tls_really_checks_certificate_and_host_name(monkeypatch, emulator, obs_server, tmp_path):
    bucket = create_bucket()
    obs_client().putContent(bucket, "k", content=b"over tls")
    good = _self_signed(tmp_path, "loopback", ip="127.0.0.1")
    wrong_host = _self_signed(tmp_path, "elsewhere", dns="elsewhere.example")
    common = {"obs_path_style": True, "obs_signature": "v2", "max_retries": 1}

    with moto_front(ssl_context=good) as url:
        # default (public CA bundle): a self-signed server is refused
        hook = _use_conn(monkeypatch, emulator, obs_endpoint=url, **{**common, "max_retries": 5})
        started = time.monotonic()
        with pytest.raises(HuaweiObsTlsError, match="CERTIFICATE_VERIFY_FAILED") as info:
            hook.get_bytes(bucket, "k")
        # never retried: not by the SDK (its retries sleep 0.2 + 0.4 + 0.8 + 1.6 s), not by a retry policy
        assert time.monotonic() - started < 1.0
        assert isinstance(info.value, HuaweiCloudNonRetryableError) and not info.value.retryable
        # its certificate as the CA bundle: accepted
        assert _use_conn(monkeypatch, emulator, obs_endpoint=url, verify=good[0], **common).get_bytes(
            bucket, "k"
        ) == (b"over tls")
        # verify=false: accepted without checks
        assert _use_conn(monkeypatch, emulator, obs_endpoint=url, verify=False, **common).get_bytes(
            bucket, "k"
        ) == (b"over tls")
    with moto_front(ssl_context=wrong_host) as url:
        # a trusted certificate for another host name is refused (the SDK alone would accept it)
        hook = _use_conn(monkeypatch, emulator, obs_endpoint=url, verify=wrong_host[0], **common)
        with pytest.raises(HuaweiObsTlsError, match="(?i)hostname|IP address mismatch"):
            hook.get_bytes(bucket, "k")


def test_bad_endpoint_and_settings_are_configuration_errors(monkeypatch, emulator):
    for extra, field in (
        ({"obs_endpoint": "http://127.0.0.1:9/prefix"}, "obs_endpoint"),
        ({"obs_signature": "v3"}, "obs_signature"),
        ({"obs_path_style": "maybe"}, "obs_path_style"),
    ):
        with pytest.raises(HuaweiOcrConfigurationError) as info:
            _use_conn(monkeypatch, emulator, **extra).get_client()
        assert info.value.field == field


class _ConnectProxy:
    """A tiny HTTP CONNECT proxy (what the OBS SDK speaks to a proxy); records what it was asked."""

    def __init__(self) -> None:
        import threading

        self.requests: list[tuple[str, str | None]] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        import threading

        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        import threading

        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                client.close()
                return
            head += chunk
        lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        target = lines[0].split()[1]
        auth = next(
            (
                v.strip()
                for k, _, v in (x.partition(":") for x in lines[1:])
                if k.lower() == "proxy-authorization"
            ),
            None,
        )
        self.requests.append((target, auth))
        host, _, port = target.rpartition(":")
        upstream = socket.create_connection((host, int(port)))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

        def pipe(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)

    def close(self) -> None:
        self.sock.close()


def test_requests_go_through_the_connection_proxy_with_its_credentials(
    monkeypatch, emulator, obs_server, obs_bucket
):
    import base64

    from airflow.sdk._shared.secrets_masker import redact

    proxy = _ConnectProxy()
    try:
        hook = _use_conn(
            monkeypatch,
            emulator,
            obs_endpoint=obs_server,
            obs_path_style=True,
            obs_signature="v2",
            verify=False,
            proxy=f"http://squid-user:{'pr%40xy-secret'}@127.0.0.1:{proxy.port}",
        )
        hook.put_bytes(obs_bucket, "via-proxy.txt", b"tunnelled")
        assert hook.get_bytes(obs_bucket, "via-proxy.txt") == b"tunnelled"
    finally:
        proxy.close()
    expected_auth = "Basic " + base64.b64encode(b"squid-user:pr@xy-secret").decode()
    assert proxy.requests == [(obs_server.removeprefix("http://"), expected_auth)] * 2
    assert redact("pr@xy-secret") == "***"


# --- keep-alive and lean listings, counted at the fast object server ------------------------


def test_one_connection_serves_every_request_of_a_hook(fast_conn, fast_bucket):
    hook = HuaweiObsHook()
    for i in range(40):
        hook.put_bytes(fast_bucket, f"k/{i}.png", b"x" * i + b"y")
    assert hook.head(fast_bucket, "k/3.png").size == 4
    assert hook.get_bytes(fast_bucket, "k/5.png") == b"xxxxxy"
    assert hook.head(fast_bucket, "k/missing.png") is None  # a 404 keeps the connection too
    assert len(hook.list_keys(fast_bucket, "k/")) == 40
    hook.delete_many(fast_bucket, [f"k/{i}.png" for i in range(40)])
    assert sum(provider_requests(fast_conn).values()) >= 46
    assert provider_connections(fast_conn) == 1
    hook.close()


def test_threads_share_a_pool_of_at_most_one_connection_each(fast_conn, fast_bucket):
    from concurrent.futures import ThreadPoolExecutor

    hook = HuaweiObsHook()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: hook.put_bytes(fast_bucket, f"t/{i}.png", b"z"), range(400)))
    assert 1 <= provider_connections(fast_conn) <= 8
    hook.close()


@pytest.mark.timing
def test_a_connection_the_server_closed_while_idle_is_not_reused(
    fast_conn, fast_bucket, monkeypatch, emulator
):
    from airflow_provider_hwocr.testing import object_server_extras

    # One try per request: reusing a dead connection would fail the request outright.
    monkeypatch.setenv(
        CONN_ENV, conn_json(emulator, extra={**object_server_extras(fast_conn.url), "max_retries": 1})
    )
    fast_conn.idle_timeout = 0.2
    hook = HuaweiObsHook()
    hook.put_bytes(fast_bucket, "a.png", b"1")
    time.sleep(0.5)  # the server closes the idle connection
    assert fast_conn.stats()["open_connections"] == 0
    started = time.monotonic()
    hook.put_bytes(fast_bucket, "b.png", b"2")
    assert time.monotonic() - started < 0.2  # no failed try, no retry back-off
    assert provider_connections(fast_conn) == 2
    hook.close()


def test_listing_pages_are_read_lean_and_in_full(fast_conn, fast_bucket):
    keys = [f"day/{i:05d}.png" for i in range(2500)] + ["day/a&b <c>.png", "day/sub/x.png", "other.png"]
    for key in keys:
        fast_conn.put_object(fast_bucket, key, b"data")
    hook = HuaweiObsHook()
    fast_conn.reset_stats()
    pages = list(hook.iter_listing(fast_bucket, "day/"))
    assert [len(p) for p in pages] == [1000, 1000, 502]
    assert provider_requests(fast_conn) == {"GET": 3}
    listed = [key for page in pages for key, *_ in page]
    assert listed == sorted(k for k in keys if k.startswith("day/"))
    key, size, etag, modified = pages[-1][0]
    assert (size, len(etag), etag.isalnum()) == (4, 32, True) and modified.endswith("Z")
    top = hook.list_objects(fast_bucket, "day/", delimiter="/")
    assert "day/sub/x.png" not in {o.key for o in top} and "day/a&b <c>.png" in {o.key for o in top}
    info = top[0]
    assert info.last_modified.tzinfo is not None and info.metadata == {} and info.content_type is None
    assert hook.list_keys(fast_bucket, "day/", max_items=1001)[-1] == "day/01000.png"
    hook.close()


def test_a_listing_the_sdk_could_not_read_raises_instead_of_looking_empty(fast_conn, fast_bucket):
    fast_conn.put_object(fast_bucket, "day/a.png", b"x")
    hook = HuaweiObsHook()

    def broken(xml, headers=None):
        raise ValueError("unreadable")

    hook.get_client().convertor.parseListObjects = broken  # the SDK logs and swallows this
    with pytest.raises(HuaweiObsTransientError, match="could not be read as a listing"):
        hook.list_keys(fast_bucket, "day/")
    hook.close()


def test_parse_listing_reads_odd_orders_escapes_and_url_encoding():
    from airflow_provider_hwocr.hooks.obs import _parse_listing

    usual = (
        "<ListBucketResult><Name>b</Name><IsTruncated>true</IsTruncated><NextMarker>k&amp;2</NextMarker>"
        "<Contents><Key>k&amp;1</Key><LastModified>2024-01-15T10:20:30.000Z</LastModified>"
        "<ETag>&quot;abc&quot;</ETag><Size>7</Size><Owner><ID>x</ID></Owner></Contents>"
        "<CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes></ListBucketResult>"
    )
    page = _parse_listing(usual)
    assert page.contents == [("k&1", 7, "abc", "2024-01-15T10:20:30.000Z")]
    assert (page.commonPrefixs, page.is_truncated, page.next_marker) == (["p/"], True, "k&2")
    odd = (  # Size before ETag, whitespace: read with the element tree instead
        '<ListBucketResult xmlns="http://obs/"><IsTruncated>false</IsTruncated><Contents>\n  <Key>a</Key>'
        '<Size>3</Size><LastModified>2024-01-15T10:20:30Z</LastModified><ETag>"e1"</ETag></Contents>'
        "<Contents><Key>b</Key><LastModified>t</LastModified><ETag>e2</ETag><Size>4</Size></Contents>"
        "</ListBucketResult>"
    )
    page = _parse_listing(odd)
    assert page.contents == [("a", 3, "e1", "2024-01-15T10:20:30Z"), ("b", 4, "e2", "t")]
    assert page.is_truncated is False and page.next_marker is None
    encoded = (
        "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated><Contents>"
        "<Key>re%C3%A7u%201.png</Key><LastModified>x</LastModified><ETag>e</ETag><Size>1</Size></Contents>"
        "</ListBucketResult>"
    )
    assert _parse_listing(encoded).contents[0][0] == "reçu 1.png"


def test_listed_objects_are_slim_read_only_and_parse_their_time_when_read():
    info = ObsObjectInfo("b", "k", 3, "2024-07-01T23:59:59.123Z", "e")
    assert not hasattr(info, "__dict__")
    with pytest.raises(AttributeError):
        info.size = 4  # type: ignore[misc]
    assert info.last_modified == dt.datetime(2024, 7, 1, 23, 59, 59, tzinfo=dt.timezone.utc)
    same = ObsObjectInfo("b", "k", 3, dt.datetime(2024, 7, 1, 23, 59, 59, tzinfo=dt.timezone.utc), "e")
    assert info == same and info != ObsObjectInfo("b", "k", 3, "2024-07-01T23:59:59Z", "other")
    assert "2024" in repr(info) and info.to_dict()["metadata"] == {}


def test_every_path_keeps_its_connection_open(fast_conn, fast_bucket, emulator):
    """Keep-alive is the hook's: the single-image operator, the sensor's pokes and a trigger's polls reuse one."""
    import asyncio

    from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator
    from airflow_provider_hwocr.sensors.obs import HuaweiObsKeySensor
    from airflow_provider_hwocr.triggers.obs import HuaweiObsKeyTrigger
    from tests.helpers.c_obs_keys import task_context
    from tests.helpers.images import png

    fast_conn.put_object(fast_bucket, "in/a.png", png((120, 60), "keep"))
    fast_conn.reset_stats()
    HuaweiOcrGeneralTextOperator(
        task_id="one", image=f"obs://{fast_bucket}/in/a.png", output_uri=f"obs://{fast_bucket}/ocr/"
    ).execute({})
    assert (
        sum(provider_requests(fast_conn).values()) >= 2 and provider_connections(fast_conn) == 1
    )  # HEAD, PUT

    fast_conn.reset_stats()
    sensor = HuaweiObsKeySensor(task_id="wait", bucket=fast_bucket, key="in/*.png")
    assert all(sensor.poke(task_context()) for _ in range(3))
    assert provider_requests(fast_conn) == {"GET": 3} and provider_connections(fast_conn) == 1

    fast_conn.reset_stats()
    trigger = HuaweiObsKeyTrigger(
        bucket=fast_bucket, key="in/missing.png", poke_interval=0.05, deadline=time.time() + 0.5
    )

    async def events():
        return [event async for event in trigger.run()]

    (event,) = asyncio.run(events())
    assert event.payload["status"] == "timeout"
    assert sum(provider_requests(fast_conn).values()) >= 3 and provider_connections(fast_conn) == 1


def test_conditional_writes_and_the_etag_a_read_gives(fast_conn, fast_bucket):
    """``if_none_match`` / ``if_match`` on a store that honours them: an unmet condition writes nothing and is
    a precondition error; the ETag a read gives is the one ``if_match`` takes; the SDK's retries of a 503 keep
    the headers."""
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
    from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsPreconditionFailedError

    hook = HuaweiObsHook()
    try:
        first = hook.put_bytes(fast_bucket, "lease.json", b"a", if_none_match=True)
        with pytest.raises(HuaweiObsPreconditionFailedError) as refused:
            hook.put_bytes(fast_bucket, "lease.json", b"b", if_none_match=True)
        assert refused.value.status == 412 and "condition not met" in str(refused.value)
        data, etag = hook.get_bytes_and_etag(fast_bucket, "lease.json")
        assert (data, etag) == (b"a", first)
        with pytest.raises(HuaweiObsPreconditionFailedError):
            hook.put_bytes(fast_bucket, "lease.json", b"c", if_match="0" * 32)
        fast_conn.add_fault(r"lease\.json$", status=503, count=1)  # retried by the SDK, headers and all
        second = hook.put_bytes(fast_bucket, "lease.json", b"c", if_match=f'"{etag}"')
        assert hook.get_bytes_and_etag(fast_bucket, "lease.json") == (b"c", second)
        with pytest.raises(HuaweiObsPreconditionFailedError):
            hook.put_bytes(fast_bucket, "lease.json", b"d", if_match=etag)  # no longer that ETag
        assert hook.get_bytes(fast_bucket, "lease.json") == b"c"
        fast_conn.conditional = "ignore"  # a store without them writes anyway
        hook.put_bytes(fast_bucket, "lease.json", b"e", if_none_match=True)
        assert hook.get_bytes(fast_bucket, "lease.json") == b"e"
    finally:
        hook.close()


def test_the_sdk_s_crc64_shares_its_tables_and_computes_the_same_values():
    """The SDK makes a Crc64 for every object it reads (checked or not): with the hook's SDK each
    one copies a template instead of building crcmod's table again (0.55 ms -> 0.004 ms a GET)."""
    import crcmod

    from airflow_provider_hwocr.hooks.obs import _obs_sdk

    util = _obs_sdk().util
    data = b"the bytes of a stored result" * 300
    reference = crcmod.Crc(0x142F0E1EBA9EA3693, initCrc=0, rev=True, xorOut=0xFFFFFFFFFFFFFFFF)
    reference.update(data)
    first, second = util.Crc64(0), util.Crc64(0)
    first.update(data)
    assert first.crc == reference.crcValue and second.crc != first.crc  # each its own running value
    assert first.crc64.table is second.crc64.table  # one table, not one per response
    assert util.calculate_content_crc64(data) == reference.crcValue  # the SDK's own helper agrees
    seeded = util.Crc64(5)
    assert (
        seeded.crc == crcmod.Crc(0x142F0E1EBA9EA3693, initCrc=5, rev=True, xorOut=0xFFFFFFFFFFFFFFFF).crcValue
    )
