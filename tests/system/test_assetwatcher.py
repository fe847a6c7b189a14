"""Issue 11 system check: an upload to OBS starts the AssetWatcher example DAG under a real scheduler.

Runs ``scripts/run_assetwatcher_check.py`` (scheduler, triggerer, dag-processor and
api-server on 127.0.0.1, the emulator and the local object server; about two
minutes). Marker ``system``, like every test in ``tests/system``: ``python3 scripts/dev.py test -m system``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers.paths import REPO

SCRIPT = REPO / "scripts" / "run_assetwatcher_check.py"

pytestmark = pytest.mark.system


def test_upload_starts_the_assetwatcher_dag_with_a_real_scheduler():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--timeout", "480"],
        check=False,
        capture_output=True,
        text=True,
        timeout=560,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "CHECK PASSED" in proc.stdout
    assert "('ocr_on_upload', 'ocr', 0, 'receipt-1.png', 'success')" in proc.stdout
