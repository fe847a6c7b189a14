"""Arrow schemas of the tables (``runtime/tables/schema.py``): valid for every live API, the catalog's
columns and types exactly, pyarrow loaded only when a schema is asked for."""

from __future__ import annotations

import subprocess
import sys

import pyarrow as pa
import pytest

from airflow_provider_hwocr.catalog import LIVE_APIS
from airflow_provider_hwocr.catalog.responses import RESPONSES
from airflow_provider_hwocr.catalog.tables import TABLE_FORMAT, api_tables, find_table, header_table
from airflow_provider_hwocr.errors import HuaweiCloudNonRetryableError
from airflow_provider_hwocr.runtime.tables import schema
from airflow_provider_hwocr.runtime.tables.schema import (
    INSTALL_HINT,
    HuaweiOcrTablesExtraError,
    api_schemas,
    arrow_schema,
    arrow_type,
)
from tests.helpers.paths import REPO

ARROW = {
    "string": pa.string(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "decimal(18,2)": pa.decimal128(18, 2),
    "decimal(18,8)": pa.decimal128(18, 8),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


@pytest.mark.parametrize("slug", [api.slug for api in LIVE_APIS])
def test_every_live_api_has_a_valid_schema_per_table_matching_the_catalog(slug):
    schemas = api_schemas(slug)
    tables = api_tables(slug)
    assert list(schemas) == [t.name for t in tables]
    for table in tables:
        found = schemas[table.name]
        assert isinstance(found, pa.Schema)
        assert found.names == list(table.names)
        for column, field in zip(table.columns, found):
            assert field.type == ARROW[column.type], (table.name, column.name)
            assert field.nullable == column.nullable
            assert field.metadata[b"hwocr.role"] == column.role.encode()
        assert found.metadata[b"hwocr.table"] == table.name.encode()
        assert found.metadata[b"hwocr.format"] == TABLE_FORMAT.encode()
        # an empty table of the schema is a valid table
        assert pa.Table.from_pylist([], schema=found).schema.equals(found)


@pytest.mark.parametrize("slug", [api.slug for api in LIVE_APIS])
def test_every_scalar_field_of_the_response_model_is_in_the_arrow_schema(slug):
    """The schema follows the model: a documented scalar field is a column with its source path."""
    sources = {
        field.metadata.get(b"hwocr.source", b"").decode()
        for found in api_schemas(slug).values()
        for field in found
        if field.metadata[b"hwocr.role"] == b"field"
    }

    def walk(fields, path):
        for f in fields:
            here = f"{path}{f.name}"
            if f.type in ("str", "int", "float", "bool") and f.content is None:
                yield here
            elif f.fields and f.name != "confidence":
                yield from walk(f.fields, here + ("[]." if f.type == "list[object]" else "."))

    assert [p for p in walk(RESPONSES[slug].fields, "") if p not in sources] == []


def test_vat_invoice_amounts_dates_and_provenance_types():
    header = arrow_schema(header_table("vat-invoice"))
    assert header.field("total").type == pa.decimal128(18, 2)
    assert header.field("total_raw").type == pa.string()
    assert header.field("issue_date").type == pa.date32()
    assert header.field("processed_at").type == pa.timestamp("us", tz="UTC")
    assert header.field("source").nullable is False and header.field("total").nullable is True
    assert header.field("total").metadata == {
        b"hwocr.role": b"field",
        b"hwocr.source": b"total",
        b"hwocr.raw": b"total_raw",
    }
    items = arrow_schema(find_table("vat-invoice__item_list"))
    assert items.field("unit_price").type == pa.decimal128(18, 8)
    assert items.names[:3] == ["source", "page", "item_index"]


def test_an_unknown_logical_type_is_refused():
    with pytest.raises(ValueError, match="no Arrow type"):
        arrow_type("decimal")


def test_without_pyarrow_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # "import pyarrow" now raises ImportError
    with pytest.raises(HuaweiOcrTablesExtraError) as caught:
        arrow_schema(header_table("vat-invoice"))
    assert INSTALL_HINT in str(caught.value) and "[tables]" in INSTALL_HINT
    assert isinstance(caught.value, ImportError) and isinstance(caught.value, HuaweiCloudNonRetryableError)


def test_the_tables_modules_load_no_pyarrow_until_a_table_is_written():
    code = (
        "import sys\n"
        "import airflow_provider_hwocr.runtime.tables.rows, airflow_provider_hwocr.runtime.tables.write\n"
        "import airflow_provider_hwocr.runtime.tables.partitions, airflow_provider_hwocr.catalog.tables\n"
        "print(sorted(m for m in ('pyarrow', 'openpyxl', 'duckdb') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert schema.pyarrow() is pa
