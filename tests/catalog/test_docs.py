"""The operators table (``catalog/docs.py``): all 52 APIs with their state and regions."""

from __future__ import annotations

from airflow_provider_hwocr.catalog import APIS
from airflow_provider_hwocr.catalog.docs import (
    TABLE_BEGIN,
    TABLE_END,
    operators_block,
    operators_table,
)


def test_the_table_has_one_row_per_api_with_state_and_regions():
    rows = operators_table().splitlines()[2:]
    assert len(rows) == len(APIS) == 52
    by_slug = {row.split("|")[2].strip().strip("`"): row for row in rows}
    assert "retired 2025-12-31" in by_slug["custom-template"] and "— (refused)" in by_slug["custom-template"]
    assert "removed 2025-11-04" in by_slug["id-document"]
    assert "sales stopped 2025-07-14" in by_slug["invoice-verification"]
    assert (
        "mainland table: cn-east-3, cn-north-4; international table: ap-southeast-1"
        in by_slug["general-text"]
    )
    assert "neither endpoint table lists a region (warned, not refused)" in by_slug["hk-id-card"]
    assert (
        "`HuaweiOcrVatInvoiceOperator`" in by_slug["vat-invoice"]
        and "增值税发票识别" in by_slug["vat-invoice"]
    )
    assert operators_block().startswith(TABLE_BEGIN) and operators_block().endswith(TABLE_END)
