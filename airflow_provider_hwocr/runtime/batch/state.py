"""Manifests, run history and the index: what a batch knows about earlier work, and how it records its own.

Where each object lives is :class:`~airflow_provider_hwocr.runtime.store.ResultStore`; next to
the output prefix, per API (and shard):

* ``index{.shard}.bin``: the **index** (format :data:`INDEX_FORMAT`), rewritten only when
  a run changed it, read once per run. One record of 24 bytes per result the batch made or
  checked: three 64-bit BLAKE2b hashes, of the result key, of the result's ETag and of what
  it was made from (the parameter digest and the source ETag), sorted by key hash. A
  re-run decides from the listing of the results prefix plus the index: a result counts as
  done when its key is listed with the ETag the index recorded, made with the same
  parameters from a source whose ETag (from the source listing) is unchanged. Results that
  are listed but unknown to the index (written by a single-image operator, by a killed run
  after its last checkpoint, or rewritten since) are checked with one HEAD each, once; after
  that they are in the index. A damaged index (bad header or checksum) counts as absent.
  A page of a PDF or OFD document is a result like any other, under a key that names its page
  and the document's page count (``….p0002of0005.{api}.json``): the listing tells a re-run how
  many pages each document has (:attr:`PriorState.page_counts`), so that it knows which pages
  are done without reading the document again.
* ``manifest{.shard}.json``: the **latest manifest** (format :data:`MANIFEST_FORMAT`), the
  record of the latest run: totals, billing, and one entry per image the run did something
  with (done, failed, not attempted). Images skipped as done are counted, not listed, so a
  re-run that changes nothing writes a record of about a kilobyte, not the index again.
* ``runs/{time}-{run id}-try{n}{.shard}.json``: the same record per run and try (history).
  The newest :data:`HISTORY_KEEP` are kept: a run that wrote results prunes the older ones
  (one listing of ``runs/`` and one multi-delete). A run that changes nothing prunes nothing,
  so that it costs only its listings and three requests; the next run that does work does.

While a batch runs, finished images are written to progress parts (:class:`ProgressJournal`,
format :data:`PROGRESS_FORMAT`), so a killed task loses nothing; the next run merges them
and deletes them once its own index and manifests are written.

An index written by an older release (the ``index`` member of a ``hwocr-manifest/2``
manifest) is read when no index object exists, and rewritten in the new format.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tempfile
import threading
import time
import uuid
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsNotFoundError
from airflow_provider_hwocr.runtime.batch.spool import KeptAnswers
from airflow_provider_hwocr.runtime.store import PageKey, ResultStore

MANIFEST_FORMAT = "hwocr-manifest/3"
INDEX_FORMAT = "hwocr-index/1"
#: Version 2: an entry may be a kept answer (``status: "kept"``, see ``runtime/batch/spool.py``).
PROGRESS_FORMAT = "hwocr-progress/2"
#: Manifests of the formats before this one whose index is still read.
LEGACY_MANIFEST_FORMATS = ("hwocr-manifest/2",)
#: Run records kept in the history, per API and shard.
HISTORY_KEEP = 100

#: The states of an entry whose result this run stored (a held page's is stored like a done one's).
STORED = ("done", "held")

_INDEX_MAGIC = b"HWOCR-INDEX/1\n"
_RECORD = 24  # bytes per index record: three unsigned 64-bit hashes


def _hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def key_hash(result_key: str) -> int:
    """The index's name for a result key."""
    return _hash64(result_key)


def etag_hash(etag: str | None) -> int:
    return _hash64(etag or "")


def made_hash(params_digest: str | None, source_etag: str | None) -> int:
    """What a result was made from: the parameter digest and the source's ETag."""
    return _hash64(f"{params_digest or ''}\0{source_etag or ''}")


class Index:
    """Results a batch made or checked: three parallel arrays of 64-bit hashes, sorted by key hash."""

    __slots__ = ("keys", "made", "results")

    def __init__(self, keys: array[int], results: array[int], made: array[int]) -> None:
        self.keys = keys
        self.results = results
        self.made = made

    @classmethod
    def empty(cls) -> Index:
        return cls(array("Q"), array("Q"), array("Q"))

    @classmethod
    def from_records(cls, records: Iterable[tuple[int, int, int]]) -> Index:
        """From ``(key hash, result hash, made hash)`` records; a later record for a key wins."""
        latest: dict[int, tuple[int, int]] = {}
        for key, result, made in records:
            latest[key] = (result, made)
        order = sorted(latest)
        return cls(
            array("Q", order),
            array("Q", (latest[k][0] for k in order)),
            array("Q", (latest[k][1] for k in order)),
        )

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, key: int) -> int:
        """The position of ``key``, or -1."""
        at = bisect_left(self.keys, key)
        return at if at < len(self.keys) and self.keys[at] == key else -1

    def merged(
        self, keep: bytearray | None, updates: Mapping[int, tuple[int, int]] | Iterable[tuple[int, int, int]]
    ) -> Index:
        """This index with only the records whose ``keep`` flag is set, then ``updates`` on top:
        ``{key: (result, made)}`` or ``(key, result, made)`` records, a later record for a key winning.

        Built in arrays (no dict or tuple per record): a first run of 100,000 images merges its
        records at the end of the run, beside everything else it still holds."""
        records = ((k, r, m) for k, (r, m) in updates.items()) if isinstance(updates, Mapping) else updates
        given_k, given_r, given_m = array("Q"), array("Q"), array("Q")
        for key, result, made in records:
            given_k.append(key)
            given_r.append(result)
            given_m.append(made)
        # The updates sorted by key, one per key: a stable sort, so the last given of a key is last.
        new_k, new_r, new_m = array("Q"), array("Q"), array("Q")
        for i in sorted(range(len(given_k)), key=given_k.__getitem__):
            if new_k and new_k[-1] == given_k[i]:
                new_r[-1], new_m[-1] = given_r[i], given_m[i]
            else:
                new_k.append(given_k[i])
                new_r.append(given_r[i])
                new_m.append(given_m[i])
        del given_k, given_r, given_m
        # Both sorted by key: one pass, an update replacing the record of its key.
        keys, results, made = array("Q"), array("Q"), array("Q")
        j, n = 0, len(new_k)
        for at, key in enumerate(self.keys):
            while j < n and new_k[j] < key:
                keys.append(new_k[j])
                results.append(new_r[j])
                made.append(new_m[j])
                j += 1
            if j < n and new_k[j] == key:
                continue  # updated: the update is appended when the pass moves past it
            if keep is None or keep[at]:
                keys.append(key)
                results.append(self.results[at])
                made.append(self.made[at])
        keys.extend(new_k[j:])
        results.extend(new_r[j:])
        made.extend(new_m[j:])
        return Index(keys, results, made)

    # --- the stored form --------------------------------------------------------------

    def to_bytes(self, header: dict[str, Any]) -> bytes:
        columns = [array("Q", self.keys), array("Q", self.results), array("Q", self.made)]
        if array("Q", [1]).tobytes()[0] == 1:  # little-endian machine: stored big-endian
            for column in columns:
                column.byteswap()
        payload = b"".join(column.tobytes() for column in columns)
        meta = {
            **header,
            "format": INDEX_FORMAT,
            "hash": "blake2b-64",
            "entries": len(self.keys),
            "sha256": hashlib.sha256(payload).hexdigest(),
        }
        return _INDEX_MAGIC + json.dumps(meta, separators=(",", ":")).encode("utf-8") + b"\n" + payload

    @classmethod
    def from_bytes(cls, data: bytes) -> Index:
        """Read a stored index; raises ``ValueError`` if it is damaged."""
        if not data.startswith(_INDEX_MAGIC):
            raise ValueError("not an hwocr index (bad header)")
        end = data.find(b"\n", len(_INDEX_MAGIC))
        if end < 0:
            raise ValueError("index header not terminated")
        try:
            meta = json.loads(data[len(_INDEX_MAGIC) : end])
        except ValueError:
            raise ValueError("index header is not JSON") from None
        payload = memoryview(data)[end + 1 :]
        count = meta.get("entries") if isinstance(meta, dict) else None
        if not isinstance(count, int) or len(payload) != count * _RECORD:
            raise ValueError("index payload has the wrong length")
        if hashlib.sha256(payload).hexdigest() != meta.get("sha256"):
            raise ValueError("index checksum does not match")
        columns = []
        for part in range(3):
            column = array("Q")
            column.frombytes(payload[part * count * 8 : (part + 1) * count * 8])
            if array("Q", [1]).tobytes()[0] == 1:
                column.byteswap()
            columns.append(column)
        return cls(*columns)


def _text(value: Any) -> str | None:
    """A string field of a stored record, or ``None`` when it is missing or malformed."""
    return value if isinstance(value, str) and value else None


def _legacy_index(manifest: Any) -> tuple[Index, int] | None:
    """(the index of a ``hwocr-manifest/2`` latest manifest, entries ignored as malformed).

    Result key -> ``{"p", "s", "e"}``; an entry that is not such a record (a string, no
    result ETag) is left out, so its result is HEADed, never skipped blindly.
    """
    if not isinstance(manifest, dict) or not isinstance(manifest.get("index"), dict):
        return None
    records, malformed = [], 0
    for key, entry in manifest["index"].items():
        etag = _text(entry.get("e")) if isinstance(entry, dict) else None
        if etag is None:
            malformed += 1
            continue
        records.append(
            (key_hash(key), etag_hash(etag), made_hash(_text(entry.get("p")), _text(entry.get("s"))))
        )
    return Index.from_records(records), malformed


class KeySet:
    """A sorted array of 64-bit key hashes with membership by bisection (8 bytes per key)."""

    __slots__ = ("_keys",)

    def __init__(self, keys: Iterable[int]) -> None:
        self._keys = array("Q", sorted(keys))

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, int):
            return False
        at = bisect_left(self._keys, key)
        return at < len(self._keys) and self._keys[at] == key

    def __len__(self) -> int:
        return len(self._keys)


@dataclass
class PriorState:
    """What the batch learnt before sending anything: the index, which of its results are listed, old parts."""

    index: Index
    #: One flag per index record: its result is listed with the ETag the index recorded.
    listed: bytearray
    #: Listed results of this selection the index does not vouch for: key hash -> listed ETag (HEAD them).
    others: dict[int, str] = field(default_factory=dict)
    #: Results finished by a killed run (from its progress parts), listed as written: key hash -> (result, made).
    recovered: dict[int, tuple[int, int]] = field(default_factory=dict)
    parts: list[str] = field(default_factory=list)  # progress parts found (to delete later)
    requests: int = 0  # object-server requests this took
    listed_results: int = 0  # result objects of this API under the prefix
    #: Where the index came from: ``index``, ``manifest/2`` (an older release), ``none`` or ``damaged``.
    origin: str = "none"
    #: The page counts the listed page results of each document name: key hash of the document's
    #: stem -> page counts (one, unless the document was replaced by one of another length).
    page_counts: dict[int, tuple[int, ...]] = field(default_factory=dict)
    #: Answers paid for by an earlier run and kept in its progress parts, not stored yet.
    kept: KeptAnswers = field(default_factory=KeptAnswers)

    def made_of(self, key: int) -> int | None:
        """The made-from hash of a listed result the index vouches for, else ``None``."""
        if key in self.recovered:
            return self.recovered[key][1]
        at = self.index.find(key)
        return self.index.made[at] if at >= 0 and self.listed[at] else None

    @property
    def dropped(self) -> int:
        """Index records whose result is gone or was rewritten (not carried into the next index)."""
        return len(self.listed) - sum(self.listed)


def _read_index(obs: Any, store: ResultStore) -> tuple[Index, str, int, str | None]:
    """(index, origin, requests, what is wrong): one GET of the index object, one more if it is missing.

    ``what is wrong`` is ``None`` when the index was read whole (or when there is none yet and no
    manifest either: a first run), else why results will be checked again.
    """
    try:
        data = obs.get_bytes(store.bucket, store.index_key)
    except HuaweiObsNotFoundError:
        data = None
    if data is None:
        return _read_legacy_index(obs, store)
    try:
        return Index.from_bytes(data), "index", 1, None
    except ValueError as exc:
        return Index.empty(), "damaged", 1, f"the index {store.index_key} is unreadable ({exc})"


def _read_legacy_index(obs: Any, store: ResultStore) -> tuple[Index, str, int, str | None]:
    """Without an index object: the index of an older release's latest manifest, if there is one."""
    missing = f"the index {store.index_key} is missing"
    try:
        latest = obs.get_json(store.bucket, store.latest_key)
    except HuaweiObsNotFoundError:
        return Index.empty(), "none", 2, missing
    except ValueError:
        return Index.empty(), "none", 2, f"{missing} and the latest manifest {store.latest_key} is unreadable"
    old_format = isinstance(latest, dict) and latest.get("format") in LEGACY_MANIFEST_FORMATS
    legacy = _legacy_index(latest) if old_format else None
    if legacy is None:
        return Index.empty(), "none", 2, missing
    index, malformed = legacy
    why = (
        f"{malformed} malformed entr{'y' if malformed == 1 else 'ies'} in {store.latest_key}"
        if malformed
        else None
    )
    return index, "manifest/2", 2, why


def load_prior_state(
    obs: Any,
    store: ResultStore,
    wanted: KeySet | None = None,
    *,
    log: Any = None,
    stems: KeySet | None = None,
    final: bool = True,
) -> PriorState:
    """One GET of the index, one paged listing of the results prefix, a GET per leftover progress part.

    ``wanted``: key hashes of this selection's results; listed results outside it that the
    index does not know are not kept (another shard's, say). ``stems``: key hashes of the stems
    of this selection's documents, whose listed pages are kept likewise (``None`` with ``wanted``
    ``None``: every document's). ``final``: whether this read decides the run's requests (not a
    first look that is read again under the lease).
    """
    index, origin, requests, damage = _read_index(obs, store)
    prior = PriorState(index, bytearray(len(index)), origin=origin, requests=requests)
    suffix = f".{store.api}.json"
    for page in obs.iter_listing(store.bucket, store.prefix):
        prior.requests += 1
        for key, _size, etag, _modified in page:
            _note_listed(prior, store, suffix, (wanted, stems), key, etag)
    for key in prior.parts:  # left by a run that was killed before it wrote its manifest
        prior.requests += 1
        _recover(obs, store, key, prior)
    if damage is not None and (origin == "damaged" or prior.others):
        _warn_damage(log, damage, len(prior.others), final=final)
    return prior


def _note_listed(
    prior: PriorState,
    store: ResultStore,
    suffix: str,
    wanted: tuple[KeySet | None, KeySet | None],
    key: str,
    etag: Any,
) -> None:
    """One listed object: a progress part of ours, a result the index vouches for (listed with
    the ETag it recorded), or a result to check (of this selection); anything else is left out.
    A document's page also tells the document's page count."""
    if key.startswith(store.progress_prefix):
        if store.is_own_part(key):
            prior.parts.append(key)
        return
    if not key.endswith(suffix):
        return  # text exports, other APIs' results, other files
    prior.listed_results += 1
    kh = key_hash(key)
    ours = _of_selection(prior, store, wanted, key, kh)
    at = prior.index.find(kh)
    if at >= 0 and etag and prior.index.results[at] == etag_hash(etag):
        prior.listed[at] = 1
    elif ours:
        prior.others[kh] = etag


def _of_selection(
    prior: PriorState, store: ResultStore, wanted: tuple[KeySet | None, KeySet | None], key: str, kh: int
) -> bool:
    """Whether a listed result is of this selection: an image's key wanted, or a page of a document of
    it (whose page count is noted)."""
    keys, stems = wanted
    page = store.parse_page_key(key)
    if page is None:
        return keys is None or kh in keys
    return _note_page(prior, page, keys is None and stems is None, stems)


def _note_page(prior: PriorState, page: PageKey, every: bool, stems: KeySet | None) -> bool:
    """Note the page count a listed page's key names, for a document of this selection; whether it is one."""
    sh = key_hash(page.stem)
    if not every and (stems is None or sh not in stems):
        return False
    counts = prior.page_counts.get(sh, ())
    if page.pages not in counts:
        prior.page_counts[sh] = (*counts, page.pages)
    return True


def _warn_damage(log: Any, damage: str, heads: int, *, final: bool = True) -> None:
    """A damaged or missing index: a WARNING only when it costs requests (a HEAD per listed result
    the index does not vouch for, in the decision that stands); else INFO (the listing replaces it
    at no extra cost, or another run is still writing it: it is read again under the lease)."""
    if log is None:
        return
    if not final:
        log.info(
            "%s (another run may still be writing it; %d listed result(s) it does not vouch for): "
            "read again under the lease",
            damage,
            heads,
        )
    elif heads:
        log.warning(
            "%s: recovering with 1 HEAD per listed result of this selection the index does not vouch for, "
            "%d request(s) (no OCR call for a result found valid); the index is written again",
            damage,
            heads,
        )
    else:
        log.info("%s: the listing replaces it at no extra request; the index is written again", damage)


def _recover(obs: Any, store: ResultStore, part_key: str, prior: PriorState) -> None:
    """The results a killed run recorded in a progress part, where they are listed as it wrote them."""
    try:
        part = obs.get_json(store.bucket, part_key)
    except (HuaweiObsNotFoundError, ValueError):
        return
    entries = part.get("entries") if isinstance(part, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if prior.kept.note(part_key, entry):  # an answer paid for and not stored: stored by the send stage
            continue
        done = _done_result(entry)
        if done is None:  # not done, or malformed: its result is HEADed, never skipped blindly
            continue
        kh, eh = key_hash(done[0]), etag_hash(done[1])
        if _listed_as_written(prior, kh, eh):
            made = made_hash(_text(entry.get("params_digest")), _text(entry.get("source_etag")))
            prior.recovered[kh] = (eh, made)
            prior.others.pop(kh, None)


def _done_result(entry: Any) -> tuple[str, str] | None:
    """(result key, result ETag) of a well-formed ``done`` (or ``held``) entry of a progress part, else ``None``."""
    if not (isinstance(entry, dict) and entry.get("status") in STORED):
        return None
    key, etag = _text(entry.get("key")), _text(entry.get("result_etag"))
    return None if key is None or etag is None else (key, etag)


def _listed_as_written(prior: PriorState, kh: int, eh: int) -> bool:
    """Whether the result with key hash ``kh`` is listed with the ETag hash ``eh``."""
    if kh in prior.others and etag_hash(prior.others[kh]) == eh:
        return True
    at = prior.index.find(kh)
    return at >= 0 and bool(prior.listed[at]) and prior.index.results[at] == eh


def index_record(entry: dict[str, Any]) -> tuple[int, int, int]:
    """The index record of a ``done`` entry."""
    return (
        key_hash(entry["key"]),
        etag_hash(entry.get("result_etag")),
        made_hash(entry.get("params_digest"), entry.get("source_etag")),
    )


def next_index(
    prior: PriorState, entries: Iterable[dict[str, Any]], verified: dict[int, tuple[int, int]]
) -> tuple[Index, bool]:
    """(the index after this run, whether it differs from the stored one).

    Earlier records whose result is still listed as recorded, results recovered from
    progress parts, results found valid by a HEAD, and this run's results.
    """
    updates: list[Iterable[tuple[int, int, int]]] = [
        ((k, r, m) for k, (r, m) in prior.recovered.items()),
        ((k, r, m) for k, (r, m) in verified.items()),
    ]
    records = getattr(entries, "index_records", None)  # an entry log keeps them: no entry is read
    if records is not None:
        any_stored = next(iter(records()), None) is not None
        updates.append(records())
    else:
        mine = [
            index_record(entry)
            for entry in entries
            if entry.get("status") in STORED and entry.get("key") and not entry.get("again")
        ]
        any_stored = bool(mine)
        updates.append(mine)
    changed = bool(prior.recovered) or bool(verified) or any_stored or prior.dropped > 0
    changed = changed or prior.origin in ("manifest/2", "damaged")
    if not changed:
        return prior.index, False
    return prior.index.merged(prior.listed, itertools.chain.from_iterable(updates)), True


# --- manifests ---------------------------------------------------------------------------------


def json_opening(header: dict[str, Any], member: str) -> bytes:
    """A JSON object's text up to the items of its last member: the header's members, then
    ``"<member>": [`` (a manifest's ``images``, a progress part's ``entries``)."""
    head = json.dumps(header, ensure_ascii=False)
    tail = f'"{member}": ['.encode()
    return head[:-1].encode("utf-8") + b", " + tail if header else b"{" + tail


def manifest_opening(header: dict[str, Any]) -> bytes:
    """The manifest's JSON up to its entries: the header's members, then ``"images": [``."""
    return json_opening(header, "images")


def manifest_bytes(header: dict[str, Any], entries: Iterable[dict[str, Any]]) -> bytes:
    """The manifest as UTF-8 JSON, ``images`` last, built entry by entry (no whole-document text).

    From an entry log (``entries`` with a ``manifest`` method), its spooled entries are copied as
    they are into one ``bytes`` object, without a list of them beside it (a run's record stage
    streams them instead: :meth:`~.entrylog.EntryLog.manifest_file`)."""
    opening = manifest_opening(header)
    spooled = getattr(entries, "manifest", None)
    if spooled is not None:
        data: bytes = spooled(opening)
        return data
    with SpooledBody() as body:
        body.write(opening)
        body.write_items(json.dumps(entry, ensure_ascii=False).encode("utf-8") for entry in entries)
        return body.read_all()


def prune_history(obs: Any, store: ResultStore, keep: int | None = None) -> int:
    """Delete this API's (and shard's) run records beyond the newest ``keep`` (:data:`HISTORY_KEEP`)."""
    keep = HISTORY_KEEP if keep is None else keep
    own = sorted(
        key
        for page in obs.iter_listing(store.bucket, store.history_prefix)
        for key, *_ in page
        if store.is_own_history(key)
    )
    old = own[:-keep] if keep > 0 else own
    if old:
        obs.delete_many(store.bucket, old)
    return len(old)


class SpooledBody:
    """Bytes written to an unnamed temporary file, with their size and MD5, to upload in chunks
    (:meth:`~airflow_provider_hwocr.hooks.obs.HuaweiObsHook.put_file`); a context manager that
    closes (and so deletes) the file."""

    def __init__(self) -> None:
        self.file: Any = tempfile.TemporaryFile(prefix="hwocr-body-")  # noqa: SIM115 - closed by close()
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self._md5.update(data)
        self.size += len(data)

    def write_items(self, items: Iterable[bytes]) -> None:
        """A JSON array's items (each already JSON), comma-separated, then the closing ``]}`` of it
        and of its object (what follows a :func:`json_opening`)."""
        for n, item in enumerate(items):
            if n:
                self.write(b", ")
            self.write(item)
        self.write(b"]}")

    @property
    def md5(self) -> str:
        """The MD5 of everything written, as hex."""
        return self._md5.hexdigest()

    def read_all(self) -> bytes:
        """Everything written, as one ``bytes`` object (for tests and small bodies)."""
        self.file.flush()
        self.file.seek(0)
        data: bytes = self.file.read()
        return data

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> SpooledBody:  # noqa: PYI034 - not subclassed
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ProgressJournal:
    """Finished images, written to OBS in parts while the batch runs, so a killed task loses nothing.

    Thread-safe: workers and writers :meth:`add`; the coordinating thread calls
    :meth:`maybe_flush` between completions. A part holds only the entries
    finished since the previous one, so the cost per image stays flat.

    Checkpoints are best effort: a part that cannot be written is tried once more, then logged, and
    its entries go into the next part (tried again after a pause that doubles, up to
    :attr:`MAX_PAUSE`); a checkpoint never stops the batch. The journal also keeps when each entry
    finished (:meth:`finished_since`, the lease's fence) and writes kept answers (:meth:`keep`).
    """

    #: Longest pause between two tries of a checkpoint that failed (seconds).
    MAX_PAUSE = 60.0

    def __init__(
        self,
        obs: Any,
        store: ResultStore,
        *,
        header: dict[str, Any],
        every: int,
        interval: float,
        enabled: bool = True,
        log: Any = None,
        finished: Callable[[float], list[dict[str, Any]]] | None = None,
    ) -> None:
        """``finished``: what gives the entries finished since a time, when something else keeps them
        (the send stage's entry log); without it, the journal keeps every entry it is given."""
        self.obs = obs
        self.store = store
        self.header = header
        self.every = every
        self.interval = interval
        self.enabled = enabled
        self.log = log
        self.token = uuid.uuid4().hex[:12]
        self.written: list[str] = []
        #: Parts of kept answers (:meth:`keep`): not deleted by this run.
        self.kept: list[str] = []
        self.failures = 0  # checkpoints that could not be written
        self._pending: list[dict[str, Any]] = []
        self._finished_at = array("d")  # wall clock, one per entry added
        self._finished: list[dict[str, Any]] = []
        self._finished_from = finished
        self._lock = threading.Lock()
        self._last = time.monotonic()
        self._retry_at = 0.0  # monotonic: no checkpoint before, after one failed
        self._seq = 0

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._pending.append(entry)
            if self._finished_from is None:
                self._finished_at.append(time.time())
                self._finished.append(entry)

    def finished_since(self, since: float) -> list[dict[str, Any]]:
        """The entries added at or after ``since`` (wall clock); a change to one is recorded."""
        if self._finished_from is not None:
            return self._finished_from(since)
        with self._lock:
            return [entry for at, entry in zip(self._finished_at, self._finished) if at >= since]

    def _next_key(self) -> tuple[int, str]:
        with self._lock:
            self._seq += 1
            return self._seq, self.store.part_key(self.token, self._seq)

    def _head(self, seq: int) -> dict[str, Any]:
        return {**self.header, "format": PROGRESS_FORMAT, "token": self.token, "seq": seq}

    def _part(self, seq: int, entries: list[dict[str, Any]]) -> dict[str, Any]:
        return {**self._head(seq), "entries": entries}

    def maybe_flush(self, *, force: bool = False) -> None:
        if not self.enabled:
            return
        with self._lock:
            now = time.monotonic()
            due = len(self._pending) >= self.every or (now - self._last) >= self.interval
            if not self._pending or not (due or force) or (now < self._retry_at and not force):
                return
            batch, self._pending = self._pending, []
            self._last = now
        seq, key = self._next_key()
        try:
            self._put(key, seq, batch)
        except Exception as exc:  # noqa: BLE001 - best effort: the manifest records them anyway
            self._failed(batch, exc)
            return
        with self._lock:
            self._retry_at = 0.0
        self.written.append(key)

    def _put(self, key: str, seq: int, entries: list[dict[str, Any]]) -> None:
        """One checkpoint write, tried twice; the part's JSON goes through a temporary file, sent in
        chunks (a part of 500 entries is about 300 KB: not held as text, bytes and the SDK's copy)."""
        with SpooledBody() as body:
            body.write(json_opening(self._head(seq), "entries"))
            body.write_items(json.dumps(entry, ensure_ascii=False).encode("utf-8") for entry in entries)
            try:
                self._put_body(key, body)
            except Exception:  # noqa: BLE001 - tried once more
                time.sleep(min(0.5, self.interval))
                self._put_body(key, body)

    def _put_body(self, key: str, body: SpooledBody) -> None:
        self.obs.put_file(
            self.store.bucket, key, body.file, size=body.size, md5=body.md5, content_type="application/json"
        )

    def _failed(self, batch: list[dict[str, Any]], exc: BaseException) -> None:
        """A checkpoint not written: its entries go into the next one, after a pause."""
        with self._lock:
            self._pending[:0] = batch
            self.failures += 1
            failures = self.failures
            self._retry_at = time.monotonic() + min(self.interval * 2 ** min(failures, 10), self.MAX_PAUSE)
        if self.log is not None and (failures == 1 or failures % 10 == 0):
            self.log.warning(
                "Could not write a progress checkpoint under %s (%s; %d so far): the batch goes on, and the "
                "next checkpoint takes its %d image(s)",
                self.store.progress_prefix,
                exc,
                failures,
                len(batch),
            )

    def keep(self, entry: dict[str, Any]) -> str:
        """Write a kept answer's entry in a part of its own, now; returns its key (raises if it cannot be
        written). This run does not delete it: the run that stores the answer does."""
        seq, key = self._next_key()
        self.obs.put_json(self.store.bucket, key, self._part(seq, [entry]))
        with self._lock:
            self.kept.append(key)
        return key

    def unkeep(self, key: str) -> None:
        """Delete a part written by :meth:`keep` whose answer was stored after all (raises if OBS refuses)."""
        self.obs.delete(self.store.bucket, key)
        with self._lock:
            if key in self.kept:
                self.kept.remove(key)

    def kept_part(self, entry: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """(a name, the part) of a kept answer for a local spool file, when OBS cannot take it."""
        seq, key = self._next_key()
        return key.rsplit("/", 1)[-1], self._part(seq, [entry])


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
