#!/usr/bin/env python3
"""What the client's checks before a call cost per image, and that the cost stays flat.

``prepare_request`` runs every check the service would otherwise answer with a (billed)
refusal: body fields, format, sides, Base64 size, and (since the client checks files) whether the file is
whole (PNG IEND, JPEG EOI, ...; a walk of the markers, nothing decoded), plus the lifecycle
and region checks (warned once per process, never per image). This prints the time per
image for growing batches side by side, the ratio of the largest to the smallest (1.0 is
flat), and the share of the whole-file check in it.

    python3 bench/request_checks.py [--sizes 10,100,1000] [--megapixels 2] [--repeats 3]

Everything runs in-process on images made in memory: no server, no network.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from airflow_provider_hwocr.client.images import structure_problem
from airflow_provider_hwocr.client.request import check_region, prepare_request


def make_images(count: int, megapixels: float) -> list[bytes]:
    """``count`` distinct JPEG photos (noise, so they compress like photos do)."""
    from PIL import Image

    side = int((megapixels * 1e6) ** 0.5)
    base = Image.effect_noise((side, side), 48).convert("RGB")
    out = []
    for i in range(count):
        base.putpixel((i % side, 0), (i % 256, 0, 0))
        buf = io.BytesIO()
        base.save(buf, format="JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def per_image(images: list[bytes]) -> tuple[float, float]:
    """(seconds per image for prepare_request + the region check, seconds per image of the end check)."""
    started = time.perf_counter()
    for data in images:
        check_region("vat-invoice", "cn-north-4")
        prepare_request("vat-invoice", image=data, params={"advanced_mode": True})
    total = (time.perf_counter() - started) / len(images)
    started = time.perf_counter()
    for data in images:
        structure_problem(data, "JPEG")
    return total, (time.perf_counter() - started) / len(images)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10,100,1000", help="batch sizes (images), comma-separated")
    p.add_argument("--megapixels", type=float, default=2.0, help="size of each image")
    p.add_argument("--repeats", type=int, default=3, help="rounds, sizes alternating; medians are printed")
    args = p.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    pool = make_images(min(max(sizes), 200), args.megapixels)
    print(
        f"images: {len(pool)} distinct JPEGs of {args.megapixels:g} MP, {sum(map(len, pool)) / len(pool) / 1e6:.2f} MB each"
    )
    samples: dict[int, list[tuple[float, float]]] = {n: [] for n in sizes}
    for _ in range(args.repeats):  # alternate the sizes, so machine noise hits all of them alike
        for n in sizes:
            samples[n].append(per_image([pool[i % len(pool)] for i in range(n)]))
    rows = []
    for n in sizes:
        total = statistics.median(t for t, _ in samples[n])
        end = statistics.median(e for _, e in samples[n])
        rows.append((n, total, end))
        print(
            f"  {n:6d} images: {total * 1e3:7.2f} ms per image, of which the whole-file check {end * 1e3:6.2f} ms"
        )
    (n0, t0, _), (n1, t1, _) = rows[0], rows[-1]
    print(f"ratio per image, {n1} vs {n0} images: {t1 / t0:.2f} (1.0 = flat)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
