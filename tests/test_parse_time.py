"""DAG parse time: importing the operators, the OBS sensor and the OBS trigger loads neither the
OBS SDK, the vendor SDKs, the hooks nor anything else heavy (each probed in a fresh interpreter)."""

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


def test_importing_the_operators_stays_cheap():
    probe = (
        "import sys\n"
        "import airflow.sdk\n"
        "from airflow.sdk import BaseOperator\n"
        "before = set(sys.modules)  # what a DAG file has loaded anyway (Airflow 3.1 loads requests)\n"
        "from airflow_provider_hwocr.operators.ocr import HuaweiOcrPassportOperator\n"
        "from airflow_provider_hwocr.operators import HuaweiOcrGeneralTableOperator\n"
        "heavy = [m for m in ('requests', 'obs', 'PIL', 'tesserocr', 'openpyxl',\n"
        "         'airflow_provider_hwocr.emulator', 'airflow_provider_hwocr.catalog.responses')\n"
        "         if m in sys.modules and m not in before]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


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


def _parse_bench():
    import importlib.util

    from tests.helpers.paths import REPO

    spec = importlib.util.spec_from_file_location("parse_import_bench", REPO / "bench" / "parse_import.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, REPO


def test_the_parse_bench_measures_the_tree_it_is_given(tmp_path):
    """``bench/parse_import.py --base-tree DIR`` imports the package from DIR, not from the checkout
    it is started in (a child interpreter puts its working directory first on ``sys.path``)."""
    import shutil

    bench, repo = _parse_bench()
    base = tmp_path / "base"
    shutil.copytree(repo / "airflow_provider_hwocr", base / "airflow_provider_hwocr")
    sdk, extra, construct, _heavy = bench.sample(bench.MODULES, base)  # raises if it measured another tree
    assert sdk > 0 and extra > 0 and construct > 0
    empty = tmp_path / "empty"
    empty.mkdir()
    try:
        bench.sample(bench.MODULES, empty)  # no package there: the installed one would be measured
    except RuntimeError as exc:
        assert "not the tree" in str(exc)
    else:
        raise AssertionError("the bench measured a package outside the tree it was given")
