"""Stage 3b, write (``runtime/batch/write.py``): answers are handed to writer threads, so an OCR slot does
not wait on a PUT; an image is finished only once its PUT returned; the queue is bounded (back-pressure);
a failed write fails its image as called and keeps its answer (a refused key: the batch goes on; an outage:
the writers pause, then go on; OBS gone for good: a local spool file, and the batch stops); errors that fail
every write stop the batch."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsTlsError, HuaweiObsTransientError
from airflow_provider_hwocr.runtime.batch import write
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


_QUIET = SimpleNamespace(error=lambda *a, **k: None, warning=lambda *a, **k: None, debug=lambda *a, **k: None)


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch):
    """The writer's own pauses, shortened (the OBS client's retries are what they are)."""
    monkeypatch.setattr(write, "RETRY_PAUSE", 0.01)
    monkeypatch.setattr(write, "OUTAGE_PAUSES", (0.1, 0.4))


def _writer(store, *, threads=2, capacity=2, journal=None, log=_QUIET):
    finished: list[tuple[Item, dict, list[str]]] = []
    stops: list[BaseException] = []
    writer = ResultWriter(
        store,  # type: ignore[arg-type]
        log,
        threads=threads,
        capacity=capacity,
        finished=lambda item, entry: finished.append((item, entry, list(store.stored))),
        stop=stops.append,
        journal=journal,
    )
    return writer, finished, stops


def _item(i: int) -> Item:
    from airflow_provider_hwocr.client.sources import ImageSource, ObsLocation

    item = Item(i, f"obs://src/{i}.png")
    item.src = ImageSource.obs(ObsLocation("src", f"{i}.png"), size=10, etag=f"s{i}")
    item.key = f"ocr/{i}.json"
    return item


_RESPONSE = SimpleNamespace(attempts=1, billed_retries=0, request_id="req", result={"words": ["x"]})


@pytest.mark.timing
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


def test_a_failed_write_fails_its_image_as_billed_and_a_tls_error_stops_the_batch():
    store = _Store(fail=HuaweiObsTransientError("OBS put failed: no response"))
    writer, finished, stops = _writer(store)
    writer.put(_item(0), SimpleNamespace(attempts=2, billed_retries=1, request_id="r", result={}), {})
    writer.close()
    ((_, entry, _),) = finished
    assert entry["status"] == "failed" and entry["called"] is True
    assert entry["attempts"] == 2 and entry["billed_retries"] == 1 and stops == []
    tls = HuaweiObsTlsError("OBS put: TLS verification failed")
    writer, finished, stops = _writer(_Store(fail=tls))
    writer.put(_item(0), _RESPONSE, {})
    writer.close()
    assert stops == [tls] and finished[0][1]["error_type"] == "HuaweiObsTlsError"


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


@pytest.mark.timing
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


# --- keeping answers, against the fast object server with injected faults -------------------------------


class _ObsStore:
    """``store_result`` through the OBS hook, so the object server's faults apply to it."""

    def __init__(self, obs, bucket: str) -> None:
        self.obs, self.bucket = obs, bucket
        self.digest = "d" * 16
        self.stored: list[str] = []
        self.lock = threading.Lock()

    def store_result(self, key, src, response, summary):
        etag = self.obs.put_json(self.bucket, key, {"result": response.result})
        with self.lock:
            self.stored.append(key)
        return ImageOutcome(src.display, "done", {"uri": f"obs://{self.bucket}/{key}"}, response.request_id,
                            response.attempts, f"obs://{self.bucket}/{key}", result_etag=etag)  # fmt: skip


def _journal(run):
    from airflow_provider_hwocr.runtime.batch.state import ProgressJournal

    return ProgressJournal(run.obs, run.store, header={"api": SLUG, "run_id": "r1"}, every=100, interval=60)


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def _add(self, msg, *args, **_kw):
        self.lines.append(msg % args)

    error = warning = info = debug = _add


def _obs_item(run, i: int) -> Item:
    item = _item(i)
    item.key = f"{run.store.prefix}{i:04d}.png-x.{SLUG}.json"
    return item


def test_an_answer_whose_key_is_refused_is_kept_in_a_part_and_the_batch_goes_on(fast_conn, fast_bucket):
    run = start(fast_bucket)
    store, journal = _ObsStore(run.obs, fast_bucket), _journal(run)
    fast_conn.refuse_writes(rf"^{fast_bucket}/ocr/000[13]\.png")  # two result keys, on every try
    writer, finished, stops = _writer(store, journal=journal)
    for i in range(6):
        writer.put(_obs_item(run, i), _RESPONSE, {"n": i})
    writer.close()
    entries = {item.pos: entry for item, entry, _ in finished}
    assert stops == [] and [entries[i]["status"] for i in range(6)] == ["done", "failed"] * 2 + ["done"] * 2
    assert len(journal.kept) == 2 and journal.written == []  # parts of their own, not deleted by this run
    for i in (1, 3):
        assert entries[i]["called"] is True and entries[i]["kept"].startswith(
            f"obs://{fast_bucket}/ocr/_hwocr_progress/"
        )
        part = run.obs.get_json(fast_bucket, entries[i]["kept"].removeprefix(f"obs://{fast_bucket}/"))
        (kept,) = part["entries"]
        assert (
            kept["status"] == "kept"
            and kept["key"] == _obs_item(run, i).key
            and kept["source_etag"] == f"s{i}"
        )
        assert kept["answer"]["result"] == {"words": ["x"]} and kept["answer"]["summary"] == {"n": i}
        assert kept["params_digest"] == store.digest and part["format"] == "hwocr-progress/2"


def test_answers_refused_in_a_row_stop_the_batch_but_are_kept(fast_conn, fast_bucket):
    run = start(fast_bucket)
    fast_conn.refuse_writes(rf"^{fast_bucket}/ocr/\d+\.png")  # every result refused, the parts taken
    writer, finished, stops = _writer(_ObsStore(run.obs, fast_bucket), threads=1, journal=_journal(run))
    for i in range(MAX_FAILED_WRITES_IN_A_ROW):
        writer.put(_obs_item(run, i), _RESPONSE, {})
    writer.close()
    assert len(stops) == 1 and all(entry["kept"] for _, entry, _ in finished)


def test_an_outage_pauses_the_writers_and_every_answer_is_stored(fast_conn, fast_bucket):
    run = start(fast_bucket)
    store, log = _ObsStore(run.obs, fast_bucket), _Log()
    writer, finished, stops = _writer(store, journal=_journal(run), log=log)
    fast_conn.write_outage(2.5)  # every write answered 503 (retried by the OBS client too)
    began = time.monotonic()
    for i in range(4):
        writer.put(_obs_item(run, i), _RESPONSE, {})
    writer.close()
    assert time.monotonic() - began >= 2.0 and stops == []
    assert [entry["status"] for _, entry, _ in finished] == ["done"] * 4 and len(store.stored) == 4
    assert any("the writers pause" in line for line in log.lines) and any(
        "again" in line for line in log.lines
    )


class _BackJustNow(_ObsStore):
    """The result's write fails as OBS down for its first ``down`` tries, then goes through: writes came
    back between the result's last failed try and the write keeping its answer."""

    def __init__(self, obs, bucket: str, down: int) -> None:
        super().__init__(obs, bucket)
        self.down = down

    def store_result(self, key, src, response, summary):
        with self.lock:
            self.down -= 1
            if self.down >= 0:
                raise HuaweiObsTransientError("OBS answered 503")
        return super().store_result(key, src, response, summary)


def test_writes_back_just_as_an_answer_is_kept_store_the_result_and_delete_the_part(fast_conn, fast_bucket):
    run = start(fast_bucket)
    journal = _journal(run)
    store = _BackJustNow(run.obs, fast_bucket, down=write.TRIES_PER_KEY)
    writer, finished, stops = _writer(store, threads=1, journal=journal)
    writer.put(_obs_item(run, 0), _RESPONSE, {})
    writer.close()
    ((_, entry, _),) = finished
    assert stops == [] and entry["status"] == "done" and "kept" not in entry and len(store.stored) == 1
    assert journal.kept == [] and run.obs.list_keys(fast_bucket, run.store.progress_prefix) == []


def test_obs_gone_for_good_keeps_the_answer_in_a_local_spool_file_and_stops(
    fast_conn, fast_bucket, tmp_path, monkeypatch
):
    monkeypatch.setenv("HWOCR_SPOOL_DIR", str(tmp_path))
    monkeypatch.setattr(write, "OUTAGE_SECONDS", 1.0)
    run = start(fast_bucket)
    log = _Log()
    writer, finished, stops = _writer(
        _ObsStore(run.obs, fast_bucket), threads=1, journal=_journal(run), log=log
    )
    fast_conn.write_outage(60)
    writer.put(_obs_item(run, 0), _RESPONSE, {"n": 0})
    writer.close()
    ((_, entry, _),) = finished
    assert entry["status"] == "failed" and len(stops) == 1
    spooled = list(tmp_path.glob("*.json"))
    assert [str(p) for p in spooled] == [entry["kept"]]
    assert any(str(spooled[0]) in line for line in log.lines)  # named in the log
    import json

    part = json.loads(spooled[0].read_text())
    assert part["entries"][0]["answer"]["summary"] == {"n": 0} and part["bucket"] == fast_bucket
