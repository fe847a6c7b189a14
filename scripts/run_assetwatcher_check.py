#!/usr/bin/env python3
"""Real-scheduler check of the AssetWatcher example: bursts, kills of the triggerer, links.

Starts, all on 127.0.0.1 and in a throwaway AIRFLOW_HOME:

* the OCR emulator and moto's S3 server (the local object server);
* ``airflow dag-processor``, ``scheduler``, ``triggerer`` and ``api-server``
  (LocalExecutor, SQLite), with only ``example_dags/ocr_on_upload.py`` and
  ``example_dags/ocr_results_consumer.py`` in the DAGs folder.

Then:

1. **Burst.** Waits for the trigger's first watermark, uploads 3 PNGs under ``incoming/`` at
   once (within one poll), and waits until all 3 are OCR'd by runs the asset events started,
   and the results consumer ran (the trigger fires one event per poll: Airflow 3.3.2 put only the
   first of 3 events into the run, and the other 2 waited).
2. **Kills.** ``--trials`` times (default 5): uploads 3 more PNGs, waits until the triggerer
   logs the poll that reported them, SIGKILLs the triggerer right then (its process group),
   and starts a new one. The trigger writes its watermark only ``commit_delay`` after an
   event, so what the killed triggerer may not have persisted is reported again.
3. **Nothing lost, nothing paid twice.** Waits until every uploaded image has its result;
   checks one OCR call per image (repeated events cost no call: results are skipped) and
   reads the OCR task's extra links from the api-server's REST API.

Prints what it saw; exits 0 on success. Everything is bounded in time (``--timeout``), and
every process it started is stopped by its pid (its own process group) at the end, whatever
happened.

    python3 scripts/run_assetwatcher_check.py [--timeout 540] [--trials 5] [--keep-home]

Run it with the project's virtualenv Python (``.venv/bin/python``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AK, SK, PROJECT = "HWOCRCHECKAK0000001", "hwocr-check-secret-key-00000000001", "0" * 32
REGION = "ap-southeast-1"
BUCKET = "hwocr-watch-check"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Processes:
    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, cmd: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append((name, proc))
        say(f"started {name} (pid {proc.pid}): {' '.join(cmd[:4])}")
        return proc

    def stop(self, name: str) -> None:
        for i, (n, proc) in enumerate(self.started):
            if n == name and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(30)
                say(f"stopped {name} (pid {proc.pid}, exit {proc.returncode})")

    def kill(self, name: str) -> None:
        """SIGKILL a process and its group (no chance to flush, as when a machine dies)."""
        for n, proc in self.started:
            if n == name and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(30)
                say(f"killed {name} (pid {proc.pid}) with SIGKILL")

    def stop_all(self) -> None:
        for name, proc in reversed(self.started):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)  # its own group: it and its children only
                except ProcessLookupError:
                    continue
        deadline = time.time() + 20
        for name, proc in reversed(self.started):
            try:
                proc.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
            say(f"stopped {name} (pid {proc.pid}, exit {proc.returncode})")


def wait_for(what: str, check, timeout: float, interval: float = 2.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def png_bytes(text: str) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (360, 140), "white")
    ImageDraw.Draw(img).text((12, 50), text, fill="black")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


class Check:
    """What the phases share: the processes, the object-server client, paths and commands."""

    def __init__(self, args: argparse.Namespace, home: Path, procs: Processes) -> None:
        self.args, self.home, self.procs = args, home, procs
        self.started_at = time.time()
        self.db = home / "airflow.db"
        self.airflow = [str(Path(sys.executable).parent / "airflow")]
        self.env: dict[str, str] = {}
        self.client: object = None
        self.emulator_url = ""
        self.api_port = 0
        self.uploaded: list[str] = []
        self.triggerers = 0

    def left(self) -> float:
        return max(5.0, self.args.timeout - (time.time() - self.started_at))

    def runs(self, dag_id: str) -> list[tuple]:
        with sqlite3.connect(self.db) as c:
            return c.execute(
                "select run_id, state, run_type from dag_run where dag_id = ? order by id", (dag_id,)
            ).fetchall()

    def sql(self, query: str) -> list[tuple]:
        with sqlite3.connect(self.db) as c:
            return c.execute(query).fetchall()

    def results(self) -> list[str]:
        keys: list[str] = []
        marker = None
        while True:
            resp = self.client.listObjects(BUCKET, prefix="ocr-results/", marker=marker)  # type: ignore[attr-defined]
            contents = resp.body.contents or []
            keys += [c.key for c in contents]
            if not resp.body.is_truncated or not contents:
                return keys
            marker = contents[-1].key

    def upload(self, names: list[str]) -> None:
        for name in names:  # back to back: well within one 10 s poll
            key = f"incoming/{name}"
            assert self.client.putContent(BUCKET, key, content=png_bytes(name)).status < 300  # type: ignore[attr-defined]
            self.uploaded.append(key)
        say(f"uploaded {len(names)} PNGs: {', '.join(names)}")

    def start_triggerer(self) -> None:
        self.triggerers += 1
        self.procs.start(f"triggerer-{self.triggerers}", [*self.airflow, "triggerer"], self.env)

    def triggerer_log(self) -> str:
        path = self.procs.logs / f"triggerer-{self.triggerers}.log"
        return path.read_text("utf-8", "replace") if path.exists() else ""


def _start(check: Check, dags: Path) -> None:
    """The emulator, the object server and Airflow, up; the bucket created."""
    procs, home = check.procs, check.home
    bin_dir = Path(sys.executable).parent
    emu_port, obs_port, api_port = free_port(), free_port(), free_port()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    procs.start(
        "emulator",
        [sys.executable, "-m", "airflow_provider_hwocr.emulator", "--host", "127.0.0.1",
         "--port", str(emu_port), "--ak", AK, "--sk", SK, "--project-id", PROJECT],
        base_env,
    )  # fmt: skip
    procs.start(
        "object-server", [str(bin_dir / "moto_server"), "-H", "127.0.0.1", "-p", str(obs_port)], base_env
    )
    emulator_url, obs_url = f"http://127.0.0.1:{emu_port}", f"http://127.0.0.1:{obs_port}"
    wait_for("the emulator", lambda: _get(f"{emulator_url}/_emulator/health"), 60, 0.5)
    wait_for("the object server", lambda: _get(f"{obs_url}/"), 60, 0.5)

    from obs import ObsClient

    client = ObsClient(
        access_key_id=AK, secret_access_key=SK, server=obs_url, signature="v4", region="us-east-1",
        path_style=True, is_secure=False,
    )  # fmt: skip
    assert client.createBucket(BUCKET).status < 300
    conn = {
        "conn_type": "huaweicloud_ocr",
        "login": AK,
        "password": SK,
        "extra": {
            "region": REGION, "project_id": PROJECT, "endpoint": emulator_url, "iam_endpoint": emulator_url,
            "obs_endpoint": obs_url, "obs_path_style": True, "obs_signature": "v4", "verify": False,
        },
    }  # fmt: skip
    check.env = {
        **base_env,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API_AUTH__JWT_SECRET": "hwocr-assetwatcher-check-jwt-secret",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        # A killed triggerer's triggers move to a live one once its heartbeat is this old.
        "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "10",
        "AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT": json.dumps(conn),
        "HWOCR_EXAMPLE_BUCKET": BUCKET,
    }
    check.client, check.emulator_url, check.api_port = client, emulator_url, api_port
    say("airflow db migrate")
    subprocess.run(
        [*check.airflow, "db", "migrate"],
        env=check.env,
        check=True,
        capture_output=True,
        timeout=check.left(),
    )
    procs.start(
        "api-server",
        [*check.airflow, "api-server", "--host", "127.0.0.1", "--port", str(api_port)],
        check.env,
    )
    procs.start("dag-processor", [*check.airflow, "dag-processor"], check.env)
    procs.start("scheduler", [*check.airflow, "scheduler"], check.env)
    check.start_triggerer()


def _burst(check: Check) -> None:
    """3 uploads within one poll: all 3 OCR'd by runs the asset events started."""

    def watermark_written():
        resp = check.client.listObjects(BUCKET, prefix=".hwocr-watermarks/")  # type: ignore[attr-defined]
        return [c.key for c in (resp.body.contents or [])] if resp.status < 300 else None

    keys = wait_for("the trigger's first watermark (trigger running)", watermark_written, check.left())
    say(f"trigger running in the triggerer: watermark {keys[0]}")
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    check.upload([f"{stamp}-burst-{i}.png" for i in range(3)])
    uploaded = time.time()

    def all_three():
        failed = [r for r in check.runs("ocr_on_upload") if r[1] == "failed"]
        if failed:
            raise RuntimeError(f"ocr_on_upload run failed: {failed}")
        done = [k for k in check.results() if k.endswith(".general-text.json")]
        return done if len(done) >= 3 else None

    wait_for("the 3 burst uploads to be OCR'd", all_three, min(check.left(), 120))
    runs = check.runs("ocr_on_upload")
    say(f"burst: 3 of 3 OCR'd {time.time() - uploaded:.1f}s after the upload by runs {runs}")
    if any(r[2] != "asset_triggered" for r in runs):
        raise RuntimeError(f"runs not started by the asset events: {runs}")
    wait_for(
        "ocr_results_consumer to succeed",
        lambda: [r for r in check.runs("ocr_results_consumer") if r[1] == "success"],
        check.left(),
    )


def _kills(check: Check) -> list[str]:
    """Kill the triggerer right after each poll that reported new uploads; start a new one."""
    notes = []
    for trial in range(check.args.trials):
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        names = [f"{stamp}-kill{trial}-{i}.png" for i in range(3)]
        check.upload(names)
        # The triggerer logs each event it takes from the trigger ("Trigger fired event ...", with
        # the payload): kill it the moment the event naming these uploads shows up.
        wait_for(
            f"the poll that reports trial {trial}'s uploads",
            lambda key=names[0]: key in check.triggerer_log(),
            min(check.left(), 60),
            0.05,
        )
        check.procs.kill(f"triggerer-{check.triggerers}")
        rows = check.sql("select extra from asset_event where source_dag_id is null")
        persisted = any(names[0] in (extra or "") for (extra,) in rows)
        notes.append(
            f"trial {trial}: killed right after the poll; its event {'was' if persisted else 'was NOT'} in the DB"
        )
        say(notes[-1])
        check.start_triggerer()
        wait_for(
            "the new triggerer to take the trigger over",
            lambda: "starting" in check.triggerer_log(),
            min(check.left(), 90),
            0.2,
        )
        time.sleep(3)  # its first poll (which reports again what the killed one had not committed)
    return notes


def _verify(check: Check) -> bool:
    """Every upload OCR'd once; the extra links of the OCR task from the api-server."""
    names = {k.rsplit("/", 1)[-1] for k in check.uploaded}

    def all_done():
        failed = [r for r in check.runs("ocr_on_upload") if r[1] == "failed"]
        if failed:
            raise RuntimeError(f"ocr_on_upload run failed: {failed}")
        stored = [k.rsplit("/", 1)[-1] for k in check.results() if k.endswith(".general-text.json")]
        missing = [n for n in names if not any(s.startswith(n) for s in stored)]
        busy = [r for r in check.runs("ocr_on_upload") if r[1] in ("queued", "running")]
        return (stored, missing) if not missing and not busy else None

    stored, _ = wait_for(f"all {len(names)} uploads to be OCR'd", all_done, check.left())
    say(f"all {len(names)} uploads OCR'd; ocr_on_upload runs: {len(check.runs('ocr_on_upload'))}")
    for uri, source, extra in check.sql(
        "select a.uri, e.source_dag_id, e.extra from asset_event e join asset a on a.id = e.asset_id order by e.id"
    ):
        say(f"asset event {uri} from {source or 'trigger'}: {extra[:300]}")
    for ti in check.sql(
        "select dag_id, task_id, map_index, try_number, state from task_instance order by dag_id"
    ):
        say(f"task instance {ti}")
    run_id = check.runs("ocr_on_upload")[0][0]
    links_url = (
        f"http://127.0.0.1:{check.api_port}/api/v2/dags/ocr_on_upload/dagRuns/{urllib.parse.quote(run_id)}"
        "/taskInstances/ocr/links?map_index=-1"
    )
    answer = json.loads(_get(links_url, token=_token(check.api_port)) or b"{}")
    links = answer.get("extra_links", answer)
    say(f"extra links of ocr_on_upload.ocr from the api-server: {links}")
    # The connection's obs_endpoint is the local object server: the link is its URL of the results
    # (integration/links.py), never the public console.
    links_ok = re.match(rf"http://127\.0\.0\.1:\d+/{BUCKET}/", str(links.get("OBS result", ""))) is not None
    stats = json.loads(_get(f"{check.emulator_url}/_emulator/stats") or b"{}")
    calls = (stats.get("apis", {}).get("general-text", {}) or {}).get("total")
    texts = sum(k.endswith(".text.json") for k in check.results())
    say(f"OCR calls: {calls} for {len(names)} images; results {len(stored)}, text exports {texts}")
    ok = calls == len(names) == len(stored) == texts and links_ok
    if not ok:
        say(f"want one call, one result and one text export per image ({len(names)}), links ok: {links_ok}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=540.0, help="seconds for the whole check")
    parser.add_argument("--trials", type=int, default=5, help="kills of the triggerer right after a poll")
    parser.add_argument("--keep-home", action="store_true", help="keep the AIRFLOW_HOME (logs) afterwards")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="hwocr-assetwatcher-"))
    dags = home / "dags"
    logs = home / "process-logs"
    dags.mkdir()
    logs.mkdir()
    for name in ("ocr_on_upload.py", "ocr_results_consumer.py"):
        shutil.copy(ROOT / "example_dags" / name, dags / name)
    procs = Processes(logs)
    check = Check(args, home, procs)
    ok = False
    try:
        _start(check, dags)
        _burst(check)
        notes = _kills(check)
        ok = _verify(check)
        say(
            f"CHECK PASSED: burst of 3 OCR'd, {args.trials} kills x 3 uploads: 0 lost, one OCR call per image"
            if ok
            else "CHECK FAILED"
        )
        for note in notes:
            say(note)
        return 0 if ok else 1
    except Exception as exc:  # noqa: BLE001 - reported with the process logs, then everything is stopped
        say(f"CHECK FAILED: {type(exc).__name__}: {exc}")
        for log in sorted(logs.glob("*.log")):
            tail = log.read_bytes()[-1500:].decode("utf-8", "replace")
            print(f"--- {log.name} (tail) ---\n{tail}", flush=True)
        return 1
    finally:
        procs.stop_all()
        if args.keep_home or not ok:
            say(f"AIRFLOW_HOME kept at {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


def _get(url: str, token: str | None = None) -> bytes | None:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:  # loopback only
            return resp.read()
    except OSError:
        return None


def _token(api_port: int) -> str | None:
    """A JWT from the simple auth manager (every user is admin in this throwaway setup)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/auth/token", timeout=10) as resp:
            return json.loads(resp.read()).get("access_token")
    except (OSError, ValueError):
        return None


if __name__ == "__main__":
    sys.exit(main())
