"""The per-API operators are generated from the catalog: fresh, thin, documented, strict about parameters=."""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys

import pytest

from airflow_provider_hwocr.catalog import APIS, get_api
from airflow_provider_hwocr.catalog.codegen import GENERATED_PATH, operators_module
from airflow_provider_hwocr.catalog.responses import response_model
from tests.helpers.paths import REPO

ROOT = REPO


def test_generated_module_is_fresh():
    on_disk = (ROOT / GENERATED_PATH).read_text(encoding="utf-8")
    assert on_disk == operators_module(), "stale: run python3 scripts/gen_operators.py"


def test_staleness_is_detected():
    """Changing one catalog fact changes the generated text (so the test above would fail)."""
    api = get_api("passport")
    changed = dataclasses.replace(api, summary=api.summary + " Changed.")
    others = tuple(a for a in APIS if a.slug != "passport")
    assert operators_module((*others, changed)) != operators_module((*others, api))


def test_a_new_catalog_entry_is_one_more_class():
    api = get_api("colombia-id-card")
    new = dataclasses.replace(
        api, slug="atlantis-id-card", title="Atlantis ID Card", operator_stem="AtlantisIdCard"
    )
    source = operators_module((*APIS, new))
    assert "class HuaweiOcrAtlantisIdCardOperator(HuaweiOcrOperator):" in source
    assert '"HuaweiOcrAtlantisIdCardOperator",' in source
    compile(source, "generated", "exec")


def test_every_class_is_reexported_from_ocr_and_the_package():
    from airflow_provider_hwocr import operators
    from airflow_provider_hwocr.operators import _generated, ocr

    for api in APIS:
        cls = getattr(_generated, api.operator_name)
        assert getattr(ocr, api.operator_name) is cls is getattr(operators, api.operator_name)
        assert issubclass(cls, ocr.HuaweiOcrOperator)
        assert api.operator_name in ocr.__all__ and api.operator_name in operators.__all__
    assert operators.HuaweiOcrOperator is ocr.HuaweiOcrOperator


def test_docstrings_show_defaults_allowed_values_and_the_docs_notes():
    from airflow_provider_hwocr.operators import ocr

    text = inspect.getdoc(ocr.HuaweiOcrGeneralTextOperator) or ""
    assert ":param language:" in text and "``auto``" in text and "Service default: ``zh``" in text
    assert "Service default: ``false``" in text
    assert "``result.markdown_result``: only with ``return_markdown_result=true``" in text
    peru = inspect.getdoc(ocr.HuaweiOcrPeruIdCardOperator) or ""
    for note in response_model("peru-id-card").field("birth_place").notes:
        assert " ".join(note.split()) in " ".join(peru.split())
    smart = " ".join((inspect.getdoc(ocr.HuaweiOcrSmartDocumentRecognizerOperator) or "").split())
    assert "Shape decision: result holds one item per page" in smart
    for api in APIS:
        doc = " ".join((inspect.getdoc(getattr(ocr, api.operator_name)) or "").split())
        assert api.summary in doc, api.slug
        for note in api.notes:
            assert " ".join(note.split()) in doc, (api.slug, note)
        if api.deprecation:
            assert api.deprecation in doc


@pytest.mark.parametrize("argument", ["parameters", "api"])
def test_generic_arguments_on_a_per_api_class_are_a_clear_error(argument):
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrPassportOperator

    value = {"country_code": "GENERAL"} if argument == "parameters" else "general-text"
    with pytest.raises(
        TypeError, match=rf"HuaweiOcrPassportOperator takes the API's parameters .* not {argument}="
    ):
        HuaweiOcrPassportOperator(task_id="t", image="/x.png", **{argument: value})


def test_base_arguments_pass_through_kwargs():
    """A HuaweiOcrOperator argument reaches the base class without being named in the generated code."""
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator

    sig = inspect.signature(HuaweiOcrGeneralTextOperator.__init__)
    assert "output_uri" not in sig.parameters and "kwargs" in sig.parameters
    op = HuaweiOcrGeneralTextOperator(
        task_id="t", image="/x.png", output_uri="obs://bucket/p/", language="zh"
    )
    assert (op.output_uri, op.parameters) == ("obs://bucket/p/", {"language": "zh"})


def test_importing_the_operators_stays_cheap():
    probe = (
        "import sys\n"
        "import airflow.sdk\n"
        "from airflow.sdk import BaseOperator\n"
        "before = set(sys.modules)  # what a DAG file has loaded anyway (Airflow 3.1 loads requests)\n"
        "from airflow_provider_hwocr.operators.ocr import HuaweiOcrPassportOperator\n"
        "from airflow_provider_hwocr.operators import HuaweiOcrGeneralTableOperator\n"
        "heavy = [m for m in ('requests', 'obs', 'PIL', 'tesserocr', 'openpyxl',\n"
        "         'airflow_provider_hwocr.emulator', 'airflow_provider_hwocr.catalog.responses')\n"
        "         if m in sys.modules and m not in before]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
