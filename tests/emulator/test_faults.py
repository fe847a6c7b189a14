"""Failures on purpose (``emulator/faults.py``): scripted ones (``fail_next``) and random ones at set rates."""

from __future__ import annotations

import random
import time

import pytest
import requests

from airflow_provider_hwocr.catalog import ERROR_CODES
from airflow_provider_hwocr.emulator import EmulatorConfig
from airflow_provider_hwocr.emulator.faults import FailureScript, RandomFaults, injected_error
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
        a.emu.reseed(7)  # a new seed, from the next request on, without a reset
        other = run(a)
        assert other != first and a.emu.config.seed == 7
        a.emu.reseed(7)
        assert run(a) == other


# --- the script and the draw, without a server ---------------------------------------------


def test_the_oldest_matching_scripted_failure_is_used_first():
    script = FailureScript()
    script.add("passport", 500, "ModelArts.4505")
    script.add(None, 503, "ModelArts.4403", times=2)
    script.add("general-text", 429, "APIG.0308", retry_after=1.5)
    first = script.take("general-text")  # the passport one does not match; the any-API one does
    assert (first.status, first.code) == (503, "ModelArts.4403")
    assert script.take("passport").status == 500
    assert script.take("passport").status == 503  # the second of its two times
    throttled = script.take("general-text")
    assert (throttled.status, throttled.headers) == (429, {"Retry-After": "1.5"})
    assert throttled.message == ERROR_CODES["APIG.0308"].message
    assert script.take("general-text") is None


@pytest.mark.parametrize(("status", "times"), [(200, 1), (600, 1), (500, 0)])
def test_a_scripted_failure_needs_an_error_status_and_at_least_one_time(status, times):
    with pytest.raises(ValueError):
        FailureScript().add(None, status, "ModelArts.4505", times=times)


def test_random_faults_follow_the_cumulative_rates_and_draw_nothing_while_all_are_zero():
    config = EmulatorConfig()
    faults = RandomFaults(seed=7)
    assert [faults.draw(config) for _ in range(5)] == [None] * 5
    config.error_500_rate, config.drop_rate = 0.25, 0.5
    drawn = [faults.draw(config) for _ in range(400)]
    rng = random.Random(7)  # the draws above were the seed's first: nothing was used up at zero rates
    points = [rng.random() for _ in range(400)]
    assert drawn == ["error_500" if p < 0.25 else "drop" if p < 0.75 else None for p in points]
    assert {"error_500", "drop", None} == set(drawn)
    assert injected_error("drop") is None
    assert (injected_error("error_503").status, injected_error("error_503").code) == (503, "ModelArts.4403")
