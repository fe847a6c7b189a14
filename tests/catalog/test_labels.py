"""The printed Chinese labels (``catalog/labels.py``) name documented fields, one label each."""

from __future__ import annotations

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.catalog.labels import LABELS, VAT_TYPES, field_label
from airflow_provider_hwocr.catalog.response_data import RESPONSES
from airflow_provider_hwocr.emulator import mainland


def test_every_label_names_a_documented_field_of_a_mainland_api():
    for slug, labels in LABELS.items():
        assert get_api(slug).category == "mainland", slug
        documented = {f.name for f in RESPONSES[slug].fields}
        assert set(labels.values()) <= documented, slug
        assert all("\u4e00" <= label[0] <= "\u9fff" for label in labels), slug


def test_a_field_is_named_by_its_own_label():
    assert field_label("vat-invoice", "total") == "价税合计"  # not 价税合计（大写）, which is total_in_words
    assert field_label("vat-invoice", "total_in_words") == "价税合计（大写）"
    assert field_label("vat-invoice", "item_list") is None and field_label("passport", "number") is None
    for slug, labels in LABELS.items():
        for label, name in labels.items():
            assert labels[field_label(slug, name) or ""] == name, (slug, label)


def test_the_emulator_reads_the_catalogs_labels():
    """One source: the emulator's labels are the catalog's objects, not a copy."""
    assert mainland.LABELS is LABELS and mainland.VAT_TYPES is VAT_TYPES
