"""What the batch's log and XCom say of this run: the progress line's pace and ETA come from what
this run sends (not the images done before), with its calls and estimated cost; the header is
logged once; the last line and the XCom name this run's calls, billed retries and cost; a missing
index is warned about only when it costs requests."""

from __future__ import annotations

import re
import time

import pytest

from airflow_provider_hwocr.runtime.batch import decide, guard, select
from airflow_provider_hwocr.runtime.batch.send import ProgressStart, progress_line
from airflow_provider_hwocr.runtime.batch.state import _warn_damage
from tests.helpers.d2_stages import PNG, SLUG, full_run, start
from tests.helpers.obs_env import bulk_put


class Log:
    """The task's log, recorded: (time, level, message)."""

    def __init__(self) -> None:
        self.lines: list[tuple[float, str, str]] = []

    def _add(self, level: str, msg: str, *args) -> None:
        self.lines.append((time.monotonic(), level, msg % args if args else msg))

    def debug(self, msg, *args, **_):
        self._add("DEBUG", msg, *args)

    def info(self, msg, *args, **_):
        self._add("INFO", msg, *args)

    def warning(self, msg, *args, **_):
        self._add("WARNING", msg, *args)

    def error(self, msg, *args, **_):
        self._add("ERROR", msg, *args)

    def exception(self, msg, *args, **_):
        self._add("ERROR", msg, *args)

    def messages(self, level: str | None = None) -> list[str]:
        return [m for _, lv, m in self.lines if level is None or lv == level]


def test_on_a_half_done_day_the_eta_is_this_runs_pace():
    # 100 images, 50 done before; this run sent 10 in 10 s: 40 left at 1/s is 40 s.
    counts = {"skipped": 50, "done": 9, "failed": 1}
    message, args = progress_line(counts, 100, ProgressStart(0.0, 0), 10.0, calls=10, cost="0.1")
    line = message % args
    assert "Progress: 60/100 images (60%), 1.00/s sent by this run" in line and "ETA 40.0s" in line
    assert "10 call(s), estimated cost 0.1" in line
    # Items rejected before any call are not this run's pace either.
    _, args = progress_line(
        {"skipped": 50, "done": 10, "rejected": 5}, 100, ProgressStart(0.0, 5), 10.0, calls=10, cost="x"
    )
    assert args[4] == 1.0


def _progress(log: Log) -> list[tuple[float, int, float]]:
    out = []
    for at, _, msg in log.lines:
        m = re.match(r"Progress: (\d+)/\d+ .* ETA ([\d.]+)s", msg)
        if m:
            out.append((at, int(m.group(1)), float(m.group(2))))
    return out


@pytest.mark.timing
def test_a_half_done_batch_logs_an_eta_within_a_quarter_of_the_real_time(obs_bucket, emulator):
    bulk_put(obs_bucket, [f"day/old{i:02d}.png" for i in range(16)], PNG)
    full_run(obs_bucket)  # half the day done before this run
    bulk_put(obs_bucket, [f"day/new{i:02d}.png" for i in range(16)], PNG)
    emulator.reset()
    emulator.config.latency_ms = 300  # ~5 s of sending, one call at a time
    log = Log()
    _, _, _, report = full_run(
        obs_bucket, max_concurrency=1, progress_interval=0.5, price_per_call=0.01, log=log
    )
    lines = _progress(log)
    end = next(at for at, done, _ in lines if done == 32)
    middle = [(at, eta) for at, done, eta in lines if 16 + 3 <= done <= 32 - 5]  # 5 or more left: > 1 s
    assert len(middle) >= 3, lines
    for at, eta in middle:
        real = end - at
        assert abs(eta - real) <= 0.25 * real, (eta, real, lines)
    assert "16 call(s), estimated cost 0.16" in [m for m in log.messages() if m.startswith("Progress")][-1]
    # The header once; the last line: this run's calls, billed retries, cost and the manifest.
    assert sum(m.startswith("Batch OCR") for m in log.messages()) == 1
    last = log.messages()[-1]
    assert (
        last == f"this run: 16 call(s), 0 billed retries, estimated cost 0.16; manifest {report.manifest_uri}"
    )
    assert report.xcom["this_run"] == {"calls": 16, "billed_retries": 0, "estimated_cost": 0.16}
    assert set(report.xcom) >= {"manifest_uri", "history_uri", "totals", "billing"}  # as before
    assert emulator.count(SLUG) == 16


def test_without_a_price_the_cost_is_unknown(obs_bucket, emulator):
    bulk_put(obs_bucket, ["day/a.png", "day/b.png"], PNG)
    log = Log()
    _, _, _, report = full_run(obs_bucket, log=log)
    assert log.messages()[-1].startswith(
        "this run: 2 call(s), 0 billed retries, estimated cost unknown (no price_per_call)"
    )
    assert report.xcom["this_run"] == {"calls": 2, "billed_retries": 0, "estimated_cost": None}


def test_a_missing_index_warns_only_when_it_costs_requests():
    log = Log()
    _warn_damage(log, "the index x is missing", 3, final=False)  # a first look: read again under the lease
    _warn_damage(log, "the index x is missing", 0)  # the listing replaces it: no extra request
    assert [lv for _, lv, _ in log.lines] == ["INFO", "INFO"]
    _warn_damage(log, "the index x is missing", 3)  # the decision that stands: 3 HEADs
    assert log.lines[-1][1] == "WARNING" and "3 request(s)" in log.lines[-1][2]


def test_an_index_written_by_the_other_run_meanwhile_is_no_warning(obs_bucket, obs_conn, emulator):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    obs = HuaweiObsHook()
    bulk_put(obs_bucket, [f"day/{i}.png" for i in range(4)], PNG)
    run, _, _, _ = full_run(obs_bucket)
    bulk_put(obs_bucket, ["day/new.png"], PNG)
    index = obs.get_bytes(obs_bucket, run.store.index_key)
    obs.delete(obs_bucket, run.store.index_key)  # the other run has not written its index yet
    log = Log()
    run = start(obs_bucket, log=log)
    selection = select(run)
    plan = decide(run, selection)
    obs.put_bytes(obs_bucket, run.store.index_key, index)  # ... and writes it before the lease is ours
    plan = guard(run, selection, plan)
    plan.lease.release()
    assert not log.messages("WARNING"), log.lines
    assert any("is missing" in m and "read again under the lease" in m for m in log.messages("INFO"))
    assert sum(m.startswith("Batch OCR") for m in log.messages()) == 1
    assert [i.action for i in plan.items].count("skip") == 4


def test_a_batch_of_documents_counts_their_pages_once_it_knows_them(obs_bucket, obs_conn, emulator):
    """The progress line counts images and pages: a document counts its chosen pages once they are
    known (read, or from its pages' keys on a re-run), so the line ends at 100 %, never past it."""
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
    from airflow_provider_hwocr.testing.documents import numbered_pdf

    obs = HuaweiObsHook(obs_conn)
    bulk_put(obs_bucket, ["day/c.png"], PNG)
    # (documents added, pages, what the line counts to, calls so far)
    steps = [(("a", "b"), None, 7, 7), (("d",), "1-2", 7, 9), ((), None, 10, 10)]
    for added, pages, total, calls in steps:
        for name in added:
            obs.put_bytes(obs_bucket, f"day/{name}.pdf", numbered_pdf(3).data)
        log = Log()
        extra = {} if pages is None else {"pages": pages}
        full_run(obs_bucket, api="general-text", progress_interval=0.001, log=log, **extra)
        lines = [m for m in log.messages("INFO") if m.startswith("Progress: ")]
        assert lines and lines[-1].startswith(f"Progress: {total}/{total} images and pages (100%)"), lines
        assert all(int(m.split("/")[0].split()[-1]) <= total for m in lines), lines
        assert emulator.count("general-text") == calls
