"""Lineage: OpenLineage datasets for the operators and sensor, hook-level lineage for OBS I/O.

Everything here is cheap to import: the OpenLineage provider (an optional
extra, ``pip install "airflow-provider-hwocr[openlineage]"``) and Airflow's
lineage collector are imported inside the functions that use them.

Naming follows OpenLineage's object-store convention: an OBS object is the
dataset ``namespace="obs://{bucket}", name="{key}"``; a prefix (a batch's
source or output folder) is a dataset named by the prefix. An image URL is
``namespace="{scheme}://{host}", name="{path}"`` with any user info and query
string (credentials, signatures) dropped; a local file is ``namespace="file"``.

Lists are capped (:data:`MAX_DATASETS`): past the cap, the objects of one
bucket collapse into one dataset named by their common prefix, so a batch of
10,000 images yields an event of the same size as a batch of 100.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterable, Sequence
from importlib import import_module
from typing import Any
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
    return OperatorLineage(
        inputs=[Dataset(namespace=ns, name=name) for ns, name in inputs],
        outputs=[Dataset(namespace=ns, name=name) for ns, name in outputs],
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
