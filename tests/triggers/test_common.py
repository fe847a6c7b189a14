"""The provider's OBS triggers are equal when they serialize the same, and hash alike."""

from __future__ import annotations

from airflow_provider_hwocr.triggers.obs import HuaweiObsKeyTrigger
from airflow_provider_hwocr.triggers.obs_lease import HuaweiObsLeaseReleasedTrigger


def _lease(**kw):
    return HuaweiObsLeaseReleasedTrigger(
        **{"bucket": "b", "key": "p_hwocr/general-text/lease.json", "token": "t", **kw}
    )


def test_triggers_that_serialize_the_same_are_equal_and_hash_alike():
    assert _lease() == _lease() and hash(_lease()) == hash(_lease())
    assert _lease() != _lease(token="other") and len({_lease(), _lease(), _lease(token="other")}) == 2


def test_triggers_of_different_classes_are_never_equal():
    key = HuaweiObsKeyTrigger(bucket="b", key="p_hwocr/general-text/lease.json")
    assert key != _lease() and _lease() != key
    assert _lease()._hook().huaweicloud_ocr_conn_id == "huaweicloud_ocr_default"
