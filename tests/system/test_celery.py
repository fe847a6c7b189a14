"""System test: the sharded example on a CeleryExecutor deployment, one worker killed mid-shard.

Starts, each as its own process group on 127.0.0.1, in a throwaway AIRFLOW_HOME:

* PostgreSQL (the metadata database and Celery's result backend) and Redis (the broker),
  run from their binaries (``.ci/run`` installs them with apt; the README's commands never
  need them: this test is ``-m system`` only, and skips when they are missing, unless
  ``HWOCR_REQUIRE_CELERY_TEST=1``, which CI sets);
* ``hwocr-object-server`` (OBS) and, in this process, the OCR emulator (so every call's body,
  and so which image it was for, can be read back);
* ``airflow api-server``, ``scheduler``, ``dag-processor``, ``triggerer`` and two ``airflow celery
  worker`` processes with two slots each (a retry that finds the killed try's lease not yet expired
  defers until it is: ``on_overlap="defer"``, so the deployment runs a triggerer, as any that
  defers must).

Then ``ocr_sharded_backfill`` (4 shards) runs over 1,000 images, and one worker is SIGKILLed
while it runs a shard. Checked: the run succeeds through task retries, with no manual clear;
every image is OCR'd, and only images answered to the killed process (calls in flight, answers
not stored yet) are OCR'd twice (counted and printed); 1,000 results land under the day's prefix; a second run costs 0 calls.

Settings a Celery deployment needs for this (docs/guides/deployment.md):

* ``[scheduler] task_instance_heartbeat_timeout`` (300 s by default): how long a killed
  worker's tasks stay "running" before the scheduler fails them and their retry starts.
  30 s here, checked every 5 s (``task_instance_heartbeat_timeout_detection_interval``).
* retries: the example DAG's own (``retries=3``, ``retry_delay`` 30 s, and the provider's retry
  policy on Airflow 3.3+); no deployment default is set here.
* ``[scheduler] use_job_schedule = False``: only the runs the test triggers (no scheduled run
  of an empty day competing for the slots).
* celery below 5.7 (5.7.0 breaks the Celery provider of Airflow 3.3.2): the ``celery`` extra.

Bounded: every wait has a deadline inside ``HWOCR_SYSTEM_TEST_TIMEOUT`` (default 900 s);
everything started is stopped by process group, also on failure.
"""

from __future__ import annotations

import atexit
import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from airflow_provider_hwocr.testing.connections import local_connection
from tests.helpers.constants import AK, PROJECT_ID, REGION, SK
from tests.helpers.images import png
from tests.system.test_deployment import BIN, EXAMPLES, Deployment, _free_port

pytestmark = pytest.mark.system

DAG_ID = "ocr_sharded_backfill"
BUCKET = "hwocr-demo"
DAY = "2026-11-30"
IMAGES = 1000
SHARDS = 4  # the example's SHARDS
MAX_CONCURRENCY = 8  # the example's max_concurrency: calls in flight (and writer threads) per shard
HEARTBEAT_TIMEOUT = 30
REQUIRED = os.environ.get("HWOCR_REQUIRE_CELERY_TEST", "") not in ("", "0")


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _missing() -> str | None:
    if _postgres_bin() is None:
        return "PostgreSQL server binaries (apt-get install postgresql)"
    if shutil.which("redis-server") is None:
        return "redis-server (apt-get install redis-server)"
    try:
        import celery  # noqa: F401
        import psycopg2  # noqa: F401
        from airflow.providers.celery.executors import celery_executor  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} (the test extra: python3 scripts/dev.py env)"
    return None


def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: CI runs as root, so run it as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _start_postgres(dep: Deployment) -> str:
    pg_bin = _postgres_bin()
    assert pg_bin is not None
    data = dep.home / "pg"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    init = subprocess.run(
        _as_postgres([str(pg_bin / "initdb"), "-D", str(data), "-U", "airflow", "-A", "trust", "-E", "UTF8"]),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert init.returncode == 0, init.stdout[-2000:] + init.stderr[-2000:]
    port = _free_port()
    settings = {
        "listen_addresses": "127.0.0.1",
        "unix_socket_directories": str(data),
        "max_connections": "200",
        "fsync": "off",  # a throwaway database
        "synchronous_commit": "off",
    }
    argv = [str(pg_bin / "postgres"), "-D", str(data), "-p", str(port)]
    for name, value in settings.items():
        argv += ["-c", f"{name}={value}"]
    dep.start("postgres", _as_postgres(argv), {k: v for k, v in os.environ.items() if k != "PGDATA"})
    dep.first_line_with("postgres", "ready to accept connections", timeout=60)
    created = subprocess.run(
        _as_postgres(
            [str(pg_bin / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "airflow", "airflow"]
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr[-2000:]
    return f"127.0.0.1:{port}"


def _start_redis(dep: Deployment) -> str:
    port = _free_port()
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    dep.start("redis", argv, dict(os.environ))
    dep.first_line_with("redis", "Ready to accept connections", timeout=60)
    return f"127.0.0.1:{port}"


def _celery_env(home: Path, api_port: int, conn: dict[str, Any], pg: str, redis: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "HWOCR_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://airflow@{pg}/airflow",
            "AIRFLOW__CELERY__BROKER_URL": f"redis://{redis}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://airflow@{pg}/airflow",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": "hwocr-celery-test-jwt-secret-not-a-real-one",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            # a killed worker's tasks: failed after 30 s without a heartbeat (not 300), then retried
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT": json.dumps(conn),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


class CeleryDeployment(Deployment):
    """The deployment, plus the in-process emulator whose calls are read back."""

    emulator_server: Any = None

    def calls_by_key(self) -> dict[str, list[float]]:
        """The start times of the OCR calls answered 200, per object key (from each call's signed URL)."""
        keys: dict[str, list[float]] = {}
        for call in self.emulator_server.calls("general-text"):
            url = call.body.get("url") if isinstance(call.body, dict) else None
            if call.status == 200 and url:
                path = unquote(urlsplit(url).path).lstrip("/")
                key = path.split("/", 1)[1]  # path-style: bucket/key
                keys.setdefault(key, []).append(call.started or call.timestamp)
        return keys

    def worker_of(self, pid: int | None) -> str | None:
        """The worker that ``pid`` (a task's process) descends from."""
        import psutil

        if not pid:
            return None
        workers = {proc.pid: name for name, proc in self.procs.items() if name.startswith("worker")}
        try:
            for parent in psutil.Process(pid).parents():
                if parent.pid in workers:
                    return workers[parent.pid]
        except psutil.NoSuchProcess:
            return None
        return None

    def kill_worker(self, name: str) -> None:
        """SIGKILL a worker and every process under it, as a lost machine would lose them.

        The task processes have process groups of their own (the task supervisor's ``setpgid``),
        so killing the worker's group alone would leave them running as orphans.
        """
        import psutil

        proc = self.procs.pop(name)  # dead on purpose: check_alive() watches the others
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        for member in tree:
            try:
                member.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(tree, timeout=30)
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def celery_deployment() -> Iterator[CeleryDeployment]:
    missing = _missing()
    if missing:
        if REQUIRED:
            pytest.fail(f"the Celery system test needs {missing}")
        pytest.skip(f"needs {missing}")
    from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator

    home = Path(tempfile.mkdtemp(prefix="hwocr-celery-"))
    os.chmod(home, 0o755)  # the postgres user reaches its data directory inside
    (home / "dags").mkdir()
    shutil.copy(EXAMPLES / f"{DAG_ID}.py", home / "dags" / f"{DAG_ID}.py")  # the example as shipped
    dep = CeleryDeployment(home)
    atexit.register(dep.stop_all)
    emulator = OcrEmulator(
        EmulatorConfig(
            credentials={AK: SK},
            project_id=PROJECT_ID,
            region=REGION,
            results="documented",  # the calls are what is counted, not the text
            latency_ms=150,  # calls take a while, so the kill finds some in flight
            max_recorded_calls=20_000,
        )
    )
    try:
        pg = _start_postgres(dep)
        redis = _start_redis(dep)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        dep.start("object-server", [str(BIN / "hwocr-object-server"), "--bucket", BUCKET], base_env)
        dep.obs = dep.first_line_with("object-server", "listening on").rsplit(" ", 1)[-1]
        emulator.start()
        dep.emulator_server = emulator
        dep.emulator = emulator.url
        conn = local_connection(
            ak=AK,
            sk=SK,
            region=REGION,
            project_id=PROJECT_ID,
            ocr_endpoint=emulator.url,
            obs_endpoint=dep.obs,
            max_retries=2,
        )
        api_port = _free_port()
        dep.api = f"http://127.0.0.1:{api_port}"
        dep.env = _celery_env(home, api_port, conn, pg, redis)
        migrated = dep.airflow("db", "migrate", timeout=300)
        assert migrated.returncode == 0, migrated.stdout[-2000:] + migrated.stderr[-3000:]
        airflow = str(BIN / "airflow")
        dep.start(
            "api-server", [airflow, "api-server", "--host", "127.0.0.1", "--port", str(api_port)], dep.env
        )
        dep.start("dag-processor", [airflow, "dag-processor"], dep.env)
        dep.start("scheduler", [airflow, "scheduler"], dep.env)
        dep.start("triggerer", [airflow, "triggerer"], dep.env)
        for name in ("worker-1", "worker-2"):
            argv = [airflow, "celery", "worker", "--concurrency", "2", "--celery-hostname", f"{name}@%h"]
            dep.start(name, argv, dep.env)
        dep.wait("the API server", lambda: dep.get("/monitor/health"), timeout=180)
        token = dep.session.get(f"{dep.api}/auth/token", timeout=30)
        token.raise_for_status()
        dep.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        dep.wait(
            "the sharded example to be parsed",
            lambda: DAG_ID in {d["dag_id"] for d in dep.get("/dags", limit=100)["dags"]},
            timeout=180,
        )
        for name in ("worker-1", "worker-2"):
            dep.first_line_with(name, "ready.", timeout=120)
        yield dep
    finally:
        dep.stop_all()
        emulator.stop()
        if os.environ.get("HWOCR_KEEP_SYSTEM_HOME"):
            print(f"celery test home kept: {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


def _upload(dep: Deployment, keys: list[str]) -> None:
    body = png((320, 140), "SCAN")
    client = dep.obs_client()
    try:
        for key in keys:
            resp = client.putContent(BUCKET, key, body)
            assert resp.status < 300, (key, resp.status, resp.errorMessage)
    finally:
        client.close()


def _list(dep: Deployment, prefix: str) -> list[str]:
    client = dep.obs_client()
    keys: list[str] = []
    marker = None
    try:
        while True:
            resp = client.listObjects(BUCKET, prefix=prefix, marker=marker, max_keys=1000)
            assert resp.status < 300, (prefix, resp.status, resp.errorMessage)
            keys += [c.key for c in resp.body.contents]
            if not resp.body.is_truncated:
                return keys
            marker = resp.body.next_marker or keys[-1]
    finally:
        client.close()


def _shards(dep: Deployment, run_id: str) -> list[dict[str, Any]]:
    return [t for t in dep.task_instances(DAG_ID, run_id) if t["task_id"] == "ocr_shard"]


def _trigger(dep: Deployment) -> str:
    run = dep.send(
        "POST", f"/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": {"bucket": BUCKET, "day": DAY}}
    )
    return str(run["dag_run_id"])


def _kill_a_worker_mid_shard(dep: CeleryDeployment, run_id: str) -> tuple[str, list[int], float]:
    """SIGKILL the worker running a shard once a third of the images are done; returns
    (the worker, the map indexes of the shards it was running, the time its last process died)."""

    def running_on_a_worker() -> Any:
        if len(dep.calls_by_key()) < IMAGES // 3:
            return None
        running = [t for t in _shards(dep, run_id) if t["state"] == "running"]
        owners = {t["map_index"]: dep.worker_of(t.get("pid")) for t in running}
        return {i: w for i, w in owners.items() if w} or None

    owners = dep.wait("a third of the images and a shard running", running_on_a_worker, 240, 0.5)
    victim = min(owners.values())
    shards = sorted(i for i, w in owners.items() if w == victim)
    dep.kill_worker(victim)
    # Once every process of the worker is dead: a call its task started while the kill went
    # through the process tree was in flight at the kill too.
    killed_at = time.time()
    return victim, shards, killed_at


def test_a_worker_killed_mid_shard_loses_nothing_and_pays_only_what_was_in_flight(
    celery_deployment: CeleryDeployment,
) -> None:
    dep = celery_deployment
    images = [f"scans/{DAY}/scan-{i:04d}.png" for i in range(IMAGES)]
    _upload(dep, images)
    dep.send("PATCH", f"/dags/{DAG_ID}", {"is_paused": False})
    run_id = _trigger(dep)

    victim, killed_shards, killed_at = _kill_a_worker_mid_shard(dep, run_id)
    done_at_kill = len(dep.calls_by_key())
    dep.wait_run_done(DAG_ID, run_id, timeout=600)  # through retries: nobody clears anything

    shards = _shards(dep, run_id)
    assert sorted(t["map_index"] for t in shards) == list(range(SHARDS))
    assert {t["state"] for t in shards} == {"success"}
    retried = sorted(t["map_index"] for t in shards if t["try_number"] > 1)
    assert set(killed_shards) <= set(retried), (killed_shards, retried)

    calls = dep.calls_by_key()
    assert set(calls) == set(images)  # every image OCR'd
    repeated = {key: starts for key, starts in calls.items() if len(starts) > 1}
    # Only images answered to a dead process are made again: the calls in flight and the answers
    # not stored yet (one per writer thread, one queued), at most 2 * max_concurrency + 1 per
    # killed shard, each first sent before the kill, and only once more.
    assert len(repeated) <= (2 * MAX_CONCURRENCY + 1) * len(killed_shards), sorted(repeated)
    assert all(len(starts) == 2 and min(starts) <= killed_at for starts in repeated.values()), repeated
    results = [k for k in _list(dep, f"ocr/{DAY}/") if k.endswith(".general-text.json")]
    assert len(results) == IMAGES
    total = sum(len(starts) for starts in calls.values())
    print(
        f"\nCelery: {IMAGES} images in {SHARDS} shards; {victim} SIGKILLed after {done_at_kill} images, "
        f"running shard(s) {killed_shards}; retried: {retried}; {total} OCR calls, "
        f"{len(repeated)} image(s) OCR'd twice (in flight at the kill): {sorted(repeated)}"
    )

    # a re-run of the finished day: every shard succeeds, no OCR call
    again = _trigger(dep)
    dep.wait_run_done(DAG_ID, again, timeout=300)
    assert sum(len(starts) for starts in dep.calls_by_key().values()) == total
