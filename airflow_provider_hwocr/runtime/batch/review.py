"""``review_below`` in a batch: which pages wait for a person, and what became of those that waited.

**Holding** (:class:`Holder`, in the writer threads): a page's gating fields are read from its
answer (:func:`~airflow_provider_hwocr.runtime.review.gate.held_fields`). A page with an uncertain
field ends ``held`` instead of ``done``: it was called, paid and stored like any other (a paid answer
is never thrown away, and it is in the index, so a re-run does not send it again), its manifest
entry names the fields, a small marker with its descriptor is written beside the review ledger
(``<housekeeping>/{api}/reviews/held/<name>.json``) *before* its result, and it is left out of the
batch's tables. Everything else flows on at once.

**Settling** (:func:`settle`, after the send stage): one listing of the review ledger
(``<housekeeping>/{api}/reviews/``) tells which pages were decided (``<name>.approved.json``,
``<name>.rejected.json``, written by
:func:`~airflow_provider_hwocr.runtime.review.apply.apply_decision`) and which still wait (their
markers). Of the pages skipped as done before, a decided one ends ``reviewed`` or
``review_rejected`` (its rows live in its own review table file), a waiting one ``held`` again, with
the descriptor its marker keeps (one GET each). The XCom's ``held``: one descriptor per held page::

    {"source": "obs://b/in/x.pdf", "page": 2, "pages": 3, "api": "vat-invoice", "fields": ["total"],
     "result_uri": "obs://b/ocr/x-<hash>.p0002of0003.vat-invoice.json", "thresholds": {"total": 0.95},
     "day": "2026-12-07"}

(``page`` and ``pages`` ``None`` for an image; ``day`` only with ``table_uri``: the partition the
page's review writes its rows to.) Without ``review_below`` none of this runs: no listing, no state.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_hwocr.client.documents import parse_pages
from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsNotFoundError
from airflow_provider_hwocr.runtime.batch.entries import REVIEW_STATES, Item, PageItem
from airflow_provider_hwocr.runtime.batch.run import BatchRun
from airflow_provider_hwocr.runtime.batch.state import key_hash
from airflow_provider_hwocr.runtime.batch.tables import table_day
from airflow_provider_hwocr.runtime.review.apply import (
    HELD_DIR,
    held_marker_key,
    ledger_prefix,
    review_name,
)
from airflow_provider_hwocr.runtime.review.gate import HeldField, held_fields
from airflow_provider_hwocr.runtime.review.rule import ReviewRule
from airflow_provider_hwocr.runtime.store import ResultStore

if TYPE_CHECKING:
    from airflow_provider_hwocr.runtime.batch.decide import Plan
    from airflow_provider_hwocr.runtime.batch.send import Sent

__all__ = ["Holder", "Settled", "descriptor", "settle"]

#: The outcome in a ledger object's name -> the state of its page.
_DECIDED = {"approved": "reviewed", "rejected": "review_rejected"}


def descriptor(
    source: Any,
    page: Any,
    pages: Any,
    result_uri: Any,
    api: str,
    fields: list[str],
    day: str | None,
    thresholds: dict[str, float] | None = None,
) -> dict[str, Any]:
    """A held page's descriptor (small: one per held page travels in XCom); ``thresholds``: each held
    field's, so that a review can show it without the batch's rule."""
    out: dict[str, Any] = {
        "source": source,
        "page": page,
        "pages": pages,
        "result_uri": result_uri,
        "api": api,
        "fields": fields,
    }
    if thresholds:
        out["thresholds"] = thresholds
    if day is not None:
        out["day"] = day
    return out


def _day(run: BatchRun) -> str | None:
    """The table day of the run's held pages (only with ``table_uri``)."""
    return table_day(run.context).isoformat() if run.settings.table is not None else None


class Holder:
    """Decides, in a writer thread, whether a page is held, and writes a held page's marker.

    Fails closed: :meth:`mark` writes the marker *before* the page's result (a failure there fails
    the write as a result write would: the answer is kept, the page is not done, and a later run
    stores it and holds it then), so a stored result that should wait for a person always has its
    marker, and a re-run, which learns what waits from the markers, holds it again.
    """

    def __init__(self, run: BatchRun, rule: ReviewRule) -> None:
        self.rule = rule
        self.obs = run.obs
        self.store: ResultStore = run.store
        self.slug = run.pipeline.api.slug
        self.log = run.log
        self.day = _day(run)
        #: What :meth:`mark` found, by result key, for :meth:`hold` (the fields are read once a page).
        self._found: dict[str, list[HeldField]] = {}
        self._lock = threading.Lock()

    def _held(self, item: Item, response: Any) -> list[HeldField]:
        return held_fields(self.slug, getattr(response, "result", None), self.rule) if item.key else []

    def _descriptor(self, item: Item, held: list[HeldField], source: Any, result_uri: Any) -> dict[str, Any]:
        page = item.page if isinstance(item, PageItem) else None
        pages = item.count if isinstance(item, PageItem) else None
        thresholds = {h.field: h.threshold for h in held}
        return descriptor(
            source, page, pages, result_uri, self.slug, [h.field for h in held], self.day, thresholds
        )

    def mark(self, item: Item, response: Any) -> None:
        """Before the result is stored: a held page's marker (raises if it cannot be written)."""
        held = self._held(item, response)
        if held:
            self._write_marker(item, held)
        if item.key:
            with self._lock:
                self._found[item.key] = held

    def _write_marker(self, item: Item, held: list[HeldField]) -> None:
        assert item.key is not None
        marker = self._descriptor(item, held, item.source, self.store.uri(item.key))
        key = held_marker_key(self.store, review_name(item.key, self.slug))
        self.obs.put_bytes(
            self.store.bucket, key, json.dumps(marker, ensure_ascii=False).encode("utf-8"),
            content_type="application/json",
        )  # fmt: skip

    def hold(self, item: Item, response: Any, entry: dict[str, Any]) -> None:
        """After the result is stored: make ``entry`` (a ``done`` entry) ``held`` when a gating field
        is uncertain (its marker is written by :meth:`mark`, or here if that did not run)."""
        with self._lock:
            found = self._found.pop(item.key, None) if item.key else None
        held = self._held(item, response) if found is None else found
        if not held:
            return
        entry["status"] = "held"
        entry["held_fields"] = [h.field for h in held]
        entry["thresholds"] = {h.field: h.threshold for h in held}
        if found is None:  # stored by a path that did not mark it first (an answer kept through an outage)
            self._write_marker(item, held)


@dataclass
class Settled:
    """What the review ledger made of this run's pages."""

    #: The descriptors of the held pages (the XCom's ``held``), in selection order.
    held: list[dict[str, Any]] = field(default_factory=list)
    #: Result keys the batch's tables leave out (held, reviewed, rejected: a review writes their rows).
    left_out: set[str] = field(default_factory=set)


def _ledger(run: BatchRun) -> tuple[dict[str, str], set[str]]:
    """One listing of the review ledger: decided name -> outcome, and the names of held markers."""
    prefix = ledger_prefix(run.store)
    decided: dict[str, str] = {}
    held: set[str] = set()
    for page in run.obs.iter_listing(run.store.bucket, prefix):
        for key, *_ in page:
            rest = key[len(prefix) :]
            if not rest.endswith(".json"):
                continue
            if rest.startswith(HELD_DIR):
                held.add(rest[len(HELD_DIR) : -len(".json")])
                continue
            name, _, outcome = rest[: -len(".json")].rpartition(".")
            if outcome in _DECIDED and name:
                decided[name] = outcome
    return decided, held


def _skipped(run: BatchRun, plan: Plan, sent: Sent) -> Iterator[tuple[str, int | None, int | None, str]]:
    """(source, page, pages, result key) of each page done before: images and documents skipped whole,
    a document's pages done before when the rest was sent, results found valid by a HEAD."""
    store, spec = run.store, run.pipeline.pages
    for item in plan.items:
        if item.is_document and item.stem and item.count and (item.action == "skip" or item.done):
            left = {page for page, _ in item.pages} if item.action != "skip" else set()
            for page in parse_pages(spec, item.count):
                if page not in left:
                    yield item.source, page, item.count, store.page_key(item.stem, page, item.count)
        elif not item.is_document and item.key:
            verified = item.action == "verify" and key_hash(item.key) in sent.verified
            if item.action == "skip" or verified:
                yield item.source, None, None, item.key


def settle(run: BatchRun, plan: Plan, sent: Sent) -> Settled | None:
    """The review states of this run's pages (see the module); ``None`` without ``review_below`` or in a
    dry run. Moves pages done before from ``skipped`` to their review state, adding their entries."""
    if run.settings.ocr.review is None or run.dry:
        return None
    slug, store = run.pipeline.api.slug, run.store
    settled = Settled()
    for state in REVIEW_STATES:
        sent.counts.setdefault(state, 0)
    for entry in sent.entries:
        if entry.get("status") == "held":
            settled.left_out.add(entry["key"])
            fields = list(entry.get("held_fields") or [])
            settled.held.append(
                descriptor(
                    entry["source"],
                    entry.get("page"),
                    entry.get("pages"),
                    entry["result_uri"],
                    slug,
                    fields,
                    _day(run),
                    entry.get("thresholds"),
                )
            )
    decided, waiting = _ledger(run)
    if not decided and not waiting:
        return settled
    added: list[dict[str, Any]] = []
    for source, page, pages, key in _skipped(run, plan, sent):
        name = review_name(key, slug)
        outcome = decided.get(name)
        if outcome is None and name not in waiting:
            continue
        state = _DECIDED[outcome] if outcome is not None else "held"
        entry = {"source": source, "page": page, "pages": pages, "status": state, "key": key,
                 "result_uri": store.uri(key)}  # fmt: skip
        if state == "held":
            marker = _marker(run, name) or descriptor(source, page, pages, store.uri(key), slug, [], None)
            marker = {**marker, **({"day": d} if (d := _day(run)) else {})}
            entry.update(held_fields=list(marker.get("fields") or []), again=True)
            settled.held.append(marker)
        settled.left_out.add(key)
        sent.counts["skipped"] -= 1
        sent.counts[state] += 1
        added.append(entry)
    sent.entries.extend(added)
    if added:
        run.log.info(
            "Review: %d page(s) done before are decided (%d reviewed, %d rejected), %d still held",
            sum(1 for e in added if e["status"] != "held"),
            sum(1 for e in added if e["status"] == "reviewed"),
            sum(1 for e in added if e["status"] == "review_rejected"),
            sum(1 for e in added if e["status"] == "held"),
        )
    return settled


def _marker(run: BatchRun, name: str) -> dict[str, Any] | None:
    """A held page's marker (its descriptor), ``None`` if it is gone or unreadable."""
    try:
        found = run.obs.get_json(run.store.bucket, held_marker_key(run.store, name))
    except (HuaweiObsNotFoundError, ValueError):
        return None
    return found if isinstance(found, dict) else None
