"""Reading a ``huaweicloud_ocr`` connection (``hooks/connection.py``): every bad field is named,
extras are parsed and normalised, and the secrets are registered with Airflow's masker."""

from __future__ import annotations

import json

import pytest

from airflow_provider_hwocr.client.errors import HuaweiOcrConfigurationError
from airflow_provider_hwocr.hooks.connection import settings_from_connection
from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook
from tests.helpers.airflow_env import CONN_ENV, conn_json
from tests.helpers.client_support import SLUG
from tests.helpers.constants import AK, PROJECT_ID, REGION, SK
from tests.helpers.images import png


def _use(monkeypatch, emulator, **overrides) -> HuaweiOcrHook:
    monkeypatch.setenv(CONN_ENV, conn_json(emulator, **overrides))
    return HuaweiOcrHook()


def _conn(extra, *, login=AK, password=SK):
    """A real Airflow connection object, as a secrets backend hands it over."""
    from airflow.sdk import Connection

    return Connection(
        conn_id="c1",
        conn_type="huaweicloud_ocr",
        login=login,
        password=password,
        extra=extra if isinstance(extra, str) else json.dumps(extra),
    )


BAD_CONNECTIONS = [
    ({"extra": {"region": None}}, "region"),
    ({"extra": {"region": "hong-kong"}}, "region"),
    ({"extra": {"project_id": None}}, "project_id"),
    ({"extra": {"project_id": "{project_id}"}}, "project_id"),
    ({"login": None}, "login"),
    ({"password": None}, "password"),
    ({"extra": {"auth_type": "oauth"}}, "auth_type"),
    ({"extra": {"auth_type": "token", "domain_name": "d", "password": "p"}}, "user_name"),
    ({"extra": {"verify": "/no/such/ca.pem"}}, "verify"),
    ({"extra": {"timeout": "soon"}}, "timeout"),
    ({"extra": {"max_retries": 0}}, "max_retries"),
    ({"extra": {"endpoint": "ftp://127.0.0.1:1"}}, "endpoint"),
]


@pytest.mark.parametrize(
    ("overrides", "field"), BAD_CONNECTIONS, ids=[b[1] + str(i) for i, b in enumerate(BAD_CONNECTIONS)]
)
def test_bad_connection_names_the_field(overrides, field, emulator, monkeypatch):
    hook = _use(monkeypatch, emulator, **overrides)
    with pytest.raises(HuaweiOcrConfigurationError) as info:
        hook.recognize("general-text", image=png())
    assert info.value.field == field
    assert repr(field) in str(info.value)
    assert emulator.count() == 0


def test_secrets_are_registered_with_the_masker(emulator, monkeypatch):
    from airflow.sdk._shared.secrets_masker import redact

    hook = _use(monkeypatch, emulator, extra={"security_token": "TEMPTOKEN-abcdef123456"})
    hook.settings  # noqa: B018 - resolving the connection registers the secrets
    text = f"ak={AK} sk={SK} token=TEMPTOKEN-abcdef123456"
    redacted = redact(text)
    for secret in (AK, SK, "TEMPTOKEN-abcdef123456"):
        assert secret not in redacted


# --- settings_from_connection, on a connection object -----------------------------------------


def test_extras_are_parsed_and_normalised():
    settings = settings_from_connection(
        _conn(
            {
                "region": REGION,
                "project_id": PROJECT_ID,
                "endpoint": "https://ocr.example.test:8443/",
                "obs_signature": " SigV4 ",
                "obs_path_style": "yes",
                "verify": "false",
                "timeout": "30",
                "max_retries": "3",
                "retry_possibly_billed": "no",
                "price_per_call": "0.25",
            }
        )
    )
    assert (settings.conn_id, settings.region, settings.project_id, settings.auth_type) == (
        "c1",
        REGION,
        PROJECT_ID,
        "aksk",
    )
    assert settings.endpoint == "https://ocr.example.test:8443"  # trailing slash dropped
    assert (settings.obs_signature, settings.obs_path_style, settings.verify) == ("v4", True, False)
    assert (settings.timeout, settings.max_retries) == (30.0, 3)
    assert isinstance(settings.max_retries, int)
    assert settings.retry_possibly_billed is False and settings.price_per_call == 0.25
    assert settings.secrets == [AK, SK]
    assert AK not in repr(settings) and SK not in repr(settings)
    # arguments override the connection's region and project
    other = settings_from_connection(
        _conn({"region": REGION, "project_id": PROJECT_ID}), region="cn-north-4", project_id="p-2"
    )
    assert (other.region, other.project_id, other.verify, other.timeout, other.max_retries) == (
        "cn-north-4",
        "p-2",
        True,
        60.0,
        5,
    )


def test_obs_reads_need_no_project_but_always_an_aksk_pair():
    settings = settings_from_connection(_conn({"region": REGION}), service="obs")
    assert settings.project_id == "" and settings.ak == AK
    with pytest.raises(HuaweiOcrConfigurationError) as info:
        settings_from_connection(_conn({"region": REGION}))  # OCR needs the project
    assert info.value.field == "project_id"
    token = {"region": REGION, "project_id": PROJECT_ID, "auth_type": "token"}
    token |= {"user_name": "u", "domain_name": "d", "password": "p"}
    assert settings_from_connection(_conn(token, login=None, password=None)).auth_type == "token"
    with pytest.raises(HuaweiOcrConfigurationError, match="IAM token") as info:
        settings_from_connection(_conn(token, login=None, password=None), service="obs")
    assert info.value.field == "login"
    with pytest.raises(ValueError, match="service"):
        settings_from_connection(_conn({"region": REGION}), service="s3")


BAD_EXTRAS = [
    ("not json", "extra"),
    ("[1, 2]", "extra"),
    ({"timeout": 0.5}, "timeout"),
    ({"timeout": "inf"}, "timeout"),
    ({"timeout": True}, "timeout"),
    ({"max_retries": 2.5}, "max_retries"),
    ({"max_retries": 21}, "max_retries"),
    ({"price_per_call": -1}, "price_per_call"),
    ({"obs_signature": "v3"}, "obs_signature"),
    ({"obs_path_style": "maybe"}, "obs_path_style"),
    ({"iam_endpoint": "iam.example.test"}, "iam_endpoint"),
]


@pytest.mark.parametrize(
    ("extra", "field"), BAD_EXTRAS, ids=[f"{f}-{i}" for i, (_, f) in enumerate(BAD_EXTRAS)]
)
def test_a_bad_extra_is_refused_with_its_name(extra, field):
    if isinstance(extra, dict):
        extra = {"region": REGION, "project_id": PROJECT_ID, **extra}
    with pytest.raises(HuaweiOcrConfigurationError) as info:
        settings_from_connection(_conn(extra))
    assert info.value.field == field
    assert f"connection 'c1', field {field!r}" in str(info.value)


def test_mask_secrets_covers_the_proxy_password_in_both_spellings_and_no_extras():
    from airflow.sdk._shared.secrets_masker import redact

    settings = settings_from_connection(
        _conn(
            {
                "region": REGION,
                "project_id": PROJECT_ID,
                "security_token": "TOKEN-for-mask-test-8841",
                "proxy": "http://squid:pr%40xy-mask-test-17@127.0.0.1:3128",
            }
        )
    )
    assert settings.proxy_password == "pr%40xy-mask-test-17"
    settings.mask_secrets()
    text = "token=TOKEN-for-mask-test-8841 raw=pr%40xy-mask-test-17 decoded=pr@xy-mask-test-17"
    assert redact(text) == "token=*** raw=*** decoded=***"
    assert redact(f"region={REGION} project={PROJECT_ID}") == f"region={REGION} project={PROJECT_ID}"


@pytest.mark.parametrize("timeout", ["nan", "inf", "-inf", "1e-6", 0, -5, "1e9", True, "soon"])
def test_timeout_extra_that_cannot_work_is_refused_before_any_call(emulator, monkeypatch, timeout):
    from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook

    monkeypatch.setenv(CONN_ENV, conn_json(emulator, extra={"timeout": timeout}))
    with pytest.raises(HuaweiOcrConfigurationError) as info:
        HuaweiOcrHook().recognize(SLUG, image=png())
    assert info.value.field == "timeout" and "'timeout'" in str(info.value)
    assert emulator.count() == 0


def test_the_form_and_the_parser_share_one_table_of_defaults():
    from airflow_provider_hwocr.get_provider_info import (
        AUTH_TYPES,
        CONN_DEFAULTS,
        CONN_FIELDS,
        OBS_SIGNATURE_ALIASES,
    )

    settings = settings_from_connection(_conn({"region": REGION, "project_id": PROJECT_ID}))
    for name, default in CONN_DEFAULTS.items():
        assert getattr(settings, name) == default, name
        form = CONN_FIELDS[name]["schema"]
        # the form shows the default, except where a short value would make the masker warn
        assert form.get("default", default) == default, name
    assert CONN_FIELDS["auth_type"]["schema"]["enum"] == list(AUTH_TYPES)
    assert CONN_FIELDS["obs_signature"]["schema"]["enum"] == [
        CONN_DEFAULTS["obs_signature"],
        *OBS_SIGNATURE_ALIASES,
    ]
