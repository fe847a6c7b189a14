"""Shared by the runtime tests: a batch operator, its run, and the stages driven by hand.

``execute()`` builds the batch's settings and collaborators, then calls the stages in order; a
stage test builds the same ``BatchRun`` and calls them one at a time (see
``airflow_provider_hwocr/operators/batch.py``).
"""

from __future__ import annotations

import threading
from typing import Any

from airflow_provider_hwocr.runtime.batch import BatchRun, decide, guard, record, select, send
from tests.helpers.batch_env import PNG, SLUG

__all__ = [
    "PNG",
    "SLUG",
    "Ti",
    "batch_op",
    "full_run",
    "put_images",
    "run_in_thread",
    "start",
    "task_context",
    "through_send",
]


def batch_op(bucket: str, **kwargs: Any):
    """A ``HuaweiOcrBatchOperator`` on ``bucket``.

    Defaults: every object under ``day/``, results under ``ocr/``, no rate limit.
    """
    from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator

    settings: dict[str, Any] = {
        "task_id": "batch",
        "api": SLUG,
        "output_uri": f"obs://{bucket}/ocr/",
        "max_concurrency": 4,
        "qps": None,
        "progress_interval": 1.0,
    }
    if "images" not in kwargs and "source_uri" not in kwargs:
        settings["source_uri"] = f"obs://{bucket}/day/"
    settings.update(kwargs)
    return HuaweiOcrBatchOperator(**settings)


def start(
    bucket: str, *, run_id: str = "r1", context: Any = None, log: Any = None, **kwargs: Any
) -> BatchRun:
    """The ``BatchRun`` of a batch operator, built as ``execute()`` builds it (what every stage
    shares); ``context`` defaults to ``{"run_id": run_id}``, ``log`` to the task's."""
    from dataclasses import replace

    op = batch_op(bucket, **kwargs)
    parts = op._collaborators()
    if log is not None:
        parts = replace(parts, log=log)
    return BatchRun(op._settings(), {"run_id": run_id} if context is None else context, parts)


def through_send(run: BatchRun, *, release: bool = True):
    """Stages 1 to 3, with the lease as ``execute()`` takes it: (selection, plan, sent).

    The lease is released after the send stage unless ``release=False`` (``plan.lease`` is
    still held, so the record stage writes the index and removes old parts as its holder).
    """
    selection = select(run)
    plan = guard(run, selection, decide(run, selection))
    try:
        return selection, plan, send(run, plan)
    finally:
        if release and plan.lease is not None:
            plan.lease.release()


def full_run(bucket: str, **kwargs: Any):
    """Stages 1 to 4 (no failure policy), the lease released at the end: (run, plan, sent, report)."""
    run = start(bucket, **kwargs)
    _, plan, sent = through_send(run, release=False)
    try:
        return run, plan, sent, record(run, plan, sent)
    finally:
        if plan.lease is not None:
            plan.lease.release()


def put_images(obs: Any, bucket: str, keys: list[str], data: bytes = PNG) -> list[str]:
    """Upload ``data`` under each key (over HTTP, through the hook); returns their obs:// URIs."""
    for key in keys:
        obs.put_bytes(bucket, key, data)
    return [f"obs://{bucket}/{key}" for key in keys]


class Ti:
    """The task instance of a batch task in a context: what the batch reads of it, and its XComs."""

    def __init__(self, run_id: str, *, try_number: int = 1) -> None:
        self.dag_id, self.task_id, self.run_id = "backfill_invoices", "batch", run_id
        self.map_index, self.try_number = -1, try_number
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def task_context(run_id: str, *, try_number: int = 1, **extra: Any) -> dict[str, Any]:
    """A task's context for ``execute()``: its run id, its task instance and ``extra`` (``ds``...)."""
    return {"run_id": run_id, "ti": Ti(run_id, try_number=try_number), **extra}


def run_in_thread(
    bucket: str, run_id: str, out: dict[str, Any], *, context: dict[str, Any] | None = None, **settings: Any
) -> threading.Thread:
    """A batch on ``bucket`` run in a thread of its own: ``out[run_id]`` is its XCom, or what it raised.
    ``context`` defaults to :func:`task_context` of ``run_id`` (``try_number`` taken from ``settings``)."""
    if context is None:
        context = task_context(run_id, try_number=settings.pop("try_number", 1))

    def run() -> None:
        try:
            out[run_id] = batch_op(bucket, **settings).execute(context)
        except BaseException as exc:  # noqa: BLE001 - inspected by the test
            out[run_id] = exc

    thread = threading.Thread(target=run, name=f"run-{run_id}")
    thread.start()
    return thread
