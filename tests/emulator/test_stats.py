"""What the emulator remembers (``emulator/stats.py``): counters, the capped call log, timestamps, peak
concurrency and billed units.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator, samples, stats
from tests.helpers.b_images import b64
from tests.helpers.b_service import service
from tests.helpers.b_signed import PNG_B64, call, ocr_path
from tests.helpers.constants import IAM_DOMAIN, IAM_PASSWORD, IAM_USER, PROJECT_ID, REGION
from tests.helpers.emulator_client import Client

SAMPLES = samples.all_samples()


def test_counters_and_stats(emulator):
    call(emulator, "general-text", {"image": PNG_B64})
    call(emulator, "general-text", {"image": "???"})
    call(emulator, "passport", {"image": PNG_B64})
    requests.post(f"{emulator.url}{ocr_path('passport')}", json={}, timeout=10)
    assert emulator.count() == 4
    assert emulator.count("general-text") == 2
    assert emulator.count(status=200) == 2
    assert emulator.count("passport", 401) == 1
    stats = emulator.stats()
    assert (stats["total"], stats["billable"]) == (4, 2)
    assert stats["by_status"] == {"200": 2, "400": 1, "401": 1}
    assert stats["by_error_code"] == {"AIS.0102": 1, "APIG.0301": 1}
    assert stats["apis"]["general-text"] == {
        "total": 2, "billable": 1, "billed_units": 1, "by_status": {"200": 1, "400": 1},
        "by_error_code": {"AIS.0102": 1},
    }  # fmt: skip
    assert [c.slug for c in emulator.calls()] == ["general-text", "general-text", "passport", "passport"]
    assert len(emulator.calls("passport")) == 2


def test_recorded_calls_are_capped_but_all_counted():
    with OcrEmulator(EmulatorConfig(project_id=PROJECT_ID, max_recorded_calls=3)) as emu:
        for _ in range(5):
            requests.post(f"{emu.url}{ocr_path('general-text')}", json={}, timeout=10)
        assert len(emu.calls()) == 3
        assert emu.count() == emu.count("general-text", 401) == emu.stats()["total"] == 5


def test_stats_timestamps_and_peak_concurrency_over_http():
    with service(latency_ms=200) as s:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda _: s.ocr("passport"), range(4)))
        s.ocr("general-text", {"image": "%%%"})
        body = requests.get(f"{s.url}/_emulator/stats", timeout=10).json()
        assert {"total", "billable", "by_status", "by_error_code", "apis", "tokens_issued", "timestamps",
                "faults", "peak_concurrency", "ocr_engine", "results"} <= set(body)  # fmt: skip
        stamps = body["timestamps"]["passport"]
        assert len(stamps) == 4 and all(start <= end for start, end, _ in stamps)
        assert body["timestamps"]["general-text"][0][2] == 400
        assert body["peak_concurrency"] >= 3
        assert body["billable"] == 4
        requests.post(f"{s.url}/_emulator/reset", timeout=10)
        assert requests.get(f"{s.url}/_emulator/stats", timeout=10).json()["timestamps"] == {}


def test_timestamps_are_bounded_per_api():
    with service(max_timestamps=3) as s:
        for _ in range(5):
            s.ocr("passport")
        assert len(s.emu.stats()["timestamps"]["passport"]) == 3
        assert s.emu.stats()["total"] == 5


def test_peak_concurrency_counts_overlaps():
    assert stats.peak_concurrency([(0, 2, 200), (1, 3, 200), (2, 4, 200), (5, 6, 200)]) == 2
    assert stats.peak_concurrency([]) == 0


def test_stats_bill_auto_classification_per_recognised_document():
    config = EmulatorConfig(
        project_id=PROJECT_ID, region=REGION, iam_users={(IAM_DOMAIN, IAM_USER): IAM_PASSWORD}
    )
    with OcrEmulator(config) as emu:
        client = Client(emu)
        for name in ("invoice", "note", "passport"):
            assert client.ocr("auto-classification", {"image": b64(SAMPLES[name].png)}).status_code == 200
        client.ocr("general-text", {"image": b64(SAMPLES["note"].png)})
        stats = emu.stats()
        assert stats["apis"]["auto-classification"]["billable"] == 3
        assert stats["apis"]["auto-classification"]["billed_units"] == 2  # the note was not recognised
        assert stats["apis"]["general-text"]["billed_units"] == 1
        assert stats["billed_units"] == 3
        emu.config.results = "documented"  # the docs' example: two documents recognised, one failed
        client.ocr("auto-classification", {"image": b64(SAMPLES["note"].png)})
        assert emu.stats()["apis"]["auto-classification"]["billed_units"] == 4
        emu.reset()
        assert emu.stats()["billed_units"] == 0


def _recorded(slug, status, code=None, *, fault=None, units=1, at=0.0) -> stats.RecordedCall:
    return stats.RecordedCall(
        slug=slug, path="/", headers={}, body=None, status=status, error_code=code, auth_mode="token",
        timestamp=at + 1, started=at, fault=fault, units=units,
    )  # fmt: skip


def test_the_call_log_counts_every_call_but_keeps_only_the_recent_ones():
    log = stats.CallLog(max_recorded=2, max_timestamps=2)
    log.add(_recorded("general-text", 200, at=0))
    log.add(_recorded("general-text", 400, "AIS.0102", units=0, at=1))
    log.add(_recorded(None, 404, "APIG.0101", at=2))
    log.add(_recorded("auto-classification", 200, units=2, at=3))
    log.add(_recorded("general-text", 200, fault="truncate", at=4))
    assert [c.slug for c in log.calls()] == ["auto-classification", "general-text"]
    assert (log.count(), log.count("general-text"), log.count(status=200)) == (5, 3, 3)
    summary = log.stats()
    assert (summary["total"], summary["billable"], summary["billed_units"]) == (5, 3, 4)
    assert summary["apis"][stats.UNKNOWN_API] == {
        "total": 1, "billable": 0, "billed_units": 0, "by_status": {"404": 1}, "by_error_code": {"APIG.0101": 1},
    }  # fmt: skip
    assert summary["apis"]["auto-classification"]["billed_units"] == 2
    assert summary["faults"] == {"truncate": 1}
    assert summary["timestamps"]["general-text"] == [[1, 2, 400], [4, 5, 200]]  # the last two
    assert not _recorded(None, 200).billable and _recorded("passport", 200).billable
    log.clear()
    assert (log.count(), log.calls(), log.stats()["timestamps"]) == (0, [], {})
