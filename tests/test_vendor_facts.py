"""Vendor facts are written once, in ``catalog/``: no module outside it spells the Base64 size
arithmetic, an image format's magic bytes or the public endpoint host pattern again.

Read from the source (nothing is imported). Docstrings and comments may mention these facts;
code may not: it reads :func:`~airflow_provider_hwocr.catalog.formats.base64_size`,
:func:`~airflow_provider_hwocr.catalog.formats.format_of` and
:func:`~airflow_provider_hwocr.catalog.regions.region_for` instead.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from tests.helpers.paths import REPO

PKG = REPO / "airflow_provider_hwocr"
CATALOG = PKG / "catalog"

#: ``4 * ((n + 2) // 3)``, ``(len(data) + 2) // 3`` and ``math.ceil(n / 3) * 4``: the Base64 length.
_BASE64_ARITHMETIC = re.compile(r"\+\s*2\s*\)\s*//\s*3\b|ceil\([^)]*/\s*3\s*\)\s*\*\s*4")
#: Leading bytes of the image and document formats the service reads.
_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"II*\x00", b"MM\x00*", b"RIFF", b"8BPS")
#: The package that makes test files (a PDF of n pages, an OFD invoice) writes their headers: a
#: writer must spell the format; only telling formats apart is the catalog's.
_MAGIC_WRITERS = {"testing"}
_HOST = "myhuaweicloud.com"
#: The connection form's descriptions show the default endpoints (get_provider_info may not import
#: the catalog, which must stay out of Airflow's start-up); a test below holds them to the catalog.
_HOST_ALLOWED = {"get_provider_info.py"}


def _docstrings(tree: ast.AST) -> list[ast.Constant]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.append(first.value)
    return [d for d in found if isinstance(d.value, str)]


def _code_only(source: str, docstrings: list[ast.Constant]) -> str:
    """``source`` with comments and docstrings blanked out (lines kept, so line numbers stay)."""
    lines = source.splitlines(keepends=True)
    for doc in docstrings:
        for i in range(doc.lineno - 1, doc.end_lineno or doc.lineno):
            lines[i] = "\n"
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            (row, col), (_, end) = token.start, token.end
            line = lines[row - 1]
            lines[row - 1] = line[:col] + " " * (end - col) + line[end:]
    return "".join(lines)


def _strings(tree: ast.AST, skip: list[ast.Constant]) -> list[tuple[int, object]]:
    """Every constant (bytes or str, f-strings' literal parts included) but ``skip``, with its line."""
    ignored = {id(node) for node in skip}
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, (bytes, str)) and id(node) not in ignored
    ]


def violations(source: str, name: str = "<source>") -> list[str]:
    """Where ``source`` (one module) spells a vendor fact the catalog holds."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    code = _code_only(source, docstrings)
    found = [
        f"{name}:{code[: m.start()].count(chr(10)) + 1}: Base64 size arithmetic (use catalog base64_size)"
        for m in _BASE64_ARITHMETIC.finditer(code)
    ]
    for line, value in _strings(tree, docstrings):
        parts = Path(name).parts
        writer = len(parts) > 1 and parts[1] in _MAGIC_WRITERS
        if isinstance(value, bytes) and any(magic in value for magic in _MAGIC) and not writer:
            found.append(f"{name}:{line}: format magic bytes {value[:8]!r} (use catalog format_of)")
        if isinstance(value, str) and _HOST in value and Path(name).name not in _HOST_ALLOWED:
            found.append(f"{name}:{line}: endpoint host {value!r} (use catalog region_for(...).endpoint)")
    return found


#: Spellings whose module is being switched to the catalog by its owner: (module, what) -> by whom.
#: Remove an entry once its module reads the catalog; nothing else may be added here.
_PENDING = {
    ("airflow_provider_hwocr/runtime/pipeline.py", "Base64 size arithmetic"): "the runtime, to base64_size",
}


def _pending(violation: str) -> bool:
    module, _, rest = violation.partition(":")
    return any(module == path and what in rest for path, what in _PENDING)


def _modules_outside_the_catalog() -> list[Path]:
    return [p for p in sorted(PKG.rglob("*.py")) if CATALOG not in p.parents]


def test_no_module_outside_the_catalog_spells_a_vendor_fact():
    found = []
    for path in _modules_outside_the_catalog():
        found += violations(path.read_text(encoding="utf-8"), path.relative_to(REPO).as_posix())
    assert [v for v in found if not _pending(v)] == []


# --- the finder finds what it looks for (each case is how the code read before the catalog held it) ---


@pytest.mark.parametrize(
    "source",
    [
        "def size(n):\n    return 4 * ((n + 2) // 3)\n",
        "encoded_len = 4 * ((len(data) + 2) // 3)\n",
        "out = bytearray(pos + 4 * ((len(image) + 2) // 3) + 2)\n",
        "import math\nsize = math.ceil(n / 3) * 4\n",
        'def sniff(head):\n    if head.startswith(b"\\x89PNG\\r\\n\\x1a\\n"):\n        return "PNG"\n',
        'def sniff(head):\n    if head[:4] in (b"II*\\x00", b"MM\\x00*"):\n        return "TIFF"\n',
        'pdf = b"%PDF-" in data[:1024]\n',
        'webp = head[:4] == b"RIFF" and head[8:12] == b"WEBP"\n',
        'jpeg = head.startswith(b"\\xff\\xd8\\xff")\n',
        'gif = head[:6] in (b"GIF87a", b"GIF89a")\n',
        'endpoint = f"https://ocr.{region}.myhuaweicloud.com"\n',
        'url = f"https://{bucket}.obs.{s.region}.myhuaweicloud.com/{path}"\n',
        'IAM = "https://iam.cn-north-4.myhuaweicloud.com"\n',
    ],
)
def test_the_finder_catches_each_old_spelling(source):
    assert violations(source) != []


def test_docstrings_and_comments_may_name_the_facts():
    source = (
        '"""Reads ``https://ocr.{region}.myhuaweicloud.com``; a PDF starts with ``%PDF-``."""\n'
        "\n"
        "def f(n):\n"
        '    """Base64 of n bytes is 4 * ((n + 2) // 3) characters."""\n'
        "    return base64_size(n)  # not 4 * ((n + 2) // 3) by hand\n"
    )
    assert violations(source) == []


def test_the_forms_default_endpoints_are_the_catalogs():
    from airflow_provider_hwocr.catalog.regions import region_for
    from airflow_provider_hwocr.get_provider_info import CONN_FIELDS

    pattern = region_for("{region}")
    for field, default in (
        ("endpoint", pattern.ocr_endpoint),
        ("iam_endpoint", pattern.iam_endpoint),
        ("obs_endpoint", pattern.obs_endpoint),
    ):
        assert f"Default: {default}" in CONN_FIELDS[field]["description"], field
