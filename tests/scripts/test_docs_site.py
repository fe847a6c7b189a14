"""The README is a front page of at most 12 KB whose links resolve, it names every example DAG,
and the docs site builds with warnings as errors (as ``python3 scripts/dev.py docs`` does; this test is
CI's build of the site)."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.helpers.paths import REPO

README = REPO / "README.md"
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _relative_links(path):
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        if "://" not in target and not target.startswith("mailto:"):
            yield target


def test_the_readme_is_a_front_page_of_at_most_12_kb():
    assert len(README.read_bytes()) <= 12 * 1024
    text = README.read_text(encoding="utf-8")
    for command in ("python3 scripts/dev.py demo", "python3 scripts/dev.py test"):
        assert f"```bash\n{command}\n```" in text  # the two commands, each alone in its block


def test_the_readme_names_every_example_dag():
    text = README.read_text(encoding="utf-8")
    dag_ids = {
        m.group(1)
        for path in (REPO / "example_dags").glob("*.py")
        for m in re.finditer(r'dag_id="([a-z0-9_]+)"', path.read_text(encoding="utf-8"))
    }
    assert len(dag_ids) >= 10
    assert sorted(d for d in dag_ids if f"`{d}`" not in text) == []


def test_every_relative_link_of_the_readme_and_the_docs_resolves():
    broken = []
    for page in [README, *sorted((REPO / "docs").rglob("*.md"))]:
        if "drafts" in page.relative_to(REPO).parts[1:2] or "changelog-drafts" in page.parts:
            continue
        for target in _relative_links(page):
            if not (page.parent / target).resolve().exists():
                broken.append(f"{page.relative_to(REPO)} -> {target}")
    assert broken == []


def test_the_docs_site_builds_with_warnings_as_errors(tmp_path):
    # The test extra installs mkdocs and its theme: this is CI's build of the site (no skip).
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    assert (tmp_path / "site" / "reference" / "apis" / "general-text" / "index.html").is_file()
    assert not (tmp_path / "site" / "drafts").exists()  # drafts are not pages of the site


def test_the_demo_ends_with_next_steps_that_exist():
    text = (REPO / "scripts" / "demo.py").read_text(encoding="utf-8")
    assert 'print("\\n".join(["", *NEXT_STEPS]))' in text
    pages = re.findall(r"docs/[a-z/_-]+\.md", text)
    assert len(pages) >= 4
    assert [p for p in pages if not (REPO / p).is_file()] == []
