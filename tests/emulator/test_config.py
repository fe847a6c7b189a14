"""The emulated account's settings (``emulator/config.py``): knobs refused when out of range, and what they
select (keys, limits, unsubscribed APIs).
"""

from __future__ import annotations

import pytest

from airflow_provider_hwocr.emulator import EmulatorConfig
from tests.helpers.b_service import code_of, service


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
