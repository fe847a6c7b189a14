#!/usr/bin/env python3
"""OCR time per image in the emulator: pooled in-process engines vs a new engine per image vs the binary.

Reads the six sample documents (airflow_provider_hwocr.emulator.samples)
ROUNDS times with each engine, side by side in one run, the result cache
bypassed, and prints seconds per image and ratios:

* ``tesserocr, pooled``: what the emulator does (one libtesseract engine per
  worker, reused);
* ``tesserocr, new engine per image``: the cost of loading the model each time
  (what a thread-local engine on a thread-per-request server would pay);
* ``tesseract binary``: the subprocess fallback, when a binary is on PATH.

    python bench/ocr_engines.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from airflow_provider_hwocr.emulator import ocr, samples


def per_image(read, images: list[bytes], rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        for data in images:
            read(data)
    return (time.perf_counter() - started) / (rounds * len(images))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rounds = max(1, min(args.rounds, 20))  # bounded
    images = [s.png for s in samples.all_samples().values()]
    problem = ocr.tesserocr_problem()
    if problem:
        print(f"tesserocr unavailable: {problem}")
        return 1
    pool = ocr._EnginePool()
    pool.read(images[0], "PNG", None)  # the one engine the pool creates
    results = {"tesserocr, pooled": per_image(lambda d: pool.read(d, "PNG", None), images, rounds)}
    results["tesserocr, new engine per image"] = per_image(
        lambda d: ocr._EnginePool().read(d, "PNG", None), images, rounds
    )
    if shutil.which("tesseract") and ocr.tesseract_problem() is None:
        results["tesseract binary (subprocess)"] = per_image(
            lambda d: ocr.run_tesseract(d, "PNG", None), images, rounds
        )
    else:
        print("tesseract binary: not on PATH, not measured")
    base = results["tesserocr, pooled"]
    print(f"{len(images)} sample documents x {rounds} rounds")
    for name, seconds in results.items():
        print(f"  {name:34s} {seconds:6.3f} s/image   x{seconds / base:4.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
