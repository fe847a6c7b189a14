#!/usr/bin/env python3
"""Bootstrap and run the project's jobs with nothing but Python 3.10+ and pip.

    python3 scripts/dev.py demo     # the main job: example DAG end to end on the local emulator
    python3 scripts/dev.py test     # the test suite
    python3 scripts/dev.py lint     # ruff check, ruff format --check, mypy

Creates ``.venv`` next to ``pyproject.toml`` on first use and installs the
package with its test extras; later runs reinstall only when
``pyproject.toml`` changed. Uses only the standard library.

Environment:
    HWOCR_VENV=/path/to/venv    use (or create) that virtualenv instead of ``.venv``
    HWOCR_AIRFLOW=3.1.8         install exactly that Airflow release (default: the
                                newest one pyproject.toml allows)
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("HWOCR_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".hwocr-installed"
AIRFLOW = os.environ.get("HWOCR_AIRFLOW", "").strip()


def _say(msg: str) -> None:
    print(f"[dev] {msg}", flush=True)


def ensure_env() -> None:
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + AIRFLOW.encode()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted and PY.exists():
        return
    if not PY.exists():
        _say(f"creating virtualenv {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    pin = [f"apache-airflow=={AIRFLOW}"] if AIRFLOW else []
    _say(f"installing airflow-provider-hwocr[test] {' '.join(pin)} (first run takes about a minute)")
    subprocess.run([str(PY), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([str(PY), "-m", "pip", "install", "-q", "-e", f"{ROOT}[test]", *pin], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "lint", "env"):
        print(__doc__)
        return 2
    ensure_env()
    job, rest = argv[0], argv[1:]
    if job == "env":
        return 0
    if job == "lint":
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
    if job == "demo":
        cmd = [str(PY), str(ROOT / "scripts" / "demo.py"), *rest]
    else:
        cmd = [str(PY), "-m", "pytest", "-q", *rest]
    return subprocess.call(cmd, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
