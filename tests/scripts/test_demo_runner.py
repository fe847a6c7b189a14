"""The demo's Airflow process (``scripts/demo.py --runner``): each command it is sent runs with
Airflow's own CLI code, and its output ends with a line saying how the command ended, so the demo
can read each DAG run's log apart and fail on a run that failed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.helpers.paths import REPO


def test_the_runner_ends_each_command_with_its_outcome(tmp_path):
    requests = [{"argv": ["version"]}, {"argv": ["no-such-command"]}, {"argv": ["version"]}]
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "demo.py"), "--runner"],
        input="".join(json.dumps(r) + "\n" for r in requests),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    ends = [
        json.loads(line.split(" ", 1)[1])
        for line in done.stdout.splitlines()
        if line.startswith("HWOCR_DEMO_RUN_END ")
    ]
    assert [end["state"] for end in ends] == ["success", "failed: 2", "success"]
    # each command's own output comes before its end line: the version, twice
    import airflow

    chunks = done.stdout.split("HWOCR_DEMO_RUN_END ")
    assert airflow.__version__ in chunks[0] and airflow.__version__ in chunks[2].split("\n", 1)[1]
