"""How limits and regions read (``catalog/rendering.py``): one wording, shown alike by the operators'
docstrings, the operators table and the reference pages."""

from __future__ import annotations

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.catalog.codegen import operators_module
from airflow_provider_hwocr.catalog.docs import operators_table
from airflow_provider_hwocr.catalog.reference import api_facts, api_page
from airflow_provider_hwocr.catalog.rendering import (
    NO_REGION,
    limits_text,
    region_editions,
    regions_text,
    sides_text,
)


def test_regions_per_edition_and_in_one_line():
    id_card = get_api("id-card")
    editions = dict(region_editions(id_card))
    assert editions["mainland table"] == id_card.endpoints.cn
    (also,) = [e for e in editions if e.startswith("also (")]
    assert also.endswith("; warned, not refused)") and editions[also] == id_card.endpoints.other
    line = regions_text(id_card)
    assert line.startswith("mainland table: ") and f"{also}: " in line
    assert regions_text(get_api("hk-id-card")) == NO_REGION
    assert regions_text(get_api("vin"), lambda r: f"`{r}`") == "mainland table: `cn-north-4`"


def test_sides_and_limits():
    general_text = get_api("general-text")
    assert sides_text(general_text.limits) == "sides 15-30,000 px"
    assert sides_text(get_api("auto-classification").limits).startswith("short side >= 15 px, long side <=")
    text = limits_text(general_text, lambda name: f"`{name}`")
    assert text is not None
    assert text.size == "sides 15-30,000 px, at most 160,000,000 pixels"
    assert text.base64 == "Base64 text at most 10,485,760 bytes (10 MB)"
    assert text.page == "A PDF page is chosen with `pdf_page_number`"
    assert limits_text(get_api("invoice-verification")) is None


def test_the_three_generators_say_the_same():
    api = get_api("general-text")
    line = regions_text(api)
    row = next(r for r in operators_table().splitlines() if f"| `{api.slug}` |" in r)
    assert line in row
    docstring = " ".join(operators_module((api,)).split())  # unwrapped
    assert f"Regions: {line}." in docstring
    assert limits_text(api).size in docstring and limits_text(api).base64 in docstring
    page = api_page(api_facts(api))
    assert f"- Size: {limits_text(api).size}." in page and f"- {limits_text(api).base64};" in page
    assert "| Mainland table | `cn-east-3`, `cn-north-4` |" in page
