"""The results prefix and each results table as Airflow Assets: a task's outlets, and what their
events carry.

A batch with ``table_uri`` writes, per table of its API, the day's file
``<table_uri>/<table>/dt=YYYY-MM-DD/part-<shard>.<format>``; the table's Asset is its prefix,
every day of it (``obs://bucket/tables/vat-invoice``), and the event says which partition this
run wrote and how many rows it holds (:func:`annotate_table_events`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from airflow_provider_hwocr.integration.lineage import TableOutput

#: Most result URIs listed in an asset event's ``extra`` (a batch lists the first ones).
MAX_EVENT_RESULTS = 100


def result_asset(output_uri: str) -> Any:
    """The Asset for an ``output_uri`` prefix: ``Asset("obs://bucket/prefix/")``."""
    from airflow.sdk import Asset  # Airflow's asset classes load only where an asset is made

    uri = output_uri.strip()
    return Asset(uri=uri, name=uri)


def _fixed_prefix(output_uri: Any) -> bool:
    return (
        isinstance(output_uri, str)
        and bool(output_uri.strip())
        and "{{" not in output_uri
        and "{%" not in output_uri
    )


def with_result_outlet(outlets: Any, output_uri: Any) -> list[Any]:
    """``outlets`` plus the results prefix's Asset, once (a fixed ``output_uri`` only).

    Used by the operator's ``__init__`` and by ``.partial()``: a mapped task's outlets are
    the ones given to ``partial`` (that is what the scheduler records as the asset's producer),
    and the instance built from them at run time must not list the asset twice. A templated
    ``output_uri`` adds nothing here (the operator refuses it with ``emit_asset``).
    """
    if outlets is None:
        listed: list[Any] = []
    elif isinstance(outlets, (list, tuple)):
        listed = list(outlets)
    else:
        listed = [outlets]
    if not _fixed_prefix(output_uri):
        return listed
    asset = result_asset(str(output_uri))
    return listed if asset in listed else [*listed, asset]


def annotate_asset_event(context: Any, output_uri: str, results: list[str], api: Any) -> None:
    """Put the result URIs (the first :data:`MAX_EVENT_RESULTS`) and their count on the task's event."""
    events = context.get("outlet_events") if hasattr(context, "get") else None
    if events is None:
        return
    try:
        extra = events[result_asset(output_uri)].extra
    except (KeyError, AttributeError, TypeError):  # not an outlet of this task after all
        return
    extra["results"] = results[:MAX_EVENT_RESULTS]
    extra["result_count"] = len(results)
    extra["api"] = api


# --- results as tables: one Asset per table ----------------------------------------------------


def table_asset(table_uri: str) -> Any:
    """The Asset of one table, every day of it: ``Asset("obs://bucket/tables/vat-invoice")``."""
    from airflow.sdk import Asset

    uri = table_uri.strip().rstrip("/")
    return Asset(uri=uri, name=uri)


def table_prefix_uri(table_uri: str, table: str) -> str:
    """``obs://bucket/tables/`` and ``vat-invoice`` -> ``obs://bucket/tables/vat-invoice``."""
    return f"{table_uri.strip().rstrip('/')}/{table}"


def with_table_outlets(outlets: Any, table_uri: Any, tables: Iterable[str]) -> list[Any]:
    """``outlets`` plus the Asset of each of ``tables`` under ``table_uri``, once each (a fixed
    ``table_uri`` only: a templated one is known at run time only, too late for the scheduler)."""
    listed = _listed(outlets)
    if not _fixed_prefix(table_uri):
        return listed
    for table in tables:
        asset = table_asset(table_prefix_uri(str(table_uri), table))
        if asset not in listed:
            listed.append(asset)
    return listed


def _listed(outlets: Any) -> list[Any]:
    if outlets is None:
        return []
    return list(outlets) if isinstance(outlets, (list, tuple)) else [outlets]


def annotate_table_events(context: Any, tables: Sequence[TableOutput], api: Any = None) -> None:
    """Put each table's partition, day, row count and files on its Asset's event.

    Airflow records the event of an Asset the task declares as an outlet
    (:func:`with_table_outlets`) and drops the others. Several files of one table (shards of
    one task: not a batch's case, which writes one per table) add up.
    """
    events = context.get("outlet_events") if hasattr(context, "get") else None
    if events is None:
        return
    by_table: dict[str, list[TableOutput]] = {}
    for output in tables:
        by_table.setdefault(output.table_uri, []).append(output)
    for table_uri, files in by_table.items():
        try:
            extra = events[table_asset(table_uri)].extra
        except (KeyError, AttributeError, TypeError):
            continue
        counts = [f.rows for f in files]
        extra["table"] = files[0].table
        extra["partition"] = files[0].partition
        extra["day"] = files[0].day
        extra["rows"] = None if None in counts else sum(c for c in counts if c is not None)
        extra["files"] = [f.uri for f in files]
        if api is not None:
            extra["api"] = api
