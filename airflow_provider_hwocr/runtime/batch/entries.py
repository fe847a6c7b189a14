"""One image in a batch: the item on its way through the stages, and the entry it ends as.

Every selected image ends in exactly one state: ``done`` (called and stored), ``skipped``
(done before), ``failed``, ``not_attempted`` (the budget or a stop left it), or, in a dry run,
``would_call`` / ``rejected``. Each is one manifest entry, except ``skipped``: a skipped image
is counted, not listed (a re-run of 100,000 finished images lists none of them).
"""

from __future__ import annotations

from typing import Any

from airflow_provider_hwocr.client.sources import ImageSource

#: The states of a real run, in the order the totals list them.
STATES = ("done", "skipped", "failed", "not_attempted")


class Item:
    """One selected image (a plain slotted class: cheap for 100,000 of them).

    ``action`` is ``send``, ``skip`` (done before: no entry is made), ``verify`` (listed but
    not vouched for by the index: HEAD the result first) or ``reject``.
    """

    __slots__ = ("action", "entry", "key", "pos", "source", "src")

    def __init__(self, pos: int, source: str) -> None:
        self.pos = pos
        self.source = source  # log-safe description
        self.src: ImageSource | None = None  # once resolved
        self.key: str | None = None  # result key
        self.action = "send"  # send, skip, verify (HEAD the result first), reject
        self.entry: dict[str, Any] | None = None  # the manifest entry once decided


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
