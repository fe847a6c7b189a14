"""Where the text lives in each API's result (``catalog/text.py``): one layout per API, paths that
exist in the response model."""

from __future__ import annotations

import pytest

from airflow_provider_hwocr.catalog import APIS
from airflow_provider_hwocr.catalog.responses import response_model
from airflow_provider_hwocr.catalog.text import TEXT_LAYOUTS, text_layout


def test_every_api_has_exactly_one_layout():
    assert set(TEXT_LAYOUTS) == {a.slug for a in APIS}
    with pytest.raises(KeyError, match="no text layout"):
        text_layout("no-such-api")


@pytest.mark.parametrize("slug", sorted(TEXT_LAYOUTS))
def test_block_paths_lead_to_lists_the_model_documents(slug):
    layout = text_layout(slug)
    model = response_model(slug)
    assert layout.per_item == (model.kind == "list") or slug == "bank-receipt"
    for source in layout.sources:
        path = ".".join(step for step in source.path if step != "*")
        field = model.field(path)
        assert field.type == "list[object]", (slug, path)
        names = {f.name for f in field.fields}
        assert source.text in names, (slug, source.text)
        assert source.key is None or source.key in names
