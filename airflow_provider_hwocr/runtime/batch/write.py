"""Stage 3b, write: results go to OBS from writer threads, so an OCR slot never waits on a PUT.

An OCR slot of the send stage hands each answer to :class:`ResultWriter` and takes its next
image; writer threads PUT the result (and its text pages, with ``export_text``). An image
counts as done (in the counts, the manifest and the progress parts) only once its PUT has
returned. The queue between the two is bounded: when the writers fall behind, an OCR slot
waits to hand its answer over (back-pressure), so memory stays bounded whatever OBS does.

A write that still fails after the OBS client's retries fails its image, marked ``called``
(the OCR call was made and billed). An error that will fail every write stops the batch:
access denied, a missing bucket, TLS, configuration, or :data:`MAX_FAILED_WRITES_IN_A_ROW`
failures in a row (OBS unreachable): paying for answers that cannot be stored is what must
not go on.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from airflow_provider_hwocr.client.errors import HuaweiOcrConfigurationError
from airflow_provider_hwocr.hooks.obs_errors import (
    HuaweiObsAccessDeniedError,
    HuaweiObsNotFoundError,
    HuaweiObsTlsError,
)
from airflow_provider_hwocr.runtime.batch.entries import Item, done, failed
from airflow_provider_hwocr.runtime.pipeline import OcrPipeline

#: Write errors that will fail every write: the batch stops at the first.
FATAL_WRITE_ERRORS = (
    HuaweiObsAccessDeniedError,
    HuaweiObsNotFoundError,  # a PUT's 404 is a missing bucket
    HuaweiObsTlsError,
    HuaweiOcrConfigurationError,
)
#: Consecutive failed writes (after the OBS client's retries) that stop the batch.
MAX_FAILED_WRITES_IN_A_ROW = 5

_STOP = object()


class ResultWriter:
    """Writer threads behind a bounded queue (see the module).

    :param pipeline: stores each answer (``store_result``) and names the parameters (``digest``).
    :param log: the task's log.
    :param finished: called with ``(item, entry)`` once an image's write is over, done or failed.
    :param stop: called with the error when writing must stop the batch.
    """

    def __init__(
        self,
        pipeline: OcrPipeline,
        log: Any,
        *,
        threads: int,
        capacity: int,
        finished: Callable[[Item, dict[str, Any]], None],
        stop: Callable[[BaseException], None],
    ) -> None:
        self.pipeline = pipeline
        self.log = log
        self.finished = finished
        self.stop = stop
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max(1, capacity))
        self._lock = threading.Lock()
        self._failed_in_a_row = 0
        self._open = 0  # handed over, not finished yet
        self._idle = threading.Condition(self._lock)
        self._threads = [
            threading.Thread(target=self._work, name=f"hwocr-write-{i}", daemon=True)
            for i in range(max(1, threads))
        ]
        for thread in self._threads:
            thread.start()

    def put(self, item: Item, response: Any, summary: dict[str, Any]) -> None:
        """Hand one answer over; blocks while the queue is full (the writers set the pace)."""
        with self._lock:
            self._open += 1
        self._queue.put((item, response, summary))

    @property
    def pending(self) -> int:
        with self._lock:
            return self._open

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for every answer handed over to be written; True when none is left."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._open:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self) -> None:
        """Write what is queued, then stop the threads."""
        for _ in self._threads:
            self._queue.put(_STOP)
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is _STOP:
                return
            item, response, summary = job
            try:
                self._write(item, response, summary)
            finally:
                with self._idle:
                    self._open -= 1
                    self._idle.notify_all()

    def _write(self, item: Item, response: Any, summary: dict[str, Any]) -> None:
        src, key = item.src, item.key
        assert src is not None and key is not None
        try:
            outcome = self.pipeline.store_result(key, src, response, summary)
        except Exception as exc:  # noqa: BLE001 - recorded per image; some stop the batch
            entry = failed(item.source, exc, called=True)
            entry["attempts"] = response.attempts
            entry["billed_retries"] = int(getattr(response, "billed_retries", 0) or 0)
            with self._lock:
                self._failed_in_a_row += 1
                in_a_row = self._failed_in_a_row
            if isinstance(exc, FATAL_WRITE_ERRORS) or in_a_row >= MAX_FAILED_WRITES_IN_A_ROW:
                self.stop(exc)
            self.log.error(
                "%s: the OCR answer could not be stored (%s); the call was billed", item.source, exc
            )
            self.finished(item, entry)
            return
        with self._lock:
            self._failed_in_a_row = 0
        self.finished(
            item, done(item.source, key, outcome, params_digest=self.pipeline.digest, source_etag=src.etag)
        )
