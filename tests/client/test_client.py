"""The HTTP client (``client/client.py``): its settings, what it checks before sending, the request
it builds, TLS, proxies, sessions, and ``list_projects``."""

from __future__ import annotations

import pytest

from airflow_provider_hwocr.client import (
    AKSK_MAX_BODY_BYTES,
    AkSkCredentials,
    HuaweiOcrAuthError,
    HuaweiOcrConfigurationError,
    HuaweiOcrTransientError,
    HuaweiOcrValidationError,
    OcrClient,
)
from airflow_provider_hwocr.operators import ocr
from tests.helpers.airflow_env import CONN_ENV, conn_json
from tests.helpers.client_support import (
    BODY,
    SLUG,
    aksk_client,
    closed_port,
    fast_policy,
    tls_server,
    token_client,
)
from tests.helpers.constants import AK, PROJECT_ID, REGION, SK
from tests.helpers.images import png

# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("project_id", ["", "   ", "{project_id}", "a/b", None])
def test_project_id_is_required_and_checked(project_id):
    with pytest.raises(HuaweiOcrConfigurationError) as info:
        OcrClient(region=REGION, project_id=project_id, credentials=AkSkCredentials(AK, SK))
    assert info.value.field == "project_id" and isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"region": ""}, "region"),
        ({"endpoint": "ftp://ocr.example.com"}, "endpoint"),
        ({"endpoint": "ocr.example.com"}, "endpoint"),
        ({"iam_endpoint": "https://"}, "iam_endpoint"),
        ({"credentials": None}, "credentials"),
    ],
)
def test_other_settings_are_checked(kwargs, field):
    settings = {"region": REGION, "project_id": PROJECT_ID, "credentials": AkSkCredentials(AK, SK), **kwargs}
    with pytest.raises(HuaweiOcrConfigurationError) as info:
        OcrClient(**settings)
    assert info.value.field == field


def test_default_endpoints_follow_the_region():
    client = OcrClient(region="la-south-2", project_id=PROJECT_ID, credentials=AkSkCredentials(AK, SK))
    assert client.endpoint == "https://ocr.la-south-2.myhuaweicloud.com"
    assert client.iam_endpoint == "https://iam.la-south-2.myhuaweicloud.com"
    client.close()
    # a region the catalog does not know yet: the same host pattern (catalog.region_for)
    client = OcrClient(region="me-east-9", project_id=PROJECT_ID, credentials=AkSkCredentials(AK, SK))
    assert client.endpoint == "https://ocr.me-east-9.myhuaweicloud.com"
    assert client.iam_endpoint == "https://iam.me-east-9.myhuaweicloud.com"
    client.close()


# --- checked before sending -------------------------------------------------------------------


def test_oversized_body_is_refused_before_sending(emulator):
    client = aksk_client(emulator)
    with pytest.raises(HuaweiOcrValidationError) as info:
        client.call(SLUG, {"image": "A" * (AKSK_MAX_BODY_BYTES + 1)})
    assert info.value.parameter == "image"
    assert "10 MB" in str(info.value) and "ModelArts.4104" in str(info.value)
    assert emulator.count() == 0


def test_unknown_api_is_a_validation_error(emulator):
    with pytest.raises(HuaweiOcrValidationError) as info:
        aksk_client(emulator).call("no-such-api", BODY)
    assert info.value.parameter == "api" and "general-text" in str(info.value)
    assert emulator.count() == 0


def test_non_ascii_enterprise_project_id_is_refused_before_sending(emulator):
    with pytest.raises(HuaweiOcrValidationError) as info:
        aksk_client(emulator).call(SLUG, BODY, enterprise_project_id="项目")
    assert info.value.parameter == "enterprise_project_id"
    assert emulator.count() == 0


def test_api_not_offered_in_the_region_is_refused_locally(emulator, monkeypatch):
    # With the public endpoint (no override), handwriting (cn-north-4 only)
    # cannot succeed in ap-southeast-1: refuse before sending anything.
    monkeypatch.setenv(CONN_ENV, conn_json(emulator, extra={"endpoint": None}))
    op = ocr.HuaweiOcrHandwritingOperator(task_id="t", image=png())
    with pytest.raises(HuaweiOcrValidationError, match="offered in cn-north-4") as info:
        op.execute({})
    assert info.value.parameter == "region"
    assert emulator.count() == 0


# --- calls, sessions, projects ----------------------------------------------------------------


def test_recognize_builds_the_body_and_calls(emulator):
    import base64

    png = base64.b64decode(BODY["image"])
    with aksk_client(emulator) as client:
        response = client.recognize(SLUG, image=png, detect_direction=True)
    assert response.status_code == 200 and response.result["words_block_count"] >= 1
    (call,) = emulator.calls(SLUG)
    assert call.body["image"] == BODY["image"] and call.body["detect_direction"] is True


def test_close_releases_the_private_session_only(emulator):
    import requests

    own = aksk_client(emulator)
    own.call(SLUG, BODY)
    pool = own.session.get_adapter(emulator.url)
    assert pool._pool_maxsize == 32
    own.close()
    assert not pool.poolmanager.pools  # connections dropped

    shared = requests.Session()
    client = aksk_client(emulator, session=shared)
    client.call(SLUG, BODY)
    client.close()
    assert shared.get_adapter(emulator.url).poolmanager.pools  # the caller's session is left alone
    shared.close()


def test_the_private_session_sends_what_a_full_session_request_sends(emulator):
    """Our own session hands requests straight to its adapter: same path, headers and body on the wire."""
    import requests

    own = aksk_client(emulator)
    own.call(SLUG, BODY)
    with requests.Session() as shared:
        aksk_client(emulator, session=shared).call(SLUG, BODY)
    direct, full = emulator.calls(SLUG)
    assert direct.status == full.status == 200 and direct.path == full.path
    assert direct.body == full.body
    assert sorted(direct.headers) == sorted(full.headers)  # the session's defaults included
    assert direct.headers["user-agent"] == full.headers["user-agent"] == "airflow-provider-hwocr"
    own.close()


@pytest.mark.parametrize("shared", [False, True], ids=["own session", "caller's session"])
def test_a_header_value_that_cannot_be_sent_is_refused_before_sending(emulator, shared):
    import requests

    session = requests.Session() if shared else None
    client = aksk_client(emulator, session=session)
    with pytest.raises(HuaweiOcrValidationError) as info:
        client.call(SLUG, BODY, enterprise_project_id="proj\r\nX-Injected: 1")
    assert info.value.parameter == "enterprise_project_id"
    # and the transport's own check, for a header no earlier check knows about
    with pytest.raises(HuaweiOcrValidationError) as info:
        client.send("POST", f"{emulator.url}/v2/x/ocr/y", {"X-Any": "a\r\nb"}, b"{}", api=SLUG)
    assert info.value.parameter == "headers"
    assert emulator.count() == 0
    client.close()


def test_list_projects_with_aksk(emulator):
    projects = aksk_client(emulator).list_projects(name=REGION)
    assert [p["id"] for p in projects] == [PROJECT_ID]
    assert aksk_client(emulator).list_projects(name="la-south-2") == []
    assert aksk_client(emulator).list_projects()[0]["name"] == REGION


def test_list_projects_with_wrong_sk_is_an_auth_error(emulator):
    with pytest.raises(HuaweiOcrAuthError) as info:
        aksk_client(emulator, sk="wrong-secret-key").list_projects(name=REGION)
    assert info.value.api == "iam:projects"


def test_list_projects_with_token(emulator):
    projects = token_client(emulator).list_projects(name=REGION)
    assert [p["id"] for p in projects] == [PROJECT_ID]


# --- TLS and proxies --------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_is_verified_by_default(tmp_path):
    with tls_server(tmp_path) as (url, cert):

        def client(**kw):
            return OcrClient(
                region=REGION,
                project_id=PROJECT_ID,
                credentials=AkSkCredentials(AK, SK),
                endpoint=url,
                retry=fast_policy(max_attempts=3),
                **kw,
            )

        with pytest.raises(HuaweiOcrConfigurationError) as info:
            client().call(SLUG, BODY)
        assert info.value.field == "verify" and info.value.attempts == 1  # not retried
        assert client(verify=cert).call(SLUG, BODY).result == {"ok": True}
        assert client(verify=False).call(SLUG, BODY).result == {"ok": True}


def test_unusable_ca_bundle_path_is_a_configuration_error(tmp_path):
    client = OcrClient(
        region=REGION,
        project_id=PROJECT_ID,
        credentials=AkSkCredentials(AK, SK),
        endpoint="https://127.0.0.1:9",
        verify=str(tmp_path / "missing.pem"),
    )
    with pytest.raises(HuaweiOcrConfigurationError) as info:
        client.call(SLUG, BODY)
    assert info.value.field == "verify"


def test_proxy_password_is_not_in_connection_errors():
    client = OcrClient(
        region=REGION, project_id=PROJECT_ID, credentials=AkSkCredentials(AK, SK),
        endpoint="http://ocr.invalid", proxy=f"http://proxyuser:Pr0xy-S3cret@127.0.0.1:{closed_port()}",
        retry=fast_policy(max_attempts=1),
    )  # fmt: skip
    with pytest.raises(HuaweiOcrTransientError) as info:
        client.call(SLUG, BODY)
    assert "Pr0xy-S3cret" not in str(info.value) + repr(info.value)
    assert "connection to ocr.invalid failed" in str(info.value)


def test_environment_proxies_are_read_once_per_host_and_still_honoured(emulator, monkeypatch):
    """requests would scan os.environ on every call; the client reads it once per host."""
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    proxied = aksk_client(emulator, retry=fast_policy(max_attempts=1))
    with pytest.raises(HuaweiOcrTransientError, match="proxy"):
        proxied.recognize(SLUG, image=png((120, 60), "env proxy"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    direct = aksk_client(emulator)
    assert direct.recognize(SLUG, image=png((120, 60), "no proxy")).status_code == 200
    monkeypatch.delenv("NO_PROXY")  # read once: the client keeps what it found
    assert direct.recognize(SLUG, image=png((120, 60), "no proxy")).status_code == 200
    assert direct.session.trust_env is False and len(direct._transport) == 1
