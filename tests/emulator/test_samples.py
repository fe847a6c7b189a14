"""The sample documents (``emulator/samples.py``): rendered pages, a valid machine-readable zone, and
printed words that real OCR reads back.
"""

from __future__ import annotations

import io
import shutil

from PIL import Image

from airflow_provider_hwocr.emulator import documents, samples
from tests.helpers.b_images import b64
from tests.helpers.emulator_client import emulator

SAMPLES = samples.all_samples()


def test_general_text_reads_every_sample_document(monkeypatch):
    """The done-when check: >= 90% of the rendered words of every sample, with no binary on PATH."""
    monkeypatch.setenv("PATH", "/nonexistent")
    assert shutil.which("tesseract") is None
    with emulator() as client:
        for name, sample in SAMPLES.items():
            if name == "vat_invoice":
                continue  # Chinese: read by the Chinese reader (tests/emulator/test_mainland.py)
            response = client.ocr("general-text", {"image": b64(sample.png)})
            assert response.headers["X-Emulator-Ocr"] == "tesserocr"
            read = " ".join(b["words"] for b in response.json()["result"]["words_block_list"]).split()
            found = sum(1 for word in sample.words if word in read)
            assert found / len(sample.words) >= 0.9, (name, read)


def test_every_sample_is_a_png_with_its_printed_words():
    chinese = {"vat_invoice"} if samples.cjk_font_path() is not None else set()
    assert set(SAMPLES) == {"invoice", "receipt", "note", "table", "id_card", "passport"} | chinese
    for name, sample in SAMPLES.items():
        image = Image.open(io.BytesIO(sample.png))
        assert image.format == "PNG" and image.width >= 600, name
        assert image.convert("L").getextrema() == (0, 255), name  # black print on white
        assert sample.words == [w for line in sample.lines for w in line.split()] and sample.words
    card = SAMPLES["id_card"].lines
    assert all(f"{label}: {value}" in card for label, value in samples.ID_CARD_FIELDS.items())
    assert samples.invoice().png == SAMPLES["invoice"].png  # rendered the same every time


def test_the_passport_page_carries_a_machine_readable_zone_of_its_holder():
    line1, line2 = SAMPLES["passport"].lines[-2:]
    assert len(line1) == len(line2) == 44
    fields = documents.parse_td3(line1, line2)
    assert {k: fields[k] for k in samples.PASSPORT_HOLDER} == samples.PASSPORT_HOLDER


def test_multi_page_samples_say_which_page_they_are():
    invoice, ofd = samples.invoice_pdf(), samples.vat_invoice_ofd()
    assert invoice.page_count == 3 and ofd.page_count == 2
    assert [p[-1] for p in invoice.pages] == ["Page 1 of 3", "Page 2 of 3", "Page 3 of 3"]
    assert [p[-1] for p in ofd.pages] == ["第1页 共2页", "第2页 共2页"]
    assert invoice.data.startswith(b"%PDF-") and ofd.data.startswith(b"PK\x03\x04")
    # the same call makes the same bytes (fixed creation times in the PDF and the ZIP)
    assert samples.invoice_pdf().data == invoice.data and samples.vat_invoice_ofd().data == ofd.data
    assert set(samples.all_documents()) >= {"invoice-3-pages.pdf", "vat-invoice.ofd"}
    if samples.cjk_font_path() is not None:
        vat = samples.vat_invoice_pdf()
        assert [p[-1] for p in vat.pages] == ["第1页 共3页", "第2页 共3页", "第3页 共3页"]
