"""Results as tables (``catalog/tables.py``): every API's tables follow from its response model.

The model is walked here on its own and every scalar field must have its column, of the type the
rules give, and every list of records its table: a field added to the model without a column,
or a list without a table, fails here.
"""

from __future__ import annotations

import dataclasses

import pytest

from airflow_provider_hwocr.catalog import APIS, LIVE_APIS, get_api
from airflow_provider_hwocr.catalog.response_model import Field, ResponseModel
from airflow_provider_hwocr.catalog.responses import RESPONSES
from airflow_provider_hwocr.catalog.tables import (
    AMOUNT,
    EXPLICIT_AMOUNTS,
    LOGICAL_TYPES,
    PROVENANCE,
    SEPARATOR,
    UNIT_PRICE,
    amount_scale,
    api_tables,
    find_table,
    header_table,
    is_date,
    tables_for,
)

LIVE = [api.slug for api in LIVE_APIS]
SCALAR_TYPES = {"str": "string", "int": "int64", "float": "float64", "bool": "bool"}


def _expected_type(slug: str, path: str, f: Field) -> str:
    if f.type in ("list[str]", "list[int]", "list[float]", "map[float]", "object"):
        return "string"  # JSON text
    scale = amount_scale(slug, path, f)
    if scale is not None:
        return UNIT_PRICE if scale == 8 else AMOUNT
    return "date" if is_date(f) else SCALAR_TYPES[f.type]


def _model_fields(fields, path=""):
    """(path, field) of every field of the model, in the reference's notation."""
    for f in fields:
        here = f"{path}{f.name}"
        yield here, f
        yield from _model_fields(f.fields, here + ("[]." if f.type == "list[object]" else "."))


def _is_confidence_object(f: Field, siblings) -> bool:
    free_sibling = any(s.type == "object" and not s.fields and s.shape is None for s in siblings)
    return (
        f.name == "confidence" and f.type in ("object", "map[float]") and (bool(f.fields) or not free_sibling)
    )


def _columns_wanted(slug: str, model: ResponseModel):
    """(path, type) of every value column the model asks for: scalars, JSON text, nothing inside a
    confidence object (those are ``_confidence`` columns), no image, file or geometry."""

    def walk(fields, path):
        for f in fields:
            here = f"{path}{f.name}"
            if f.content is not None or f.type == "points" or f.shape == "FieldLocations":
                continue
            if _is_confidence_object(f, fields):
                continue
            if f.type == "list[object]":
                yield from walk(f.fields, here + "[].")
            elif f.type == "object" and f.fields:
                yield from walk(f.fields, here + ".")
            else:
                yield here, _expected_type(slug, here, f)

    return list(walk(model.fields, ""))


@pytest.mark.parametrize("slug", LIVE)
def test_every_field_of_the_model_has_its_column_of_the_right_type(slug):
    tables = api_tables(slug)
    found = {(c.source, c.type) for t in tables for c in t.columns if c.role == "field"}
    wanted = _columns_wanted(slug, RESPONSES[slug])
    assert wanted, slug
    assert [w for w in wanted if w not in found] == []
    # and nothing else: every value column is a field of the model
    assert len({c for c in found}) == len(wanted)


@pytest.mark.parametrize("slug", LIVE)
def test_every_list_of_records_has_its_table(slug):
    lists = [
        p
        for p, f in _model_fields(RESPONSES[slug].fields)
        if f.type == "list[object]" and not p.startswith("confidence.")  # a confidence's: its scores
    ]
    tables = api_tables(slug)
    assert [t.path for t in tables[1:]] == lists
    for table in tables[1:]:
        assert table.name.startswith(slug + SEPARATOR)
        assert table.keys[:2] == ("source", "page") and table.keys[-1] == "item_index"
        assert all(not table.column(k).nullable for k in table.keys)


@pytest.mark.parametrize("slug", LIVE)
def test_header_tables_are_keyed_by_source_and_page_and_end_with_the_provenance(slug):
    table = header_table(slug)
    assert table.is_header and table.name == slug
    assert table.names[:2] == ("source", "page")
    assert table.columns[-len(PROVENANCE) :] == PROVENANCE
    assert ("result_index" in table.keys) == (RESPONSES[slug].kind == "list")
    for t in api_tables(slug):
        assert {c.type for c in t.columns} <= set(LOGICAL_TYPES)
        for c in t.columns:
            if c.raw is not None:  # a parsed column and its raw companion, side by side
                assert c.parse in ("amount", "date")
                assert t.column(c.raw).role == "raw" and t.column(c.raw).source == c.source


def test_every_api_has_tables_and_49_are_live():
    assert len(LIVE) == 49
    assert {t.api for api in APIS for t in api_tables(api.slug)} == {api.slug for api in APIS}
    assert header_table("custom-template").column("result").parse == "json"  # a free object


def test_a_field_added_to_the_model_is_a_column_of_its_type():
    model = RESPONSES["vat-invoice"]
    added = (
        Field("discount_amount", "str", "Discount."),
        Field("refund_date", "str", "Date of refund."),
        Field("page_count", "int", "Pages."),
        Field("stamps", "list[object]", "Stamps.", fields=(Field("text", "str", "Stamp text."),)),
    )
    changed = dataclasses.replace(model, fields=(*model.fields, *added))
    header, *lists = tables_for("vat-invoice", changed)
    assert header.column("discount_amount").type == AMOUNT
    assert header.column("discount_amount_raw").role == "raw"
    assert header.column("refund_date").type == "date"
    assert header.column("page_count").type == "int64"
    assert header.column("discount_amount_confidence").source == "confidence.discount_amount"
    assert lists[-1].name == "vat-invoice__stamps" and lists[-1].column("text").source == "stamps[].text"


# --- amounts, dates, raw companions --------------------------------------------------------------


def test_vat_invoice_amounts_are_decimals_and_dates_dates_with_raw_companions():
    header = header_table("vat-invoice")
    for name in ("total", "subtotal_amount", "subtotal_tax", "sum_amount", "sum_tax", "belong_discount_tax"):
        assert header.column(name).type == AMOUNT, name
        assert header.column(name).raw == f"{name}_raw"
        assert header.column(f"{name}_raw").type == "string"
    for name in ("issue_date", "belong_issue_date"):
        assert header.column(name).type == "date" and header.column(name).raw == f"{name}_raw"
    for name in ("total_in_words", "total_pages", "current_page", "number", "code", "check_code"):
        assert header.column(name).type == "string" and header.column(name).raw is None, name
    items = find_table("vat-invoice__item_list")
    assert (items.column("amount").type, items.column("tax").type) == (AMOUNT, AMOUNT)
    assert items.column("unit_price").type == UNIT_PRICE == "decimal(18,8)"
    assert items.column("quantity").type == items.column("tax_rate").type == "string"
    assert items.column("start_date").type == "date"


def _typed(kind: str):
    return sorted(
        (t.api, c.source)
        for api in LIVE_APIS
        for t in api_tables(api.slug)
        for c in t.columns
        if c.parse == kind
    )


def test_amounts_come_from_names_and_the_explicit_list_only():
    amounts = _typed("amount")
    assert ("flight-itinerary", "insurance") in amounts and EXPLICIT_AMOUNTS <= set(amounts)
    for expected in [
        ("taxi-invoice", "total"),
        ("train-ticket", "ticket_price"),
        ("train-ticket", "amount_in_figures"),
        ("acceptance-bill", "amount_in_figures"),
        ("mvs-invoice", "tax_exclusive_price"),
        ("quota-invoice", "amount"),
        ("toll-invoice", "amount"),
        ("invoice-verification", "items[].amount"),
    ]:
        assert expected in amounts
    for not_amount in [
        ("train-ticket", "tax_rate"),
        ("train-ticket", "amount_in_words"),
        ("mvs-invoice", "total_chinese"),
        ("mvs-invoice", "tax_authority"),
        ("vehicle-certificate", "total_weight"),
        ("real-estate-certificate", "total_floors"),
        ("business-license", "registered_capital"),
    ]:
        assert not_amount not in amounts
    assert len(amounts) == 45  # a rule that finds more or fewer shows here


def test_dates_come_from_names_and_descriptions_other_scripts_stay_text():
    dates = _typed("date")
    for expected in [
        ("id-card", "birth"),
        ("id-card", "valid_from"),
        ("id-card", "front.birth"),
        ("passport", "date_of_birth"),
        ("bankcard", "expiry_date"),
        ("flight-itinerary", "itinerary_list[].effective_date"),
        ("household-register", "content.birth_date"),
    ]:
        assert expected in dates
    for text in [
        ("thailand-id-card", "date_of_birth_th"),
        ("myanmar-driver-license", "birth"),
        ("myanmar-id-card", "translation_info.birth_translation"),
        ("taxi-invoice", "time"),
        ("exit-entry-permit", "valid_period"),
    ]:
        assert text not in dates
    assert is_date(Field("birth", "str", "Birth date in Thai.")) is False
    assert amount_scale("x", "unit_price", Field("unit_price", "str", "Unit price.")) == 8
    assert amount_scale("x", "kind", Field("total", "str", "Kind.", allowed=("a", "b"))) is None


# --- confidences ---------------------------------------------------------------------------------


def _confidences(table):
    return {c.name: c.source for c in table.columns if c.role == "confidence"}


def test_a_confidence_object_keyed_by_field_gives_each_text_field_its_column():
    conf = _confidences(header_table("vat-invoice"))
    assert conf["total_confidence"] == "confidence.total"
    assert conf["issue_date_confidence"] == "confidence.issue_date"
    assert "sales_mark_confidence" not in conf  # a flag, not recognised text
    assert _confidences(find_table("vat-invoice__item_list")) == {}  # its docs name no list


def test_a_confidence_whose_docs_name_an_object_or_a_list_covers_its_fields():
    household = _confidences(header_table("household-register"))
    assert household["content_name_confidence"] == "confidence.name"
    assert "type_confidence" not in household  # "each content field"
    flights = find_table("flight-itinerary__itinerary_list")
    assert _confidences(flights)["carrier_confidence"] == "confidence.itinerary_list[].carrier"
    assert _confidences(header_table("flight-itinerary"))["fare_confidence"] == "confidence.fare"


def test_a_structured_confidence_gives_one_column_per_member_mirrored_into_objects_and_lists():
    for slug in (
        "thailand-id-card",
        "myanmar-id-card",
        "chile-id-card",
        "exit-entry-permit",
        "pcr-test-record",
    ):
        member = next(f for f in RESPONSES[slug].fields if f.name == "confidence")
        sources = set(_confidences(header_table(slug)).values())
        for name, m in [(m.name, m) for m in member.fields]:
            if m.type == "float":
                assert f"confidence.{name}" in sources, (slug, name)
    exit_entry = _confidences(header_table("exit-entry-permit"))
    assert exit_entry["endorsement_info_hk_remark_confidence"] == "confidence.endorsement_info_hk.remark"
    qualification = find_table("transportation-qualification-certificate__qualification_category_list")
    assert (
        _confidences(qualification)["category_confidence"]
        == "confidence.qualification_category_list[].category"
    )


def test_every_confidence_column_scores_a_column_of_its_table():
    for api in LIVE_APIS:
        for table in api_tables(api.slug):
            for name in _confidences(table):
                assert name.removesuffix("_confidence") in table.names, (table.name, name)


def test_a_confidence_keyed_by_the_fields_of_a_free_object_stays_json():
    header = header_table("auto-classification")
    assert header.column("content").parse == header.column("confidence").parse == "json"
    assert _confidences(header) == {}


def test_plain_confidence_numbers_are_columns_as_they_are():
    assert find_table("general-text__words_block_list").column("confidence").type == "float64"
    assert header_table("auto-id-doc-classification").column("confidence").type == "float64"
    chars = find_table("general-text__words_block_list__char_list")
    assert chars.column("char_confidence").source == "words_block_list[].char_list[].char_confidence"


# --- names, keys, text -----------------------------------------------------------------------------


def test_nested_objects_flatten_with_underscores_and_lists_nest_their_names():
    web = header_table("web-image")
    assert web.column("extracted_data_contact_info_name").source == "extracted_data.contact_info.name"
    kv = find_table("bank-receipt__bank_receipt_list__kv_pair_list")
    assert kv.keys == ("source", "page", "bank_receipt_list_index", "item_index")
    assert kv.path == "bank_receipt_list[].kv_pair_list"
    chars = find_table("smart-document-recognizer__ocr_result_words_block_list__char_list")
    assert chars.keys == ("source", "page", "result_index", "ocr_result_words_block_list_index", "item_index")


def test_a_field_named_like_a_provenance_column_is_prefixed():
    verification = header_table("invoice-verification")
    assert verification.column("result_status").source == "status"
    assert verification.column("status").role == "provenance"
    assert header_table("driver-license").column("result_status").source == "status"


def test_images_files_and_geometry_are_left_out():
    names = {c.source for t in api_tables("id-card") for c in t.columns}
    assert not {"portrait_image", "adjusted_image", "portrait_location", "text_location"} & names
    assert "excel" not in header_table("general-table").names


def test_text_apis_get_the_page_text_and_its_mean_confidence():
    general = header_table("general-text")
    assert general.column("text").source == "words_block_list[].words"
    assert general.column("mean_confidence").source == "words_block_list[].confidence"
    assert "mean_confidence" not in header_table("bank-receipt").names  # its pairs have no confidence
    assert "text" not in header_table("vat-invoice").names


def test_find_table_and_unknown_names():
    assert find_table("vat-invoice__item_list").path == "item_list"
    with pytest.raises(KeyError):
        find_table("vat-invoice__nothing")
    with pytest.raises(KeyError):
        api_tables("no-such-api")
    with pytest.raises(ValueError, match="named twice"):
        dataclasses.replace(header_table("vin"), columns=header_table("vin").columns * 2)
    assert get_api("vin").slug == header_table("vin").api
