#!/usr/bin/env python3
"""Rewrite the generated operator table in README.md from the catalog."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from airflow_provider_hwocr.catalog.docs import TABLE_BEGIN, TABLE_END, operators_block

readme = ROOT / "README.md"
text = readme.read_text(encoding="utf-8")
pattern = re.compile(re.escape(TABLE_BEGIN) + ".*?" + re.escape(TABLE_END), re.DOTALL)
if not pattern.search(text):
    sys.exit("README.md has no operators-table markers")
readme.write_text(pattern.sub(lambda _m: operators_block(), text), encoding="utf-8")
print("README.md operator table updated")
