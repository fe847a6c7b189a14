"""Manifests and the index: what a batch knows about earlier work, and how it records its own.

Where each object lives is :class:`~airflow_provider_hwocr.runtime.store.ResultStore`.

A re-run decides what is done from the listing of the results prefix plus the **index** (kept
in the latest manifest: result key -> parameter digest, source ETag and result ETag): a result
counts as done when its key is listed with the ETag the index recorded for it, made with the
same parameter digest, from a source whose ETag (from the source listing) is unchanged. Results
that are listed but not in the index (written by a single-image operator, or by a killed run
after its last checkpoint) are checked with one HEAD each, once; after that they are in the
index. While a batch runs, finished images are written to progress parts
(:class:`ProgressJournal`), so a killed task loses nothing.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsNotFoundError
from airflow_provider_hwocr.runtime.store import ResultStore

MANIFEST_FORMAT = "hwocr-manifest/2"
PROGRESS_FORMAT = "hwocr-progress/1"


@dataclass
class PriorState:
    """What the batch learnt before sending anything: listed results, the index, old parts."""

    listed: dict[str, str]  # result key -> ETag, from one listing of the results prefix
    index: dict[str, dict[str, Any]]  # result key -> {"p", "s", "e", "summary"}
    parts: list[str] = field(default_factory=list)  # progress parts found (to delete later)
    requests: int = 0  # object-server requests this took


def load_prior_state(obs: Any, store: ResultStore) -> PriorState:
    """One paged listing of the results prefix, one GET of the latest manifest, a GET per old part."""
    objects = obs.list_objects(store.bucket, store.prefix)
    requests = max(1, -(-len(objects) // 1000))
    listed: dict[str, str] = {}
    parts: list[str] = []
    for info in objects:
        if info.key.startswith(store.progress_prefix):
            if store.is_own_part(info.key):
                parts.append(info.key)
        else:
            listed[info.key] = info.etag
    index: dict[str, dict[str, Any]] = {}
    requests += 1
    try:
        latest = obs.get_json(store.bucket, store.latest_key)
    except HuaweiObsNotFoundError:
        latest = None
    except ValueError:  # not JSON: a damaged manifest is no reason to stop; results are HEADed instead
        latest = None
    if isinstance(latest, dict) and isinstance(latest.get("index"), dict):
        index.update(latest["index"])
    for key in parts:  # left by a run that was killed before it wrote its manifest
        requests += 1
        try:
            part = obs.get_json(store.bucket, key)
        except (HuaweiObsNotFoundError, ValueError):
            continue
        for entry in part.get("entries", []) if isinstance(part, dict) else []:
            if isinstance(entry, dict) and entry.get("status") == "done" and entry.get("key"):
                index[entry["key"]] = index_entry(entry)
    return PriorState(listed, index, parts, requests)


def index_entry(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "p": entry.get("params_digest"),
        "s": entry.get("source_etag"),
        "e": entry.get("result_etag"),
        "summary": entry.get("summary"),
    }


class ProgressJournal:
    """Finished images, written to OBS in parts while the batch runs, so a killed task loses nothing.

    Thread-safe: workers :meth:`add`; the coordinating thread calls
    :meth:`maybe_flush` between completions. A part holds only the entries
    finished since the previous one, so the cost per image stays flat.
    """

    def __init__(
        self,
        obs: Any,
        store: ResultStore,
        *,
        header: dict[str, Any],
        every: int,
        interval: float,
        enabled: bool = True,
    ) -> None:
        self.obs = obs
        self.store = store
        self.header = header
        self.every = every
        self.interval = interval
        self.enabled = enabled
        self.token = uuid.uuid4().hex[:12]
        self.written: list[str] = []
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._last = time.monotonic()
        self._seq = 0

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._pending.append(entry)

    def maybe_flush(self, *, force: bool = False) -> None:
        if not self.enabled:
            return
        with self._lock:
            due = len(self._pending) >= self.every or (time.monotonic() - self._last) >= self.interval
            if not self._pending or not (due or force):
                return
            batch, self._pending = self._pending, []
            self._seq += 1
            seq = self._seq
            self._last = time.monotonic()
        key = self.store.part_key(self.token, seq)
        doc = {**self.header, "format": PROGRESS_FORMAT, "token": self.token, "seq": seq, "entries": batch}
        self.obs.put_json(self.store.bucket, key, doc)
        self.written.append(key)


def build_index(
    prior: PriorState, entries: Iterable[dict[str, Any]], verified: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The index after this run: earlier entries still listed, plus this run's results."""
    index = {k: v for k, v in prior.index.items() if k in prior.listed}
    index.update(verified)
    for entry in entries:
        if entry.get("status") == "done" and entry.get("key"):
            index[entry["key"]] = index_entry(entry)
    return index


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
