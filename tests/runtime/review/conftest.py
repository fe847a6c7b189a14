"""A real answer to review: the emulator reads the sample VAT invoice with its Chinese reader."""

from __future__ import annotations

import copy
import os
from typing import Any

import pytest

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.emulator import results, samples
from airflow_provider_hwocr.emulator.ocr import TextReader, rapidocr_problem
from airflow_provider_hwocr.emulator.validation import CheckedImage
from airflow_provider_hwocr.runtime.envelopes import envelope, summarize

#: How the invoice is asked for: with per-field confidences and locations.
BODY = {"advanced_mode": True, "return_text_location": True}


def _need_chinese() -> None:
    problem = rapidocr_problem()
    if problem is None and samples.cjk_font_path() is None:
        problem = "no CJK font to render the invoice"
    if problem is not None:
        if os.environ.get("CI"):
            raise AssertionError(f"the Chinese reader and font must come with the test extra: {problem}")
        pytest.skip(problem)


@pytest.fixture(scope="session")
def invoice_png() -> bytes:
    _need_chinese()
    return samples.vat_invoice().png


@pytest.fixture(scope="session")
def chinese_reader() -> TextReader:
    """The emulator's reader, RapidOCR's Chinese models loaded once for the session."""
    _need_chinese()
    return TextReader("auto")


@pytest.fixture(scope="session")
def _invoice_answer(invoice_png: bytes, chinese_reader: TextReader) -> dict[str, Any]:
    answer, engine = results.build(
        "vat-invoice", BODY, CheckedImage(invoice_png, "PNG", (1100, 860)), chinese_reader
    )
    assert engine == "rapidocr"
    return answer["result"]


@pytest.fixture
def invoice_result(_invoice_answer: dict[str, Any]) -> dict[str, Any]:
    """The emulator's answer for the sample invoice (a fresh copy per test)."""
    return copy.deepcopy(_invoice_answer)


@pytest.fixture
def invoice_envelope(invoice_result: dict[str, Any]) -> dict[str, Any]:
    """That answer stored as the pipeline stores it (``runtime/envelopes.py``), page 1 of 1."""
    api = get_api("vat-invoice")
    return envelope(
        api=api,
        parameters=BODY,
        source={"kind": "obs", "uri": "obs://b/in/invoice.png", "etag": "e1"},
        request_id="r-1",
        region="cn-north-4",
        result=invoice_result,
        summary=summarize(api, invoice_result),
    )
