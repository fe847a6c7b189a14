"""The integration package is cheap at DAG parse time (``integration/__init__.py``): importing the
operators, sensor, event trigger and filesystem loads no SDK, s3fs or OpenLineage."""

from __future__ import annotations

import json

PARSE_PROBE = """
import json, sys
import airflow.sdk
before = set(sys.modules)
import airflow_provider_hwocr.operators.ocr, airflow_provider_hwocr.operators.batch
import airflow_provider_hwocr.sensors.obs, airflow_provider_hwocr.triggers.obs_event
import airflow_provider_hwocr.fs.obs, airflow_provider_hwocr.get_provider_info
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_new_integrations_import_nothing_heavy_at_parse_time():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", PARSE_PROBE], check=True, capture_output=True, text=True)
    new = json.loads(out.stdout.strip().splitlines()[-1])
    assert "airflow_provider_hwocr.integration.mixin" in new  # the probe really imported it
    heavy = [
        m
        for m in new
        if m.split(".")[0] in ("obs", "s3fs", "botocore", "aiobotocore", "openlineage", "requests")
        or m.startswith("airflow.providers.openlineage")
    ]
    assert heavy == []
