#!/usr/bin/env python3
"""Regenerate the docs site's API reference from the catalog.

Writes ``docs/reference/index.md`` (every API, and the operators table), one page per API
under ``docs/reference/apis/`` (removing pages of APIs the catalog no longer has), and the
reference section of ``mkdocs.yml``'s nav. ``tests/catalog/test_reference.py`` fails while any
of them is stale.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from airflow_provider_hwocr.catalog.reference import (
    DOCS_DIR,
    NAV_BEGIN,
    NAV_END,
    REFERENCE_DIR,
    reference_nav,
    reference_pages,
)

docs = ROOT / DOCS_DIR
pages = reference_pages()
for rel, text in pages.items():
    path = docs / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
for old in sorted((docs / REFERENCE_DIR).glob("*.md")):
    if old.relative_to(docs).as_posix() not in pages:
        old.unlink()
        print(f"removed {old.relative_to(ROOT)}")

mkdocs = ROOT / "mkdocs.yml"
text = mkdocs.read_text(encoding="utf-8")
pattern = re.compile(r"^[ \t]*" + re.escape(NAV_BEGIN) + ".*?" + re.escape(NAV_END), re.DOTALL | re.MULTILINE)
if not pattern.search(text):
    sys.exit("mkdocs.yml has no reference-nav markers")
mkdocs.write_text(pattern.sub(lambda _m: reference_nav(), text, count=1), encoding="utf-8")
apis = sum(1 for rel in pages if rel.startswith(REFERENCE_DIR))
print(
    f"docs/{REFERENCE_DIR}: {apis} API pages; docs/reference/index.md, regions.md and mkdocs.yml nav updated"
)
