#!/usr/bin/env python3
"""Peak memory of one large image through the provider: peak RSS over baseline ÷ image size.

Two paths, each in a fresh child process (so one's peak does not hide the other's):

* ``client``: ``OcrClient.recognize(api, image=data)`` with the image bytes already in memory
  (the baseline is taken after they are), i.e. what the request costs on top of the image;
* ``inline``: ``HuaweiOcrGeneralTextOperator(image="obs://…", image_source="inline").execute()``,
  the baseline before the download, so the downloaded image counts too.

The child resets the kernel's peak counter (``/proc/self/clear_refs``) at the baseline and
reads ``VmHWM`` afterwards. The OCR emulator (documented answers) and the fast object server
run in this process, on 127.0.0.1; their memory is not the child's. ``--base-tree DIR`` runs
the same children on another source tree (e.g. ``git archive main airflow_provider_hwocr |
tar -x -C DIR``) side by side.

    python bench/body_memory.py [--mb 7.4] [--runs 3] [--base-tree DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AK = "BENCH" + secrets.token_hex(6).upper()
SK = secrets.token_urlsafe(30)
PROJECT_ID = secrets.token_hex(16)
REGION = "ap-southeast-1"

CHILD = r"""
import json, os, sys
mode, size = sys.argv[1], int(sys.argv[2])

def status(name):
    for line in open("/proc/self/status"):
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(name)

def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False

if mode == "client":
    from airflow_provider_hwocr.client import AkSkCredentials, OcrClient
    conf = json.loads(os.environ["BENCH_CONN"])
    client = OcrClient(region=conf["region"], project_id=conf["project_id"],
                       credentials=AkSkCredentials(conf["ak"], conf["sk"]), endpoint=conf["endpoint"])
    client.recognize("general-text", image=open(conf["small_path"], "rb").read())  # warm: lazy imports, pool
    data = open(conf["image_path"], "rb").read()
    import gc; gc.collect()
    base = status("VmRSS"); exact = reset_peak()
    client.recognize("general-text", image=data)
else:
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator
    small = HuaweiOcrGeneralTextOperator(task_id="small", image=os.environ["BENCH_SMALL_URI"], image_source="inline")
    small.execute({})  # warm: lazy imports, connection lookups
    op = HuaweiOcrGeneralTextOperator(task_id="big", image=os.environ["BENCH_URI"], image_source="inline")
    import gc; gc.collect()
    base = status("VmRSS"); exact = reset_peak()
    op.execute({})
peak = status("VmHWM")
print(json.dumps({"over": peak - base, "exact": exact}))
"""


def png_of_size(nbytes: int) -> bytes:
    """A PNG the checks accept (2000x2000, a valid header) padded to ``nbytes`` with incompressible bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    head = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2000, 2000, 8, 2, 0, 0, 0))
    tail = chunk(b"IEND", b"")
    filler = nbytes - len(head) - len(tail) - 12
    return head + chunk(b"IDAT", os.urandom(filler)) + tail


def run_child(tree: Path, mode: str, size: int, env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(size)],
        env={**env, "PYTHONPATH": str(tree)},
        cwd=env["BENCH_HOME"],  # not the checkout: python -c puts the working directory first on sys.path
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{mode} child failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if not result["exact"]:
        print("  (peak counter could not be reset: the figure includes start-up)", flush=True)
    return result["over"] / size


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", type=float, default=7.4, help="image size in MB (default 7.4)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--base-tree", type=Path, help="another source tree to measure side by side")
    args = parser.parse_args()

    from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator
    from airflow_provider_hwocr.testing.connections import local_connection
    from airflow_provider_hwocr.testing.fast_object_server import fast_object_server

    size = int(args.mb * 1_000_000)
    image = png_of_size(size)
    home = tempfile.mkdtemp(prefix="hwocr-bench-")
    image_path = Path(home) / "big.png"
    image_path.write_bytes(image)
    small = png_of_size(20_000)
    (Path(home) / "small.png").write_bytes(small)
    config = EmulatorConfig(credentials={AK: SK}, project_id=PROJECT_ID, region=REGION, results="documented")
    trees = [("this tree", ROOT)] + ([("base tree", args.base_tree.resolve())] if args.base_tree else [])
    with OcrEmulator(config) as emulator, fast_object_server() as server:
        server.put_object("bench", "big.png", image)
        server.put_object("bench", "small.png", small)
        conn = local_connection(
            ak=AK,
            sk=SK,
            region=REGION,
            project_id=PROJECT_ID,
            ocr_endpoint=emulator.url,
            obs_endpoint=server.url,
        )
        env = {
            **os.environ,
            "AIRFLOW_HOME": home,
            "AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT": json.dumps(conn),
            "BENCH_HOME": home,
            "BENCH_URI": "obs://bench/big.png",
            "BENCH_SMALL_URI": "obs://bench/small.png",
            "BENCH_CONN": json.dumps(
                {"region": REGION, "project_id": PROJECT_ID, "ak": AK, "sk": SK, "endpoint": emulator.url,
                 "image_path": str(image_path), "small_path": str(Path(home) / "small.png")}
            ),
        }  # fmt: skip
        print(f"image: {size:,} bytes; {args.runs} run(s) per cell; load average {os.getloadavg()[0]:.2f}")
        print("| path | " + " | ".join(name for name, _ in trees) + " |")
        print("|---|" + "---|" * len(trees))
        for mode, label in (
            ("client", "OcrClient.recognize(image=bytes)"),
            ("inline", "operator, image_source='inline'"),
        ):
            cells = []
            for _, tree in trees:
                ratios = [run_child(tree, mode, size, env) for _ in range(args.runs)]
                cells.append(
                    f"**{statistics.median(ratios):.2f}x** ({', '.join(f'{r:.2f}' for r in ratios)})"
                )
            print(f"| {label} | " + " | ".join(cells) + " |", flush=True)
        calls = emulator.count("general-text")
        expected = 4 * args.runs * len(trees)
        if calls != expected:
            print(f"warning: the emulator saw {calls} calls, expected {expected}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
