"""DAG parse time: the operator module must not import the OBS SDK or the vendor SDKs."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
before = set(sys.modules)
import airflow_provider_hwocr.operators.ocr  # noqa: F401
new = sorted(set(sys.modules) - before)
print(json.dumps(new))
"""


def _modules_loaded_by_import() -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_operator_module_imports_nothing_heavy():
    new = _modules_loaded_by_import()
    assert "airflow_provider_hwocr.operators.ocr" in new  # the probe really imported it
    heavy = [m for m in new if m == "obs" or m.startswith(("obs.", "huaweicloudsdk"))]
    assert heavy == []
    # the hook and HTTP stack load only when a task runs
    assert "airflow_provider_hwocr.hooks.ocr" not in new
    assert "airflow_provider_hwocr.client.client" not in new


OBS_PROBE = """
import json, sys
loaded = {}
for name in ("airflow_provider_hwocr.sensors.obs", "airflow_provider_hwocr.triggers.obs"):
    before = set(sys.modules)
    __import__(name)
    loaded[name] = sorted(set(sys.modules) - before)
print(json.dumps(loaded))
"""


def test_obs_sensor_and_trigger_modules_do_not_load_the_obs_sdk():
    out = subprocess.run([sys.executable, "-c", OBS_PROBE], check=True, capture_output=True, text=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    sensor, trigger = (
        loaded["airflow_provider_hwocr.sensors.obs"],
        loaded["airflow_provider_hwocr.triggers.obs"],
    )
    assert "airflow_provider_hwocr.sensors.obs" in sensor  # the probe really imported them
    assert "airflow_provider_hwocr.triggers.obs" in trigger
    for new in (sensor, trigger):
        assert [m for m in new if m == "obs" or m.startswith("obs.")] == []
    # the sensor leaves even the OBS hook for run time
    assert "airflow_provider_hwocr.hooks.obs" not in sensor
