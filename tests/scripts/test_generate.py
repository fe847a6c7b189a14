"""The one generation script (``scripts/generate.py``): everything generated from the catalog is
up to date, ``--check`` lists what is stale without writing, and a run brings it back."""

from __future__ import annotations

import importlib.util
import shutil

from tests.helpers.paths import REPO


def _load():
    spec = importlib.util.spec_from_file_location("hwocr_generate_script", REPO / "scripts" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATE = _load()


def test_nothing_generated_is_stale():
    assert GENERATE.stale(REPO) == [], "stale: run python3 scripts/generate.py"


def test_it_plans_the_operators_the_reference_the_nav_and_the_documents_table():
    plan = GENERATE.planned(REPO)
    assert "airflow_provider_hwocr/operators/_generated.py" in plan and "mkdocs.yml" in plan
    assert "docs/guides/documents.md" in plan
    assert {"docs/reference/index.md", "docs/reference/regions.md"} <= set(plan)
    assert sum(rel.startswith("docs/reference/apis/") for rel in plan) == 52


def _copy(tmp_path):
    """A copy of the repository's generated files, to spoil."""
    shutil.copy(REPO / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(REPO / "docs" / "reference", tmp_path / "docs" / "reference")
    (tmp_path / "docs" / "guides").mkdir()
    shutil.copy(REPO / "docs" / "guides" / "documents.md", tmp_path / "docs" / "guides" / "documents.md")
    target = tmp_path / "airflow_provider_hwocr" / "operators"
    target.mkdir(parents=True)
    shutil.copy(REPO / "airflow_provider_hwocr" / "operators" / "_generated.py", target / "_generated.py")
    return tmp_path


def test_check_lists_what_is_stale_and_a_run_repairs_it(tmp_path):
    root = _copy(tmp_path)
    assert GENERATE.stale(root) == []
    generated = root / "airflow_provider_hwocr" / "operators" / "_generated.py"
    generated.write_text(generated.read_text(encoding="utf-8") + "# edited by hand\n", encoding="utf-8")
    (root / "docs" / "reference" / "apis" / "vin.md").unlink()
    (root / "docs" / "reference" / "apis" / "gone-api.md").write_text("an API the catalog dropped\n")
    nav = root / "mkdocs.yml"
    nav.write_text(nav.read_text(encoding="utf-8").replace("reference/apis/vin.md", "x.md"), encoding="utf-8")
    guide = root / "docs" / "guides" / "documents.md"
    guide.write_text(
        guide.read_text(encoding="utf-8").replace("one-page PDF (", "one-page TIFF ("), encoding="utf-8"
    )
    expected = {
        "airflow_provider_hwocr/operators/_generated.py",
        "docs/reference/apis/vin.md",
        "docs/reference/apis/gone-api.md",
        "mkdocs.yml",
        "docs/guides/documents.md",
    }
    assert set(GENERATE.stale(root)) == expected
    assert set(GENERATE.write(root)) == expected
    assert GENERATE.stale(root) == [] and not (root / "docs" / "reference" / "apis" / "gone-api.md").exists()


def test_check_exits_1_while_anything_is_stale(tmp_path, monkeypatch, capsys):
    assert GENERATE.main(["--check"]) == 0
    monkeypatch.setattr(GENERATE, "stale", lambda: ["mkdocs.yml"])
    assert GENERATE.main(["--check"]) == 1
    assert "stale: mkdocs.yml" in capsys.readouterr().out


def test_a_guide_without_its_table_markers_is_an_error(tmp_path):
    root = _copy(tmp_path)
    guide = root / "docs" / "guides" / "documents.md"
    guide.write_text("# Documents and pages\n\nno table here\n", encoding="utf-8")
    try:
        GENERATE.planned(root)
    except SystemExit as exc:
        assert "has no table markers" in str(exc)
    else:
        raise AssertionError("planned() accepted a guide without its table markers")
