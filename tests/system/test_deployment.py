"""System test: the example DAGs on a real Airflow deployment, not ``dag.test()``.

Starts, each as its own process (group) on 127.0.0.1, in a throwaway
AIRFLOW_HOME with SQLite and the stock LocalExecutor:

* ``hwocr-emulator`` (OCR) and ``hwocr-object-server`` (OBS, moto server mode);
* ``airflow dag-processor``, ``airflow scheduler``, ``airflow triggerer``,
  ``airflow api-server``.

and observes, through the REST API, the CLI and the emulator's stats:

* ``ocr_new_uploads``: its sensor in state ``deferred`` (in the triggerer),
  resuming after an upload; the mapped OCR tasks; results in OBS;
* ``airflow backfill create`` over 3 days of ``ocr_daily_backfill`` lands
  results and manifests; the same backfill with ``--reprocess-behavior
  completed`` makes 0 OCR calls;
* every example DAG triggered through the REST API with no logical date succeeds;
* two runs of ``ocr_daily_backfill`` for the same day: one sends, the other defers in the
  triggerer on its lease, resumes, calls nothing; each image is paid once;
* no task log says "Skipping masking for a secret as it's too short", none
  holds the SK.

Not part of the default run (marker ``system``): ``python3 scripts/dev.py test -m system``.
Bounded: every wait has a deadline inside one overall budget
(``HWOCR_SYSTEM_TEST_TIMEOUT``, default 900 s); everything started is stopped
by process group, also when a test fails or the run is interrupted.
"""

from __future__ import annotations

import atexit
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
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.helpers.constants import AK, PROJECT_ID, REGION, SK
from tests.helpers.images import png
from tests.helpers.paths import REPO

pytestmark = pytest.mark.system

EXAMPLES = REPO / "example_dags"
BIN = Path(sys.executable).parent
BUCKET = "hwocr-demo"  # the example DAGs' default bucket: their defaults work as shipped
BUDGET = float(os.environ.get("HWOCR_SYSTEM_TEST_TIMEOUT", "900"))
DAG_IDS = (
    "hwocr_general_text",
    "hwocr_id_documents",
    "ocr_classify_and_route",
    "ocr_daily_backfill",
    "ocr_new_uploads",
    "ocr_retry_policy",
)
TERMINAL = {"success", "failed"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Deployment:
    """The processes of one deployment, their logs, and helpers to talk to them."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.deadline = time.monotonic() + BUDGET
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.api = ""
        self.emulator = ""
        self.obs = ""
        self.env: dict[str, str] = {}
        self.session = requests.Session()

    # --- processes ----------------------------------------------------------------

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.home / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            argv,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.home,
            start_new_session=True,  # own process group: stopped as a whole, workers included
        )
        log.close()
        self.procs[name] = proc
        return proc

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        end = time.monotonic() + 20
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in self.procs.values():
            try:  # the group may outlive its leader (task processes): kill what is left
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if proc.poll() is None:
                proc.wait(timeout=10)
        self.session.close()

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.home / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def first_line_with(self, name: str, marker: str, timeout: float = 60) -> str:
        end = min(self.deadline, time.monotonic() + timeout)
        path = self.home / f"{name}.log"
        while time.monotonic() < end:
            if path.exists():
                for line in path.read_text(errors="replace").splitlines():
                    if marker in line:
                        return line
            if self.procs[name].poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"{name} did not print {marker!r}:\n{self.log_tail(name)}")

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")

    def wait(self, what: str, fn: Any, timeout: float, interval: float = 1.0) -> Any:
        """Call ``fn`` until it returns something truthy; fail after ``timeout`` (or the budget)."""
        end = min(self.deadline, time.monotonic() + timeout)
        last: Any = None
        while True:
            self.check_alive()
            try:
                last = fn()
            except requests.RequestException as exc:
                last = exc
            else:
                if last:
                    return last
            if time.monotonic() >= end:
                raise AssertionError(f"timed out waiting for {what}; last: {last!r}")
            time.sleep(interval)

    def airflow(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "airflow"), *args],
            check=False,
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=min(timeout, max(1.0, self.deadline - time.monotonic())),
        )

    # --- REST API -----------------------------------------------------------------

    def get(self, path: str, **params: Any) -> Any:
        resp = self.session.get(f"{self.api}/api/v2{path}", params=params, timeout=30)
        resp.raise_for_status()
        return resp.json()

    def send(self, method: str, path: str, body: Any) -> Any:
        resp = self.session.request(method, f"{self.api}/api/v2{path}", json=body, timeout=30)
        assert resp.status_code < 300, (method, path, resp.status_code, resp.text)
        return resp.json()

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.get(f"/dags/{dag_id}/dagRuns", limit=100)["dag_runs"])

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.get(f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}"))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances"
        return list(self.get(path, limit=100)["task_instances"])

    def wait_run_done(self, dag_id: str, run_id: str, timeout: float = 240) -> dict[str, Any]:
        run = self.wait(
            f"{dag_id} {run_id} to finish",
            lambda: (r := self.run(dag_id, run_id))["state"] in TERMINAL and r,
            timeout,
        )
        if run["state"] != "success":
            raise AssertionError(f"{dag_id} {run_id}: {run['state']}\n{self.failure_report(dag_id, run_id)}")
        return run

    def failure_report(self, dag_id: str, run_id: str) -> str:
        states = [(t["task_id"], t["map_index"], t["state"]) for t in self.task_instances(dag_id, run_id)]
        logs = []
        for path in sorted((self.home / "logs").rglob("*.log")):
            if f"dag_id={dag_id}" in str(path) and quote(run_id, safe="") in quote(str(path), safe="/="):
                logs.append(
                    f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-25:])
                )
        return f"task states: {states}\n" + "\n".join(logs[-4:])

    # --- emulator and object server -----------------------------------------------

    def ocr_calls(self, api: str | None = None) -> int:
        stats = requests.get(f"{self.emulator}/_emulator/stats", timeout=10).json()
        if api is None:
            return int(stats["total"])
        return int(stats.get("apis", {}).get(api, {}).get("total", 0))

    def obs_client(self) -> Any:
        from obs import ObsClient

        return ObsClient(
            access_key_id=AK,
            secret_access_key=SK,
            server=self.obs,
            signature="v2",
            path_style=True,
            is_secure=False,
            max_retry_count=0,
        )

    def upload(self, keys: list[str]) -> None:
        from airflow_provider_hwocr.emulator.samples import all_samples

        client = self.obs_client()
        try:
            for key in keys:
                body = png((320, 140), key.rsplit("/", 1)[-1])
                if key.startswith("inbox/"):  # routed by what the emulator reads: a real invoice
                    body = all_samples()["invoice"].png
                resp = client.putContent(BUCKET, key, body)
                assert resp.status < 300, (key, resp.status, resp.errorMessage)
        finally:
            client.close()

    def keys(self, prefix: str) -> list[str]:
        client = self.obs_client()
        try:
            resp = client.listObjects(BUCKET, prefix=prefix, max_keys=1000)
            assert resp.status < 300, (prefix, resp.status, resp.errorMessage)
            return sorted(c.key for c in resp.body.contents)
        finally:
            client.close()


def _airflow_env(home: Path, api_port: int, conn: dict[str, Any]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "HWOCR_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLES),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            # SQLite: wait up to 60 s for a lock instead of 5 (four processes and the CLI write)
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db?timeout=60",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
            # every process signs and checks task tokens with the same key
            "AIRFLOW__API_AUTH__JWT_SECRET": "hwocr-system-test-jwt-secret-not-a-real-one",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT": json.dumps(conn),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    home = Path(tempfile.mkdtemp(prefix="hwocr-system-"))
    dep = Deployment(home)
    atexit.register(dep.stop_all)  # also on an interrupted run; stop_all is idempotent
    try:
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        dep.start(
            "emulator",
            [
                str(BIN / "hwocr-emulator"),
                # every live API, whatever the region (the examples use several): no --region
                *("--ak", AK, "--sk", SK, "--project-id", PROJECT_ID),
            ],
            base_env,
        )
        dep.start("object-server", [str(BIN / "hwocr-object-server"), "--bucket", BUCKET], base_env)
        dep.emulator = dep.first_line_with("emulator", "listening on").rsplit(" ", 1)[-1]
        dep.obs = dep.first_line_with("object-server", "listening on").rsplit(" ", 1)[-1]
        conn = {
            "conn_type": "huaweicloud_ocr",
            "login": AK,
            "password": SK,
            "extra": {
                "region": REGION,
                "project_id": PROJECT_ID,
                "endpoint": dep.emulator,
                "iam_endpoint": dep.emulator,
                "obs_endpoint": dep.obs,
                "obs_path_style": True,
                "obs_signature": "sigv2",
                "verify": False,
                "max_retries": 2,
            },
        }
        api_port = _free_port()
        dep.api = f"http://127.0.0.1:{api_port}"
        dep.env = _airflow_env(home, api_port, conn)
        migrated = dep.airflow("db", "migrate", timeout=180)
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        # write-ahead logging (a property of the database file): readers no longer block the writer
        with sqlite3.connect(home / "airflow.db") as db:
            assert db.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
        airflow = str(BIN / "airflow")
        dep.start(
            "api-server", [airflow, "api-server", "--host", "127.0.0.1", "--port", str(api_port)], dep.env
        )
        dep.start("dag-processor", [airflow, "dag-processor"], dep.env)
        dep.start("scheduler", [airflow, "scheduler"], dep.env)
        dep.start("triggerer", [airflow, "triggerer"], dep.env)
        dep.wait("the API server", lambda: dep.get("/monitor/health"), timeout=120)
        # simple auth manager, all admins: a token without credentials (3.1 needs it on every
        # request; 3.2+ would also add one by itself)
        token = dep.session.get(f"{dep.api}/auth/token", timeout=30)
        token.raise_for_status()
        dep.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        dep.wait(
            "the example DAGs to be parsed",
            lambda: set(DAG_IDS) <= {d["dag_id"] for d in dep.get("/dags", limit=100)["dags"]},
            timeout=180,
        )
        errors = dep.get("/importErrors")
        assert errors["total_entries"] == 0, errors
        yield dep
    finally:
        dep.stop_all()
        if os.environ.get("HWOCR_KEEP_SYSTEM_HOME"):
            print(f"system test home kept: {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


def _day(d: datetime) -> str:
    return d.strftime("%Y-%m-%d")


def _unpause(dep: Deployment, dag_id: str) -> None:
    dep.send("PATCH", f"/dags/{dag_id}", {"is_paused": False})


def _trigger(dep: Deployment, dag_id: str, conf: dict[str, Any]) -> dict[str, Any]:
    """A run through the REST API with no logical date (what the UI's and the API's trigger do)."""
    run = dep.send("POST", f"/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf})
    assert run["logical_date"] is None, run
    return dict(run)


def test_sensor_defers_then_resumes_after_upload_and_maps_ocr(deployment: Deployment) -> None:
    dep = deployment
    before = dep.ocr_calls("general-text")
    _unpause(dep, "ocr_new_uploads")
    # catchup=False: unpausing schedules the latest complete day; nothing is in incoming/ yet
    (run,) = dep.wait("the scheduled run of ocr_new_uploads", lambda: dep.runs("ocr_new_uploads"), 120)
    assert run["run_type"] == "scheduled"
    day = run["logical_date"][:10]
    dep.wait(
        "wait_for_scans to defer",
        lambda: any(
            t["task_id"] == "wait_for_scans" and t["state"] == "deferred"
            for t in dep.task_instances("ocr_new_uploads", run["dag_run_id"])
        ),
        timeout=180,
    )
    scans = [f"incoming/scan-{i}.png" for i in range(3)]
    dep.upload(scans)
    dep.wait_run_done("ocr_new_uploads", run["dag_run_id"], timeout=240)

    mapped = [t for t in dep.task_instances("ocr_new_uploads", run["dag_run_id"]) if t["task_id"] == "ocr"]
    assert sorted(t["map_index"] for t in mapped) == [0, 1, 2]
    assert {t["state"] for t in mapped} == {"success"}
    assert dep.ocr_calls("general-text") - before == 3
    assert len(dep.keys(f"results/{day}/")) == 3


def test_backfill_three_days_then_reprocess_completed_is_free(deployment: Deployment) -> None:
    dep = deployment
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    days = [_day(today - timedelta(days=n)) for n in (6, 5, 4)]
    # unpausing schedules one run (catchup=False), for today or yesterday depending on
    # the release's timetable; give both days scans
    recent = [_day(today - timedelta(days=1)), _day(today)]
    dep.upload([f"scans/{d}/page-{i}.png" for d in [*days, *recent] for i in range(2)])
    _unpause(dep, "ocr_daily_backfill")
    (scheduled,) = dep.wait("the scheduled run", lambda: dep.runs("ocr_daily_backfill"), 120)
    dep.wait_run_done("ocr_daily_backfill", scheduled["dag_run_id"])

    before = dep.ocr_calls("general-text")
    first = _backfill(dep, days[0], days[-1])
    assert sorted(r["logical_date"][:10] for r in first) == days
    assert dep.ocr_calls("general-text") - before == 6
    for d in days:
        results = dep.keys(f"ocr/{d}/")
        manifests = dep.keys(f"ocr/{d}_hwocr/")  # kept next to the results (README, batch)
        assert len(results) == 2, results
        assert any(k.endswith("/manifest.json") for k in manifests), manifests
        assert any("/runs/" in k for k in manifests), manifests

    before = dep.ocr_calls()
    again = _backfill(dep, days[0], days[-1], "--reprocess-behavior", "completed")
    assert sorted(r["logical_date"][:10] for r in again) == days
    assert dep.ocr_calls() - before == 0


def _backfill(dep: Deployment, start: str, end: str, *extra: str) -> list[dict[str, Any]]:
    """``airflow backfill create`` and wait until all of its runs succeeded; returns them."""
    known = {b["id"] for b in dep.get("/backfills", dag_id="ocr_daily_backfill")["backfills"]}
    argv = ["backfill", "create", "--dag-id", "ocr_daily_backfill", "--from-date", start, "--to-date", end]
    new: list[dict[str, Any]] = []
    for _attempt in range(4):
        done = dep.airflow(*argv, *extra)
        new = [
            b for b in dep.get("/backfills", dag_id="ocr_daily_backfill")["backfills"] if b["id"] not in known
        ]
        if done.returncode == 0 or new:
            break
        # SQLite allows one writer at a time; four processes write, and a transaction that
        # must upgrade from reading to writing gets "database is locked" at once, whatever
        # the busy timeout. The CLI's transaction was rolled back: run it again.
        assert "database is locked" in done.stderr, done.stdout[-2000:] + done.stderr[-3000:]
        time.sleep(2)
    assert len(new) == 1, (new, done.stdout[-2000:] + done.stderr[-3000:])
    (backfill,) = new
    dep.wait(
        f"backfill {backfill['id']} to complete",
        lambda: dep.get(f"/backfills/{backfill['id']}")["completed_at"],
        timeout=300,
        interval=2,
    )
    runs = [
        r
        for r in dep.runs("ocr_daily_backfill")
        if r["run_type"] == "backfill" and r["logical_date"][:10] >= start and r["logical_date"][:10] <= end
    ]
    for r in runs:
        dep.wait_run_done("ocr_daily_backfill", r["dag_run_id"], timeout=60)
    return runs


def test_every_example_dag_succeeds_when_triggered_with_no_logical_date(deployment: Deployment) -> None:
    dep = deployment
    images = dep.home / "images"
    images.mkdir(exist_ok=True)
    local = {}
    for name in ("receipt", "passport-1", "passport-2", "plate", "retry"):
        path = images / f"{name}.png"
        path.write_bytes(png((360, 160), name.upper()))
        local[name] = str(path)
    today = _day(datetime.now(timezone.utc))
    # what the runs read: today's scans for the daily DAG, an inbox document for routing;
    # ocr_new_uploads finds the scans uploaded by the sensor test (or these)
    dep.upload(
        [f"scans/{today}/page-{i}.png" for i in range(2)] + ["inbox/document.png", "incoming/late.png"]
    )
    confs: dict[str, dict[str, Any]] = {
        "hwocr_general_text": {"image": local["receipt"]},
        "hwocr_id_documents": {
            "passports": [local["passport-1"], local["passport-2"]],
            "plate": local["plate"],
        },
        "ocr_classify_and_route": {"bucket": BUCKET, "image": f"obs://{BUCKET}/inbox/document.png"},
        "ocr_daily_backfill": {},
        "ocr_new_uploads": {},
        "ocr_retry_policy": {"image": local["retry"]},
    }
    assert set(confs) == set(DAG_IDS)
    triggered = {}
    for dag_id, conf in confs.items():
        _unpause(dep, dag_id)
        triggered[dag_id] = _trigger(dep, dag_id, conf)["dag_run_id"]
    failures = []
    for dag_id, run_id in triggered.items():
        try:
            dep.wait_run_done(dag_id, run_id, timeout=300)
        except AssertionError as exc:
            failures.append(f"{dag_id}: {exc}")
    assert not failures, "\n\n".join(failures)
    # the runs with no logical date wrote under the day they were triggered for
    assert len([k for k in dep.keys(f"ocr/{today}/") if "manifest" not in k]) == 2
    assert dep.keys(f"results/{today}/")
    assert dep.keys(f"routed/{today}/")


def test_two_runs_of_the_same_day_one_defers_in_the_triggerer_and_pays_nothing(
    deployment: Deployment,
) -> None:
    """A colleague triggers today's batch while it is already triggered (``on_overlap="defer"``).

    Whichever run's task takes the lease sends the day; the other sees the live lease before any
    call and waits deferred, in the real triggerer, holding no worker slot; once the lease is
    released it runs again, finds every image done and calls nothing. Each image is paid once.
    """
    dep = deployment
    today = _day(datetime.now(timezone.utc))
    # 100 images at the DAG's qps=5: about 20 s of sending, longer than a task takes to start here
    scans = [f"scans/{today}/overlap-{i:03d}.png" for i in range(100)]
    _unpause(dep, "ocr_daily_backfill")  # unpausing schedules the latest day: let that run end first
    dep.wait(
        "the scheduled run of ocr_daily_backfill to end",
        lambda: (
            (rs := dep.runs("ocr_daily_backfill"))
            and any(r["run_type"] == "scheduled" for r in rs)
            and all(r["state"] in TERMINAL for r in rs)
        ),
        timeout=240,
        interval=2,
    )
    dep.upload(scans)
    before = dep.ocr_calls("general-text")
    runs = [_trigger(dep, "ocr_daily_backfill", {})["dag_run_id"] for _ in range(2)]
    seen: dict[str, list[str | None]] = {r: [] for r in runs}

    def one_deferred() -> str | None:
        for run_id in runs:
            tis = [t for t in dep.task_instances("ocr_daily_backfill", run_id) if t["task_id"] == "ocr_day"]
            state = tis[0]["state"] if tis else None
            if not seen[run_id] or seen[run_id][-1] != state:
                seen[run_id].append(state)
            if state == "deferred":
                return run_id
        return None

    try:
        waiter = dep.wait("one run's task to defer", one_deferred, timeout=180, interval=0.5)
    except AssertionError as exc:
        reports = "\n".join(dep.failure_report("ocr_daily_backfill", r) for r in runs)
        every = [(r["dag_run_id"], r["state"], r["start_date"]) for r in dep.runs("ocr_daily_backfill")]
        raise AssertionError(
            f"{exc}\nstates of the two tasks: {seen}\nall runs: {every}\n{reports}"
        ) from None
    (sender,) = [r for r in runs if r != waiter]
    assert dep.ocr_calls("general-text") - before < len(scans), "the other run had finished: no overlap"
    for run_id in runs:
        dep.wait_run_done("ocr_daily_backfill", run_id, timeout=300)

    assert dep.ocr_calls("general-text") - before == len(scans)  # each image once, none twice
    assert len([k for k in dep.keys(f"ocr/{today}/") if "/overlap-" in k]) == len(scans)
    client = dep.obs_client()
    try:
        records = [
            json.loads(client.getObject(BUCKET, k, loadStreamInMemory=True).body.buffer)
            for k in dep.keys(f"ocr/{today}_hwocr/")
            if "/runs/" in k
        ]
    finally:
        client.close()
    mine = {r["run_id"]: r for r in records if r.get("run_id") in runs}
    said = [(r.get("run_id"), r["totals"], r["overlap"]) for r in records]
    assert set(mine) == set(runs), said
    assert mine[sender]["totals"]["done"] >= len(scans), (sender, waiter, said)
    assert mine[sender]["overlap"]["waited"] is False
    assert mine[waiter]["totals"]["done"] == 0 and mine[waiter]["totals"]["skipped"] >= len(scans)
    assert mine[waiter]["overlap"]["waited"] is True and mine[waiter]["overlap"]["deferred"] is True
    assert [o["run_id"] for o in mine[waiter]["overlap"]["held_by"]] == [sender]


def test_task_logs_have_no_short_secret_warning_and_no_secret(deployment: Deployment) -> None:
    logs = sorted((deployment.home / "logs").rglob("*.log"))
    task_logs = [p for p in logs if "dag_id=" in str(p)]
    assert {d for d in DAG_IDS if any(f"dag_id={d}" in str(p) for p in task_logs)} == set(DAG_IDS)
    for path in task_logs:
        text = path.read_text(errors="replace")
        assert "too short" not in text, path
        assert SK not in text, path
