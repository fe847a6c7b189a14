"""The package stays readable: few functions with a cyclomatic complexity of 11 or more.

Measured with radon, as ``docs/development.md`` says (the same figure as
``radon cc -s -n C airflow_provider_hwocr -e "*_generated.py"``): every function and method,
generated code excluded. A function at 11 or more is a sign that its branches want names of their
own (a table, or steps); a few may stay where the branches are the logic itself.
"""

from __future__ import annotations

from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Class, Function

from tests.helpers.paths import REPO

SRC = REPO / "airflow_provider_hwocr"
#: Generated from the catalog; its size follows the catalog, not anyone's writing.
GENERATED = {"_generated.py"}
#: A function at or above this is counted as complex (radon's rank C and worse).
COMPLEX = 11
#: The share of complex functions the package may have (Amazon's S3 hook and botocore: under 1 %).
MAX_SHARE = 0.04


def _functions(blocks: list[Function | Class]) -> list[Function]:
    """radon lists every function and method at the top (a class's methods also under it)."""
    return [block for block in blocks if isinstance(block, Function)]


def measure(root: Path = SRC) -> tuple[int, list[str]]:
    """(functions and methods counted, ``path:name (complexity)`` of the complex ones)."""
    total, complex_ = 0, []
    for path in sorted(root.rglob("*.py")):
        if path.name in GENERATED:
            continue
        for fn in _functions(cc_visit(path.read_text(encoding="utf-8"))):
            total += 1
            if fn.complexity >= COMPLEX:
                complex_.append(f"{path.relative_to(root)}:{fn.fullname} ({fn.complexity})")
    return total, complex_


def test_the_counter_sees_a_complex_function(tmp_path):
    branches = "\n".join(f"    if x == {i}:\n        return {i}" for i in range(12))
    (tmp_path / "m.py").write_text(f"def f(x):\n{branches}\n    return -1\n\ndef g():\n    return 0\n")
    total, complex_ = measure(tmp_path)
    assert total == 2
    assert [c.split(":", 1)[1] for c in complex_] == ["f (13)"]


def test_few_functions_are_complex():
    total, complex_ = measure()
    assert total > 500  # the package was read
    assert len(complex_) / total <= MAX_SHARE, "\n".join(complex_)
