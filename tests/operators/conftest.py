"""Fixtures of the operator tests: an OBS hook on the local object server's connection."""

from __future__ import annotations

import pytest


@pytest.fixture
def obs(obs_conn):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    return HuaweiObsHook()
