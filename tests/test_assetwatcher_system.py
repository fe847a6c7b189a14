"""Issue 11 system check: an upload to OBS starts the AssetWatcher example DAG under a real scheduler.

Runs ``scripts/run_assetwatcher_check.py`` (scheduler, triggerer, dag-processor and
api-server on 127.0.0.1, the emulator and the local object server; about two
minutes). Opt in with ``HWOCR_SYSTEM_TESTS=1``: it starts a whole Airflow.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "run_assetwatcher_check.py"


@pytest.mark.skipif(os.environ.get("HWOCR_SYSTEM_TESTS") != "1", reason="set HWOCR_SYSTEM_TESTS=1")
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
