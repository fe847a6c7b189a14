"""Shared by the tests of documents read page by page: what a result says, what was downloaded."""

from __future__ import annotations

from typing import Any


def words(result: Any) -> str:
    """The text of a general-text, handwriting or smart-document-recognizer result, its blocks joined."""
    if isinstance(result, dict):
        blocks = result["words_block_list"]
    else:
        blocks = result[0]["ocr_result"]["words_block_list"]
    return " ".join(block["words"] for block in blocks)


def document_gets(counter: Any) -> int:
    """GETs of PDF objects the provider made (a counting front's requests; the emulator's own
    downloads of signed URLs are not counted there)."""
    with counter.lock:
        return sum(
            1 for method, path in counter.requests if method == "GET" and path.lower().endswith(".pdf")
        )
