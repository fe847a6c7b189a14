"""The quick start runs as written: the blocks of ``docs/quickstart.md`` marked
``<!-- quickstart:run -->``, in order, in one bash session, as a user pastes them.

The session starts in a copy of this checkout (its files as they are now, without ``.venv`` and
what git ignores: what a fresh clone holds), with ``python3`` a plain Python 3.11 and no
virtualenv or Airflow settings of ours, so the page's own commands create the virtualenv, install
from the copy with the constraints file (about a minute with pip's cache), migrate a throwaway
Airflow, start the emulator and the object server, test the connection, upload an image, write the
DAG, run it with ``airflow dags test`` and stop the servers. ``TMPDIR`` is this test's folder, so
the page's ``mktemp -d`` lands in it. The session runs in a process group of its own under a time
bound; whatever the page started and did not stop (by the pids it recorded, and the group) is
stopped here.

Marker ``system``, like every test in ``tests/system``:
``.venv/bin/python -m pytest -q -m system tests/system/test_quickstart.py``.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.paths import REPO
from tests.scripts.test_quickstart_page import PAGE, marked_blocks

pytestmark = pytest.mark.system

TIME_BOUND = 420  # seconds; about 2.5 minutes here with pip's cache


def _copy_checkout(dest: Path) -> None:
    """The checkout's files as a fresh clone has them: tracked and new, not ignored (no ``.venv``)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        src = REPO / rel
        if src.is_file():  # a file deleted in the working tree is listed but absent
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _environment(tmp: Path, bin_dir: Path) -> dict[str, str]:
    """The user's shell: no virtualenv, no Airflow settings, a plain ``python3``; temp files in ``tmp``."""
    ours = {str(REPO / ".venv" / "bin"), str(Path(sys.executable).parent)}
    path = [bin_dir, *(p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p not in ours)]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "HWOCR_", "PYTHON", "VIRTUAL_ENV", "PYTEST", "_AIRFLOW"))
    }
    # Only the page's constraints: a pip config's global constraint file is not what a user has.
    env.update(PATH=os.pathsep.join(map(str, path)), TMPDIR=str(tmp), PIP_CONSTRAINT="")
    return env


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead: nobody reaps the page's children but init
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def _recorded_pids(tmp: Path) -> dict[str, int]:
    pids = {}
    for path in tmp.rglob("*.pid"):
        if ".venv-quickstart" in path.parts:
            continue
        text = path.read_text().strip()
        if text.isdigit():
            pids[path.name] = int(text)
    return pids


def _stop(pid: int, group: bool) -> None:
    try:
        (os.killpg if group else os.kill)(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (group or _alive(pid)):
        if group:
            try:
                os.killpg(pid, 0)
            except (ProcessLookupError, PermissionError):
                return
        time.sleep(0.2)
    try:
        (os.killpg if group else os.kill)(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def test_the_quick_start_runs_as_written(tmp_path):
    blocks = marked_blocks(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) >= 8

    clone = tmp_path / "airflow-provider-hwocr"
    _copy_checkout(clone)
    # ``python3`` is the Python 3.11 this suite runs on (the base interpreter, not our virtualenv).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    (bin_dir / "python3").symlink_to(base)
    scratch = tmp_path / "tmp"
    scratch.mkdir()

    script = ["set -eo pipefail"]
    for n, block in enumerate(blocks, 1):
        script += [f'echo "==== quickstart block {n} ==== $(date +%s)"', block]
    script.append('echo "==== quickstart done ==== $(date +%s)"')
    (tmp_path / "quickstart.sh").write_text("\n".join(script))

    log = tmp_path / "quickstart.log"
    started = time.monotonic()
    code: int | None = None
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["bash", str(tmp_path / "quickstart.sh")],
            cwd=clone,
            env=_environment(scratch, bin_dir),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the servers it starts are in it
        )
        try:
            code = proc.wait(timeout=TIME_BOUND)
        except subprocess.TimeoutExpired:
            pass
        finally:
            elapsed = time.monotonic() - started
            pids = _recorded_pids(scratch)
            # The page's last block sent them SIGTERM: they are gone within seconds.
            deadline = time.monotonic() + (15 if code == 0 else 0)
            while any(map(_alive, pids.values())) and time.monotonic() < deadline:
                time.sleep(0.5)
            left_running = sorted(name for name, pid in pids.items() if _alive(pid))
            for pid in pids.values():
                _stop(pid, group=False)
            _stop(proc.pid, group=True)
            proc.wait(timeout=30)

    text = log.read_text(encoding="utf-8", errors="replace")
    stamps = [
        int(s) for s in re.findall(r"^==== quickstart (?:block \d+|done) ==== (\d+)$", text, re.MULTILINE)
    ]
    per_block = ", ".join(f"{n}: {b - a} s" for n, (a, b) in enumerate(itertools.pairwise(stamps), 1))
    print(f"quick start: {len(blocks)} blocks in {elapsed:.0f} s (bound {TIME_BOUND} s); {per_block}")
    assert code is not None, f"not done within {TIME_BOUND} s:\n{text[-8000:]}"
    assert code == 0, f"a block failed (exit {code}):\n{text[-8000:]}"
    assert "==== quickstart done ====" in text
    assert "Connection success!" in text, text[-8000:]
    assert "state=success" in text and "DagRun Finished: dag_id=quickstart_ocr" in text, text[-8000:]
    assert "OCR general-text succeeded" in text
    assert "TOTAL" in text  # the receipt's text, read back from the stored result
    # The page recorded the servers' pids and its last block stopped them.
    assert set(pids) == {"emulator.pid", "object-server.pid"}, pids
    assert left_running == [], f"the page left {left_running} running"
