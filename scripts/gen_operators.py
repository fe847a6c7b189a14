#!/usr/bin/env python3
"""Write airflow_provider_hwocr/operators/_generated.py (the per-API operators) from the catalog.

Run after changing the catalog: adding an API is one catalog entry (and its
response model) plus ``python3 scripts/gen_operators.py``. A test fails when
the file is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from airflow_provider_hwocr.catalog.codegen import GENERATED_PATH, operators_module

target = ROOT / GENERATED_PATH
target.write_text(operators_module(), encoding="utf-8")
print(f"{GENERATED_PATH} written")
