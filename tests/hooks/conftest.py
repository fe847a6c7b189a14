"""Fixtures of the hook tests: ``hook``, an OBS hook on the local object server."""

from tests.helpers.c_obs_keys import hook  # noqa: F401
