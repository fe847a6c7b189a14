"""The emulated account's settings (``emulator/config.py``): knobs refused when out of range, and what they
select (keys, limits, unsubscribed APIs).
"""

from __future__ import annotations

import pytest

from airflow_provider_hwocr.emulator import EmulatorConfig
from tests.helpers.b_service import code_of, service
from tests.helpers.constants import AK, SECURITY_TOKEN, SK, TEMP_AK, TEMP_SK


def test_not_subscribed_from_config():
    with service(not_subscribed={"handwriting"}) as s:
        response = s.ocr("handwriting")
        assert code_of(response) == (403, "ModelArts.4204")
        assert response.json()["error_msg"] == "Request api error! The API handwriting is not subscribed."
        assert s.ocr("general-text").status_code == 200


@pytest.mark.parametrize(
    "knobs",
    [
        {"error_500_rate": 0.7, "drop_rate": 0.5},
        {"slow_rate": -0.1},
        {"latency_ms": -1},
        {"qps_limit": 0},
        {"results": "made-up"},
        {"ocr_engine": "easyocr"},
    ],
)
def test_bad_knobs_are_refused(knobs):
    with pytest.raises(ValueError):
        EmulatorConfig(**knobs)


def test_unknown_api_in_qps_limits_is_refused():
    with pytest.raises(KeyError):
        EmulatorConfig(qps_limits={"general-txt": 1})


def test_limits_and_secrets_are_looked_up_by_api_and_key():
    config = EmulatorConfig(
        credentials={AK: SK},
        temporary_credentials={TEMP_AK: (TEMP_SK, SECURITY_TOKEN)},
        qps_limit=5,
        qps_limits={"passport": 1},
        not_subscribed=["handwriting"],
    )
    assert (config.qps_for("passport"), config.qps_for("general-text")) == (1, 5)
    assert EmulatorConfig().qps_for("passport") is None
    assert config.secret_for(AK) == (SK, None)
    assert config.secret_for(TEMP_AK) == (TEMP_SK, SECURITY_TOKEN)
    assert config.secret_for("HPUANOTKNOWN00000000") is None
    assert config.not_subscribed == {"handwriting"}  # any iterable becomes a set


@pytest.mark.parametrize(
    "knobs",
    [
        {"project_id": ""},
        {"project_id": "a/b"},
        {"temporary_credentials": {TEMP_AK: TEMP_SK}},
        {"not_subscribed": {"general-txt"}},
        {"qps_limits": {"passport": float("inf")}},
    ],
    ids=["empty-project", "slash-in-project", "temp-key-without-token", "unknown-api", "infinite-qps"],
)
def test_bad_account_settings_are_refused(knobs):
    with pytest.raises((ValueError, KeyError)):
        EmulatorConfig(**knobs)


def test_knobs_changed_on_a_config_are_checked_again():
    config = EmulatorConfig(error_500_rate=0.5)
    assert config.fault_rates() == {"error_500": 0.5, "error_503": 0, "drop": 0, "slow": 0, "truncate": 0}
    config.error_503_rate = 0.6
    with pytest.raises(ValueError, match="more than 1"):
        config.check_behaviour()
