"""Failures on purpose (``emulator/faults.py``): scripted ones (``fail_next``) and random ones at set rates."""

from __future__ import annotations

import time

import pytest
import requests

from airflow_provider_hwocr.catalog import ERROR_CODES
from tests.helpers.b_service import Service, code_of, service
from tests.helpers.b_signed import PNG_B64, call, ocr_path

# --- scripted failures ------------------------------------------------------------


def test_fail_next_with_retry_after(emulator):
    emulator.fail_next("general-text", 429, "APIG.0308", retry_after=2)
    # Another API and an unauthenticated call do not use up the scripted failure.
    assert call(emulator, "passport", {"image": PNG_B64}).status_code == 200
    assert requests.post(f"{emulator.url}{ocr_path('general-text')}", json={}, timeout=10).status_code == 401
    failed = call(emulator, "general-text", {"image": PNG_B64})
    assert failed.status_code == 429
    assert failed.headers["Retry-After"] == "2"
    assert failed.json()["error_code"] == "APIG.0308"
    assert failed.json()["error_msg"] == ERROR_CODES["APIG.0308"].message
    assert call(emulator, "general-text", {"image": PNG_B64}).status_code == 200
    assert emulator.count("general-text", 429) == 1
    assert emulator.stats()["billable"] == 2


def test_fail_next_any_api_several_times_before_validation(emulator):
    emulator.fail_next(None, 503, "ModelArts.4403", error_msg="down for a bit", times=2)
    first = call(emulator, "passport", b"not even json")
    second = call(emulator, "general-text", {"image": PNG_B64})
    assert [first.status_code, second.status_code] == [503, 503]
    assert first.json()["error_msg"] == "down for a bit"
    assert "Retry-After" not in first.headers
    assert call(emulator, "general-text", {"image": PNG_B64}).status_code == 200


def test_fail_next_rejects_unknown_slug(emulator):
    with pytest.raises(KeyError):
        emulator.fail_next("general-txt", 500, "ModelArts.4505")


def test_reset_clears_scripted_failures(emulator):
    emulator.fail_next(None, 500, "ModelArts.4505")
    emulator.reset()
    assert call(emulator, "general-text", {"image": PNG_B64}).status_code == 200


# --- injected faults ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("knob", "expected"),
    [("error_500_rate", (500, "ModelArts.4505")), ("error_503_rate", (503, "ModelArts.4403"))],
)
def test_injected_error_answers(knob, expected):
    with service(**{knob: 1.0}) as s:
        response = s.ocr("general-text")
        assert code_of(response) == expected
        assert "injected" in response.headers["X-Emulator-Detail"]
        # only valid requests meet faults: a bad body still gets its own answer
        assert code_of(s.ocr("general-text", {"image": "%%%"})) == (400, "AIS.0102")
        assert s.emu.stats()["faults"] == {knob[: -len("_rate")]: 1}


def test_dropped_connection():
    with service(drop_rate=1.0) as s:
        with pytest.raises(requests.exceptions.ConnectionError):
            s.ocr("general-text")
        (call,) = s.emu.calls("general-text")
        assert (call.status, call.fault) == (0, "drop")
        assert s.emu.stats()["billable"] == 0


def test_slow_reply_exceeds_a_client_timeout():
    with service(slow_rate=1.0, slow_reply_seconds=0.8) as s:
        with pytest.raises(requests.exceptions.ReadTimeout):
            s.ocr("passport", timeout=0.3)
        started = time.monotonic()
        assert s.ocr("passport", timeout=5).status_code == 200
        assert time.monotonic() - started >= 0.8
        assert s.emu.stats()["faults"] == {"slow": 2}


def test_truncated_body():
    with service(truncate_rate=1.0) as s:
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            s.ocr("passport")
        (call,) = s.emu.calls("passport")
        assert (call.status, call.fault) == (200, "truncate")
        assert s.emu.stats()["billable"] == 1  # the work was done; the caller just never got it


def test_faults_are_reproducible_with_a_seed():
    def run(s: Service) -> list[int]:
        return [s.ocr("passport").status_code for _ in range(24)]

    knobs = {"error_500_rate": 0.3, "error_503_rate": 0.2, "seed": 42}
    with service(**knobs) as a, service(**knobs) as b:
        first = run(a)
        assert first == run(b)
        assert {200, 500, 503} <= set(first)
        a.emu.reset()  # the random sequence starts again from the seed
        assert run(a) == first
