#!/usr/bin/env python3
"""Photograph the Required action page of one OCR review with headless Chromium.

    python3 scripts/screenshot_review.py --api http://127.0.0.1:8080 --run RUN_ID [--map-index 0] \
        [--dag ocr_invoice_review] [--task review] [--out docs/img/review-form.png]

Logs in through the simple auth manager's all-admins login (``/auth/token/login``, which sets the
UI's session cookie and redirects to ``next``) and opens
``/dags/{dag}/runs/{run}/tasks/{task}/mapped/{N}/required_actions``: the form with its crops,
served by the provider's review plugin. Needs Chromium (Debian: ``apt-get install chromium``) and
an API server with ``[core] simple_auth_manager_all_admins = True`` (as the system test runs one:
``tests/system/test_review.py`` calls this with the review it is about to answer). Standard library
only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote, urlencode


def page_path(dag: str, run: str, task: str, map_index: int) -> str:
    """The UI's path of one task instance's Required action (a mapped one's under ``mapped/<index>``)."""
    base = f"/dags/{quote(dag, safe='')}/runs/{quote(run, safe='')}/tasks/{quote(task, safe='')}"
    return f"{base}/mapped/{map_index}/required_actions" if map_index >= 0 else f"{base}/required_actions"


def screenshot(
    chromium: str, api: str, page: str, out: Path, *, size: str = "1400,1500", wait_ms: int = 20000
) -> None:
    """Open ``page`` on ``api`` logged in, and save what Chromium shows to ``out`` (PNG)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    url = f"{api.rstrip('/')}/auth/token/login?{urlencode({'next': page})}"
    with tempfile.TemporaryDirectory(prefix="hwocr-chromium-") as profile:
        argv = [
            chromium,
            "--headless=new",
            "--no-sandbox",  # as root in a container
            "--disable-gpu",
            "--hide-scrollbars",
            "--lang=en-US",
            f"--user-data-dir={profile}",
            f"--window-size={size}",
            f"--virtual-time-budget={wait_ms}",  # the UI is a single-page app: let it load and fetch
            f"--screenshot={out}",
            url,
        ]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not out.is_file():
        raise RuntimeError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--api", required=True, help="the API server's URL, e.g. http://127.0.0.1:8080")
    p.add_argument("--run", required=True, help="the DAG run's id")
    p.add_argument("--dag", default="ocr_invoice_review")
    p.add_argument("--task", default="review")
    p.add_argument("--map-index", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("docs/img/review-form.png"))
    p.add_argument(
        "--chromium", default=os.environ.get("CHROMIUM"), help="the browser (default: chromium on PATH)"
    )
    args = p.parse_args(argv)
    chromium = args.chromium or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("no Chromium on PATH (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    screenshot(chromium, args.api, page_path(args.dag, args.run, args.task, args.map_index), args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
