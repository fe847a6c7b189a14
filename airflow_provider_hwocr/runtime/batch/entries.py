"""One image in a batch: the item on its way through the stages, and the entry it ends as.

Every selected image ends in exactly one state: ``done`` (called and stored), ``skipped``
(done before), ``failed``, ``not_attempted`` (the budget or a stop left it), or, in a dry run,
``would_call`` / ``rejected``. Each is one manifest entry, except ``skipped``: a skipped image
is counted, not listed (a re-run of 100,000 finished images lists none of them).

With ``review_below``, three more (:data:`REVIEW_STATES`, in the totals only then): ``held`` (called,
stored and paid like ``done``, but uncertain: it waits for a person, out of the batch's tables),
``reviewed`` and ``review_rejected`` (done before and decided since, as the review ledger says). A
page done before and still held is ``held`` again, not ``skipped``
(:mod:`~airflow_provider_hwocr.runtime.batch.review`).

A PDF or OFD document is an :class:`Item` too, until the send stage opens it into one
:class:`PageItem` per page to send: each page ends in one of the states above, with an entry
naming its ``page`` and the document's ``pages``. A document refused before any call (more pages
than ``max_pages``, ``pages`` past its end, unreadable) ends ``rejected``, one entry for the
document.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, overload

from airflow_provider_hwocr.catalog.pages import DocumentKind
from airflow_provider_hwocr.client.sources import ImageSource

#: The states of a real run, in the order the totals list them.
STATES = ("done", "skipped", "failed", "not_attempted")
#: The states a batch with ``review_below`` adds (``rejected`` is taken: a document refused before any call).
REVIEW_STATES = ("held", "reviewed", "review_rejected")


class _DocumentPart:
    """What only a document's item holds (an image's item has none: it reads :data:`_NO_DOCUMENT`)."""

    __slots__ = ("count", "done", "kind", "pages", "stem", "sure")

    def __init__(self) -> None:
        self.kind: DocumentKind | None = None  # a document's kind; None: an image
        self.stem: str | None = None  # what a document's page keys start with
        self.count: int | None = None  # a document's pages, once known
        self.pages: tuple[tuple[int, str], ...] = ()  # (page, action) left to do, once known
        self.done = 0  # chosen pages done before
        #: The count is vouched for: a page of that count was made from this source, as the index says.
        self.sure = False


_NO_DOCUMENT = _DocumentPart()  # read, never written

T = TypeVar("T")


class _DocumentField(Generic[T]):
    """An item's document field: read from its document part (the shared defaults for an image's
    item), written there; the part is made when a value other than the default is first set."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, item: None, owner: type) -> _DocumentField[T]: ...

    @overload
    def __get__(self, item: Item, owner: type) -> T: ...

    def __get__(self, item: Item | None, owner: type) -> T | _DocumentField[T]:
        if item is None:
            return self
        value: T = getattr(item._doc or _NO_DOCUMENT, self.name)
        return value

    def __set__(self, item: Item, value: T) -> None:
        if item._doc is None:
            if value == getattr(_NO_DOCUMENT, self.name):
                return
            item._doc = _DocumentPart()
        setattr(item._doc, self.name, value)


class Item:
    """One selected image or document (a plain slotted class: cheap for 100,000 of them).

    ``action`` is ``send``, ``skip`` (done before: no entry is made), ``verify`` (listed but
    not vouched for by the index: HEAD the result first) or ``reject``.

    A document (``kind`` ``"pdf"`` or ``"ofd"``) has no ``key`` of its own: its pages' keys start
    with its ``stem``. ``count`` is its page count once known (from its pages' keys, without
    reading it, or once read), ``pages`` then what is left of its chosen pages: ``(page, action)``
    of each page not done yet, and ``done`` the chosen pages done before. These six live in a
    part of their own, made when one is first set: an image's item does not carry them.
    """

    __slots__ = ("_doc", "action", "entry", "key", "pos", "source", "src")

    def __init__(self, pos: int, source: str) -> None:
        self.pos = pos
        self.source = source  # log-safe description
        self.src: ImageSource | None = None  # once resolved
        self.key: str | None = None  # result key
        self.action = "send"  # send, skip, verify (HEAD the result first), reject
        self.entry: dict[str, Any] | None = None  # the manifest entry once decided
        self._doc: _DocumentPart | None = None

    kind: _DocumentField[DocumentKind | None] = _DocumentField()
    stem: _DocumentField[str | None] = _DocumentField()
    count: _DocumentField[int | None] = _DocumentField()
    pages: _DocumentField[tuple[tuple[int, str], ...]] = _DocumentField()
    done: _DocumentField[int] = _DocumentField()
    sure: _DocumentField[bool] = _DocumentField()

    @property
    def is_document(self) -> bool:
        """A document not opened into pages yet (a :class:`PageItem` is one page of one)."""
        return self.kind is not None


class PageItem(Item):
    """One page of a document to send: its key, and what is sent for it (made when it is sent)."""

    __slots__ = ("body", "doc", "page")

    def __init__(self, parent: Item, page: int, count: int, key: str | None, doc: Any) -> None:
        super().__init__(parent.pos, parent.source)
        self.src = parent.src  # the document's: its record, identity and ETag
        self.key = key
        self.page = page
        self.count = count
        #: The opened document (:class:`~airflow_provider_hwocr.runtime.documents.Document`) while
        #: the page is not sent; dropped once it is, so its bytes go with its last page.
        self.doc = doc
        self.body: Any = None

    @property
    def is_document(self) -> bool:
        return False


def done(
    source: str, key: str, outcome: Any, *, params_digest: str, source_etag: str | None
) -> dict[str, Any]:
    """The entry of an image whose result was stored (``outcome``: the pipeline's ``ImageOutcome``)."""
    value = outcome.value
    return {
        "source": source,
        "status": "done",
        "key": key,
        "result_uri": outcome.result_uri,
        "request_id": outcome.request_id,
        "attempts": outcome.attempts,
        "billed_retries": outcome.billed_retries,
        "params_digest": params_digest,
        "source_etag": source_etag,
        "result_etag": outcome.result_etag,
        "summary": value.get("summary") if isinstance(value, dict) else None,
    }


def failed(source: str, exc: BaseException, *, called: bool) -> dict[str, Any]:
    return {
        "source": source,
        "status": "failed",
        "called": called,
        "error_type": type(exc).__name__,
        "error_code": getattr(exc, "error_code", None),
        "error_message": str(exc)[:500],
        "attempts": getattr(exc, "attempts", None),
        "billed_retries": int(getattr(exc, "billed_retries", 0) or 0),
    }


def not_attempted(source: str, reason: str = "the batch stopped") -> dict[str, Any]:
    return {"source": source, "status": "not_attempted", "reason": reason}


def skipped(source: str, key: str, result_uri: str, summary: Any) -> dict[str, Any]:
    return {"source": source, "status": "skipped", "key": key, "result_uri": result_uri, "summary": summary}


def rejected(source: str, exc: BaseException) -> dict[str, Any]:
    """The entry of a document refused before any call (``max_pages``, ``pages``, unreadable)."""
    return {
        "source": source,
        "status": "rejected",
        "called": False,
        "error_type": type(exc).__name__,
        "parameter": getattr(exc, "parameter", None),
        "reason": str(exc)[:500],
    }


def with_page(entry: dict[str, Any], page: int, pages: int) -> dict[str, Any]:
    """An entry of one page of a document: ``page`` and ``pages`` follow ``source``."""
    out: dict[str, Any] = {"source": entry["source"], "page": page, "pages": pages}
    out.update(entry)
    return out
