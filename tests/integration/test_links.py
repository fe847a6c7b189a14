"""Extra links to the OBS console (``integration/links.py``): declared on the operator class and in
provider info, the console URL of a location, and what a task persists for its links."""

from __future__ import annotations

from airflow_provider_hwocr.integration.links import HuaweiObsResultLink, HuaweiObsSourceLink, console_url
from airflow_provider_hwocr.operators.ocr import HuaweiOcrOperator
from tests.helpers.c_obs_keys import RecordingTI


def test_extra_links_are_class_attributes_and_in_provider_info():
    from airflow_provider_hwocr.get_provider_info import get_provider_info

    assert "operator_extra_links" in vars(HuaweiOcrOperator)
    assert not isinstance(vars(HuaweiOcrOperator)["operator_extra_links"], property)
    names = {link.name for link in HuaweiOcrOperator.operator_extra_links}
    assert names == {"OBS source", "OBS result"}
    info = get_provider_info()
    assert set(info["extra-links"]) == {
        "airflow_provider_hwocr.integration.links.HuaweiObsSourceLink",
        "airflow_provider_hwocr.integration.links.HuaweiObsResultLink",
    }
    from airflow_provider_hwocr.integration.links import console_url

    assert console_url("la-south-2", "b", "x/y/z.json") == (
        "https://console-intl.huaweicloud.com/obs/?region=la-south-2&locale=en-us"
        "#/obs/manager/buckets/b/objects?prefix=x%2Fy%2F"
    )


def test_console_url_opens_the_folder_of_the_key():
    bucket_page = (
        "https://console-intl.huaweicloud.com/obs/?region=ap-southeast-1&locale=en-us"
        "#/obs/manager/buckets/my-bucket/objects"
    )
    assert console_url("ap-southeast-1", "my-bucket") == bucket_page
    assert console_url("ap-southeast-1", "my-bucket", "top.json") == bucket_page  # at the root
    assert console_url("ap-southeast-1", "my-bucket", "in box/") == bucket_page + "?prefix=in%20box%2F"


def test_a_link_shows_what_its_task_instance_persisted(monkeypatch):
    from airflow.sdk.execution_time.xcom import XCom

    ti = RecordingTI()
    HuaweiObsResultLink.persist({"ti": ti}, region="cn-north-4", uri="obs://b-1/out/2026/a.json")
    HuaweiObsSourceLink.persist({"ti": ti}, region="cn-north-4", uri="https://u:p@host/in/a.png")
    HuaweiObsSourceLink.persist({"ti": ti}, region="cn-north-4", uri=None)
    HuaweiObsSourceLink.persist({}, region="cn-north-4", uri="obs://b-1/in/a.png")  # no task instance
    assert ti.pushed == {
        "hwocr_obs_result": {"region": "cn-north-4", "bucket": "b-1", "key": "out/2026/a.json"}
    }

    # the link reads its own task instance's XCom (the one function stubbed: the XCom read)
    asked = []

    def get_value(*, ti_key, key):
        asked.append((ti_key, key))
        return ti.pushed.get(key)

    monkeypatch.setattr(XCom, "get_value", get_value)
    assert HuaweiObsResultLink().get_link(None, ti_key="ti-key-1") == console_url(
        "cn-north-4", "b-1", "out/2026/a.json"
    )
    assert HuaweiObsSourceLink().get_link(None, ti_key="ti-key-1") == ""  # nothing persisted: no link
    assert asked == [("ti-key-1", "hwocr_obs_result"), ("ti-key-1", "hwocr_obs_source")]
