"""A decision on a held page, written: the reviewed result, the page's table rows, the review ledger.

:func:`apply_decision` is the one way a decision is stored, whoever made it (the review operator,
or a single-image operator that became its own review):

1. HEAD the stored result (its metadata says what it was made from: kept, so a re-run still finds it
   done) and GET it with its ETag;
2. :func:`~airflow_provider_hwocr.runtime.review.decision.apply_review`: a new envelope whose
   ``result`` holds the corrected values and whose ``review`` record keeps what the machine read;
3. PUT it back on the same key **only if it is still the object read** (``If-Match`` on its ETag):
   a second decision on the same page, made meanwhile, is refused
   (:class:`~airflow_provider_hwocr.hooks.obs_errors.HuaweiObsPreconditionFailedError`), never
   merged; a result reviewed already is refused before any write;
4. with a table prefix, the page's rows of every table of the API, each to its own small file in
   the day's partition: ``<table_uri>/<table>/dt=<day>/review-<name>.<format>`` (the batch's own
   part files leave held and reviewed pages out, so no row is written twice);
5. the review ledger object ``<housekeeping>/{api}/reviews/<name>.<outcome>.json`` (the review
   record, source, page and result URI), which a re-run of the batch lists (one listing) to tell
   which of its pages were reviewed or rejected without reading them.

``<name>`` is the result key's file name without ``.{api}.json``, a document page's as
``<stem>-p<page>`` (:func:`review_name`). A page the batch holds leaves a marker with its held
descriptor beside the ledger, ``reviews/held/<name>.json`` (:func:`held_marker_key`), so that a
re-run holds it again, with the same descriptor, until it is decided.

No OCR hook is built here: a decision never costs a call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from airflow_provider_hwocr.client.sources import parse_obs_uri
from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsPreconditionFailedError
from airflow_provider_hwocr.runtime.contract import ObsPrefix
from airflow_provider_hwocr.runtime.review.decision import (
    Decision,
    apply_review,
    decision_from_answer,
    review_of,
    timeout_decision,
)
from airflow_provider_hwocr.runtime.review.gate import HeldField
from airflow_provider_hwocr.runtime.store import ResultStore
from airflow_provider_hwocr.runtime.tables.partitions import partition
from airflow_provider_hwocr.runtime.tables.rows import envelope_rows
from airflow_provider_hwocr.runtime.tables.write import TableSpools

__all__ = [
    "HELD_DIR",
    "LEDGER_DIR",
    "Applied",
    "HuaweiOcrReviewTimeoutError",
    "apply_decision",
    "decision_of",
    "held_marker_key",
    "ledger_key",
    "ledger_prefix",
    "review_name",
    "review_table_key",
    "store_of",
]

#: Under ``<housekeeping>/{api}/``: the review ledger, one object per decided page.
LEDGER_DIR = "reviews/"
#: Under the ledger: the markers of the pages a batch holds, until they are decided.
HELD_DIR = "held/"
#: What a table file's content type is, per format (as the batch's).
_CONTENT_TYPES = {
    "parquet": "application/vnd.apache.parquet",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class HuaweiOcrReviewTimeoutError(TimeoutError):
    """Nobody answered a review in time and ``on_timeout="fail"``: nothing is decided or written."""


@dataclass(frozen=True)
class Applied:
    """What :func:`apply_decision` wrote."""

    envelope: dict[str, Any]
    result_uri: str
    result_etag: str | None
    ledger_uri: str
    tables: list[str]

    @property
    def review(self) -> dict[str, Any]:
        return dict(self.envelope.get("review") or {})


# --- names -------------------------------------------------------------------------------------------


def _split(result_uri: str) -> tuple[str, str]:
    loc = parse_obs_uri(result_uri, parameter="result_uri")
    return loc.bucket, loc.key


def store_of(result_uri: str, api: str) -> ResultStore:
    """The results store a result key belongs to (its folder: a result's name holds no ``/``)."""
    bucket, key = _split(result_uri)
    folder = key.rpartition("/")[0]
    return ResultStore(bucket, f"{folder}/" if folder else "", api)


def review_name(result_key: str, api: str) -> str:
    """``<stem>-p<page>`` of a document page's result key, the file name without ``.{api}.json`` of an
    image's (``x-<hash>.p0002of0003.vat-invoice.json`` -> ``x-<hash>-p2``)."""
    store = ResultStore("b", "", api)
    name = result_key.rpartition("/")[2]
    page = store.parse_page_key(name)
    if page is not None:
        return f"{page.stem}-p{page.page}"
    return name.removesuffix(f".{api}.json")


def ledger_prefix(store: ResultStore) -> str:
    """The key prefix of the review ledger of a store's API (one listing finds every decision and marker)."""
    return f"{store.housekeeping}{store.api}/{LEDGER_DIR}"


def ledger_key(store: ResultStore, name: str, outcome: str) -> str:
    return f"{ledger_prefix(store)}{name}.{outcome}.json"


def held_marker_key(store: ResultStore, name: str) -> str:
    return f"{ledger_prefix(store)}{HELD_DIR}{name}.json"


def review_table_key(prefix: str, table: str, day: date | str, name: str, fmt: str) -> str:
    """``<prefix>/<table>/dt=<day>/review-<name>.<format>``."""
    base = prefix.rstrip("/")
    path = f"{table}/{partition(day)}/review-{name}.{fmt}"
    return f"{base}/{path}" if base else path


# --- the decision --------------------------------------------------------------------------------------


def decision_of(event: Mapping[str, Any], held: Sequence[HeldField], *, on_timeout: str) -> Decision:
    """The decision a HITL resume event means (an answer, a timeout's defaults, or a timeout without
    defaults). A timeout with ``on_timeout="fail"`` raises :class:`HuaweiOcrReviewTimeoutError`."""
    at = _when(event.get("responded_at"))
    if "error" in event:
        if event.get("error_type") == "timeout":
            decision = timeout_decision(on_timeout, at)
            if decision is None:
                raise HuaweiOcrReviewTimeoutError(f"the review timed out unanswered: {event.get('error')}")
            return decision
        raise RuntimeError(f"the review could not be read: {event.get('error')} ({event.get('error_type')})")
    user = event.get("responded_by_user")
    if event.get("timedout") or user is None:
        decision = timeout_decision(on_timeout, at)
        if decision is None:
            raise HuaweiOcrReviewTimeoutError("the review timed out unanswered (on_timeout='fail')")
        return decision
    by = str(user.get("id") or user.get("name") or "unknown") if isinstance(user, Mapping) else str(user)
    return decision_from_answer(
        list(event.get("chosen_options") or []), event.get("params_input") or {}, by=by, at=at, held=held
    )


def _when(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc)


def apply_decision(
    obs: Any,
    descriptor: Mapping[str, Any],
    decision: Decision,
    *,
    held: Sequence[HeldField],
    table: ObsPrefix | None,
    day: date | str | None,
    log: Any,
    table_format: str = "parquet",
) -> Applied:
    """Store a decision on one held page (see the module); returns what was written.

    Raises ``ValueError`` when the result was reviewed already, and the object server's
    precondition error when it changed since it was read (another decision won).
    """
    api = str(descriptor["api"])
    result_uri = str(descriptor["result_uri"])
    bucket, key = _split(result_uri)
    # Its metadata (what it was made from, with which parameters) stays: a re-run still finds it done.
    info = obs.head(bucket, key)
    data, etag = obs.get_bytes_and_etag(bucket, key)
    if info is None or (info.etag and etag and info.etag.strip('"') != etag.strip('"')):
        raise HuaweiObsPreconditionFailedError(
            f"{result_uri} changed while it was read for a decision; nothing was written"
        )
    envelope = json.loads(data.decode("utf-8-sig"))
    if review_of(envelope) is not None:
        raise ValueError(
            f"{result_uri} was reviewed already ({review_of(envelope)}); a second decision is refused"
        )
    reviewed = apply_review(envelope, held, decision)
    body = json.dumps(reviewed, ensure_ascii=False).encode("utf-8")
    new_etag = obs.put_bytes(
        bucket,
        key,
        body,
        content_type=info.content_type or "application/json",
        metadata=dict(info.metadata or {}),
        if_match=etag,
    )
    store = store_of(result_uri, api)
    name = review_name(key, api)
    tables = _write_tables(obs, reviewed, result_uri, name, table, day, table_format) if table else []
    record = {
        **(reviewed.get("review") or {}),
        "source": descriptor.get("source"),
        "page": descriptor.get("page"),
        "pages": descriptor.get("pages"),
        "result_uri": result_uri,
        "api": api,
    }
    ledger = ledger_key(store, name, decision.outcome)
    obs.put_bytes(
        store.bucket,
        ledger,
        json.dumps(record, ensure_ascii=False).encode("utf-8"),
        content_type="application/json",
    )
    log.info(
        "Review of %s%s: %s by %s (%d change(s)); stored in %s, ledger %s",
        descriptor.get("source"),
        f" page {descriptor['page']}" if descriptor.get("page") else "",
        decision.outcome,
        decision.by,
        len((reviewed.get("review") or {}).get("changes") or []),
        result_uri,
        store.uri(ledger),
    )
    return Applied(
        reviewed, result_uri, new_etag if isinstance(new_etag, str) else None, store.uri(ledger), tables
    )


def _write_tables(
    obs: Any,
    envelope: dict[str, Any],
    result_uri: str,
    name: str,
    table: ObsPrefix,
    day: date | str | None,
    fmt: str,
) -> list[str]:
    """The page's rows of every table of its API, each table's to its own file (tables without a row
    of this page are not written)."""
    when = day or datetime.now(timezone.utc).date()
    uris = []
    with TableSpools(str(envelope.get("api")), fmt) as spools:
        spools.add(envelope_rows(envelope, result_uri=result_uri))
        files = spools.finish()
    try:
        for table_name, spooled in files.items():
            if not spooled.rows:
                continue
            key = review_table_key(table.key, table_name, when, name, fmt)
            obs.put_bytes(
                table.bucket,
                key,
                spooled.file.read(),
                content_type=_CONTENT_TYPES[fmt],
                metadata={"hwocr-table-rows": str(spooled.rows)},
            )
            uris.append(f"obs://{table.bucket}/{key}")
    finally:
        for spooled in files.values():
            spooled.close()
    return uris
