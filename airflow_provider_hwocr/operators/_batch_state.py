"""What a batch knows about earlier work, and how it records its own as it goes.

Layout in OBS, for results under ``obs://bucket/P`` (``P`` ends with ``/`` or is empty):

* results: ``P{name}-{hash}.{api}.json`` (one per image, as the single-image operators write them);
* progress parts: ``P_hwocr_progress/{api}/{shard}{token}-{seq}.json``, written while a batch
  runs (every ``checkpoint_every`` images or ``checkpoint_interval`` seconds) and deleted once
  the run's manifest is written. They sit under ``P`` so that the one listing of ``P`` that a
  batch makes anyway also finds the parts a killed run left behind;
* housekeeping next to ``P`` (``{P without its last /}_hwocr/``, outside the results listing):
  ``{api}/manifest{shard}.json``, the latest manifest with the **index** (result key -> parameter
  digest, source ETag and result ETag), and ``{api}/runs/{time}-{run id}-try{n}{shard}.json``,
  one manifest per run and try (history; never overwritten).

A re-run decides what is done from the listing of ``P`` plus the index: a result counts as done
when its key is listed with the ETag the index recorded for it, made with the same parameter
digest, from a source whose ETag (from the source listing) is unchanged. Results that are listed
but not in the index (written by a single-image operator, or by a killed run after its last
checkpoint) are checked with one HEAD each, once; after that they are in the index.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from airflow_provider_hwocr.obs_uri import ObsLocation

MANIFEST_FORMAT = "hwocr-manifest/2"
PROGRESS_FORMAT = "hwocr-progress/1"
PROGRESS_DIR = "_hwocr_progress/"
HOUSEKEEPING_SUFFIX = "_hwocr/"

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def shard_of(identity: str, shard_count: int) -> int:
    """The shard (0 .. shard_count-1) an image belongs to: a stable hash of its identity.

    The same image lands in the same shard on every run, on every machine and
    Python version (SHA-256, not ``hash()``).
    """
    digest = hashlib.sha256(identity.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % shard_count


def shard_tag(shard_index: int | None, shard_count: int) -> str:
    return "" if shard_count <= 1 or shard_index is None else f"s{shard_index}of{shard_count}"


@dataclass(frozen=True)
class Layout:
    """Object keys of one batch's results, progress parts and manifests."""

    bucket: str
    prefix: str  # results prefix: "" or ending with "/"
    api: str
    shard: str = ""  # "" or "s{i}of{n}"

    @classmethod
    def for_output(cls, output: ObsLocation, api: str, shard: str = "") -> Layout:
        prefix = output.key
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return cls(output.bucket, prefix, api, shard)

    @property
    def housekeeping(self) -> str:
        return (self.prefix[:-1] + HOUSEKEEPING_SUFFIX) if self.prefix else HOUSEKEEPING_SUFFIX

    @property
    def progress_prefix(self) -> str:
        return f"{self.prefix}{PROGRESS_DIR}{self.api}/"

    def _suffix(self) -> str:
        return f".{self.shard}" if self.shard else ""

    @property
    def latest_key(self) -> str:
        return f"{self.housekeeping}{self.api}/manifest{self._suffix()}.json"

    def history_key(self, run_id: str | None, try_number: Any, when: datetime) -> str:
        run = _SAFE.sub("_", str(run_id or "manual"))[:120]
        stamp = when.strftime("%Y%m%dT%H%M%SZ")
        tries = f"-try{try_number}" if try_number not in (None, "") else ""
        return f"{self.housekeeping}{self.api}/runs/{stamp}-{run}{tries}{self._suffix()}.json"

    def part_key(self, token: str, seq: int) -> str:
        lead = f"{self.shard}-" if self.shard else ""
        return f"{self.progress_prefix}{lead}{token}-{seq:05d}.json"

    def is_own_part(self, key: str) -> bool:
        if not key.startswith(self.progress_prefix) or not key.endswith(".json"):
            return False
        name = key[len(self.progress_prefix) :]
        if self.shard:
            return name.startswith(f"{self.shard}-")
        return not name.startswith("s") or "of" not in name.split("-", 1)[0]

    def uri(self, key: str) -> str:
        return f"obs://{self.bucket}/{key}"


@dataclass
class PriorState:
    """What the batch learnt before sending anything: listed results, the index, old parts."""

    listed: dict[str, str]  # result key -> ETag, from one listing of the results prefix
    index: dict[str, dict[str, Any]]  # result key -> {"p", "s", "e", "summary"}
    parts: list[str] = field(default_factory=list)  # progress parts found (to delete later)
    requests: int = 0  # object-server requests this took


def load_prior_state(obs: Any, layout: Layout) -> PriorState:
    """One paged listing of the results prefix, one GET of the latest manifest, a GET per old part."""
    from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsNotFoundError

    objects = obs.list_objects(layout.bucket, layout.prefix)
    requests = max(1, -(-len(objects) // 1000))
    listed: dict[str, str] = {}
    parts: list[str] = []
    for info in objects:
        if info.key.startswith(layout.progress_prefix):
            if layout.is_own_part(info.key):
                parts.append(info.key)
        else:
            listed[info.key] = info.etag
    index: dict[str, dict[str, Any]] = {}
    requests += 1
    try:
        latest = obs.get_json(layout.bucket, layout.latest_key)
    except HuaweiObsNotFoundError:
        latest = None
    except ValueError:  # not JSON: a damaged manifest is no reason to stop; results are HEADed instead
        latest = None
    if isinstance(latest, dict) and isinstance(latest.get("index"), dict):
        index.update(latest["index"])
    for key in parts:  # left by a run that was killed before it wrote its manifest
        requests += 1
        try:
            part = obs.get_json(layout.bucket, key)
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
        layout: Layout,
        *,
        header: dict[str, Any],
        every: int,
        interval: float,
        enabled: bool = True,
    ) -> None:
        self.obs = obs
        self.layout = layout
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
        key = self.layout.part_key(self.token, seq)
        doc = {**self.header, "format": PROGRESS_FORMAT, "token": self.token, "seq": seq, "entries": batch}
        self.obs.put_json(self.layout.bucket, key, doc)
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


def dumps_size(doc: Any) -> int:
    return len(json.dumps(doc, ensure_ascii=False))
