"""System check of the AssetWatcher example under a real scheduler and triggerer.

Runs ``scripts/run_assetwatcher_check.py`` (scheduler, triggerer, dag-processor and api-server on
127.0.0.1, the emulator and the local object server): a burst of 3 uploads within one poll is
OCR'd by the runs the asset events start, then ``HWOCR_ASSETWATCHER_TRIALS`` times (1 in CI, whose
time is short; each trial starts a new triggerer, about 35 s) the triggerer is SIGKILLed right after
the poll that reported 3 more uploads and a new one started; every image must end up OCR'd, each
with one OCR call. The script's default is 5 trials (``HWOCR_ASSETWATCHER_TRIALS=5`` here, about
five minutes); ``tests/triggers/test_obs_event.py`` drops the trigger right after a poll 5 times in
seconds. Marker ``system``, like every test in ``tests/system``: ``python3 scripts/dev.py test -m system``.
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
    trials = int(os.environ.get("HWOCR_ASSETWATCHER_TRIALS", "1"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--timeout", str(420 + 60 * trials), "--trials", str(trials)],
        check=False,
        capture_output=True,
        text=True,
        timeout=540 + 60 * trials,
        env=env,
    )
    out = proc.stdout
    assert proc.returncode == 0, out[-6000:] + proc.stderr[-2000:]
    assert "CHECK PASSED" in out
    assert "burst: 3 of 3 OCR'd" in out
    images = 3 + 3 * trials
    assert f"OCR calls: {images} for {images} images; results {images}, text exports {images}" in out
    kills = re.findall(r"trial \d+: killed right after the poll; its event (was|was NOT) in the DB", out)
    assert len(kills) >= trials  # (each also repeated in the summary)
    print(
        "\n".join(
            line for line in out.splitlines() if "burst:" in line or "trial" in line or "OCR calls" in line
        )
    )
    assert "('ocr_on_upload', 'ocr', -1, 1, 'success')" in out
