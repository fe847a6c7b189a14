#!/usr/bin/env python3
"""Bootstrap and run the project's jobs with nothing but Python 3.11 and pip.

    python3 scripts/dev.py demo     # the main job: example DAGs end to end on the local emulator
    python3 scripts/dev.py test     # the test suite (CI runs this same command)
    python3 scripts/dev.py lint     # ruff check, ruff format --check, mypy
    python3 scripts/dev.py docs     # build the docs site with warnings as errors (into site/)
    python3 scripts/dev.py env      # only create or update the virtualenv

Creates ``.venv`` next to ``pyproject.toml`` on first use and installs the
package with its ``test`` extra and exactly the versions of the committed
constraints file ``constraints/airflow-X-pyM.N.txt`` (``pip -c``): the newest
Airflow release that has one for this Python, unless ``HWOCR_AIRFLOW`` names
another. CI installs with this same script, so a fresh clone, a developer's
machine and CI run the same Airflow and the same dependencies. Later runs
reinstall only when ``pyproject.toml``, the constraints file or the release
changed. ``python3 scripts/lock.py`` regenerates the constraints files. Uses
only the standard library.

Environment:
    HWOCR_VENV=/path/to/venv    use (or create) that virtualenv instead of ``.venv``
    HWOCR_AIRFLOW=3.1.2         install that Airflow release (its constraints file must exist)
    HWOCR_UNPINNED=1            no constraints file: let pip resolve (not what CI tests)
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints"
VENV = Path(os.environ.get("HWOCR_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".hwocr-installed"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
JOBS = ("demo", "test", "lint", "docs", "env")


def _say(msg: str) -> None:
    print(f"[dev] {msg}", flush=True)


def constraints_file(airflow: str, python: str = PYTHON) -> Path:
    return CONSTRAINTS / f"airflow-{airflow}-py{python}.txt"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def locked_airflow_versions(python: str = PYTHON) -> list[str]:
    """The Airflow releases with a constraints file for ``python``, newest first."""
    pattern = re.compile(rf"airflow-(\d+(?:\.\d+)*)-py{re.escape(python)}\.txt")
    found = [m.group(1) for p in CONSTRAINTS.glob("airflow-*.txt") if (m := pattern.fullmatch(p.name))]
    return sorted(found, key=_version_key, reverse=True)


def plan() -> tuple[str, Path | None]:
    """(the Airflow release to install, its constraints file or ``None`` when unpinned)."""
    unpinned = os.environ.get("HWOCR_UNPINNED", "").strip() not in ("", "0")
    airflow = os.environ.get("HWOCR_AIRFLOW", "").strip()
    if not airflow:
        locked = locked_airflow_versions()
        if not locked:
            if not unpinned:
                raise SystemExit(
                    f"[dev] no constraints file for Python {PYTHON} in {CONSTRAINTS.relative_to(ROOT)}/ "
                    "(CI and the README use Python 3.11). Run `python3 scripts/lock.py 3.3.2` with this "
                    "Python, or set HWOCR_UNPINNED=1 to let pip resolve."
                )
            return "", None
        airflow = locked[0]
    if unpinned:
        return airflow, None
    path = constraints_file(airflow)
    if not path.is_file():
        raise SystemExit(
            f"[dev] no {path.relative_to(ROOT)}: run `python3 scripts/lock.py {airflow}` "
            "(with this Python), or set HWOCR_UNPINNED=1 to let pip resolve."
        )
    return airflow, path


def ensure_env() -> None:
    airflow, constraints = plan()
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + airflow.encode())
    if constraints is not None:
        digest.update(constraints.read_bytes())
    wanted = digest.hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted and PY.exists():
        return
    if not PY.exists():
        _say(f"creating virtualenv {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    pin = ["-c", str(constraints)] if constraints is not None else []
    what = f"apache-airflow=={airflow}" if airflow else "apache-airflow (unpinned)"
    source = f"constraints {constraints.relative_to(ROOT)}" if constraints else "no constraints file"
    _say(f"installing airflow-provider-hwocr[test] with {what}, {source} (the first run takes a few minutes)")
    # Only our constraints: a pip config's global constraint file is not what CI has.
    env = {**os.environ, "PIP_CONSTRAINT": "", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    pip = [str(PY), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, *pin, "--upgrade", "pip", "setuptools", "wheel"], check=True, env=env)
    airflow_req = [f"apache-airflow=={airflow}"] if airflow else []
    # Editable: a .pth file with the project root (pyproject.toml's package-dir), no warning.
    editable = ["-e", f"{ROOT}[test]"]
    subprocess.run([*pip, *pin, *editable, *airflow_req], check=True, env=env)
    STAMP.write_text(wanted)


def _lint() -> int:
    checks = [
        [str(BIN / "ruff"), "check", "."],
        [str(BIN / "ruff"), "format", "--check", "."],
        [str(BIN / "mypy"), "airflow_provider_hwocr"],
    ]
    failed = 0
    for check in checks:
        _say(" ".join(Path(check[0]).name if i == 0 else a for i, a in enumerate(check)))
        failed |= subprocess.call(check, cwd=ROOT) != 0
    return int(failed)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in JOBS:
        print(__doc__)
        return 2
    ensure_env()
    job, rest = argv[0], argv[1:]
    if job == "env":
        return 0
    if job == "lint":
        return _lint()
    if job == "docs":
        cmd = [str(BIN / "mkdocs"), "build", "--strict", *rest]
    elif job == "demo":
        cmd = [str(PY), str(ROOT / "scripts" / "demo.py"), *rest]
    else:
        cmd = [str(PY), "-m", "pytest", "-q", *rest]
    return subprocess.call(cmd, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
