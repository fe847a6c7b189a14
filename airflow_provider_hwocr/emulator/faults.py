"""Failures on purpose: scripted ones (``OcrEmulator.fail_next``) and random ones at configured rates."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.emulator.config import FAULT_KINDS, EmulatorConfig
from airflow_provider_hwocr.emulator.errors import EmulatorError, catalog_message


@dataclass
class ScriptedFailure:
    slug: str | None  # None = any API
    status: int
    error_code: str
    error_msg: str | None
    remaining: int
    retry_after: float | None

    def to_error(self, slug: str) -> EmulatorError:
        headers = {}
        if self.retry_after is not None:
            value = self.retry_after
            headers["Retry-After"] = str(int(value)) if float(value).is_integer() else str(value)
        message = self.error_msg if self.error_msg is not None else catalog_message(self.error_code, slug)
        return EmulatorError(
            self.status, self.error_code, message, headers=headers, detail="scripted failure"
        )


class FailureScript:
    """A queue of scripted failures; the oldest one that matches the API is used first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[ScriptedFailure] = []

    def add(
        self,
        slug: str | None,
        status: int,
        error_code: str,
        error_msg: str | None = None,
        times: int = 1,
        retry_after: float | None = None,
    ) -> None:
        if slug is not None:
            get_api(slug)  # KeyError for a typo, rather than a failure that never fires
        if not 400 <= int(status) <= 599:
            raise ValueError(f"status must be a 4xx or 5xx code, not {status}")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._queue.append(
                ScriptedFailure(slug, int(status), error_code, error_msg, int(times), retry_after)
            )

    def take(self, slug: str) -> EmulatorError | None:
        """The error to answer this call of ``slug`` with, if one is scripted."""
        if not self._queue:  # fast path, no lock: the common case
            return None
        with self._lock:
            for i, failure in enumerate(self._queue):
                if failure.slug is None or failure.slug == slug:
                    failure.remaining -= 1
                    if failure.remaining == 0:
                        del self._queue[i]
                    return failure.to_error(slug)
        return None

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()


class RandomFaults:
    """Draws, for each valid request, whether it meets an injected fault and which one.

    One uniform draw per request is compared with the cumulative rates in
    ``FAULT_KINDS`` order. Nothing is drawn while every rate is zero, so
    turning faults on later does not depend on how many calls came before.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)

    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self._rng = random.Random(seed)

    def draw(self, config: EmulatorConfig) -> str | None:
        rates = config.fault_rates()
        if not any(rates.values()):
            return None
        with self._lock:
            point = self._rng.random()
        edge = 0.0
        for kind in FAULT_KINDS:
            edge += rates[kind]
            if point < edge:
                return kind
        return None


def injected_error(kind: str) -> EmulatorError | None:
    """The error answer of an injected fault kind, or None for kinds that are not an error answer."""
    if kind == "error_500":
        return EmulatorError(500, "ModelArts.4505", detail="injected fault (error_500_rate)")
    if kind == "error_503":
        return EmulatorError(503, "ModelArts.4403", detail="injected fault (error_503_rate)")
    return None
