"""The quick start's walk-through, checked without running it: the blocks marked
``<!-- quickstart:run -->`` in ``docs/quickstart.md`` parse as bash, every ``hwocr-*`` command is a
console script of ``pyproject.toml`` and takes the options the page gives it, every ``airflow``
command exists, the Python the page runs compiles, the DAG it writes is the DAG it tests, and the
install command names extras and a constraints file that exist. ``tests/system/test_quickstart.py``
runs the same blocks for real (marker ``system``); both read them with :func:`marked_blocks`.

No page tells a user to install the package from PyPI, where it is not published."""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import shlex
import subprocess
import textwrap

import pytest
import tomllib

from tests.helpers.paths import REPO

PAGE = REPO / "docs" / "quickstart.md"
MARK = "<!-- quickstart:run -->"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def marked_blocks(text: str) -> list[str]:
    """The bash blocks that follow a ``<!-- quickstart:run -->`` line, in order, dedented.

    A block may sit in a list item (indented); its lines lose the fence's indentation, as the
    rendered page shows them (a heredoc's ``EOF`` is then at the start of its line).
    """
    lines = text.splitlines()
    blocks: list[str] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != MARK:
            i += 1
            continue
        i += 1
        while i < len(lines) and not lines[i].strip():
            i += 1
        fence = lines[i] if i < len(lines) else ""
        if fence.strip() != "```bash":
            raise ValueError(f"{MARK} on line {i} is not followed by a ```bash block: {fence!r}")
        indent = fence[: len(fence) - len(fence.lstrip())]
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i] != f"{indent}```":
            line = lines[i]
            if line.strip() and not line.startswith(indent):
                raise ValueError(f"line {i + 1} of a marked block is less indented than its fence")
            body.append(line[len(indent) :])
            i += 1
        if i == len(lines):
            raise ValueError(f"the marked block of line {i} is not closed")
        blocks.append("\n".join(body) + "\n")
        i += 1
    return blocks


def _blocks() -> list[str]:
    return marked_blocks(PAGE.read_text(encoding="utf-8"))


def _commands(script: str) -> list[list[str]]:
    """Each command's words, as bash splits them (quotes may span lines; heredoc bodies left out),
    up to ``|``, ``;``, ``&``, a redirection or the end of the line, without leading ``VAR=value``."""
    kept, heredoc_end = [], None
    for line in script.replace("\\\n", " ").splitlines():
        if heredoc_end is not None:
            heredoc_end = None if line.strip() == heredoc_end else heredoc_end
            continue
        if m := re.search(r"<<-?\s*['\"]?(\w+)", line):
            heredoc_end = m.group(1)
        kept.append(line)
    lexer = shlex.shlex("\n".join(kept) + "\n", posix=True, punctuation_chars="|&;<>\n")
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    lexer.commenters = ""  # shlex's comments would swallow the newline that ends the command
    commands, words, comment = [], [], False
    for word in lexer:
        if set(word) <= set("|&;<>\n"):
            commands.append(words)
            words, comment = [], comment and "\n" not in word
        elif comment or word.startswith("#"):
            comment = True
        else:
            words.append(word)
    commands.append(words)
    stripped = []
    for words in commands:
        while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0], re.DOTALL):
            words = words[1:]  # the environment of the command after them
        if words:
            stripped.append(words)
    return stripped


def _all_commands() -> list[list[str]]:
    return [words for block in _blocks() for words in _commands(block)]


def test_the_page_has_the_walk_through_in_marked_blocks():
    blocks = _blocks()
    assert len(blocks) >= 8
    script = "\n".join(blocks)
    for needed in (
        "python3 -m venv",
        "pip install",
        "airflow db migrate",
        "hwocr-emulator",
        "hwocr-object-server",
        "AIRFLOW__CORE__TEST_CONNECTION=Enabled airflow connections test huaweicloud_ocr_default",
        "HuaweiOcrGeneralTextOperator",
        'image="obs://',
        "airflow dags test",
        "kill ",
    ):
        assert needed in script, needed
    # In the order a user runs them.
    order = [
        script.index(s) for s in ("pip install", "airflow db migrate", "hwocr-emulator", "airflow dags test")
    ]
    assert order == sorted(order)
    # Every server started in the background records its pid, and the last block stops them.
    started = re.findall(r"&\necho \$! > (\S+\.pid)", script)
    assert len(started) == 2, started
    assert all(pid in blocks[-1] for pid in started) and blocks[-1].lstrip().startswith("kill")


def test_the_marked_blocks_parse_as_bash():
    script = "\n".join(_blocks())
    done = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr


def test_the_install_command_names_extras_and_a_constraints_file_that_exist():
    installs = [w for w in _all_commands() if w[:2] == ["pip", "install"]]
    assert len(installs) == 1, installs  # one command installs everything
    words = installs[0]
    target = next(w for w in words[2:] if w.startswith("."))
    extras = re.fullmatch(r"\.\[([a-z0-9,-]+)\]", target)
    assert extras, target
    assert set(extras.group(1).split(",")) <= set(PYPROJECT["project"]["optional-dependencies"])
    constraints = words[words.index("-c") + 1]
    assert (REPO / constraints).is_file(), constraints
    assert re.fullmatch(r"constraints/airflow-[0-9.]+-py3\.11\.txt", constraints)


def _entry_point(name: str):
    module, _, func = PYPROJECT["project"]["scripts"][name].partition(":")
    return getattr(importlib.import_module(module), func)


def test_every_hwocr_command_is_a_console_script_and_takes_the_options_given():
    commands = [w for w in _all_commands() if w[0].startswith("hwocr-")]
    assert {w[0] for w in commands} >= {"hwocr-emulator", "hwocr-object-server"}
    for words in commands:
        assert words[0] in PYPROJECT["project"]["scripts"], words[0]
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_:
            _entry_point(words[0])([*words[1:], "--help"])  # parses what the page gives, then help
        assert exit_.value.code == 0, words
        for flag in (w.partition("=")[0] for w in words[1:] if w.startswith("--")):
            assert flag in out.getvalue(), f"{words[0]} has no {flag}"


def test_every_airflow_command_exists():
    from airflow.cli.cli_parser import get_parser

    commands = [w for w in _all_commands() if w[0] == "airflow"]
    assert len(commands) >= 4
    for words in commands:
        args = get_parser().parse_args(words[1:])  # SystemExit on an unknown command or option
        assert callable(args.func), words


def _python_snippets() -> list[str]:
    return [w[w.index("-c") + 1] for w in _all_commands() if w[0] in ("python", "python3") and "-c" in w]


def test_the_python_the_page_runs_compiles_and_names_what_exists():
    snippets = _python_snippets()
    assert snippets
    for code in snippets:
        compile(code, "<quickstart python -c>", "exec")
        for module, names in re.findall(r"from ([\w.]+) import ([\w, ]+)", code):
            imported = importlib.import_module(module)
            for name in names.split(","):
                assert hasattr(imported, name.strip()), f"{module}.{name.strip()}"


def test_the_dag_the_page_writes_is_the_dag_it_tests():
    script = "\n".join(_blocks())
    m = re.search(r'cat > "\$AIRFLOW_HOME/dags/(\w+\.py)" <<\'EOF\'\n(.*?)\nEOF\n', script, re.DOTALL)
    assert m, "the DAG file is written by a heredoc into the DAGs folder"
    code = m.group(2)
    namespace: dict = {}
    exec(compile(code, m.group(1), "exec"), namespace)  # noqa: S102 (the page's own DAG, as Airflow parses it)
    from airflow.sdk import DAG

    dags = [v for v in namespace.values() if isinstance(v, DAG)]
    dag_ids = set(re.findall(r'dag_id="(\w+)"', code))
    assert len(dag_ids) == 1
    (dag_id,) = dag_ids
    assert f"airflow dags test {dag_id}" in script
    assert not dags or dags[0].dag_id == dag_id
    assert "HuaweiOcrGeneralTextOperator(" in code
    buckets = set(re.findall(r"obs://([a-z0-9-]+)/", code))
    assert buckets and all(f"--bucket {b}" in script for b in buckets)  # the bucket the server makes


def test_no_page_installs_the_package_from_pypi():
    pages = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    from_pypi = re.compile(r"pip install +['\"]?airflow-provider-hwocr")
    offenders = [
        f"{page.relative_to(REPO)}:{n}"
        for page in pages
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
        if from_pypi.search(line)
    ]
    assert offenders == []


def test_the_readme_installs_from_a_clone_and_points_to_the_quick_start():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    install = text.split("## Install", 1)[1].split("\n## ", 1)[0]
    assert "constraints/airflow-3.3.2-py3.11.txt" in install
    assert 'pip install ".[' in install or "pip install ." in install
    assert "(docs/quickstart.md" in install
    fences = re.findall(r"```bash\n(.*?)```", text, re.DOTALL)
    assert [f.strip() for f in fences[:2]] == ["python3 scripts/dev.py demo", "python3 scripts/dev.py test"]


def test_marked_blocks_reads_indented_blocks_as_the_page_shows_them():
    text = textwrap.dedent(
        """\
        1. Step:

            <!-- quickstart:run -->
            ```bash
            cat > f <<'EOF'
            x = 1
                y
            EOF
            ```

        ```bash
        not marked
        ```
        """
    )
    assert marked_blocks(text) == ["cat > f <<'EOF'\nx = 1\n    y\nEOF\n"]
    with pytest.raises(ValueError):
        marked_blocks("<!-- quickstart:run -->\n```python\nx\n```\n")


def test_the_package_metadata_names_its_documentation_and_changelog():
    urls = PYPROJECT["project"]["urls"]
    assert {"Homepage", "Documentation", "Changelog", "Source"} <= set(urls)
    for name in ("Documentation", "Changelog"):
        url = urls[name]
        assert re.fullmatch(r"https://[^\s]+", url), url
        path = url.split("/blob/main/", 1)[1]  # a file of this repository, as its host shows it
        assert (REPO / path).is_file(), url
    assert urls["Changelog"].endswith("docs/changelog.md")
