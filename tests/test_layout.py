"""The layout keeps its promises: what runs when is where it says, layers run one way, no cycles.

Read from the source with :mod:`ast` (nothing is imported): every ``import`` statement of every
module of the package, at module level and inside functions, except under ``TYPE_CHECKING``.
``from package import submodule`` counts as an import of the submodule (as import-linter reads it).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from tests.helpers.paths import REPO

PKG = "airflow_provider_hwocr"
SRC = REPO / PKG
TESTS = REPO / "tests"
#: Generated from the catalog (a test keeps it fresh); not hand-written.
GENERATED = {f"{PKG}.operators._generated"}
#: The modules that belong at the package root (besides ``__init__``).
ROOT_MODULES = {"_compat", "errors", "get_provider_info", "retry_policy"}


def _name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Imports(ast.NodeVisitor):
    def __init__(self, name: str, is_package: bool) -> None:
        self.name, self.is_package = name, is_package
        self.found: list[tuple[str, bool]] = []  # (module, at module level)
        self.depth = 0

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_Import(self, node: ast.Import) -> None:
        self.found += [(a.name, self.depth == 0) for a in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            package = self.name if self.is_package else self.name.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{base}" if base else package
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            self.found.append((sub if sub in modules() else base, self.depth == 0))


@cache
def imports_of(name: str) -> tuple[tuple[str, bool], ...]:
    """(imported module, at module level) for every import statement of ``name``."""
    path = modules()[name]
    visitor = _Imports(name, path.name == "__init__.py")
    visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
    return tuple(visitor.found)


def internal_imports(name: str, *, top_only: bool = False) -> set[str]:
    out = set()
    for target, top in imports_of(name):
        if top_only and not top:
            continue
        while target and target not in modules():
            target = target.rpartition(".")[0]
        if target and target != name:
            out.add(target)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_package():
    graph = {name: internal_imports(name) for name in modules()}
    assert _cycles(graph) == []


def test_at_most_four_modules_at_the_package_root():
    root = {p.stem for p in SRC.glob("*.py")} - {"__init__"}
    assert root == ROOT_MODULES


def _layer(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


#: What each layer may import from the package (besides itself). The emulator is the
#: independent witness of the wire protocol: the catalog only.
ALLOWED = {
    "catalog": set(),
    "client": {"catalog", "errors"},
    "hooks": {"catalog", "client", "errors", "_compat", "get_provider_info", "integration"},
    "integration": {"client"},
    "runtime": {"catalog", "client", "hooks", "errors", "_compat"},
    "operators": {"catalog", "client", "errors", "integration", "hooks", "runtime", "triggers"},
    "sensors": {"client", "hooks", "errors", "integration", "triggers", "_compat"},
    "triggers": {"client", "hooks", "errors", "_compat"},
    "emulator": {"catalog"},
    "testing": set(),
    "fs": {"hooks", "client", "errors"},
    # Airflow plugins (the API server's review images): read what the integration layer agrees
    # with the operators, through the hooks.
    "plugins": {"integration", "hooks", "errors", "_compat"},
    "errors": set(),
    "_compat": set(),
    "get_provider_info": set(),
    "retry_policy": {"_compat", "errors"},
    "": set(),
}


def test_layers_run_one_way():
    wrong = []
    for name in modules():
        layer = _layer(name)
        for target in internal_imports(name):
            other = _layer(target)
            if other not in (layer, "") and other not in ALLOWED[layer]:
                wrong.append(f"{name} -> {target}")
    assert wrong == []


#: Layers that never import Airflow (directly or through the package; the local test servers too):
#: their tests give the same
#: verdict on every Airflow version, so CI runs them once, on the newest (``.ci/run`` reads this).
AIRFLOW_FREE = ("catalog", "client", "emulator", "testing")


def test_the_airflow_free_layers_import_no_airflow():
    wrong = []
    for name in modules():
        if _layer(name) not in AIRFLOW_FREE:
            continue
        for target, _top in imports_of(name):
            if target == "airflow" or target.startswith("airflow."):
                wrong.append(f"{name} -> {target}")
        for target in internal_imports(name):
            if _layer(target) not in (*AIRFLOW_FREE, "errors", ""):
                wrong.append(f"{name} -> {target}")
    assert wrong == []


def test_ci_runs_the_airflow_free_tests_once():
    """The floor's suite in ``.ci/run`` leaves out exactly the tests of the Airflow-free layers."""
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    for layer in AIRFLOW_FREE:
        assert f"--ignore=tests/{layer}" in ci


def test_parse_time_modules_leave_hooks_and_runtime_to_run_time():
    """Operators, sensors and triggers import no hook and no runtime module at module level."""
    wrong = []
    for name in modules():
        if _layer(name) not in ("operators", "sensors", "triggers"):
            continue
        for target in internal_imports(name, top_only=True):
            if _layer(target) == "runtime" or target in (f"{PKG}.hooks.ocr", f"{PKG}.hooks.obs"):
                wrong.append(f"{name} -> {target}")
    assert wrong == []


#: The types the operators build and the runtime reads (settings, collaborators, what comes back).
CONTRACT = f"{PKG}.runtime.contract"


def test_the_contract_imports_the_standard_library_only():
    """``runtime/contract.py`` imports the standard library only (the types it names are for type
    checkers): the operators build the settings before anything heavy loads."""
    import sys

    loaded = [target for target, _top in imports_of(CONTRACT) if target.split(".")[0] != "__future__"]
    assert [t for t in loaded if t.split(".")[0] not in sys.stdlib_module_names] == []
    assert internal_imports(f"{PKG}.runtime") == set()  # the package itself loads nothing either


# --- the contract between the operators and the runtime ---------------------------------------------


def _trees(layers: tuple[str, ...] | None = None):
    for name, path in modules().items():
        if layers is None or _layer(name) in layers:
            yield name, ast.parse(path.read_text(encoding="utf-8"))


def _where(name: str, node: ast.AST) -> str:
    return f"{name}:{getattr(node, 'lineno', '?')}"


def test_the_runtime_takes_settings_never_the_operator():
    """No runtime function takes the operator (a parameter ``task``, or anything ``task: Any``):
    it takes the settings and its collaborators (``runtime/contract.py``)."""
    wrong = []
    for name, tree in _trees(("runtime",)):
        for node in ast.walk(tree):
            takes = isinstance(node, ast.arg) and node.arg == "task"
            holds = isinstance(node, ast.AnnAssign) and ast.unparse(node.target).endswith("task")
            if takes or holds:
                wrong.append(_where(name, node))
    assert wrong == []


#: Collaborators that are passed in when an object is built, never set on it afterwards.
COLLABORATORS = {"budget", "rate_limiter", "before_call"}


def test_no_collaborator_is_set_on_another_object():
    """``hook.budget = ...``, ``hook.rate_limiter = ...``, ``pipeline.before_call = ...``: nowhere. The
    OCR hook gets its pace and budget in its constructor; an object sets only its own (``self.x``)."""
    wrong = []
    for name, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            else:
                continue
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr in COLLABORATORS
                    and not (isinstance(target.value, ast.Name) and target.value.id == "self")
                ):
                    wrong.append(f"{_where(name, node)}: {ast.unparse(target)}")
    assert wrong == []


def _dict_uses(tree: ast.AST):
    """``x.__dict__`` nodes, each with whether it is only written to (``x.__dict__.update(...)``)."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "__dict__":
            up = parents.get(node)
            written = (
                isinstance(up, ast.Attribute)
                and up.attr == "update"
                and isinstance(parents.get(up), ast.Call)
            )
            yield node, written


def test_no_module_reads_another_objects_dict():
    """No ``x.__dict__`` read but an object's own (``self.__dict__``); restoring an unpickled
    object's state (``.__dict__.update``) is a write."""
    wrong = [
        f"{_where(name, node)}: {ast.unparse(node)}"
        for name, tree in _trees()
        for node, written in _dict_uses(tree)
        if not written and not (isinstance(node.value, ast.Name) and node.value.id == "self")
    ]
    assert wrong == []


def test_the_operators_and_the_runtime_read_no_dict_at_all():
    """Between the operators and the runtime everything is an argument: no ``__dict__`` at all there
    (the integration mixin reads what the runtime returns, not the operator's cached hook)."""
    layers = ("operators", "runtime", "integration", "sensors", "triggers")
    wrong = [
        f"{_where(name, node)}: {ast.unparse(node)}"
        for name, tree in _trees(layers)
        for node, _ in _dict_uses(tree)
    ]
    assert wrong == []


def test_the_integration_code_does_not_guess_its_host():
    """The mixin reads what the runtime returns (``FinishedRun``), never ``hasattr``/``getattr`` on its host."""
    tree = ast.parse(modules()[f"{PKG}.integration.mixin"].read_text(encoding="utf-8"))
    guesses = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("hasattr", "getattr")
        and node.args
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id == "self"
    ]
    assert guesses == []


def test_the_runtime_imports_at_the_top_of_its_modules():
    local = [
        f"{name}: {target}"
        for name in modules()
        if _layer(name) == "runtime"
        for target, top in imports_of(name)
        if not top
    ]
    assert local == []


def test_nothing_but_the_testing_package_imports_it():
    users = [
        name
        for name in modules()
        if _layer(name) != "testing" and any(_layer(t) == "testing" for t in internal_imports(name))
    ]
    assert users == []


def _functions(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.name, node.end_lineno - node.lineno + 1)  # type: ignore[operator]
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]


def test_no_hand_written_function_over_120_lines():
    long = [
        f"{name}.{fn} ({lines} lines)"
        for name, path in modules().items()
        if name not in GENERATED
        for fn, lines in _functions(path)
        if lines > 120
    ]
    assert long == []


def test_the_batch_execute_reads_as_its_stages():
    path = modules()[f"{PKG}.operators.batch"]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    (execute,) = [
        node
        for cls in tree.body
        if isinstance(cls, ast.ClassDef) and cls.name == "HuaweiOcrBatchOperator"
        for node in cls.body
        if isinstance(node, ast.FunctionDef) and node.name == "execute"
    ]
    assert execute.end_lineno - execute.lineno + 1 <= 40  # type: ignore[operator]
    calls = [
        node.func.attr
        for node in ast.walk(execute)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    ]
    stages = [c for c in calls if c in ("select", "decide", "send", "record")]
    assert stages == ["select", "decide", "send", "record"]


def mirrored_test(path: Path) -> Path:
    """``airflow_provider_hwocr/a/b.py`` -> ``tests/a/test_b.py`` (``_b.py`` too;
    ``a/__init__.py`` -> ``tests/a/test_package.py``)."""
    rel = path.relative_to(SRC)
    stem = "package" if rel.name == "__init__.py" else rel.stem.lstrip("_")
    return TESTS.joinpath(*rel.parts[:-1], f"test_{stem}.py")


def test_mirrored_paths():
    assert (
        mirrored_test(SRC / "runtime" / "batch" / "send.py") == TESTS / "runtime" / "batch" / "test_send.py"
    )
    assert mirrored_test(SRC / "_compat.py") == TESTS / "test_compat.py"
    assert mirrored_test(SRC / "client" / "__init__.py") == TESTS / "client" / "test_package.py"


@pytest.mark.parametrize(
    "name", sorted(n for n, p in modules().items() if len(p.read_text(encoding="utf-8").splitlines()) >= 100)
)
def test_every_module_of_100_lines_has_a_test_file_at_its_mirrored_path(name):
    test = mirrored_test(modules()[name])
    assert test.is_file(), f"{name}: no {test.relative_to(REPO)}"
    assert "def test_" in test.read_text(encoding="utf-8")
