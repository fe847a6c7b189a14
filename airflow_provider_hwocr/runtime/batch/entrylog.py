"""The final entries of a batch run, spooled to a local temporary file as they finish.

A run of 100,000 images would otherwise hold 100,000 entry dicts (about 1.2 KB each) from the send
stage to the record stage. :class:`EntryLog` keeps each entry as the UTF-8 JSON the manifest lists
it as, appended to an unnamed temporary file (gone when the log is, or when the process ends), and
in memory only what the record stage counts: its place in the selection, its status, a few flags,
its billed retries and, for a result this run stored, its index record (three 64-bit hashes):
about 60 bytes per entry.

The log is a sequence of entry dicts in selection order (a document's pages by page, entries added
after sending last), decoded when read: the review, tables and dry-run code read it as they read a
list. The manifest's ``images`` are written from the spooled JSON as is, once, into a second
temporary file (:meth:`EntryLog.manifest_file`) that is uploaded from there in chunks: the run
never holds its manifest whole, nor its entries beside it.

An entry can still change after it is final: the lease marks the entries it fences
(:meth:`EntryLog.finished_since`). Those are handed out as dicts kept in memory, and a dict handed
out wins over its spooled JSON from then on (few entries: those finished after a lease was lost).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

from airflow_provider_hwocr.runtime.batch.state import STORED, SpooledBody, etag_hash, key_hash, made_hash

#: Flags kept per entry, for the totals.
AGAIN = 1  # a page held again (done before): not this run's result, not paid
RECOVERED = 2  # stored from an answer an earlier run paid for
TWICE = 4  # billed retries, or possibly billed twice (a lost lease)
URI = 8  # names a result_uri

#: Where the entries added after sending (a review's) sort: after every selected item.
_AFTER = 1 << 62
_PAGE = 1 << 32  # order key: position * _PAGE + page


def flags_of(entry: dict[str, Any]) -> int:
    """The :data:`AGAIN`, :data:`RECOVERED`, :data:`TWICE` and :data:`URI` flags of an entry."""
    return (
        (AGAIN if entry.get("again") else 0)
        | (RECOVERED if entry.get("recovered") else 0)
        | (TWICE if entry.get("billed_retries") or entry.get("possibly_billed_twice") else 0)
        | (URI if entry.get("result_uri") else 0)
    )


def encode(entry: dict[str, Any]) -> bytes:
    """An entry as the manifest lists it (the same JSON as :func:`~.state.manifest_bytes`)."""
    return json.dumps(entry, ensure_ascii=False).encode("utf-8")


class EntryLog(Sequence[dict[str, Any]]):
    """The entries of one run (thread-safe :meth:`add`); see the module."""

    def __init__(self) -> None:
        self._file: Any = tempfile.TemporaryFile(prefix="hwocr-entries-", buffering=0)  # noqa: SIM115 - lives with the log
        self._fd: int = self._file.fileno()
        self._lock = threading.Lock()
        self._end = 0
        self._offsets = array("Q")
        self._sizes = array("I")  # 4 bytes: one entry is never 4 GB
        self._order = array("q")
        self._times = array("d")  # wall clock, when each was added
        self._status: list[str] = []  # interned: one pointer each
        self._flags = bytearray()
        self._billed = array("I")
        #: Index records of the results this run stored: (key hash, result hash, made hash).
        self._keys, self._results, self._made = array("Q"), array("Q"), array("Q")
        self._live: dict[int, dict[str, Any]] = {}  # handed out to change: they win
        self._sorted: array[int] | None = None
        self._extra = 0

    @classmethod
    def of(cls, entries: Iterable[dict[str, Any]]) -> EntryLog:
        """A log of ``entries``, in their order (an :class:`EntryLog` is returned as it is)."""
        if isinstance(entries, EntryLog):
            return entries
        log = cls()
        log.extend(entries)
        return log

    def add(self, entry: dict[str, Any], pos: int, page: int | None = None) -> None:
        """An entry, final, of the selected item at ``pos`` (a document's: of its ``page``)."""
        self._add(entry, pos * _PAGE + (page or 0))

    def _add(self, entry: dict[str, Any], order: int) -> None:
        data = encode(entry)
        status = str(entry.get("status"))
        record = None
        if status in STORED and entry.get("key") and not entry.get("again"):
            record = (
                key_hash(entry["key"]),
                etag_hash(entry.get("result_etag")),
                made_hash(entry.get("params_digest"), entry.get("source_etag")),
            )
        with self._lock:
            os.pwrite(self._fd, data, self._end)
            self._offsets.append(self._end)
            self._sizes.append(len(data))
            self._end += len(data)
            self._order.append(order)
            self._times.append(time.time())
            self._status.append(_intern(status))
            self._flags.append(flags_of(entry))
            self._billed.append(int(entry.get("billed_retries") or 0))
            if record is not None:
                self._keys.append(record[0])
                self._results.append(record[1])
                self._made.append(record[2])
            self._sorted = None

    def extend(self, entries: Iterable[dict[str, Any]]) -> None:
        """Entries added after sending (a review's), listed after every selected item's, in this order."""
        for entry in entries:
            self._extra += 1
            self._add(entry, _AFTER + self._extra)

    # --- reading ------------------------------------------------------------------------------

    def _order_of(self) -> array[int]:
        """The entries' numbers in selection order (a stable sort: ties in the order they were added)."""
        with self._lock:
            if self._sorted is None:
                self._sorted = array("L", sorted(range(len(self._order)), key=self._order.__getitem__))
            return self._sorted

    def _raw(self, n: int) -> bytes:
        live = self._live.get(n)
        if live is not None:
            return encode(live)
        size, offset = self._sizes[n], self._offsets[n]
        data = os.pread(self._fd, size, offset)
        while len(data) < size:  # a short read
            data += os.pread(self._fd, size - len(data), offset + len(data))
        return data

    def _entry(self, n: int) -> dict[str, Any]:
        live = self._live.get(n)
        if live is not None:
            return live
        entry: dict[str, Any] = json.loads(self._raw(n))
        return entry

    def __len__(self) -> int:
        return len(self._order)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        order = self._order_of()
        if isinstance(index, slice):
            return [self._entry(n) for n in order[index]]
        return self._entry(order[index])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for n in self._order_of():
            yield self._entry(n)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple, EntryLog)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(list(self))

    def finished_since(self, since: float) -> list[dict[str, Any]]:
        """The entries added at or after ``since`` (wall clock), as dicts that may be changed: a change
        is what the manifest and the totals see."""
        with self._lock:
            numbers = [n for n, at in enumerate(self._times) if at >= since]
        return [self._hand_out(n) for n in numbers]

    def _hand_out(self, n: int) -> dict[str, Any]:
        entry = self._live.get(n)
        if entry is None:
            entry = self._live[n] = json.loads(self._raw(n))
        return entry

    # --- what the record stage counts -------------------------------------------------------------

    def _flag(self, n: int) -> int:
        live = self._live.get(n)
        return flags_of(live) if live is not None else self._flags[n]

    def count(self, flag: int) -> int:
        """Entries with ``flag`` set."""
        if not self._live:
            return sum(1 for f in self._flags if f & flag)
        return sum(1 for n in range(len(self._flags)) if self._flag(n) & flag)

    @property
    def billed_retries(self) -> int:
        """Retries after tries that may have been billed, over every entry."""
        total = sum(self._billed)
        for n, entry in self._live.items():
            total += int(entry.get("billed_retries") or 0) - self._billed[n]
        return total

    def paid_held(self) -> int:
        """Pages this run called and stored that wait for review (not those held again)."""
        return sum(1 for n, s in enumerate(self._status) if s == "held" and not self._flag(n) & AGAIN)

    def result_uris(self) -> ResultsOf:
        """The result URIs of the results this run stored, in selection order (read when asked for)."""
        numbers = array(
            "L",
            (
                n
                for n in self._order_of()
                if self._status[n] in STORED and self._flag(n) & URI and not self._flag(n) & AGAIN
            ),
        )
        return ResultsOf(self, numbers)

    def index_records(self) -> Iterator[tuple[int, int, int]]:
        """(key hash, result hash, made hash) of each result this run stored, in the order they were."""
        return zip(self._keys, self._results, self._made)

    # --- the manifest -------------------------------------------------------------------------------

    def manifest(self, head: bytes) -> bytes:
        """``head`` (a JSON object's opening, up to its last member) then ``"images": [...]}``: the
        entries in order, as one ``bytes`` object (what :meth:`manifest_file` writes)."""
        with self.manifest_file(head) as body:
            return body.read_all()

    def manifest_file(self, head: bytes) -> SpooledBody:
        """The manifest (as :meth:`manifest`) written to an unnamed temporary file, with its size and
        MD5: uploaded from there in chunks, so a run never holds its manifest whole."""
        body = SpooledBody()
        body.write(head)
        body.write_items(self._raw(n) for n in self._order_of())
        return body

    def close(self) -> None:
        self._file.close()


class ResultsOf(Sequence[str]):
    """The ``result_uri`` of some entries of a log, read from it when asked for."""

    def __init__(self, log: EntryLog, numbers: array[int]) -> None:
        self._log = log
        self._numbers = numbers

    def __len__(self) -> int:
        return len(self._numbers)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [str(self._log._entry(n)["result_uri"]) for n in self._numbers[index]]
        return str(self._log._entry(self._numbers[index])["result_uri"])

    def __iter__(self) -> Iterator[str]:
        for n in self._numbers:
            yield str(self._log._entry(n)["result_uri"])


_STATUSES: dict[str, str] = {}


def _intern(status: str) -> str:
    return _STATUSES.setdefault(status, status)
