"""Helpers of the OBS key sensor, trigger and matching tests: a hook on the local object server,
a task instance that records XCom pushes, and short ways to poke a sensor or await a trigger.
"""

from __future__ import annotations

import asyncio

import pytest


class RecordingTI:
    """Just enough of a task instance to receive XCom pushes."""

    def __init__(self) -> None:
        self.pushed: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.pushed[key] = value


def task_context() -> dict:
    return {"ti": RecordingTI(), "ds": "2026-11-20"}


@pytest.fixture
def hook(obs_conn):
    """A :class:`HuaweiObsHook` on the local object server (closed after the test)."""
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    hook = HuaweiObsHook(obs_conn)
    yield hook
    hook.close()


def make_sensor(**kwargs):
    """A :class:`HuaweiObsKeySensor` with short intervals (``task_id`` "wait")."""
    from airflow_provider_hwocr.sensors.obs import HuaweiObsKeySensor

    kwargs.setdefault("task_id", "wait")
    kwargs.setdefault("poke_interval", 0.05)
    kwargs.setdefault("timeout", 5)
    return HuaweiObsKeySensor(**kwargs)


def poke(sensor, context=None):
    """One ``poke``: (its result, what it pushed to XCom)."""
    context = context or task_context()
    result = sensor.poke(context)
    return result, context["ti"].pushed


async def first_event(trigger, limit: float = 10.0):
    """The first event of ``trigger.run()`` (within ``limit`` seconds); closes the generator."""
    events = trigger.run()
    try:
        return await asyncio.wait_for(events.__anext__(), limit)
    finally:
        await events.aclose()
