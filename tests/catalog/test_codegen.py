"""The generator of the per-API operators: the generated module on disk is fresh, and a change
of the catalog changes the generated text (one more entry, one more class)."""

from __future__ import annotations

import dataclasses

from airflow_provider_hwocr.catalog import APIS, LIVE_APIS, get_api
from airflow_provider_hwocr.catalog.codegen import GENERATED_PATH, operators_module
from tests.helpers.paths import REPO
from tests.scripts.test_generate import GENERATE


def test_generated_module_is_fresh():
    on_disk = (REPO / GENERATED_PATH).read_text(encoding="utf-8")
    assert on_disk == operators_module(), "stale: run python3 scripts/generate.py"
    assert GENERATED_PATH not in GENERATE.stale(REPO), "stale: run python3 scripts/generate.py"
    assert "scripts/generate.py" in on_disk.split('"""')[1]  # its header names the one generator


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
    source = operators_module((*LIVE_APIS, new))
    assert "class HuaweiOcrAtlantisIdCardOperator(_Operator):" in source
    assert '"HuaweiOcrAtlantisIdCardOperator",' in source
    compile(source, "generated", "exec")


def test_only_the_live_apis_get_a_class():
    source = operators_module()
    assert source.count("(_Operator):") == len(LIVE_APIS) == 49
    for api in APIS:
        assert (f"class {api.operator_name}(_Operator):" in source) == api.live, api.slug


def test_an_api_without_image_gets_no_image_argument():
    source = operators_module((get_api("invoice-verification"),))
    assert "image: ImageArg" not in source and "takes no image" in source
    assert "code: str | None = None" in source and "No image: the parameters are the request." in source
