"""Every test in ``tests/system`` starts a real Airflow deployment: all carry the ``system`` marker.

The default run leaves them out (``-m 'not system'`` in pyproject.toml); the one switch that
runs them is ``python3 scripts/dev.py test -m system tests/system``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.system)
