"""One reproducible install (``scripts/dev.py``, ``scripts/lock.py``, ``constraints/``): every
requirement of ``pyproject.toml`` is pinned, within its range, in the constraints file of each Airflow
release CI tests; the README's commands install the newest; the floor is pyproject's floor."""

from __future__ import annotations

import importlib.util
import re
import sys

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.helpers.paths import REPO


def _dev():
    spec = importlib.util.spec_from_file_location("hwocr_dev_script", REPO / "scripts" / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DEV = _dev()
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
PYTHON = "3.11"  # what CI and the README's commands run


def _pins(path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"{path.name}: not a pin: {line!r}"
            pins[canonicalize_name(name)] = version
    return pins


def _requirements() -> list[Requirement]:
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    wanted = [*project["dependencies"], *extras["test"]]
    return [Requirement(r) for r in wanted if not r.startswith("airflow-provider-hwocr")]


def test_the_releases_ci_tests_have_constraints_for_python_311():
    floor = re.search(r'"apache-airflow>=([0-9.]+)"', (REPO / "pyproject.toml").read_text()).group(1)
    versions = DEV.locked_airflow_versions(PYTHON)
    assert versions[0] == "3.3.2"  # the newest tested release: what the README's commands install
    assert floor in versions  # the floor CI also tests
    assert "AIRFLOW_TOP" not in (REPO / ".ci" / "run").read_text()  # CI installs what the README does


@pytest.mark.parametrize("airflow", DEV.locked_airflow_versions(PYTHON))
def test_every_requirement_is_pinned_within_its_range(airflow):
    pins = _pins(DEV.constraints_file(airflow, PYTHON))
    assert pins["apache-airflow"] == airflow
    missing, outside = [], []
    for req in _requirements():
        name = canonicalize_name(req.name)
        if name not in pins:
            missing.append(req.name)
        elif req.specifier and not req.specifier.contains(pins[name], prereleases=True):
            outside.append(f"{req} (pinned {pins[name]})")
        for extra in req.extras:  # moto[s3,server] -> its extras' packages are pinned too
            assert name in pins, extra
    assert missing == [] and outside == [], "stale: run python3 scripts/lock.py " + airflow
    assert not pins["celery"].startswith("5.7"), "celery 5.7 breaks the Celery provider"
    # the tools the project itself installs with (pip) are pinned, so resolution is repeatable
    assert "pip" in pins and "setuptools" in pins


def test_the_plan_follows_the_environment(monkeypatch):
    monkeypatch.delenv("HWOCR_AIRFLOW", raising=False)
    monkeypatch.delenv("HWOCR_UNPINNED", raising=False)
    if DEV.PYTHON == PYTHON:
        airflow, constraints = DEV.plan()
        assert (airflow, constraints) == ("3.3.2", DEV.constraints_file("3.3.2"))
    monkeypatch.setenv("HWOCR_AIRFLOW", "9.9.9")
    with pytest.raises(SystemExit, match="scripts/lock.py 9.9.9"):
        DEV.plan()
    monkeypatch.setenv("HWOCR_UNPINNED", "1")
    assert DEV.plan() == ("9.9.9", None)
    assert DEV.locked_airflow_versions("2.7") == []  # no Python 2.7 constraints


def test_lock_writes_a_file_dev_reads(tmp_path, monkeypatch):
    """scripts/lock.py and scripts/dev.py agree on the file name and format (without resolving)."""
    spec = importlib.util.spec_from_file_location("hwocr_lock_script", REPO / "scripts" / "lock.py")
    lock = importlib.util.module_from_spec(spec)
    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    spec.loader.exec_module(lock)
    assert lock.constraints_file("3.3.2") == DEV.constraints_file("3.3.2")
    assert sys.modules["dev"].CONSTRAINTS == REPO / "constraints"


def test_building_the_package_prints_no_warning(tmp_path):
    """Regression: setuptools warned three times about ``project.license`` (a TOML table); the editable
    install dev.py makes warned about folders named like the package (pyproject.toml's explicit
    ``package-dir`` makes it a plain .pth file). The build backend is called directly, as pip calls
    it, with every warning shown, on a copy of the project (builds leave folders behind)."""
    import shutil
    import subprocess

    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(REPO / "airflow_provider_hwocr", src / "airflow_provider_hwocr")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    out.mkdir()
    code = (
        "import sys, warnings\n"
        "warnings.simplefilter('always')\n"
        "from setuptools import build_meta\n"
        "print('BUILT', build_meta.build_wheel(sys.argv[1]))\n"
        "print('BUILT', build_meta.build_editable(sys.argv[1]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(out)],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    output = done.stdout + done.stderr
    assert "Warning" not in output and "deprecated" not in output.lower(), output[-3000:]
    built = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("BUILT ")]
    assert len(built) == 2 and all(name.endswith(".whl") for name in built), built
    assert "editable" in built[1]
