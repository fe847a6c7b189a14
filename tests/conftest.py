"""Shared fixtures: one emulator for the whole session, reset before each test.

Kept free of Airflow imports so that plain-Python tests stay fast.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator

# Sets AIRFLOW_HOME & co. before any test imports Airflow; provides the
# ocr_conn, airflow_db and image_server fixtures.
from tests.helpers.airflow_env import airflow_db, image_server, ocr_conn  # noqa: F401
from tests.helpers.batch_env import counted  # noqa: F401
from tests.helpers.constants import (
    AK,
    IAM_DOMAIN,
    IAM_PASSWORD,
    IAM_USER,
    PROJECT_ID,
    REGION,
    SECURITY_TOKEN,
    SK,
    TEMP_AK,
    TEMP_SK,
)
from tests.helpers.fast_env import fast_bucket, fast_conn, fast_server  # noqa: F401
from tests.helpers.obs_env import obs_bucket, obs_conn, obs_server  # noqa: F401


@pytest.fixture(scope="session")
def emulator_session() -> Iterator[OcrEmulator]:
    """The running emulator, shared by all tests (use ``emulator`` in tests)."""
    config = EmulatorConfig(
        credentials={AK: SK},
        temporary_credentials={TEMP_AK: (TEMP_SK, SECURITY_TOKEN)},
        project_id=PROJECT_ID,
        region=REGION,
        iam_users={(IAM_DOMAIN, IAM_USER): IAM_PASSWORD},
        fetch_timeout=5.0,
        # The shared emulator answers each API's documented example verbatim, so
        # tests can compare results exactly. A test that wants answers read from
        # the image sets ``emulator.config.results = "computed"`` (reset() puts
        # it back); tests/emulator/test_results.py covers computed answers.
        results="documented",
        # Batch tests check every call of a 1,000-image batch (with its retries).
        max_recorded_calls=20_000,
    )
    with OcrEmulator(config) as emulator:
        yield emulator


@pytest.fixture
def emulator(emulator_session: OcrEmulator) -> Iterator[OcrEmulator]:
    """The session's emulator with calls, counters and scripted failures cleared."""
    emulator_session.reset()
    yield emulator_session
