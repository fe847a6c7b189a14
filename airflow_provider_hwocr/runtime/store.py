"""Where results go: one type names every object a task writes under an ``output_uri``.

For results under ``obs://bucket/P`` (``P`` is empty or ends with ``/``):

* results: ``P{name}-{hash}.{api}.json``, one per image (the same key from a single-image
  operator and from a batch, so either skips what the other did); a page of a PDF or OFD
  document: ``P{name}-{hash}.p{page:04d}of{pages:04d}.{api}.json``, its number and the document's
  page count in the key, so that the listing a re-run makes anyway tells how many pages a
  document has and which are done, without reading the document again;
* text pages (``export_text``): ``P{name}-{hash}.{api}.text.json``, next to the result;
* progress parts: ``P_hwocr_progress/{api}/{shard-}{token}-{seq}.json``, written while a batch
  runs and deleted once its manifest is written. They sit under ``P`` so that the one listing
  of ``P`` a batch makes anyway also finds the parts a killed run left behind;
* housekeeping next to ``P`` (``{P without its last /}_hwocr/``, outside the results listing):
  ``{api}/index{.shard}.bin``, the index (what is done, read once per run),
  ``{api}/manifest{.shard}{.m<map index>}.json``, the latest manifest (one per map index of a
  mapped task, so mapped batches sharing a prefix do not overwrite each other's),
  ``{api}/runs/{time}-{run id}-try{n}{-m<map index>}-{unique}{.shard}.json``, one manifest per
  run, try and map index (history; ``unique`` tells apart two records written in the same second), and
  ``{api}/lease{.shard}.json``, the lease of the run that is sending images of this API and shard.

Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_hwocr.client.sources import parse_obs_uri

if TYPE_CHECKING:
    from airflow_provider_hwocr.runtime.contract import ObsPrefix

__all__ = [
    "HOUSEKEEPING_SUFFIX",
    "PROGRESS_DIR",
    "TEXT_SUFFIX",
    "PageKey",
    "ResultStore",
    "shard_tag",
    "text_key",
]

PROGRESS_DIR = "_hwocr_progress/"
HOUSEKEEPING_SUFFIX = "_hwocr/"
#: Suffix of the text object stored next to a result (``….general-text.json`` ->
#: ``….general-text.text.json``).
TEXT_SUFFIX = ".text.json"

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SHARD_TAG = re.compile(r"s\d+of\d+")
#: What follows a document's stem in a page's key: ``.p0002of0005`` (then ``.{api}.json``).
_PAGE_TAG = re.compile(r"-[0-9a-f]{12}\.p(\d{4,})of(\d{4,})$")


@dataclass(frozen=True)
class PageKey:
    """What a page result's key says: the document's stem, the page and the document's page count."""

    stem: str
    page: int
    pages: int


def shard_tag(shard_index: int | None, shard_count: int) -> str:
    """``s{i}of{n}`` for a shard of a sharded batch, ``""`` otherwise."""
    return "" if shard_count <= 1 or shard_index is None else f"s{shard_index}of{shard_count}"


def text_key(result_key: str) -> str:
    """The key of the text object stored next to a result."""
    return result_key.removesuffix(".json") + TEXT_SUFFIX


@dataclass(frozen=True)
class ResultStore:
    """The objects of one API's results under one output prefix (and, for a batch, one shard)."""

    bucket: str
    prefix: str  # "" or ending with "/"
    api: str
    shard: str = ""  # "" or "s{i}of{n}"

    @classmethod
    def from_uri(cls, output_uri: str | None, api: str, shard: str = "") -> ResultStore | None:
        """``obs://bucket/prefix/`` -> the store; ``None`` or ``""`` -> ``None`` (results go to XCom)."""
        if output_uri is None or output_uri == "":
            return None
        loc = parse_obs_uri(output_uri, allow_empty_key=True, parameter="output_uri")
        return cls._of(loc.bucket, loc.key, api, shard)

    @classmethod
    def at(cls, output: ObsPrefix, api: str, shard: str = "") -> ResultStore:
        """The store under an ``output_uri`` the operator has parsed already."""
        return cls._of(output.bucket, output.key, api, shard)

    @classmethod
    def _of(cls, bucket: str, key: str, api: str, shard: str) -> ResultStore:
        prefix = key if not key or key.endswith("/") else key + "/"
        return cls(bucket, prefix, api, shard)

    def uri(self, key: str = "") -> str:
        return f"obs://{self.bucket}/{key}"

    @property
    def root_uri(self) -> str:
        """The results prefix as a URI: what a run's lineage and links name."""
        return self.uri(self.prefix)

    # --- results ----------------------------------------------------------------------

    def result_key(
        self, identity: str, name_hint: str, page: int | None = None, pages: int | None = None
    ) -> str:
        """Deterministic key: same image (or document page), prefix and API -> same key.

        ``{prefix}{name}-{digest}.{api}.json``: ``name`` is a readable, safe form of
        the image's file name and ``digest`` tells apart images with the same name. A page of
        a document (``page`` and ``pages`` given): ``{stem}.p{page:04d}of{pages:04d}.{api}.json``
        (:meth:`page_key`); an image keeps the key above, so results made before pages stay valid.
        """
        stem = self.document_stem(identity, name_hint)
        if page is None:
            return f"{stem}.{self.api}.json"
        if pages is None:
            raise ValueError("a page's key names the document's page count too")
        return self.page_key(stem, page, pages)

    def document_stem(self, identity: str, name_hint: str) -> str:
        """``{prefix}{name}-{digest}``: what every result key of one source starts with."""
        name = _UNSAFE.sub("_", name_hint.rsplit("/", 1)[-1]).strip("._") or "image"
        digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:12]
        return f"{self.prefix}{name[:80]}-{digest}"

    def page_key(self, stem: str, page: int, pages: int) -> str:
        """The key of page ``page`` of a ``pages``-page document whose stem is ``stem``."""
        if not 1 <= page <= pages:
            raise ValueError(f"page {page} is not in a document of {pages} page(s)")
        return f"{stem}.p{page:04d}of{pages:04d}.{self.api}.json"

    def page_prefix(self, stem: str) -> str:
        """What the keys of every page of a document start with (one listing finds them)."""
        return f"{stem}.p"

    def parse_page_key(self, key: str) -> PageKey | None:
        """The stem, page and page count of a page result's key of this API; ``None`` for any other key
        (an image's result, another API's, a text export)."""
        suffix = f".{self.api}.json"
        if not key.endswith(suffix):
            return None
        head = key[: -len(suffix)]
        match = _PAGE_TAG.search(head)
        if match is None:
            return None
        page, pages = int(match.group(1)), int(match.group(2))
        if not 1 <= page <= pages:
            return None
        return PageKey(head[: match.start() + 13], page, pages)

    text_key = staticmethod(text_key)

    # --- progress parts ---------------------------------------------------------------

    @property
    def progress_prefix(self) -> str:
        return f"{self.prefix}{PROGRESS_DIR}{self.api}/"

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

    # --- manifests --------------------------------------------------------------------

    @property
    def housekeeping(self) -> str:
        return (self.prefix[:-1] + HOUSEKEEPING_SUFFIX) if self.prefix else HOUSEKEEPING_SUFFIX

    def _suffix(self) -> str:
        return f".{self.shard}" if self.shard else ""

    @property
    def latest_key(self) -> str:
        return self.manifest_key(None)

    def manifest_key(self, map_index: int | None) -> str:
        """The latest manifest of an unmapped task, or of one map index of a mapped task."""
        member = f".m{map_index}" if map_index is not None and map_index >= 0 else ""
        return f"{self.housekeeping}{self.api}/manifest{self._suffix()}{member}.json"

    @property
    def lease_key(self) -> str:
        """The lease of the run sending images of this API and shard (see ``runtime/batch/lease.py``)."""
        return f"{self.housekeeping}{self.api}/lease{self._suffix()}.json"

    @property
    def index_key(self) -> str:
        return f"{self.housekeeping}{self.api}/index{self._suffix()}.bin"

    @property
    def history_prefix(self) -> str:
        return f"{self.housekeeping}{self.api}/runs/"

    def is_own_history(self, key: str) -> bool:
        """Whether ``key`` is a run record of this API and shard (not another shard's)."""
        if not key.startswith(self.history_prefix) or not key.endswith(".json"):
            return False
        stem = key[len(self.history_prefix) : -len(".json")]
        tag = stem.rsplit(".", 1)[-1] if "." in stem else ""
        is_shard_tag = bool(_SHARD_TAG.fullmatch(tag))
        return tag == self.shard if self.shard else not is_shard_tag

    def history_key(
        self,
        run_id: str | None,
        try_number: Any,
        when: datetime,
        *,
        map_index: int | None = None,
        unique: str | None = None,
    ) -> str:
        """One run record per run, try and map index; ``unique`` (a few random characters) keeps
        two records written in the same second apart."""
        run = _UNSAFE.sub("_", str(run_id or "manual"))[:120]
        stamp = when.strftime("%Y%m%dT%H%M%SZ")
        tries = f"-try{try_number}" if try_number not in (None, "") else ""
        member = f"-m{map_index}" if map_index is not None and map_index >= 0 else ""
        tail = f"-{_UNSAFE.sub('_', unique)}" if unique else ""
        return f"{self.housekeeping}{self.api}/runs/{stamp}-{run}{tries}{member}{tail}{self._suffix()}.json"
