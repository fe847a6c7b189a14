#!/usr/bin/env python3
"""Regenerate everything the catalog generates, or report what is stale.

    python3 scripts/generate.py           # write every stale file; print what changed
    python3 scripts/generate.py --check   # write nothing; list the stale files, exit 1 if any

What it writes, all rendered from ``airflow_provider_hwocr/catalog/``:

* ``airflow_provider_hwocr/operators/_generated.py``: the per-API operator classes
  (:func:`airflow_provider_hwocr.catalog.codegen.operators_module`);
* ``docs/reference/``: the index (with the operators table), the regions page and one page
  per API (:func:`airflow_provider_hwocr.catalog.reference.reference_pages`), removing the
  pages of APIs the catalog no longer has;
* the API reference section of ``mkdocs.yml``'s nav, between its markers;
* the table of ``docs/guides/documents.md``, how each API reads a PDF or OFD page
  (:func:`airflow_provider_hwocr.catalog.reference.documents_table`, from ``catalog/pages.py``),
  between its markers.

Run it after changing the catalog: adding an API is one catalog entry (and its response
model) plus this script. The tests run ``--check``'s comparison and fail while anything is stale.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from airflow_provider_hwocr.catalog.codegen import GENERATED_PATH, operators_module
from airflow_provider_hwocr.catalog.reference import (
    DOCS_DIR,
    DOCUMENTS_BEGIN,
    DOCUMENTS_END,
    DOCUMENTS_GUIDE,
    NAV_BEGIN,
    NAV_END,
    REFERENCE_DIR,
    documents_block,
    reference_nav,
    reference_pages,
)

MKDOCS = "mkdocs.yml"
#: The nav section, its begin marker matched up to its first "(" (its note names the generator).
_NAV = re.compile(
    r"^[ \t]*" + re.escape(NAV_BEGIN.partition(" (")[0]) + ".*?" + re.escape(NAV_END),
    re.DOTALL | re.MULTILINE,
)


#: The guide's table, its begin marker matched up to its first "(" (its note names the generator).
_DOCUMENTS = re.compile(
    re.escape(DOCUMENTS_BEGIN.partition(" (")[0]) + ".*?" + re.escape(DOCUMENTS_END), re.DOTALL
)


def _with_nav(text: str) -> str:
    """``mkdocs.yml``'s text with the reference section of its nav regenerated."""
    if not _NAV.search(text):
        raise SystemExit(f"{MKDOCS} has no reference-nav markers ({NAV_BEGIN!r} ... {NAV_END!r})")
    return _NAV.sub(lambda _m: reference_nav(), text, count=1)


def _with_documents_table(text: str) -> str:
    """The documents guide's text with its table regenerated."""
    if not _DOCUMENTS.search(text):
        raise SystemExit(
            f"{DOCUMENTS_GUIDE} has no table markers ({DOCUMENTS_BEGIN!r} ... {DOCUMENTS_END!r})"
        )
    return _DOCUMENTS.sub(lambda _m: documents_block(), text, count=1)


def planned(root: Path = ROOT) -> dict[str, str | None]:
    """Every generated file (path relative to ``root``) -> the text it should have; ``None``: remove it."""
    plan: dict[str, str | None] = {GENERATED_PATH: operators_module()}
    pages = reference_pages()
    plan.update({f"{DOCS_DIR}/{rel}": text for rel, text in pages.items()})
    for old in sorted((root / DOCS_DIR / REFERENCE_DIR).glob("*.md")):
        rel = old.relative_to(root).as_posix()
        plan.setdefault(rel, None)
    plan[MKDOCS] = _with_nav((root / MKDOCS).read_text(encoding="utf-8"))
    guide = f"{DOCS_DIR}/{DOCUMENTS_GUIDE}"
    plan[guide] = _with_documents_table((root / guide).read_text(encoding="utf-8"))
    return plan


def _current(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def stale(root: Path = ROOT, plan: dict[str, str | None] | None = None) -> list[str]:
    """The generated files that differ from what the catalog renders (missing, changed or to remove)."""
    plan = planned(root) if plan is None else plan
    return [rel for rel, text in plan.items() if _current(root / rel) != text]


def write(root: Path = ROOT) -> list[str]:
    """Bring every generated file up to date; return the ones written or removed."""
    plan = planned(root)
    changed = stale(root, plan)
    for rel in changed:
        path, text = root / rel, plan[rel]
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is stale")
    args = parser.parse_args(argv)
    if args.check:
        found = stale()
        for rel in found:
            print(f"stale: {rel}")
        print(f"{len(found)} stale file(s)" if found else "everything generated is up to date")
        return 1 if found else 0
    changed = write()
    for rel in changed:
        print(f"{'removed' if not (ROOT / rel).exists() else 'written'}: {rel}")
    print(f"{len(changed)} file(s) regenerated" if changed else "everything generated was up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
