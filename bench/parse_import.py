#!/usr/bin/env python3
"""DAG parse cost of the provider: import time of the operator and sensor modules over ``airflow.sdk``.

Each sample is a fresh interpreter that imports ``airflow.sdk`` (what any DAG
file does) and then, for the second variant, the provider's operator, batch,
sensor and event-trigger modules; the time is measured inside the child with
``perf_counter`` (interpreter start-up excluded). Variants alternate, so
machine noise hits both alike. Prints the medians and the difference.

    .venv/bin/python bench/parse_import.py [--runs 15] [--base-tree DIR]

The package is imported from this checkout through ``PYTHONPATH`` (as an
installed package would be), not through the editable-install import hook,
which adds its own ~40 ms on first use. ``--base-tree DIR`` adds a third
variant: the same modules from another source tree (e.g. the previous commit,
``git archive <rev> airflow_provider_hwocr | tar -x -C DIR``), to show what a
change added. Both trees are byte-compiled first, as ``pip install`` does.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: What a DAG file using the provider imports at parse time.
MODULES = (
    "airflow_provider_hwocr.operators.ocr",
    "airflow_provider_hwocr.operators.batch",
    "airflow_provider_hwocr.sensors.obs",
)
#: Imported too by a DAG file with an AssetWatcher on OBS (reported on its own: it loads airflow.triggers.base).
TRIGGER = "airflow_provider_hwocr.triggers.obs_event"

CHILD = """
import sys, time
t0 = time.perf_counter()
import airflow.sdk
from airflow.sdk import BaseOperator, BaseSensorOperator  # what a DAG file touches
t1 = time.perf_counter()
for name in sys.argv[1:]:
    __import__(name)
t2 = time.perf_counter()
if len(sys.argv) > 1:  # and what it then does: construct the operators (their parse-time checks run)
    from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator
    from airflow_provider_hwocr.sensors.obs import HuaweiObsKeySensor

    HuaweiOcrGeneralTextOperator(task_id="one", image="obs://scans/a.png", output_uri="obs://out/p/")
    HuaweiOcrBatchOperator(task_id="many", api="general-text", source_uri="obs://scans/d/", output_uri="obs://out/p/")
    HuaweiObsKeySensor(task_id="wait", bucket="scans", key="d/", return_selection=True)
t3 = time.perf_counter()
heavy = sorted(m for m in sys.modules if m == "obs" or m.startswith(("obs.", "s3fs", "openlineage", "requests")))
pkg = sys.modules.get("airflow_provider_hwocr")
where = pkg.__file__ if pkg is not None else "-"
print(f"{t1 - t0:.6f} {t2 - t1:.6f} {t3 - t2:.6f} {','.join(heavy) or '-'} {where}")
"""


def sample(modules: tuple[str, ...], tree: Path = ROOT) -> tuple[float, float, float, str]:
    """(airflow.sdk import, provider imports, constructing an OCR, a batch and a sensor task, heavy modules)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    # The child starts in the tree it measures: ``python -c`` puts its working directory first on
    # sys.path, so a child started here would import this checkout whatever PYTHONPATH says.
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *modules],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
    )
    sdk, extra, construct, heavy, where = out.stdout.strip().splitlines()[-1].split(" ")
    if modules and not Path(where).resolve().is_relative_to(tree.resolve()):
        raise RuntimeError(f"measured the package at {where}, not the tree {tree}")
    return float(sdk), float(extra), float(construct), heavy


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--base-tree", type=Path, default=None)
    args = parser.parse_args()
    # What a deployment imports is bytecode: pip compiles a package when it installs it. This
    # machine sets PYTHONDONTWRITEBYTECODE=1, so without this every sample would time the
    # compiler (about 20 ms for these modules) instead of the imports.
    import compileall

    for tree in (ROOT, args.base_tree):
        if tree is not None:
            compileall.compile_dir(str(Path(tree) / "airflow_provider_hwocr"), quiet=1)
    base_tree: list[float] = []
    base_construct: list[float] = []
    construct: list[float] = []
    trigger: list[float] = []
    sdk_alone: list[float] = []
    sdk_with: list[float] = []
    provider: list[float] = []
    heavy = "-"
    for _ in range(args.runs):
        sdk_alone.append(sample(())[0])
        base, extra, built, heavy = sample(MODULES)
        sdk_with.append(base + extra)
        provider.append(extra)
        construct.append(built)
        if args.base_tree:
            _, other, other_built, _ = sample(MODULES, args.base_tree)
            base_tree.append(other)
            base_construct.append(other_built)
        trigger.append(sample((*MODULES, TRIGGER))[1] - extra)
    a, b, p = (statistics.median(x) * 1000 for x in (sdk_alone, sdk_with, provider))
    print(f"runs per variant: {args.runs}")
    print(f"airflow.sdk alone:                  median {a:7.1f} ms")
    print(f"airflow.sdk + provider modules:     median {b:7.1f} ms")
    print(f"difference of the medians:                 {b - a:7.1f} ms")
    print(f"provider modules, timed in-process: median {p:7.1f} ms (after airflow.sdk)")
    c = statistics.median(construct) * 1000
    print(f"then constructing 3 tasks (OCR, batch, sensor):  median {c:7.1f} ms")
    if base_tree:
        q = statistics.median(base_tree) * 1000
        qc = statistics.median(base_construct) * 1000
        print(f"same modules from {args.base_tree}:  median {q:7.1f} ms (in-process)")
        print(f"  then constructing the same 3 tasks:  median {qc:7.1f} ms")
        print(f"imports + construction, this tree / base tree: {(p + c) / (q + qc):.3f}")
    print(f"+ {TRIGGER}: median {statistics.median(trigger) * 1000:7.1f} ms more")
    print(f"heavy modules loaded by the provider imports: {heavy}")
    print(f"modules: {', '.join(MODULES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
