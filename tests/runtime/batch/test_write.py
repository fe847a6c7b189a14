"""Stage 3b, write (``runtime/batch/write.py``): answers are handed to writer threads, so an OCR slot does
not wait on a PUT; an image is finished only once its PUT returned; the queue is bounded (back-pressure);
a failed write fails its image as called; errors that fail every write stop the batch."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsAccessDeniedError, HuaweiObsTransientError
from airflow_provider_hwocr.runtime.batch.entries import Item
from airflow_provider_hwocr.runtime.batch.write import MAX_FAILED_WRITES_IN_A_ROW, ResultWriter
from airflow_provider_hwocr.runtime.pipeline import ImageOutcome
from tests.helpers.d2_stages import PNG, SLUG, start, through_send


class _Store:
    """``store_result`` of a pipeline (the one function stubbed): a PUT that takes ``seconds``."""

    def __init__(self, seconds: float = 0.0, fail: BaseException | None = None) -> None:
        self.seconds = seconds
        self.fail = fail
        self.digest = "d" * 16
        self.stored: list[str] = []
        self.lock = threading.Lock()

    def store_result(self, key, src, response, summary):
        time.sleep(self.seconds)
        if self.fail is not None:
            raise self.fail
        with self.lock:
            self.stored.append(key)
        return ImageOutcome(src.display, "done", {"uri": f"obs://b/{key}", "summary": summary}, "req", 1,
                            f"obs://b/{key}", result_etag="etag")  # fmt: skip


def _writer(store: _Store, *, threads=2, capacity=2):
    finished: list[tuple[Item, dict, list[str]]] = []
    stops: list[BaseException] = []
    writer = ResultWriter(
        store,  # type: ignore[arg-type]
        SimpleNamespace(error=lambda *a, **k: None),
        threads=threads,
        capacity=capacity,
        finished=lambda item, entry: finished.append((item, entry, list(store.stored))),
        stop=stops.append,
    )
    return writer, finished, stops


def _item(i: int) -> Item:
    from airflow_provider_hwocr.client.sources import ImageSource, ObsLocation

    item = Item(i, f"obs://src/{i}.png")
    item.src = ImageSource.obs(ObsLocation("src", f"{i}.png"), size=10, etag=f"s{i}")
    item.key = f"ocr/{i}.json"
    return item


_RESPONSE = SimpleNamespace(attempts=1, billed_retries=0, request_id="req")


def test_handing_over_returns_at_once_while_there_is_room_and_waits_when_full():
    store = _Store(seconds=0.3)
    writer, finished, _ = _writer(store, threads=1, capacity=1)
    started = time.monotonic()
    writer.put(_item(0), _RESPONSE, {})  # taken by the writer
    writer.put(_item(1), _RESPONSE, {})  # waits in the queue
    assert time.monotonic() - started < 0.1  # the OCR slot did not wait on the PUTs
    writer.put(_item(2), _RESPONSE, {})  # the queue is full: back-pressure
    assert time.monotonic() - started >= 0.25
    assert writer.wait(5) and writer.pending == 0
    writer.close()
    assert [entry["status"] for _, entry, _ in finished] == ["done"] * 3


def test_an_image_is_finished_only_after_its_put_returned():
    store = _Store(seconds=0.01)
    writer, finished, _ = _writer(store, threads=3, capacity=3)
    for i in range(12):
        writer.put(_item(i), _RESPONSE, {"api": SLUG})
    writer.close()
    assert len(finished) == 12
    for item, entry, stored_then in finished:
        assert item.key in stored_then  # stored before it was reported
        assert (
            entry["status"] == "done" and entry["key"] == item.key and entry["source_etag"] == item.src.etag
        )
        assert entry["params_digest"] == store.digest and entry["summary"] == {"api": SLUG}


def test_a_failed_write_fails_its_image_as_billed_and_an_access_error_stops_the_batch():
    store = _Store(fail=HuaweiObsTransientError("OBS put failed: no response"))
    writer, finished, stops = _writer(store)
    writer.put(_item(0), SimpleNamespace(attempts=2, billed_retries=1, request_id="r"), {})
    writer.close()
    ((_, entry, _),) = finished
    assert entry["status"] == "failed" and entry["called"] is True
    assert entry["attempts"] == 2 and entry["billed_retries"] == 1 and stops == []
    denied = HuaweiObsAccessDeniedError("OBS put: access denied")
    writer, finished, stops = _writer(_Store(fail=denied))
    writer.put(_item(0), _RESPONSE, {})
    writer.close()
    assert stops == [denied] and finished[0][1]["error_type"] == "HuaweiObsAccessDeniedError"


def test_failed_writes_in_a_row_stop_the_batch():
    writer, finished, stops = _writer(_Store(fail=HuaweiObsTransientError("down")), threads=1)
    for i in range(MAX_FAILED_WRITES_IN_A_ROW):
        writer.put(_item(i), _RESPONSE, {})
    writer.close()
    assert len(finished) == MAX_FAILED_WRITES_IN_A_ROW and len(stops) == 1


# --- against the fast object server, with a delay per answer -------------------------------------------


def _ocr_span(emulator) -> float:
    stamps = emulator.stats()["timestamps"][SLUG]
    return max(end for _, end, _ in stamps) - min(begin for begin, _, _ in stamps)


def test_slow_puts_do_not_slow_the_ocr_calls(fast_conn, fast_bucket, emulator):
    n, concurrency, put_delay = 24, 4, 0.1
    for i in range(n):
        fast_conn.put_object(fast_bucket, f"day/{i:02d}.png", PNG)
    emulator.config.latency_ms = 150  # the writers keep up: a PUT takes less than an OCR call
    spans = []
    for delay, out in ((0.0, "fast"), (put_delay, "slow")):
        emulator.reset()
        emulator.config.latency_ms = 150
        fast_conn.delay = delay  # every answer of the object server to the provider
        _, _, sent = through_send(
            start(fast_bucket, max_concurrency=concurrency, output_uri=f"obs://{fast_bucket}/{out}/")
        )
        assert sent.counts["done"] == n
        spans.append(_ocr_span(emulator))
    # An OCR slot that waited on its PUT would add n / C * delay = 0.6 s to the calls.
    assert spans[1] - spans[0] < 0.5 * n / concurrency * put_delay, spans


def test_a_batch_stops_when_its_results_cannot_be_stored(fast_conn, fast_bucket, emulator):
    for i in range(12):
        fast_conn.put_object(fast_bucket, f"day/{i:02d}.png", PNG)
    run = start(fast_bucket, max_concurrency=2, output_uri="obs://no-such-bucket-here/ocr/")
    with pytest.raises(Exception):  # noqa: B017 - the listing of the missing output bucket fails first
        through_send(run)
    assert emulator.count(SLUG) == 0
