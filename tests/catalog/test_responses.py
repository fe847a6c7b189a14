"""The catalog's response model of every API (``catalog/responses.py``: named shapes reused across
the 52 APIs) and ``check``, with every emulator answer checked against it, and the model held
against the official SDK's response models.

Each API is called over HTTP on an emulator of its own, with a document it is
made for (a passport page, a labelled ID card, an invoice, a table), its
Boolean flags all off, left out, and all on (and each side of the card where
the API has ``side``), with real OCR and with the synthetic reader (which
makes the structured APIs fall back on their documented examples, or on the
documented shape). Every answer must match the model: no undocumented field, no
field whose flag is off, no missing field whose flag is on, every type as documented.
"""

from __future__ import annotations

import base64
import io
import re
import zipfile

import pytest
from huaweicloudsdkocr.v1 import model as sdk_model

from airflow_provider_hwocr.catalog import APIS, get_api
from airflow_provider_hwocr.catalog.response_model import Field
from airflow_provider_hwocr.catalog.responses import (
    RESPONSES,
    SHAPES,
    _Checker,
    check,
    response_model,
    shape_uses,
)
from airflow_provider_hwocr.emulator import example_response, samples
from tests.helpers.emulator_client import emulator

SAMPLES = samples.all_samples()


#: The document each API is called with.
DOCUMENT_FOR = {
    "passport": "passport",
    "id-document": "passport",
    "auto-id-doc-classification": "passport",
    "auto-classification": "invoice",
    "general-table": "table",
    "general-text": "invoice",
    "handwriting": "note",
    "web-image": "receipt",
    "smart-document-recognizer": "invoice",
    "thailand-license-plate": "note",
    "financial-statement": "table",
    "business-card": "receipt",
    "health-code": "note",
    "pcr-test-record": "note",
    "seal": "note",
    "vin": "note",
    "bank-receipt": "id_card",
}
#: Mainland documents get the Chinese VAT invoice (labelled in Chinese) when a CJK font is there.
CHINESE = "vat_invoice" if "vat_invoice" in SAMPLES else "invoice"
INVOICE = {"code": "011002100111", "number": "12345678", "issue_date": "2024-05-20", "check_code": "123456"}


def _document(slug: str) -> bytes:
    default = CHINESE if get_api(slug).category == "mainland" else "id_card"
    return SAMPLES[DOCUMENT_FOR.get(slug, default)].png


def variants(slug: str) -> list[tuple[str, dict]]:
    """(label, request body without the image): flags off, left out, on; each side."""
    api = get_api(slug)
    bools = [p.name for p in api.params if p.kind == "bool"]
    on: dict = {name: True for name in bools}
    for p in api.params:
        if p.kind == "str_list" and p.allowed and slug != "auto-classification":
            on[p.name] = list(p.allowed)
    off = {name: False for name in bools}
    out = [("flags off", off), ("defaults", {}), ("flags on", on)]
    if "side" in api.param_names:
        for side in api.param("side").allowed or ():
            out += [
                (f"{side}, flags on", {**on, "side": side}),
                (f"{side}, flags off", {**off, "side": side}),
            ]
    if slug == "mvs-invoice":
        out += [(f"type {t}", {**on, "type": t}) for t in ("auto", "new", "used")]
    return out


def _body(api, image: str, body: dict) -> dict:
    if api.image_field is None:
        return {**INVOICE, **body}
    if api.slug == "custom-template":
        body = {"template_id": "t1", **body}
    return {api.image_field: image, **body}


@pytest.mark.parametrize("engine", ["auto", "synthetic"])
def test_every_answer_matches_the_response_model(engine):
    mismatches: list[str] = []
    answered = 0
    retired = {api.slug for api in APIS if not api.live}
    with emulator(ocr_engine=engine, serve_retired=retired, invoice_checks_per_day=100) as client:
        for api in APIS:
            image = base64.b64encode(_document(api.slug)).decode("ascii")
            for label, body in variants(api.slug):
                response = client.ocr(api.slug, _body(api, image, body))
                assert response.status_code == 200, (api.slug, label, response.text)
                answered += 1
                made_by = response.headers["X-Emulator-Ocr"]
                for problem in check(api.slug, _body(api, image, body), response.json()):
                    mismatches.append(f"{api.slug} ({label}, {made_by}): {problem}")
    assert answered >= 3 * len(APIS) == 156
    assert mismatches == [], "\n".join(mismatches)


def test_flags_decide_which_fields_come_back():
    """The cases the docs spell out, asserted by name (the model test covers them generally)."""
    with emulator(serve_retired={"id-document"}) as client:
        table = base64.b64encode(SAMPLES["table"].png).decode("ascii")
        card = base64.b64encode(SAMPLES["id_card"].png).decode("ascii")

        plain = client.ocr("general-table", {"image": table}).json()["result"]
        block = plain["words_region_list"][0]["words_block_list"][0]
        assert "excel" not in plain and "confidence" not in block and "location" not in block
        full = client.ocr(
            "general-table",
            {"image": table, "return_excel": True, "return_confidence": True, "return_text_location": True},
        ).json()["result"]
        block = full["words_region_list"][0]["words_block_list"][0]
        assert {"confidence", "location", "words_list"} <= set(block)

        alarms = client.ocr("auto-id-doc-classification", {"data": card, "alarm": True}).json()["result"]
        assert {"alarm_result", "alarm_confidence"} <= set(alarms)
        quiet = client.ocr("auto-id-doc-classification", {"data": card}).json()["result"]
        assert "alarm_result" not in quiet and "alarm_confidence" not in quiet

        myanmar = client.ocr("myanmar-id-card", {"image": card, "return_confidence": False}).json()["result"]
        assert "confidence" not in myanmar and "portrait_image" not in myanmar

        peru = client.ocr("peru-id-card", {"image": card}).json()["result"]
        assert "portrait_image" not in peru and "portrait_location" not in peru  # only when asked for
        assert isinstance(peru["birth_place"], str)
        asked = client.ocr("peru-id-card", {"image": card, "return_portrait_location": True}).json()["result"]
        assert "portrait_location" in asked and "portrait_image" not in asked

        khmer = client.ocr("cambodian-idcard", {"image": card, "detect_blur": True, "detect_tampering": True})
        result = khmer.json()["result"]
        assert result["detect_blur_result"] is False and result["detect_tampering_result"] is False
        assert set(result["score_info"]) == {"blur_score", "tampering_score"}
        assert "detect_glare_result" not in result

        passport = base64.b64encode(SAMPLES["passport"].png).decode("ascii")
        document = client.ocr("id-document", {"image": passport}).json()["result"]
        documented = {f.name for f in response_model("id-document").fields}
        assert len(documented) == 15 and documented - set(document) == {"portrait_image"}
        assert (document["last_name"], document["document_number"]) == ("ERIKSSON", "L898902C3")

        back = client.ocr("thailand-id-card", {"image": card, "side": "back"}).json()["result"]
        assert back["side"] == "back"
        front = client.ocr("vietnam-id-card", {"image": card, "side": "front"}).json()["result"]
        assert front["side"] == "front" and "machine_code1" not in front
        back = client.ocr("vietnam-id-card", {"image": card, "side": "back"}).json()["result"]
        assert back["side"] == "back" and "machine_code1" in back


def test_general_table_excel_is_a_real_workbook_with_the_cells():
    from openpyxl import load_workbook

    with emulator() as client:
        table = base64.b64encode(SAMPLES["table"].png).decode("ascii")
        result = client.ocr("general-table", {"image": table, "return_excel": True}).json()["result"]
    data = base64.b64decode(result["excel"])
    assert zipfile.is_zipfile(io.BytesIO(data))
    sheet = load_workbook(io.BytesIO(data)).active
    rows = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["Region", "Orders", "Revenue"]
    assert rows[2] == ["South", "95", "4100"]


# --- the model itself -------------------------------------------------------------------------


def test_every_api_has_a_model_of_its_result_kind():
    assert set(RESPONSES) == {api.slug for api in APIS}
    for api in APIS:
        assert RESPONSES[api.slug].kind == api.result_kind, api.slug


def _all_fields(fields, prefix=""):
    for f in fields:
        yield prefix + f.name, f
        yield from _all_fields(f.fields, prefix + f.name + ".")


def test_conditions_name_real_request_parameters():
    for api in APIS:
        for path, field in _all_fields(RESPONSES[api.slug].fields):
            for flag in field.flags:
                assert flag in api.param_names, f"{api.slug}: {path} depends on unknown parameter {flag}"


def test_documented_examples_use_only_modelled_fields():
    """The docs' own examples, as a second witness: every field they hold is in the model."""
    for api in APIS:
        body = {p.name: True for p in api.params if p.kind == "bool"}
        problems = [p for p in check(api.slug, body, example_response(api.slug)) if "not a documented" in p]
        assert problems == [], api.slug


def test_the_check_catches_what_the_docs_contradict():
    """The documented examples break the model exactly where the notes say the docs contradict."""
    peru = check("peru-id-card", {"return_portrait_image": True, "return_portrait_location": True},
                 example_response("peru-id-card"))  # fmt: skip
    assert peru == ["result.birth_place: int 240102 is not str"]
    table = check("general-table", {"return_confidence": False}, example_response("general-table"))
    assert any("confidence: returned although" in p for p in table)
    assert "240102" in " ".join(response_model("peru-id-card").field("birth_place").notes)
    # The smart document recognizer's example puts each result kind in an item of its own.
    smart = check("smart-document-recognizer", {}, example_response("smart-document-recognizer"))
    assert any("ocr_result: missing" in p for p in smart)
    assert "one item per page" in " ".join(response_model("smart-document-recognizer").notes)


# --- check, branch by branch ---------------------------------------------------------------------


def _general_text() -> dict:
    answer = example_response("general-text")
    assert check("general-text", {"character_mode": True}, answer) == []  # the starting point matches
    return answer


def test_check_reports_a_missing_result_and_extra_top_level_keys():
    assert check("general-text", {}, {"error_code": "AIS.0101"}) == ["answer: no result"]
    assert check("general-text", {}, ["not", "an", "object"]) == ["answer: no result"]
    answer = {**_general_text(), "request_id": "x"}
    assert check("general-text", {"character_mode": True}, answer) == [
        "answer.request_id: not a documented field"
    ]


def test_check_reports_the_wrong_shape_of_result():
    assert check("general-text", {}, {"result": []}) == ["result: list, documented as an object"]
    assert check("thailand-license-plate", {}, {"result": {}}) == ["result: dict, documented as a list"]
    assert check("thailand-license-plate", {}, {"result": [1]}) == ["result[0]: not an object"]


def test_check_reports_missing_fields_wrong_types_and_undocumented_ones():
    answer = _general_text()
    del answer["result"]["words_block_count"]
    block = answer["result"]["words_block_list"][0]
    block["confidence"] = True  # a bool is not a float
    block["location"] = [[1, 2, 3]]  # not [x, y] pairs
    block["colour"] = "red"
    assert sorted(check("general-text", {"character_mode": True}, answer)) == [
        "result.words_block_count: missing",
        "result.words_block_list[0].colour: not a documented field",
        "result.words_block_list[0].confidence: bool True is not float",
        "result.words_block_list[0].location: list [[1, 2, 3]] is not points",
    ]


def test_check_reports_a_flagged_field_missing_although_its_flag_is_on():
    answer = _general_text()
    del answer["result"]["words_block_list"][0]["char_list"]
    assert check("general-text", {"character_mode": True}, answer) == [
        "result.words_block_list[0].char_list: missing although character_mode"
    ]


def test_check_reports_values_outside_the_documented_ones():
    answer = example_response("passport")
    answer["result"]["passport_type"] = "Q"
    problems = check("passport", {}, answer)
    assert "result.passport_type: 'Q' is not one of P, W, G" in problems


def test_peru_portrait_is_absent_when_not_requested_and_null_does_not_count():
    body = {"return_portrait_image": False, "return_portrait_location": False}
    answer = example_response("peru-id-card")
    answer["result"]["birth_place"] = "LIMA"
    for name in ("portrait_image", "portrait_location"):
        del answer["result"][name]
    assert check("peru-id-card", body, answer) == []
    answer["result"]["portrait_image"] = None
    assert check("peru-id-card", body, answer) == [
        "result.portrait_image: returned although its condition (return_portrait_image) does not hold"
    ]


def test_check_accepts_null_for_a_field_documented_as_null_when_off():
    fields = (Field("image", "str", when="flag", off="null"), Field("plain", "str", when="flag"))
    checker = _Checker(body={}, defaults={})
    checker.object(fields, {"image": None}, "result")
    assert checker.out == []
    checker.object(fields, {"image": "x", "plain": None}, "result")
    assert checker.out == [
        "result.image: returned although its condition (flag) does not hold",
        "result.plain: returned although its condition (flag) does not hold",
    ]


# --- named shapes, and the model against the official SDK's ---------------------------------------


def test_shapes_are_named_and_reused_across_apis():
    uses = shape_uses()
    assert len(uses["Quad"]) >= 20 and len(uses["FieldConfidence"]) >= 20 and len(uses["Base64Image"]) >= 10
    assert uses["CharItem"] == ("smart-document-recognizer", "general-table")
    assert set(uses["ImageSize"]) == {"web-image", "financial-statement"}
    # one object per shape: a shape reused by two APIs is the same Field tuple in both trees
    table_chars = response_model("general-table").field(
        "words_region_list.words_block_list.words_list.char_list"
    )
    sdr_chars = response_model("smart-document-recognizer").field("ocr_result.words_block_list.char_list")
    assert table_chars.fields is sdr_chars.fields
    unused = set(SHAPES) - set(uses)
    assert unused == set(), unused


def test_every_member_type_is_a_primitive_a_list_or_a_shape():
    primitives = {
        "str",
        "int",
        "float",
        "bool",
        "object",
        "points",
        "map<float>",
        "list<str>",
        "list<int>",
        "list<float>",
    }
    for name, shape in SHAPES.items():
        for member in shape.get("members", ()):
            typ = member["type"]
            inner = typ[5:-1] if typ.startswith("list<") else typ
            assert typ in primitives or inner in SHAPES, (name, member)


#: Where the reference pages (which rule) and the SDK's models differ: (api, path) -> why.
SDK_DIFFERENCES = {
    ("passport", "machine_code"): "in the reference page, not in the SDK model",
    ("passport", "machine_code2"): "in the reference page, not in the SDK model",
    ("auto-classification", "confidence"): "in the reference page, not in the SDK model",
    ("invoice-verification", "*"): "the SDK types result as a free object; the reference lists the fields",
}


def _sdk_type(typ: str) -> str:
    if typ.startswith("list[list["):
        return "points"
    if typ.startswith("list["):
        inner = typ[5:-1]
        return f"list[{inner}]" if inner in ("str", "int", "float") else "list[object]"
    if typ.startswith("dict("):
        return "map"
    return typ if typ in ("str", "int", "float", "bool", "object") else "object"


def _sdk_paths(model_name: str, prefix: str = "") -> dict[str, str]:
    cls = getattr(sdk_model, model_name)
    out = {}
    for attr, typ in cls.openapi_types.items():
        name = cls.attribute_map[attr]
        out[prefix + name] = _sdk_type(typ)
        inner = re.sub(r"^list\[(.*)\]$", r"\1", typ)
        if hasattr(sdk_model, inner):
            out.update(_sdk_paths(inner, f"{prefix}{name}."))
    return out


def _our_paths(fields, prefix: str = "") -> dict[str, str]:
    out = {}
    for f in fields:
        out[prefix + f.name] = f.type
        out.update(_our_paths(f.fields, f"{prefix}{f.name}."))
    return out


def _compatible(ours: str, theirs: str) -> bool:
    return ours == theirs or (ours in ("object", "map[float]") and theirs in ("object", "map"))


def response_drift(slug: str) -> list[str]:
    api = get_api(slug)
    stem = "".join(part.capitalize() for part in api.sdk_method.split("_"))
    result_type = getattr(sdk_model, f"{stem}Response").openapi_types["result"]
    inner = re.sub(r"^list\[(.*)\]$", r"\1", result_type)
    theirs = _sdk_paths(inner) if hasattr(sdk_model, inner) else {}
    ours = _our_paths(response_model(slug).fields)
    if (slug, "*") in SDK_DIFFERENCES:
        return []
    out = [
        f"{p}: only in the catalog"
        for p in sorted(set(ours) - set(theirs))
        if (slug, p) not in SDK_DIFFERENCES
    ]
    out += [f"{p}: only in the SDK" for p in sorted(set(theirs) - set(ours))]
    out += [
        f"{p}: {ours[p]} != {theirs[p]}"
        for p in sorted(set(ours) & set(theirs))
        if not _compatible(ours[p], theirs[p])
    ]
    kind = "list" if result_type.startswith("list[") else "object"
    if kind != response_model(slug).kind:
        out.append(f"result: {response_model(slug).kind} != {kind}")
    return out


@pytest.mark.parametrize("api", APIS, ids=[a.slug for a in APIS])
def test_the_response_model_matches_the_official_sdk(api):
    assert response_drift(api.slug) == []


def test_every_sdk_difference_is_a_note_of_the_model():
    for (slug, path), why in SDK_DIFFERENCES.items():
        notes = response_model(slug).notes if path == "*" else response_model(slug).field(path).notes
        assert any("SDK" in note for note in notes), (slug, path, why)


def test_the_made_up_answer_of_every_api_has_the_documented_shape():
    from airflow_provider_hwocr.emulator.shape import fit, model_example

    for api in APIS:
        everything = {p.name: True for p in api.params if p.kind == "bool"}
        answer = fit(api.slug, everything, model_example(api.slug), (100, 100))
        problems = [
            p for p in check(api.slug, everything, answer) if "not a documented" in p or " is not " in p
        ]
        assert problems == [], api.slug
