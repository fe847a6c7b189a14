"""Lineage: OpenLineage datasets for the operators and sensor, hook-level lineage for OBS I/O.

Everything here is cheap to import: the OpenLineage provider (an optional
extra, ``pip install "airflow-provider-hwocr[openlineage]"``) and Airflow's
lineage collector are imported inside the functions that use them.

Naming follows OpenLineage's object-store convention: an OBS object is the
dataset ``namespace="obs://{bucket}", name="{key}"``; a prefix (a batch's
source or output folder) is a dataset named by the prefix. An image URL is
``namespace="{scheme}://{host}", name="{path}"`` with any user info and query
string (credentials, signatures) dropped; a local file is ``namespace="file"``.

A batch with ``table_uri`` also outputs each table it wrote, named by the table's prefix
(``namespace="obs://{bucket}", name="tables/vat-invoice"``: the table, every day of it), with a
``SchemaDatasetFacet`` listing the table's columns and their types from the catalog (never from
the data: an empty day has them all) and, where the row count is known, an
``OutputStatisticsOutputDatasetFacet`` with the rows and files of this run's partition.

Lists are capped (:data:`MAX_DATASETS`): past the cap, the objects of one
bucket collapse into one dataset named by their common prefix, so a batch of
10,000 images yields an event of the same size as a batch of 100.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import Any, Protocol
from urllib.parse import urlsplit

from airflow_provider_hwocr.client.sources import image_kind

#: Most datasets listed on one side (inputs or outputs) before they collapse to prefixes.
MAX_DATASETS = 100

DatasetRef = tuple[str, str]  # (namespace, name)


def dataset_ref(item: Any) -> DatasetRef | None:
    """``(namespace, name)`` for one image or result location; ``None`` for bytes and unknowns."""
    kind = image_kind(item)
    if kind == "file":
        return ("file", os.path.abspath(os.fspath(item).strip()))
    if kind not in ("obs", "url"):
        return None
    text = str(item).strip()
    if kind == "obs":
        bucket, _, key = text[len("obs://") :].partition("/")
        return (f"obs://{bucket}", key) if bucket else None
    parts = urlsplit(text)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return (f"{parts.scheme.lower()}://{host}", parts.path.lstrip("/"))


def _common_prefix(names: Sequence[str]) -> str:
    prefix = os.path.commonprefix(list(names))
    return prefix[: prefix.rfind("/") + 1] if "/" in prefix else ""


def folder_of(name: str) -> str:
    """The folder part of an object name: ``a/b/c.json`` -> ``a/b/``; ``c.json`` -> ``""``."""
    return name[: name.rfind("/") + 1]


def dataset_refs(
    items: Iterable[Any], *, limit: int = MAX_DATASETS, prefixes: Iterable[Any] = ()
) -> list[DatasetRef]:
    """Deduplicated refs in first-seen order; past ``limit``, collapsed to the folders that hold them.

    Past ``limit``, an object under one of ``prefixes`` (``obs://bucket/prefix/``: a run's own
    results or source prefix) becomes that prefix, any other object its folder; when there are
    still more than ``limit`` folders, each namespace collapses into the common prefix of its
    folders. Collapsing never climbs above the folders that hold the objects while that fits,
    so the results of one day and that day's manifest stay two datasets of that day, not the
    parent of every day.
    """
    refs = _unique_refs(items)
    if len(refs) <= limit:
        return refs
    groups = _by_folder(refs, _folder_refs(prefixes))
    if len(groups) <= max(limit, 1):  # a folder holding one object stays that object
        return [(ns, names[0] if len(names) == 1 else folder) for (ns, folder), names in groups.items()]
    return _by_namespace(list(groups))


def _unique_refs(items: Iterable[Any]) -> list[DatasetRef]:
    """The refs of ``items``, each once, in first-seen order (bytes and unknowns left out)."""
    seen: dict[DatasetRef, None] = {}
    for item in items:
        ref = dataset_ref(item)
        if ref is not None:
            seen.setdefault(ref, None)
    return list(seen)


def _folder_refs(prefixes: Iterable[Any]) -> list[DatasetRef]:
    """The refs of the prefixes that name folders (``obs://bucket/prefix/``)."""
    refs = (dataset_ref(p) for p in prefixes)
    return [ref for ref in refs if ref is not None and ref[1].endswith("/")]


def _by_folder(refs: list[DatasetRef], known: list[DatasetRef]) -> dict[DatasetRef, list[str]]:
    """The names of ``refs`` by the deepest known prefix that holds each, else by its folder."""
    groups: dict[DatasetRef, list[str]] = {}
    for namespace, name in refs:
        under = [p for ns, p in known if ns == namespace and name.startswith(p)]
        groups.setdefault((namespace, max(under, key=len) if under else folder_of(name)), []).append(name)
    return groups


def _by_namespace(folders: list[DatasetRef]) -> list[DatasetRef]:
    """One ref per namespace: its one folder, or the common prefix of its folders."""
    by_namespace: dict[str, list[str]] = {}
    for namespace, name in folders:
        by_namespace.setdefault(namespace, []).append(name)
    return [
        (namespace, names[0] if len(names) == 1 else _common_prefix(names))
        for namespace, names in by_namespace.items()
    ]


# --- what each kind of task read and wrote ------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes, bytearray, memoryview, os.PathLike)):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    return []


def _prefix_uri(uri: Any) -> list[Any]:
    return [uri] if isinstance(uri, str) and uri.lower().startswith("obs://") else []


def operator_lineage_refs(task: Any) -> tuple[list[DatasetRef], list[DatasetRef]]:
    """Inputs and outputs of an OCR, batch or sensor task, from what it recorded or its arguments.

    ``execute`` records the exact objects in ``_lineage_inputs`` /
    ``_lineage_outputs`` (lists of URIs); without them (a task that failed
    early, or code that does not record), the task's rendered arguments are
    used: ``image``, or ``images`` / ``source_uri`` for a batch, and
    ``output_uri`` (plus ``manifest_uri``) as the output prefix; for the sensor,
    its ``bucket`` and ``key``.
    """
    inputs = getattr(task, "_lineage_inputs", None)
    outputs = getattr(task, "_lineage_outputs", None)
    if inputs is None:
        if hasattr(task, "images") or hasattr(task, "source_uri"):
            inputs = _as_list(getattr(task, "images", None)) or _prefix_uri(getattr(task, "source_uri", None))
        elif hasattr(task, "image"):
            inputs = _as_list(task.image)
        else:
            inputs = _sensor_inputs(task)
    if outputs is None:
        outputs = _prefix_uri(getattr(task, "output_uri", None)) + _prefix_uri(
            getattr(task, "manifest_uri", None)
        )
    input_prefixes = _prefix_uri(getattr(task, "_lineage_input_prefix", None))
    output_prefixes = _prefix_uri(getattr(task, "_lineage_output_prefix", None))
    return (
        dataset_refs(inputs, limit=MAX_DATASETS, prefixes=input_prefixes),
        dataset_refs(outputs, limit=MAX_DATASETS, prefixes=output_prefixes),
    )


def _sensor_inputs(task: Any) -> list[str]:
    keys = _as_list(getattr(task, "key", None))
    bucket = getattr(task, "bucket", None)
    out = []
    for key in keys:
        if not isinstance(key, str):
            continue
        if key.lower().startswith("obs://"):
            out.append(key)
        elif bucket:
            out.append(f"obs://{bucket}/{key}")
    return out


# --- results as tables ---------------------------------------------------------------------------


class _ColumnLike(Protocol):
    """A column of the catalog's tables (``catalog/tables.py`` ``Column``): what lineage reads."""

    @property
    def name(self) -> str: ...

    @property
    def type(self) -> str: ...

    @property
    def doc(self) -> str: ...


class _TableLike(Protocol):
    """A table of the catalog (``catalog/tables.py`` ``Table``)."""

    @property
    def name(self) -> str: ...

    @property
    def columns(self) -> Sequence[_ColumnLike]: ...


#: The user metadata in which the batch records a table file's row count.
ROWS_METADATA = "hwocr-table-rows"


@dataclass(frozen=True)
class TableOutput:
    """One table file a run wrote (or left as it was):
    ``obs://bucket/tables/vat-invoice/dt=2026-11-30/part-00000.parquet``.

    ``columns``: ``(name, logical type, description)`` of each column, from the catalog (never
    from the data: an empty day has them all); ``rows``: the file's row count, ``None`` if unknown.
    """

    uri: str
    rows: int | None = None
    columns: tuple[tuple[str, str, str], ...] = ()

    def __post_init__(self) -> None:
        parts = self.uri.rsplit("/", 3)
        if len(parts) != 4 or not parts[2].startswith("dt=") or not parts[0].startswith("obs://"):
            raise ValueError(f"not a table file (obs://.../<table>/dt=YYYY-MM-DD/<file>): {self.uri!r}")

    @property
    def table(self) -> str:
        """The table's name: ``vat-invoice``, ``vat-invoice__item_list``."""
        return self.uri.rsplit("/", 3)[1]

    @property
    def table_uri(self) -> str:
        """The table's prefix, every day of it: ``obs://bucket/tables/vat-invoice`` (the Asset)."""
        return self.uri.rsplit("/", 2)[0]

    @property
    def partition(self) -> str:
        """The Hive partition: ``dt=2026-11-30``."""
        return self.uri.rsplit("/", 2)[1]

    @property
    def day(self) -> str:
        """The partition's day: ``2026-11-30``."""
        return self.partition.partition("=")[2]

    @property
    def partition_uri(self) -> str:
        """The day's folder of the table: ``obs://bucket/tables/vat-invoice/dt=2026-11-30/``."""
        return self.uri.rsplit("/", 1)[0] + "/"


def table_outputs(
    uris: Iterable[str],
    tables: Iterable[_TableLike],
    *,
    head: Callable[[str, str], Any] | None = None,
) -> list[TableOutput]:
    """The table files ``uris`` (a batch's ``tables``) with their columns and row counts.

    ``tables``: the API's tables from the catalog (``api_tables(slug)``), for the columns;
    ``head``: ``(bucket, key) -> object info`` (the OBS hook's ``head``), for the row count the
    batch wrote into each file's metadata (:data:`ROWS_METADATA`); a file it cannot read has
    ``rows=None``.
    """
    columns = {t.name: tuple((c.name, c.type, c.doc) for c in t.columns) for t in tables}
    out = []
    for uri in uris:
        table = uri.rsplit("/", 3)[1] if uri.count("/") >= 3 else ""
        out.append(TableOutput(uri, _rows_of(uri, head), columns.get(table, ())))
    return out


def _rows_of(uri: str, head: Callable[[str, str], Any] | None) -> int | None:
    if head is None:
        return None
    bucket, _, key = uri[len("obs://") :].partition("/")
    try:
        info = head(bucket, key)
        return int((getattr(info, "metadata", None) or {})[ROWS_METADATA])
    except Exception:  # noqa: BLE001 - a missing count is not worth failing a finished batch
        return None


def record_tables(task: Any, tables: Iterable[TableOutput]) -> None:
    """Remember on the task the table files it wrote (read back by ``get_openlineage_facets_on_complete``)."""
    task._lineage_tables = list(tables)


def table_datasets(tables: Iterable[TableOutput]) -> list[Any]:
    """One OpenLineage output dataset per table (its prefix), with its schema and this run's rows.

    Several files of one table (shards) are one dataset; their rows add up (unknown if any is).
    """
    from openlineage.client.event_v2 import OutputDataset
    from openlineage.client.facet_v2 import output_statistics_output_dataset as stats
    from openlineage.client.facet_v2 import schema_dataset

    by_table: dict[str, list[TableOutput]] = {}
    for output in tables:
        by_table.setdefault(output.table_uri, []).append(output)
    datasets = []
    for table_uri, files in by_table.items():
        namespace, name = dataset_ref(table_uri) or ("obs://", table_uri)
        fields = [
            schema_dataset.SchemaDatasetFacetFields(
                name=column, type=kind, description=doc or None, ordinal_position=position
            )
            for position, (column, kind, doc) in enumerate(files[0].columns, start=1)
        ]
        facets: dict[str, Any] = (
            {"schema": schema_dataset.SchemaDatasetFacet(fields=fields)} if fields else {}
        )
        counts = [f.rows for f in files]
        output_facets: dict[str, Any] = {}
        if None not in counts:
            output_facets["outputStatistics"] = stats.OutputStatisticsOutputDatasetFacet(
                rowCount=sum(c for c in counts if c is not None), fileCount=len(files)
            )
        datasets.append(
            OutputDataset(namespace=namespace, name=name, facets=facets, outputFacets=output_facets)
        )
    return datasets


def record(
    task: Any,
    *,
    inputs: Iterable[Any] | None = None,
    outputs: Iterable[Any] | None = None,
    input_prefix: str | None = None,
    output_prefix: str | None = None,
) -> None:
    """Remember on the task what it read and wrote (read back by ``get_openlineage_facets_on_complete``).

    ``input_prefix`` / ``output_prefix`` are the run's own prefixes (``obs://bucket/day/``): what
    a long list collapses into.
    """
    if inputs is not None:
        task._lineage_inputs = [i for i in inputs if i is not None]
    if outputs is not None:
        task._lineage_outputs = [o for o in outputs if o is not None]
    task._lineage_input_prefix = input_prefix
    task._lineage_output_prefix = output_prefix


def openlineage_facets(task: Any) -> Any:
    """``OperatorLineage`` for the task; ``None`` when the OpenLineage provider is not installed."""
    try:
        from airflow.providers.openlineage.extractors import OperatorLineage
        from openlineage.client.event_v2 import Dataset
    except ImportError:
        return None
    inputs, outputs = operator_lineage_refs(task)
    tables = getattr(task, "_lineage_tables", None) or []
    return OperatorLineage(
        inputs=[Dataset(namespace=ns, name=name) for ns, name in inputs],
        outputs=[Dataset(namespace=ns, name=name) for ns, name in outputs] + table_datasets(tables),
    )


class OpenLineageMixin:
    """Adds ``get_openlineage_facets_on_complete`` (called by the OpenLineage listener, if installed)."""

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        return openlineage_facets(self)


# --- hook-level lineage -------------------------------------------------------------------------


def _collector() -> Any:
    for module in ("airflow.sdk.lineage", "airflow.lineage.hook"):  # Airflow 3.1+, then 3.0
        try:
            return import_module(module).get_hook_lineage_collector()
        except (ImportError, AttributeError):
            continue
    return None


#: Most distinct folders one hook reports per side; past it, the bucket alone. Airflow's
#: collector keeps at most ``[lineage] max_assets_per_collector`` (100) per task and warns
#: "Maximum number of asset outputs exceeded" when a task reaches it.
MAX_HOOK_FOLDERS = 20


def hook_read(hook: Any, bucket: str, key: str) -> None:
    """Tell Airflow's hook lineage collector that ``hook`` read from ``obs://bucket/{folder of key}``."""
    _hook_lineage(hook, "input", bucket, key)


def hook_wrote(hook: Any, bucket: str, key: str) -> None:
    """Tell Airflow's hook lineage collector that ``hook`` wrote to ``obs://bucket/{folder of key}``."""
    _hook_lineage(hook, "output", bucket, key)


#: The folders each hook has reported, per side (forgotten with the hook).
_REPORTED: weakref.WeakKeyDictionary[Any, dict[str, set[tuple[str, str]]]] = weakref.WeakKeyDictionary()
_REPORTED_LOCK = threading.Lock()


def _first_report(hook: Any, side: str, bucket: str, folder: str) -> str | None:
    """The folder to report for this hook and side (the bucket alone past the cap), or ``None``
    when it was reported already."""
    with _REPORTED_LOCK:
        sides = _REPORTED.get(hook)
        if sides is None:
            sides = _REPORTED[hook] = {"input": set(), "output": set()}
        seen = sides[side]
        if (bucket, folder) in seen:
            return None
        if len(seen) >= MAX_HOOK_FOLDERS:
            folder = ""
            if (bucket, folder) in seen:
                return None
        seen.add((bucket, folder))
        return folder


def _hook_lineage(hook: Any, side: str, bucket: str, key: str) -> None:
    """Report the object's folder, once per hook: a batch of 10,000 results is one asset, not 10,000.

    The collector counts each (asset, hook) pair once however often it is added, so it grows
    with the folders a task touches, not with its objects; and each hook reports at most
    :data:`MAX_HOOK_FOLDERS` folders per side before it names the bucket alone. The exact
    objects are the operators' OpenLineage datasets.
    """
    try:
        folder = _first_report(hook, side, bucket, folder_of(key))
        if folder is None:
            return
        collector = _collector()
        if collector is None:
            return
        add = collector.add_input_asset if side == "input" else collector.add_output_asset
        add(context=hook, scheme="obs", asset_kwargs={"bucket": bucket, "key": folder})
    except Exception:  # noqa: BLE001 - lineage must never fail a read or a write
        return


# --- the obs:// asset scheme (provider info "asset-uris") ---------------------------------------


def sanitize_uri(uri: Any) -> Any:
    """Check an ``obs://bucket/key`` asset URI (a ``SplitResult``): it must name a bucket."""
    if not uri.netloc:
        raise ValueError("an obs:// asset URI must name a bucket: obs://bucket/key")
    return uri


def create_asset(*, bucket: str, key: str = "", extra: dict[str, Any] | None = None) -> Any:
    """The Asset for an OBS object or prefix (used by the hook lineage collector)."""
    from airflow.sdk import Asset

    return Asset(uri=f"obs://{bucket}/{key.lstrip('/')}", extra=extra)


def convert_asset_to_openlineage(asset: Any, lineage_context: Any = None) -> Any:
    """An ``obs://`` Asset as an OpenLineage dataset (``obs://{bucket}``, key)."""
    from openlineage.client.event_v2 import Dataset

    namespace, name = dataset_ref(asset.uri) or ("obs://", "")
    return Dataset(namespace=namespace, name=name)
