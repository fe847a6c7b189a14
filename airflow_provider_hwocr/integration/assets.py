"""The results prefix as an Airflow Asset: an OCR task's outlet, and what its events carry."""

from __future__ import annotations

from typing import Any

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
