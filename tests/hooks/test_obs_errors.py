"""OBS failures as typed errors (``hooks/obs_errors.py``): what the hook raises for a missing bucket
or key, a refused request and no answer at all, and the errors' own text, classes and pickling."""

from __future__ import annotations

import pickle
import socket

import pytest

from airflow_provider_hwocr.errors import (
    HuaweiCloudError,
    HuaweiCloudNonRetryableError,
    HuaweiCloudThrottledError,
    HuaweiCloudTransientError,
)
from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
from airflow_provider_hwocr.hooks.obs_errors import (
    HuaweiObsAccessDeniedError,
    HuaweiObsError,
    HuaweiObsNotFoundError,
    HuaweiObsRequestError,
    HuaweiObsThrottledError,
    HuaweiObsTlsError,
    HuaweiObsTransientError,
    clean_text,
)
from tests.helpers.airflow_env import CONN_ENV, conn_json
from tests.helpers.constants import AK, SK
from tests.helpers.obs_env import create_bucket, obs_client


def _use_conn(monkeypatch, emulator, **extra):
    monkeypatch.setenv(CONN_ENV, conn_json(emulator, extra=extra))
    return HuaweiObsHook()


# --- what the hook raises ----------------------------------------------------------------------------


def test_missing_bucket_is_a_clear_error_everywhere(hook):
    bucket = "hwocr-no-such-bucket"
    calls = [
        lambda: hook.head(bucket, "a.png"),
        lambda: hook.exists(bucket, "a.png"),
        lambda: hook.get_bytes(bucket, "a.png"),
        lambda: hook.list_keys(bucket, "in/"),
        lambda: hook.put_bytes(bucket, "a.png", b"1"),
        lambda: hook.delete(bucket, "a.png"),
    ]
    for call in calls:
        with pytest.raises(HuaweiObsNotFoundError) as info:
            call()
        err = info.value
        assert (err.status, err.error_code, err.bucket) == (404, "NoSuchBucket", bucket)
        assert f"bucket {bucket!r} does not exist" in str(err)


def test_missing_key_on_get_names_bucket_and_key(hook, obs_bucket):
    with pytest.raises(HuaweiObsNotFoundError) as info:
        hook.get_bytes(obs_bucket, "in/missing.png")
    err = info.value
    assert (err.status, err.error_code, err.bucket, err.key) == (
        404,
        "NoSuchKey",
        obs_bucket,
        "in/missing.png",
    )
    assert f"obs://{obs_bucket}/in/missing.png does not exist" in str(err)
    assert err.request_id and err.request_id in str(err)
    assert isinstance(err, HuaweiObsError)


def test_access_denied_is_typed_and_writes_nothing(hook, monkeypatch):
    """A bucket of another account, with moto's cross-account access switched off, answers 403."""
    from moto.s3.models import s3_backends

    other_account = "222222222222"
    bucket = create_bucket(account=other_account)
    client = obs_client()
    client.putContent(
        bucket, "secret.png", content=b"theirs", extensionHeaders={"x-moto-account-id": other_account}
    )
    client.close()
    monkeypatch.setenv("MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS", "false")

    for operation, call in (
        ("head", lambda: hook.head(bucket, "secret.png")),
        ("get", lambda: hook.get_bytes(bucket, "secret.png")),
        ("list", lambda: hook.list_keys(bucket)),
        ("put", lambda: hook.put_json(bucket, "out/new.json", {"a": 1})),
    ):
        with pytest.raises(HuaweiObsAccessDeniedError) as info:
            call()
        err = info.value
        assert (err.status, err.error_code, err.bucket, err.operation) == (
            403,
            "AccessDenied",
            bucket,
            operation,
        )
        assert "access denied" in str(err) and "huaweicloud_ocr_default" in str(err)
        assert AK not in str(err) and SK not in str(err)
    stored = s3_backends[other_account]["aws"].buckets[bucket].keys
    assert list(stored.keys()) == ["secret.png"]  # the refused PUT left nothing behind


def test_no_answer_is_a_transient_error(monkeypatch, emulator):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    hook = _use_conn(
        monkeypatch,
        emulator,
        obs_endpoint=f"http://127.0.0.1:{port}",
        obs_path_style=True,
        obs_signature="v2",
        max_retries=1,
    )
    with pytest.raises(HuaweiObsTransientError) as info:
        hook.head("some-bucket", "k")
    assert "no response" in str(info.value) and info.value.retryable
    assert AK not in str(info.value) and SK not in str(info.value)


# --- the errors themselves ----------------------------------------------------------------------


def test_clean_text_blanks_secrets_and_signed_url_parameters():
    url = (
        "https://b.obs.example.test/k.png?AccessKeyId=HPUAQ&Expires=99&Signature=a%2Fb"
        "&x-obs-security-token=tok&X-Amz-Credential=cred&x-amz-signature=sig&keep=1"
    )
    assert clean_text(url) == (
        "https://b.obs.example.test/k.png?AccessKeyId=***&Expires=99&Signature=***"
        "&x-obs-security-token=***&X-Amz-Credential=***&x-amz-signature=***&keep=1"
    )
    # the longest secret first, so one that contains another is blanked whole; short ones are left
    assert clean_text(f"sk={SK} part={SK[:8]} ab=ab", [SK[:8], SK, "ab", None]) == "sk=*** part=*** ab=ab"
    assert clean_text(None) == "" and clean_text(404) == "404"


def test_message_names_status_code_request_id_and_location():
    err = HuaweiObsError(
        "get of obs://b-1/in/a.png failed",
        status=404,
        error_code="NoSuchKey",
        request_id="rid-7",
        bucket="b-1",
        key="in/a.png",
        operation="get",
    )
    assert str(err) == "get of obs://b-1/in/a.png failed (HTTP 404, NoSuchKey, request_id=rid-7)"
    assert err.uri == "obs://b-1/in/a.png" and err.args == ("get of obs://b-1/in/a.png failed",)
    assert str(HuaweiObsError("no details")) == "no details"
    assert HuaweiObsError("m").uri is None and HuaweiObsError("m", bucket="b-1").uri == "obs://b-1/"
    assert str(HuaweiObsError("m", status=503)) == "m (HTTP 503)"


ERROR_CLASSES = [
    (HuaweiObsNotFoundError, HuaweiCloudNonRetryableError, False),
    (HuaweiObsAccessDeniedError, HuaweiCloudNonRetryableError, False),
    (HuaweiObsRequestError, HuaweiCloudNonRetryableError, False),
    (HuaweiObsTlsError, HuaweiCloudNonRetryableError, False),
    (HuaweiObsTransientError, HuaweiCloudTransientError, True),
    (HuaweiObsThrottledError, HuaweiCloudThrottledError, True),
]


@pytest.mark.parametrize(
    ("cls", "branch", "retryable"), ERROR_CLASSES, ids=[c[0].__name__ for c in ERROR_CLASSES]
)
def test_each_error_is_on_its_retry_branch_and_survives_pickling(cls, branch, retryable):
    err = cls(
        "put failed",
        status=500,
        error_code="Code",
        error_message="text",
        request_id="rid",
        bucket="b-1",
        key="k",
        operation="put",
    )
    assert isinstance(err, HuaweiObsError) and isinstance(err, branch) and isinstance(err, HuaweiCloudError)
    assert err.retryable is retryable
    assert issubclass(HuaweiObsThrottledError, HuaweiObsTransientError)
    # across processes (a task's error reported by a worker): same class, same attributes, same text
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is cls and str(again) == str(err)
    fields = ("message", "status", "error_code", "error_message", "request_id", "bucket", "key", "operation")
    assert [getattr(again, f) for f in fields] == [getattr(err, f) for f in fields]
