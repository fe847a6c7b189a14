"""Shared by the tests: fixtures' machinery, fake credentials, small images, local servers.

Imported as ``tests.helpers.<module>``. ``airflow_env`` must be imported before anything
imports Airflow (``tests/conftest.py`` does so first).
"""
