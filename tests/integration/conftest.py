"""Fixtures of the integration tests: ``obs`` (an OBS hook on the local object server) and
``producer_run`` (the example producer DAG run over three images)."""

from tests.helpers.batch_env import obs  # noqa: F401
from tests.helpers.c_integration import producer_run  # noqa: F401
