#!/usr/bin/env python3
"""How the emulator reads a Chinese document: RapidOCR (the ``emulator-zh`` extra) against Tesseract.

Renders the sample VAT invoice (its fields as 标签：值 lines, Noto Sans CJK), then, for each
reader, times the first read (models loaded) and the next reads of fresh copies (the
emulator's cache defeated by a changed pixel), and counts the invoice fields it reads
right. Prints the installed size of the extra's packages too. The figures go to
BENCHMARKS.md; run on a quiet machine for clean timings (the load average is printed).

    python3 bench/chinese_ocr.py [--images N] [--threads T]

Needs the ``emulator-zh`` extra (rapidocr-onnxruntime, cvttf-notosanscjk-regular).
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.emulator import mainland, samples, validation
from airflow_provider_hwocr.emulator.ocr import TextReader

#: What the ``emulator-zh`` extra adds, with what it pulls in.
EXTRA = (
    "rapidocr-onnxruntime", "onnxruntime", "opencv-python", "numpy", "shapely", "pyclipper",
    "cvttf-notosanscjk-regular", "flatbuffers", "protobuf", "PyYAML", "six", "tqdm",
)  # fmt: skip


def installed_mb(names: tuple[str, ...]) -> float:
    total = 0
    for name in names:
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        for f in dist.files or ():
            path = Path(str(dist.locate_file(f)))
            if path.is_file():
                total += path.stat().st_size
    return total / 1e6


def copies(png: bytes, n: int) -> list[bytes]:
    """``n`` versions of the page, one pixel apart, so that no read comes from the cache."""
    from PIL import Image

    out = []
    for i in range(n):
        image = Image.open(io.BytesIO(png)).convert("RGB")
        image.putpixel((1 + i, 1), (250, 250, 250))
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        out.append(buf.getvalue())
    return out


def score(lines) -> int:
    """Fields of the sample invoice read exactly under the vendor's field names."""
    labels = mainland.chinese_labels(lines)
    return sum(
        1 for label, value in samples.VAT_INVOICE_FIELDS.items() if labels.get(label, ("",))[0] == value
    )


def run(engine: str, pages: list[bytes]) -> tuple[float, list[float], int]:
    reader = TextReader(engine)
    limits = get_api("vat-invoice").limits
    first = validation.check_image(limits, pages[0])
    started = time.perf_counter()
    lines, used = reader.read(first.data, first.fmt, first.size, chinese=True)
    first_read = time.perf_counter() - started
    times = []
    for page in pages[1:]:
        checked = validation.check_image(limits, page)
        started = time.perf_counter()
        reader.read(checked.data, checked.fmt, checked.size, chinese=True)
        times.append(time.perf_counter() - started)
    print(f"  {engine:10s} used {used}")
    return first_read, times, score(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=4, help="reads per reader (the first loads the models)")
    p.add_argument("--threads", type=int, default=0, help="OMP/onnxruntime threads (0: their default)")
    args = p.parse_args()
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    print(f"emulator-zh packages installed: {installed_mb(EXTRA):.0f} MB")
    sample = samples.vat_invoice()
    pages = copies(sample.png, max(2, args.images))
    fields = len(samples.VAT_INVOICE_FIELDS)
    rows = []
    for engine in ("rapidocr", "tesserocr"):
        try:
            first, times, right = run(engine, pages)
        except RuntimeError as exc:
            print(f"  {engine}: not available ({exc})")
            continue
        mean = sum(times) / len(times)
        rows.append((engine, first, mean, right))
        print(
            f"  {engine:10s} first read {first:6.2f} s, then {mean:6.2f} s per image; {right}/{fields} fields right"
        )
    if len(rows) == 2:
        (_, _, zh, zh_right), (_, _, en, en_right) = rows
        print(
            f"ratio rapidocr/tesserocr per image: {zh / en:.1f}x the time, {zh_right} vs {en_right} fields right"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
