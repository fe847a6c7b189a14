"""Kept answers: an OCR answer that was paid for and could not be stored is never thrown away.

When the writer stage (:mod:`~airflow_provider_hwocr.runtime.batch.write`) cannot store a result,
it keeps the answer instead: in a progress part of its own (another key, under
``P_hwocr_progress/{api}/``, written by
:meth:`~airflow_provider_hwocr.runtime.batch.state.ProgressJournal.keep`), or, when OBS cannot be
reached at all, in a local spool file whose path the log names (:func:`write_local`, under
``HWOCR_SPOOL_DIR`` or the temporary directory). The image's entry stays ``failed`` (not stored)
and says where its answer is (``kept``).

The next attempt or the next run reads kept answers where it reads every progress part, when
it loads its prior state (:meth:`KeptAnswers.note`, called for each part entry), plus this
worker's local spool files; for an image it would send, with the same parameters from the same
source, the send stage stores the kept answer instead of calling (:meth:`KeptAnswers.take`): no
new call.
Its entry is ``done`` with ``recovered`` (where the answer was kept, the first call's request id
and billed retries) and ``attempts`` 0; the manifest counts them (``totals.recovered``).

A part of kept answers is deleted with the other progress parts once the run that used its
answers has recorded them; a kept answer this run did not use (its image not in this selection,
or not reached) keeps its part for a later run (:meth:`KeptAnswers.keep_unused`); one made obsolete (the
result is there now, or the source or parameters changed) goes with it.

The part entry (``status: "kept"``) is the image's entry plus ``answer``: ``result`` (the
service's answer), ``summary``, ``request_id``, ``attempts`` and ``billed_retries``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_hwocr.runtime.batch.entries import Item
    from airflow_provider_hwocr.runtime.store import ResultStore

#: The status of a kept answer's entry in a progress part.
KEPT = "kept"
SPOOL_DIR_ENV = "HWOCR_SPOOL_DIR"


def kept_entry(entry: dict[str, Any], item: Item, response: Any, summary: Any, digest: str) -> dict[str, Any]:
    """The progress-part entry of an answer that could not be stored: the image's (failed) entry,
    with the answer and what it was made from."""
    assert item.src is not None
    return {
        **entry,
        "status": KEPT,
        "key": item.key,
        "params_digest": digest,
        "source_etag": item.src.etag,
        "kept_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "answer": {
            "result": response.result,
            "summary": summary,
            "request_id": response.request_id,
            "attempts": response.attempts,
            "billed_retries": int(getattr(response, "billed_retries", 0) or 0),
        },
    }


@dataclass
class KeptAnswer:
    """A kept answer found by this run: where it is (a part's key or a local file) and its entry."""

    entry: dict[str, Any]
    part: str | None = None
    path: str | None = None
    taken: bool = False

    @property
    def where(self) -> str:
        return self.part or self.path or "?"


def is_kept(entry: Any) -> bool:
    """Whether a part entry is a well-formed kept answer."""
    return (
        isinstance(entry, dict)
        and entry.get("status") == KEPT
        and isinstance(entry.get("key"), str)
        and isinstance(entry.get("answer"), dict)
        and "result" in entry["answer"]
    )


class KeptAnswers:
    """The kept answers a run found (result key -> answer), taken by the send stage one at a time."""

    def __init__(self) -> None:
        self.by_key: dict[str, KeptAnswer] = {}
        self._local_read = False
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.by_key)

    def note(self, part: str, entry: Any) -> bool:
        """One entry of a progress part read with the prior state: a kept answer is noted (the newest
        wins). Returns whether it was one."""
        if not is_kept(entry):
            return False
        self.by_key[entry["key"]] = KeptAnswer(entry, part=part)
        return True

    def take(
        self, item: Item, digest: str, store: ResultStore | None = None
    ) -> tuple[Any, dict[str, Any]] | None:
        """The kept answer for ``item``, as (response, summary) for the writers, if there is one made with
        these parameters from this source (taken: no other slot gets it); else ``None``. ``store``: also
        this worker's local spool files for it (read once)."""
        if store is not None:
            self.adopt_local(store)
        with self._lock:
            found = self.by_key.get(item.key or "")
            if found is None or found.taken or not _same_input(found.entry, item, digest):
                return None
            found.taken = True
        answer = found.entry["answer"]
        response = SimpleNamespace(
            result=answer.get("result"),
            request_id=answer.get("request_id"),
            attempts=0,  # no call by this run
            billed_retries=0,
            recovered={
                "from": store.uri(found.part) if store is not None and found.part else found.where,
                "request_id": answer.get("request_id"),
                "attempts": answer.get("attempts"),
                "billed_retries": answer.get("billed_retries"),
                "kept_at": found.entry.get("kept_at"),
            },
        )
        return response, answer.get("summary") or {}

    def keep_unused(self, parts: list[str], items: list[Item], digest: str) -> list[str]:
        """After sending: the parts of kept answers this run did not use and that are still of use
        (their image was not reached, or is not in this selection) are taken out of ``parts`` (the
        parts the record stage deletes); returns them. Local files of answers used are deleted."""
        by_key = {item.key: item for item in items if item.key}
        keep: list[str] = []
        for key, found in self.by_key.items():
            item = by_key.get(key)
            obsolete = item is not None and (
                item.action == "skip" or not _same_input(found.entry, item, digest)
            )
            if found.taken or obsolete:
                _forget_local(found)
            elif found.part is not None and found.part in parts:
                parts.remove(found.part)
                keep.append(found.part)
        return keep

    def adopt_local(self, store: ResultStore) -> None:
        """Add this worker's spool files of ``store`` (once)."""
        with self._lock:
            if self._local_read:
                return
            self._local_read = True
            folder = spool_dir()
            paths = sorted(folder.glob(f"{_prefix(store)}-*.json")) if folder.is_dir() else []
            for path in paths:
                self._adopt_file(path)

    def _adopt_file(self, path: Path) -> None:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        for entry in doc.get("entries", []) if isinstance(doc, dict) else []:
            if is_kept(entry) and entry["key"] not in self.by_key:
                self.by_key[entry["key"]] = KeptAnswer(entry, path=str(path))


def _same_input(entry: dict[str, Any], item: Item, digest: str) -> bool:
    src = item.src
    return src is not None and entry.get("params_digest") == digest and entry.get("source_etag") == src.etag


# --- local spool files: when OBS cannot be reached at all ------------------------------------


def spool_dir() -> Path:
    return Path(os.environ.get(SPOOL_DIR_ENV) or Path(tempfile.gettempdir()) / "hwocr-spool")


def _prefix(store: ResultStore) -> str:
    """What the spool files of one store's progress parts begin with."""
    return hashlib.sha256(f"{store.bucket}/{store.progress_prefix}".encode()).hexdigest()[:16]


def write_local(store: ResultStore, name: str, doc: dict[str, Any]) -> str:
    """Write a part that could not go to OBS to this worker's spool directory (readable by its user
    only: it holds OCR results); returns its path."""
    folder = spool_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{_prefix(store)}-{name}"
    tmp = path.with_suffix(".tmp")
    data = json.dumps({**doc, "bucket": store.bucket, "part": name}).encode("utf-8")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    tmp.replace(path)
    return str(path)


def _forget_local(found: KeptAnswer) -> None:
    if found.path:
        try:
            os.unlink(found.path)
        except OSError:
            pass
