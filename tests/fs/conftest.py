"""Fixtures of the obs:// filesystem tests: ``obs``, an OBS hook on the local object server."""

from tests.helpers.batch_env import obs  # noqa: F401
