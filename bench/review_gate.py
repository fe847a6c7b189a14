#!/usr/bin/env python3
"""What a review threshold buys: fields accepted without a person against wrong values let through.

Renders ``--documents`` distinct Chinese VAT invoices (the sample invoice's labels, each with
its own number, code, date and amounts: the true values are known), has the emulator read them
over HTTP (RapidOCR, ``advanced_mode``: per-field confidences)
with misreads on (``--misread-rate``, ``--false-alarm-rate``; see ``emulator/misreads.py``),
then runs the provider's own gate (``runtime/review``: ``ReviewRule`` over the 11 printed
fields, ``held_fields``) at each threshold on the same answers, side by side:

* ``accepted``: the share of fields no person looks at (not held);
* ``pages held``: the share of invoices that wait for a review (one review per held page);
* ``wrong passed``: the share of wrong values (a modelled misread, or the reader's own
  mistake) that reach the table without a person seeing them (a wrong field not held; on a
  held page only its held fields are shown);
* ``wrong per 1000 accepted``: wrong values among 1000 accepted fields.

The misreads' confidences are modelled (Beta(4, 3) for a misread, Beta(8, 2) for a false
alarm), not measured on the vendor's service: the figures show the shape of the trade-off,
not the service's. The figures go to BENCHMARKS.md.

    python3 bench/review_gate.py                       # 60 invoices, ~5 min on 2 loaded cores
    python3 bench/review_gate.py --documents 200 --misread-rate 0.2 --thresholds 0.5,0.8,0.95
    python3 bench/review_gate.py --load answers.json --fields total,number   # no reading: gate again

Needs the ``emulator-zh`` extra (rapidocr-onnxruntime, cvttf-notosanscjk-regular).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from airflow_provider_hwocr.catalog.labels import LABELS
from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator, samples
from airflow_provider_hwocr.emulator.ocr import rapidocr_problem
from airflow_provider_hwocr.runtime.review.gate import held_fields
from airflow_provider_hwocr.runtime.review.rule import ReviewRule

SLUG = "vat-invoice"
IAM_DOMAIN, IAM_USER, IAM_PASSWORD = "bench", "bench", "bench-password"
PROJECT_ID = "0123456789abcdef0123456789abcdef"
REGION = "cn-north-4"
BUYERS = ("北京示例科技有限公司", "广州样本电子有限公司", "成都测试软件有限公司")
SELLERS = ("上海样例贸易有限公司", "深圳演示物流有限公司", "杭州示范商贸有限公司")


def invoice_fields(i: int) -> dict[str, str]:
    """The printed values of invoice ``i`` by label: every invoice its own (so its own misreads)."""
    subtotal = 1000 + 37 * i
    tax = round(subtotal * 0.13, 2)
    return {
        "发票代码": f"011002{(100111 + 13 * i) % 1000000:06d}",
        "发票号码": f"{(12345678 + 7919 * i) % 100000000:08d}",
        "开票日期": f"2026年{1 + i % 12}月{1 + i % 28}日",
        "校验码": f"{(12345678901234567890 + 104729 * i) % 10**20:020d}",
        "购买方名称": BUYERS[i % len(BUYERS)],
        "购买方纳税人识别号": f"91110108MA{i % 100:02d}ABCDEF",
        "销售方名称": SELLERS[i % len(SELLERS)],
        "销售方纳税人识别号": f"91310115MA{(i * 7) % 100:02d}XYZ123",
        "合计金额": f"{subtotal:.2f}",
        "合计税额": f"{tax:.2f}",
        "价税合计": f"{subtotal + tax:.2f}",
    }


def render(fields: dict[str, str]) -> bytes:
    """The invoice as the sample is drawn: 1100 x 860, its fields as 标签：值 lines, framed."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1100, 860), "white")
    draw = ImageDraw.Draw(image)
    face = samples.font(32, "cjk")
    y = 40
    for line in ["增值税专用发票", *(f"{label}：{value}" for label, value in fields.items())]:
        draw.text((50, y), line, fill="black", font=face)
        y += int(32 * 1.9)
    draw.rectangle([20, 20, 1080, 840], outline="black", width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _token(url: str, session: requests.Session) -> str:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": IAM_USER, "password": IAM_PASSWORD, "domain": {"name": IAM_DOMAIN}}
                },
            },
            "scope": {"project": {"name": REGION}},
        }
    }
    response = session.post(f"{url}/v3/auth/tokens", json=body, timeout=30)
    response.raise_for_status()
    return response.headers["X-Subject-Token"]


def read_all(
    documents: list[bytes], args: argparse.Namespace
) -> tuple[list[dict[str, Any]], list[str | None], float]:
    """(each invoice's result, the field the emulator misread in it, seconds), read over HTTP (an
    IAM token, as the provider's token mode; the answer's ``X-Emulator-Misread`` header is kept)."""
    config = EmulatorConfig(
        project_id=PROJECT_ID, region=REGION, iam_users={(IAM_DOMAIN, IAM_USER): IAM_PASSWORD},
        misread_rate=args.misread_rate, false_alarm_rate=args.false_alarm_rate, seed=args.seed,
    )  # fmt: skip
    with OcrEmulator(config) as emulator, requests.Session() as session:
        token = _token(emulator.url, session)
        url = f"{emulator.url}/v2/{PROJECT_ID}/ocr/{SLUG}"
        started = time.monotonic()

        def one(png: bytes) -> tuple[dict[str, Any], str | None]:
            body = {"image": base64.b64encode(png).decode(), "advanced_mode": True}
            response = session.post(url, json=body, headers={"X-Auth-Token": token}, timeout=600)
            response.raise_for_status()
            return response.json()["result"], response.headers.get("X-Emulator-Misread")

        with ThreadPoolExecutor(args.threads) as pool:
            answers = list(pool.map(one, documents))
        elapsed = time.monotonic() - started
    return [a for a, _ in answers], [m for _, m in answers], elapsed


def gate_figures(
    results: list[dict[str, Any]], truths: list[dict[str, str]], threshold: float, names: list[str]
) -> dict[str, float]:
    rule = ReviewRule.parse(threshold, names, slug=SLUG)
    assert rule is not None
    fields = accepted = wrong = wrong_passed = pages_held = 0
    for result, truth in zip(results, truths):
        held = {h.field for h in held_fields(SLUG, result, rule)}
        pages_held += bool(held)
        for name in names:
            fields += 1
            is_wrong = result.get(name) != truth[name]
            wrong += is_wrong
            if name not in held:
                accepted += 1
                wrong_passed += is_wrong
    return {
        "threshold": threshold,
        "accepted": accepted / fields,
        "pages_held": pages_held / len(results),
        "wrong": wrong,
        "wrong_passed": wrong_passed / wrong if wrong else 0.0,
        "wrong_per_1000": 1000 * wrong_passed / accepted if accepted else 0.0,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--documents", type=int, default=60)
    p.add_argument("--misread-rate", type=float, default=0.2)
    p.add_argument("--false-alarm-rate", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--thresholds", default="0.5,0.7,0.8,0.9,0.95")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--save", help="write the truths, answers and misread fields to this JSON file")
    p.add_argument("--load", help="gate the answers of an earlier --save again, without reading")
    p.add_argument("--fields", help="the gating (and counted) fields, comma-separated (default: all 11)")
    args = p.parse_args()
    problem = rapidocr_problem() or (None if samples.cjk_font_path() else "no CJK font")
    if problem:
        print(f"needs the emulator-zh extra: {problem}", file=sys.stderr)
        return 2
    thresholds = [float(t) for t in args.thresholds.split(",")]
    if args.load:  # the answers of an earlier run (--save), gated again
        saved = json.loads(Path(args.load).read_text("utf-8"))
        truths, results, misread, elapsed = (
            saved["truths"],
            saved["results"],
            saved["misread"],
            saved["seconds"],
        )
        for knob in ("misread_rate", "false_alarm_rate", "seed", "threads"):
            setattr(args, knob, saved[knob])
    else:
        by_label = [invoice_fields(i) for i in range(args.documents)]
        truths = [{LABELS[SLUG][label]: value for label, value in fields.items()} for fields in by_label]
        documents = [render(fields) for fields in by_label]
        results, misread, elapsed = read_all(documents, args)
    names = args.fields.split(",") if args.fields else list(truths[0])
    modelled = sum(m is not None for m in misread)
    own = [
        (result.get(name), result.get("confidence", {}).get(name))
        for result, truth, m in zip(results, truths, misread)
        for name in truth
        if result.get(name) != truth[name] and name != m
    ]
    unread = sum(1 for value, _ in own if not value)
    confidences = sorted(c for value, c in own if value and isinstance(c, (int, float)))
    if args.save:
        Path(args.save).write_text(
            json.dumps(
                {
                    "truths": truths,
                    "results": results,
                    "misread": misread,
                    "seconds": elapsed,
                    "misread_rate": args.misread_rate,
                    "false_alarm_rate": args.false_alarm_rate,
                    "seed": args.seed,
                    "threads": args.threads,
                },
                ensure_ascii=False,
            ),
            "utf-8",
        )
    load = os.getloadavg()[0]
    print(
        f"{len(truths)} invoices x {len(names)} gating fields, read in {elapsed:.0f} s{' (saved)' if args.load else ''} ({args.threads} threads, "
        f"load {load:.1f}); misread_rate {args.misread_rate:g}, false_alarm_rate {args.false_alarm_rate:g}, "
        f"seed {args.seed}: {modelled} modelled misreads, {len(own)} wrong values of the reader's own (of all 11 fields)"
        f" ({unread} not read at all, {len(own) - unread} read wrong, their confidences: "
        f"{', '.join(f'{c:.2f}' for c in confidences) or 'none'})"
    )
    print("confidences of misreads and false alarms are modelled (emulator/misreads.py), not the vendor's")
    print(
        f"{'threshold':>9}  {'accepted':>8}  {'pages held':>10}  {'wrong passed':>12}  {'wrong/1000 accepted':>19}"
    )
    for threshold in thresholds:
        f = gate_figures(results, truths, threshold, names)
        print(
            f"{f['threshold']:>9g}  {f['accepted']:>8.1%}  {f['pages_held']:>10.1%}  "
            f"{f['wrong_passed']:>12.1%}  {f['wrong_per_1000']:>19.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
