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


def summarize(api: Api, result: Any) -> dict[str, Any]:
    """A few figures about a result, small enough for XCom and object metadata."""
    summary: dict[str, Any] = {"api": api.slug}
    if isinstance(result, list):
        summary["items"] = len(result)
        types = [item.get("type") for item in result if isinstance(item, dict) and item.get("type")]
        if types:
            summary["document_types"] = types[:20]
        plates = [i.get("plate_number") for i in result if isinstance(i, dict) and i.get("plate_number")]
        if plates:
            summary["plates"] = plates[:20]
        statuses = [
            i.get("status") for i in result if isinstance(i, dict) and isinstance(i.get("status"), dict)
        ]
        if statuses and len(statuses) == len(result):  # per-document status (auto-classification)
            failed = [
                {"type": item.get("type"), "error_code": item["status"].get("error_code")}
                for item in result
                if item["status"].get("error_code") not in (None, "", "AIS.0000")
            ]
            summary["documents_recognised"] = len(result) - len(failed)  # = billed units
            summary["documents_failed"] = len(failed)
            if failed:
                summary["failed_documents"] = failed[:20]
        return summary
    if not isinstance(result, dict):
        return summary
    blocks = _blocks(result)
    if blocks:
        words = [str(b.get("words", "")) for b in blocks]
        summary["blocks"] = len(blocks)
        summary["words"] = sum(len(w.split()) for w in words)
        summary["text_length"] = sum(len(w) for w in words)
        confidences = [b["confidence"] for b in blocks if isinstance(b.get("confidence"), (int, float))]
        summary["low_confidence_blocks"] = sum(1 for c in confidences if c < LOW_CONFIDENCE)
    for key in ("type", "side", "idcard_type", "passport_type", "country_code"):
        if isinstance(result.get(key), str):
            summary["document_type" if key in ("type", "passport_type") else key] = result[key]
    if not blocks:
        summary["fields"] = sum(1 for v in result.values() if v not in (None, "", [], {}))
    return summary


def envelope(
    *,
    api: Api,
    parameters: dict[str, Any],
    source: dict[str, Any],
    request_id: str | None,
    region: str,
    result: Any,
    summary: dict[str, Any],
) -> dict[str, Any]:
    """The JSON object stored in OBS for one image."""
    return {
        "format": ENVELOPE_FORMAT,
        "api": api.slug,
        "parameters": parameters,
        "source": source,
        "region": region,
        "request_id": request_id,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "provider_version": __version__,
        "summary": summary,
        "result": result,
    }
