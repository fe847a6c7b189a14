#!/usr/bin/env python3
"""Real-scheduler check: an upload to OBS starts the AssetWatcher example DAG (issue 11).

Starts, all on 127.0.0.1 and in a throwaway AIRFLOW_HOME:

* the OCR emulator and moto's S3 server (the local object server);
* ``airflow dag-processor``, ``scheduler``, ``triggerer`` and ``api-server``
  (LocalExecutor, SQLite), with only ``example_dags/ocr_on_upload.py`` and
  ``example_dags/ocr_results_consumer.py`` in the DAGs folder.

Then waits for the trigger to write its first watermark, uploads one PNG
under ``incoming/``, and waits for ``ocr_on_upload`` (started by the asset
event) and ``ocr_results_consumer`` (started by the results asset the OCR
task emits) to succeed. Then restarts the triggerer (stopped by its pid,
started again), uploads a second PNG, and checks that it starts a second run
while the first object is not OCR'd again (the watermark lives in OBS; a
redelivered event would cost no call either: ``skip_existing``). Last, reads
the mapped OCR instance's extra links from the api-server's REST API. Prints
what it saw; exits 0 on success. Everything is bounded in time
(``--timeout``), and every process it started is stopped
by its pid (its own process group) at the end, whatever happened.

    python3 scripts/run_assetwatcher_check.py [--timeout 420] [--keep-home]

Run it with the project's virtualenv Python (``.venv/bin/python``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=420.0, help="seconds for the whole check")
    parser.add_argument("--keep-home", action="store_true", help="keep the AIRFLOW_HOME (logs) afterwards")
    args = parser.parse_args()
    started_at = time.time()

    def left() -> float:
        return max(5.0, args.timeout - (time.time() - started_at))

    home = Path(tempfile.mkdtemp(prefix="hwocr-assetwatcher-"))
    dags = home / "dags"
    logs = home / "process-logs"
    dags.mkdir()
    logs.mkdir()
    for name in ("ocr_on_upload.py", "ocr_results_consumer.py"):
        shutil.copy(ROOT / "example_dags" / name, dags / name)
    procs = Processes(logs)
    bin_dir = Path(sys.executable).parent
    airflow = [str(bin_dir / "airflow")]
    ok = False
    try:
        emu_port, obs_port, api_port = free_port(), free_port(), free_port()
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        procs.start(
            "emulator",
            [sys.executable, "-m", "airflow_provider_hwocr.emulator", "--host", "127.0.0.1",
             "--port", str(emu_port), "--ak", AK, "--sk", SK, "--project-id", PROJECT, "--region", REGION],
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
        env = {
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
            "AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT": json.dumps(conn),
            "HWOCR_EXAMPLE_BUCKET": BUCKET,
        }
        say("airflow db migrate")
        subprocess.run([*airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=left())
        procs.start(
            "api-server", [*airflow, "api-server", "--host", "127.0.0.1", "--port", str(api_port)], env
        )
        procs.start("dag-processor", [*airflow, "dag-processor"], env)
        procs.start("scheduler", [*airflow, "scheduler"], env)
        procs.start("triggerer", [*airflow, "triggerer"], env)

        def watermark_written():
            resp = client.listObjects(BUCKET, prefix=".hwocr-watermarks/")
            return [c.key for c in (resp.body.contents or [])] if resp.status < 300 else None

        keys = wait_for("the trigger's first watermark (trigger running)", watermark_written, left())
        say(f"trigger running in the triggerer: watermark {keys[0]}")

        data = png_bytes("TOTAL 42.00")
        assert client.putContent(BUCKET, "incoming/receipt-1.png", content=data).status < 300
        uploaded = time.time()
        say(f"uploaded obs://{BUCKET}/incoming/receipt-1.png ({len(data)} bytes)")

        db = home / "airflow.db"

        def runs(dag_id: str):
            with sqlite3.connect(db) as c:
                rows = c.execute(
                    "select run_id, state, run_type from dag_run where dag_id = ? order by id", (dag_id,)
                ).fetchall()
            return rows

        def succeeded(dag_id: str):
            rows = runs(dag_id)
            failed = [r for r in rows if r[1] == "failed"]
            if failed:
                raise RuntimeError(f"{dag_id} run failed: {failed}")
            return [r for r in rows if r[1] == "success"]

        first = wait_for("ocr_on_upload to succeed", lambda: succeeded("ocr_on_upload"), left())
        say(f"ocr_on_upload: {first} ({time.time() - uploaded:.1f}s after the upload)")
        consumer = wait_for(
            "ocr_results_consumer to succeed", lambda: succeeded("ocr_results_consumer"), left()
        )
        say(f"ocr_results_consumer: {consumer} ({time.time() - uploaded:.1f}s after the upload)")

        procs.stop("triggerer")
        procs.start("triggerer-2", [*airflow, "triggerer"], env)
        time.sleep(15)  # let the new triggerer pick the trigger up and list once
        assert (
            client.putContent(BUCKET, "incoming/receipt-2.png", content=png_bytes("TOTAL 7.00")).status < 300
        )
        second_upload = time.time()
        say(f"uploaded obs://{BUCKET}/incoming/receipt-2.png after the triggerer restart")
        both = wait_for(
            "a second ocr_on_upload run", lambda: len(succeeded("ocr_on_upload")) >= 2 or None, left()
        )
        say(
            f"ocr_on_upload runs: {runs('ocr_on_upload')} ({time.time() - second_upload:.1f}s after the upload)"
        )
        wait_for(
            "the consumer's second run", lambda: len(succeeded("ocr_results_consumer")) >= 2 or None, left()
        )
        del both

        with sqlite3.connect(db) as c:
            events = c.execute(
                "select a.uri, e.source_dag_id, e.extra from asset_event e join asset a on a.id = e.asset_id "
                "order by e.id"
            ).fetchall()
            tis = c.execute(
                "select dag_id, task_id, map_index, rendered_map_index, state from task_instance order by dag_id"
            ).fetchall()
        for uri, source, extra in events:
            say(f"asset event {uri} from {source or 'trigger'}: {extra}")
        for ti in tis:
            say(f"task instance {ti}")
        # The extra links of the mapped OCR instance, as the UI gets them from the api-server.
        run_id = runs("ocr_on_upload")[0][0]
        links_url = (
            f"http://127.0.0.1:{api_port}/api/v2/dags/ocr_on_upload/dagRuns/{urllib.parse.quote(run_id)}"
            "/taskInstances/ocr/links?map_index=0"
        )
        answer = json.loads(_get(links_url, token=_token(api_port)) or b"{}")
        links = answer.get("extra_links", answer)
        say(f"extra links of ocr_on_upload.ocr[0] from the api-server: {links}")
        links_ok = str(links.get("OBS result", "")).startswith("https://console-intl.huaweicloud.com/obs/")
        results = client.listObjects(BUCKET, prefix="ocr-results/")
        stored = sorted(c.key for c in (results.body.contents or []))
        say(f"stored results: {stored}")
        stats = json.loads(_get(f"{emulator_url}/_emulator/stats") or b"{}")
        say(f"emulator calls: {stats.get('calls', stats)}")
        calls = (stats.get("apis", {}).get("general-text", {}) or {}).get("total")
        ok = (
            sum(k.endswith(".general-text.json") for k in stored) == 2
            and sum(k.endswith(".text.json") for k in stored) == 2
            and calls == 2  # one OCR call per uploaded image, none repeated after the restart
            and links_ok
        )
        say(
            "CHECK PASSED"
            if ok
            else f"CHECK FAILED: stored {stored}, OCR calls {calls}, links ok {links_ok} (want 2, 2, True)"
        )
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
