"""What a stored result holds (the envelope), its object metadata and its XCom summary.

Pure functions, no I/O. Where results are stored is :mod:`airflow_provider_hwocr.runtime.store`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

from airflow_provider_hwocr import __version__
from airflow_provider_hwocr.catalog import Api
from airflow_provider_hwocr.catalog.response_model import document_statuses

ENVELOPE_FORMAT = "hwocr-result/1"
LOW_CONFIDENCE = 0.8

# User-metadata names on result objects (OBS lowercases them; values must be ASCII).
META_API = "hwocr-api"
META_PARAMS = "hwocr-params"
META_SOURCE = "hwocr-source"
META_SOURCE_ETAG = "hwocr-source-etag"
META_SUMMARY = "hwocr-summary"


def params_digest(params: dict[str, Any]) -> str:
    """A short stable digest of the request parameters (not of the image)."""
    text = json.dumps(params, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _blocks(result: Any) -> list[dict[str, Any]]:
    if isinstance(result, dict):
        for key in ("words_block_list", "words_region_list"):
            if isinstance(result.get(key), list):
                return [b for b in result[key] if isinstance(b, dict)]
    return []


#: How many document types, plates or failed documents a summary lists at most.
_MAX_LISTED = 20
#: Keys of an object result that name the kind of document, and their name in the summary.
_DOCUMENT_KEYS = {
    "type": "document_type",
    "side": "side",
    "idcard_type": "idcard_type",
    "passport_type": "document_type",
    "country_code": "country_code",
}


def summarize(api: Api, result: Any) -> dict[str, Any]:
    """A few figures about a result, small enough for XCom and object metadata."""
    summary: dict[str, Any] = {"api": api.slug}
    if isinstance(result, list):
        summary.update(_list_summary(result))
    elif isinstance(result, dict):
        summary.update(_object_summary(result))
    return summary


def _list_summary(result: list[Any]) -> dict[str, Any]:
    """Items, their document types and plates, and per-document status (auto-classification)."""
    out: dict[str, Any] = {"items": len(result)}
    items = [item for item in result if isinstance(item, dict)]
    types = [item.get("type") for item in items if item.get("type")]
    if types:
        out["document_types"] = types[:_MAX_LISTED]
    plates = [item.get("plate_number") for item in items if item.get("plate_number")]
    if plates:
        out["plates"] = plates[:_MAX_LISTED]
    out.update(_status_summary(result))
    return out


def _status_summary(result: list[Any]) -> dict[str, Any]:
    """Documents recognised (the billed units) and failed, when every item carries its status."""
    documents = document_statuses(result)
    if documents is None:
        return {}
    failed = [{"type": d["type"], "error_code": d["error_code"]} for d in documents if not d["ok"]]
    out: dict[str, Any] = {
        "documents_recognised": len(documents) - len(failed),
        "documents_failed": len(failed),
    }
    if failed:
        out["failed_documents"] = failed[:_MAX_LISTED]
    return out


def _object_summary(result: dict[str, Any]) -> dict[str, Any]:
    """Text blocks and words (or the number of filled fields), and what kind of document it is."""
    out = _text_summary(_blocks(result))
    for key, name in _DOCUMENT_KEYS.items():
        if isinstance(result.get(key), str):
            out[name] = result[key]
    if "blocks" not in out:
        out["fields"] = sum(1 for v in result.values() if v not in (None, "", [], {}))
    return out


def _text_summary(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    if not blocks:
        return {}
    words = [str(b.get("words", "")) for b in blocks]
    confidences = [b["confidence"] for b in blocks if isinstance(b.get("confidence"), (int, float))]
    return {
        "blocks": len(blocks),
        "words": sum(len(w.split()) for w in words),
        "text_length": sum(len(w) for w in words),
        "low_confidence_blocks": sum(1 for c in confidences if c < LOW_CONFIDENCE),
    }


def envelope(
    *,
    api: Api,
    parameters: dict[str, Any],
    source: dict[str, Any],
    request_id: str | None,
    region: str,
    result: Any,
    summary: dict[str, Any],
    page: int | None = None,
    pages: int | None = None,
) -> dict[str, Any]:
    """The JSON object stored in OBS for one image, or for one page of a PDF or OFD document.

    A page's envelope also records ``page`` (1-based) and ``pages`` (the document's page count),
    after ``source`` (the document); an image's has neither, as before pages.
    """
    doc: dict[str, Any] = {
        "format": ENVELOPE_FORMAT,
        "api": api.slug,
        "parameters": parameters,
        "source": source,
    }
    if page is not None:
        doc["page"] = page
        doc["pages"] = pages
    doc.update(
        region=region,
        request_id=request_id,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        provider_version=__version__,
        summary=summary,
        result=result,
    )
    return doc
