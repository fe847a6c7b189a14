#!/usr/bin/env python3
"""The main job, end to end on this machine: an OCR DAG run against the local emulator.

1. starts the OCR emulator on a free 127.0.0.1 port, with freshly generated keys;
2. renders a sample receipt image;
3. runs the example DAG ``hwocr_general_text`` with ``airflow dags test`` in a
   throwaway AIRFLOW_HOME, the connection pointing at the emulator (real HTTP,
   real AK/SK signatures);
4. prints what was recognised and what the emulator saw, then stops everything
   it started — also on Ctrl-C or failure.

Run it through ``python3 scripts/dev.py demo``, which installs what it needs.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAG_ID = "hwocr_general_text"


def _say(msg: str) -> None:
    print(f"[demo] {msg}", flush=True)


def _sample_image(path: Path) -> None:
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (640, 360), "white")
    draw = ImageDraw.Draw(img)
    try:
        font = ImageFont.load_default(size=28)
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    lines = ["CORNER CAFE", "2x Espresso     6.00", "1x Croissant    3.50", "TOTAL           9.50"]
    for i, line in enumerate(lines):
        draw.text((40, 40 + 70 * i), line, fill="black", font=font)
    img.save(path, format="PNG")


def main() -> int:
    from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator

    ak = "DEMO" + secrets.token_hex(8).upper()
    sk = secrets.token_urlsafe(30)
    project_id = secrets.token_hex(16)
    region = "ap-southeast-1"
    workdir = Path(tempfile.mkdtemp(prefix="hwocr-demo-"))
    emulator = OcrEmulator(EmulatorConfig(credentials={ak: sk}, project_id=project_id, region=region))
    started = time.monotonic()
    try:
        emulator.start()
        _say(f"OCR emulator listening on {emulator.url}")
        image = workdir / "receipt.png"
        _sample_image(image)
        _say(f"sample document: {image}")

        home = workdir / "airflow-home"
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT": json.dumps(
                {
                    "conn_type": "huaweicloud_ocr",
                    "login": ak,
                    "password": sk,
                    "extra": {
                        "region": region,
                        "project_id": project_id,
                        "endpoint": emulator.url,
                        "iam_endpoint": emulator.url,
                    },
                }
            ),
        }
        airflow = [sys.executable, "-m", "airflow"]
        _say(f"throwaway AIRFLOW_HOME {home}; migrating its database")
        subprocess.run([*airflow, "db", "migrate"], env=env, check=True, capture_output=True)
        _say(f"airflow dags test {DAG_ID}")
        run = subprocess.run(
            [*airflow, "dags", "test", DAG_ID, "-c", json.dumps({"image": str(image)})],
            env=env,
            capture_output=True,
            text=True,
        )
        summary = None
        for line in run.stdout.splitlines():
            if "HWOCR_SUMMARY " in line:
                summary = json.loads(line.split("HWOCR_SUMMARY ", 1)[1])
        if run.returncode != 0 or summary is None:
            sys.stdout.write(run.stdout[-4000:])
            sys.stderr.write(run.stderr[-4000:])
            _say(f"FAILED: airflow dags test exited {run.returncode}")
            return 1
        # The DAG's log must not show the demo's secret key.
        if sk in run.stdout or sk in run.stderr:
            _say("FAILED: the secret key appeared in the task log")
            return 1

        stats = emulator.stats()
        _say("DAG run succeeded. Recognised:")
        print(f"    text blocks: {summary['blocks']}, characters: {summary['characters']}, "
              f"low-confidence blocks: {summary['low_confidence_blocks']}")
        for line in summary["text"].splitlines():
            print(f"    | {line}")
        _say(
            f"emulator saw {stats['total']} call(s), {stats['billable']} billable; "
            "results are the service's documented example answers (real OCR comes with the full emulator)"
        )
        _say(f"done in {time.monotonic() - started:.1f} s")
        return 0
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    finally:
        emulator.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
