#!/usr/bin/env python3
"""The main job, end to end on this machine: OCR pipelines on a local cloud.

1. starts a local object server (OBS-compatible, moto) and the OCR emulator on
   free 127.0.0.1 ports, with freshly generated keys;
2. renders sample documents with Pillow (invoice, receipt, note, table,
   ID card) and uploads them;
3. runs the example DAGs with ``airflow dags test`` in a throwaway AIRFLOW_HOME:
   ``ocr_new_uploads`` (sensor -> mapped OCR -> results in OBS -> summary),
   ``ocr_daily_backfill`` for two days (batch OCR with a QPS limit, manifest),
   ``ocr_classify_and_route``, then ``ocr_new_uploads`` again to show that a
   re-run makes no OCR call;
4. prints what was recognised and where the results are, and stops
   everything it started, also on Ctrl-C or failure.

Real OCR when the ``tesseract`` binary is installed, synthetic text otherwise
(said so). Run it through ``python3 scripts/dev.py demo``.
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
FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/Library/Fonts/Arial.ttf",
    "C:/Windows/Fonts/arial.ttf",
)


def say(msg: str) -> None:
    print(f"[demo] {msg}", flush=True)


# --- sample documents ----------------------------------------------------------------


def _font(size: int):
    from PIL import ImageFont

    for path in FONT_PATHS:
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def _page(size, lines, *, font_size=30, start=(50, 50), gap=1.6, box=False):
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = _font(font_size)
    x, y = start
    for line in lines:
        draw.text((x, y), line, fill="black", font=font)
        y += int(font_size * gap)
    if box:
        draw.rectangle([20, 20, size[0] - 20, size[1] - 20], outline="black", width=3)
    return img, draw


def render_documents() -> dict[str, bytes]:
    import io

    docs = {}
    img, _ = _page(
        (900, 620),
        [
            "INVOICE  No. 2026-1120",
            "Acme Supplies Ltd.",
            "Bill to: Northwind Traders",
            "Widgets   10 x 4.50   45.00",
            "Bolts    200 x 0.10   20.00",
            "Total due             65.00",
        ],
    )
    docs["invoice"] = img
    img, _ = _page(
        (600, 520),
        ["CORNER CAFE", "2 Espresso      6.00", "1 Croissant     3.50", "TOTAL           9.50", "Thank you!"],
    )
    docs["receipt"] = img
    img, _ = _page(
        (800, 360),
        ["Meeting notes", "Ship the OCR pipeline on Friday", "Backfill November scans"],
        font_size=34,
    )
    docs["note"] = img
    img, draw = _page(
        (900, 420),
        [
            "Region      Orders   Revenue",
            "North          120      5400",
            "South           95      4100",
            "East           143      6020",
        ],
        start=(60, 60),
        gap=2.0,
    )
    for i in range(5):
        draw.line([(40, 40 + i * 80), (860, 40 + i * 80)], fill="black", width=2)
    docs["table"] = img
    img, draw = _page(
        (860, 540),
        [
            "IDENTITY CARD",
            "Name: MARIA GARCIA",
            "Born: 1990-04-12",
            "No: 4509 2231 7788",
            "Expires: 2031-04-11",
        ],
        start=(320, 70),
        box=True,
    )
    draw.rectangle([60, 90, 280, 380], outline="black", width=3)
    draw.text((110, 220), "PHOTO", fill="black", font=_font(30))
    docs["id_card"] = img

    out = {}
    for name, image in docs.items():
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        out[name] = buf.getvalue()
    return out


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
    obs.put_bytes(BUCKET, "inbox/document.png", docs["invoice"], content_type="image/png")
    say(
        f"uploaded {len(docs)} documents to obs://{BUCKET}/incoming/, 6 scans for the backfill, 1 to the inbox"
    )

    say("migrating a throwaway Airflow database")
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)

    def dags_test(dag_id: str, *args: str, conf: dict | None = None) -> str:
        cmd = [sys.executable, "-m", "airflow", "dags", "test", dag_id, *args]
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
    routed = dags_test("ocr_classify_and_route", DAY, conf={"image": f"obs://{BUCKET}/inbox/document.png"})
    rerun_before = emulator.stats()["billable"]
    dags_test("ocr_new_uploads", DAY)
    rerun_calls = emulator.stats()["billable"] - rerun_before

    # --- what was recognised, and where it is -------------------------------------
    print()
    say(f"recognised ({engine.split(',')[0]}):")
    for key in sorted(obs.list_keys(BUCKET, f"results/{DAY}/")):
        doc = obs.get_json(BUCKET, key)
        blocks = doc["result"].get("words_block_list", [])
        print(f"  {doc['source']['uri']}  ->  obs://{BUCKET}/{key}")
        for block in blocks[:6]:
            print(f"      | {block['words']}  ({block.get('confidence', 0):.2f})")
    from airflow_provider_hwocr.operators.batch import latest_manifest_uri

    for day in BACKFILL_DAYS:
        manifest_uri = latest_manifest_uri(f"obs://{BUCKET}/ocr/{day}/", "general-text")
        manifest = obs.get_json(BUCKET, manifest_uri.split("/", 3)[3])
        print(f"  backfill {day}: {manifest['totals']}  manifest {manifest_uri}")
    types = [line.split("HWOCR_TYPES", 1)[1].strip() for line in routed.splitlines() if "HWOCR_TYPES" in line]
    routed_keys = obs.list_keys(BUCKET, f"routed/{DAY}/")
    print(
        f"  classify & route: detected {types[-1] if types else '?'} -> {', '.join('obs://' + BUCKET + '/' + k for k in routed_keys)}"
    )
    print(f"  re-run of ocr_new_uploads for {DAY}: {rerun_calls} OCR call(s) (results already in OBS)")
    stats = emulator.stats()
    print()
    say(
        f"emulator: {stats['total']} OCR request(s), {stats['billable']} billable; object server {obs_url} (bucket {BUCKET})"
    )
    if "synthetic" in engine:
        say("results are SYNTHETIC text: install Tesseract (apt-get install -y tesseract-ocr) for real OCR")
    say(f"done in {time.monotonic() - started:.0f} s; stopping the servers")
    if rerun_calls != 0:
        say("FAILED: the re-run made OCR calls")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
