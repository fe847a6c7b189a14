"""System check of the AssetWatcher example under a real scheduler and triggerer (issues 11, 19).

Runs ``scripts/run_assetwatcher_check.py`` (scheduler, triggerer, dag-processor and api-server on
127.0.0.1, the emulator and the local object server; about five minutes): a burst of 3 uploads
within one poll is OCR'd by the runs the asset events start, then 5 times the triggerer is
SIGKILLed right after the poll that reported 3 more uploads and a new one started; every image
must end up OCR'd, each with one OCR call. Marker ``system``, like every test in
``tests/system``: ``python3 scripts/dev.py test -m system``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.helpers.paths import REPO

SCRIPT = REPO / "scripts" / "run_assetwatcher_check.py"

pytestmark = pytest.mark.system


def test_bursts_and_killed_triggerers_lose_no_upload_with_a_real_scheduler():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--timeout", "600", "--trials", "5"],
        check=False,
        capture_output=True,
        text=True,
        timeout=720,
        env=env,
    )
    out = proc.stdout
    assert proc.returncode == 0, out[-6000:] + proc.stderr[-2000:]
    assert "CHECK PASSED" in out
    assert "burst: 3 of 3 OCR'd" in out
    assert "OCR calls: 18 for 18 images; results 18, text exports 18" in out
    kills = re.findall(r"trial \d: killed right after the poll; its event (was|was NOT) in the DB", out)
    assert len(kills) >= 5  # (each also repeated in the summary)
    assert "('ocr_on_upload', 'ocr', -1, 1, 'success')" in out
