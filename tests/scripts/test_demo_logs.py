"""The demo (``scripts/demo.py``) raises no false alarm: no operator runs outside Airflow's task runner
(which warned "execute cannot be called outside of the Task Runner!" for each), and the DAG runs it
makes log no WARNING or ERROR line that is not about what the DAG asks for.

The demo runs each DAG with ``airflow dags test`` in a throwaway Airflow; here the same DAG runs, in
the same order and on the same kind of servers (the emulator reading the images, the local object
server), run with ``dag.test()``, and their logs go through the demo's own check
(:func:`log_problems`, which fails the demo on any line it finds).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import logging

import pendulum
import pytest

from tests.helpers.paths import REPO


def _module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DEMO = _module(REPO / "scripts" / "demo.py", "hwocr_demo_script")
DAY = pendulum.datetime(2026, 11, 20, tz="UTC")
#: Every file of DAGs the demo runs, and the demo itself.
SOURCES = [
    REPO / "scripts" / "demo.py",
    *sorted((REPO / "scripts" / "demo_dags").glob("*.py")),
    *sorted((REPO / "example_dags").glob("*.py")),
]


#: What a DAG calls a database connection (DuckDB, SQLAlchemy, DB-API), whose execute() runs SQL.
DATABASE_CONNECTIONS = frozenset({"con", "conn", "connection", "cursor", "cur"})


def _database_connection(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in DATABASE_CONNECTIONS


@pytest.mark.parametrize("path", SOURCES, ids=[p.relative_to(REPO).as_posix() for p in SOURCES])
def test_no_operator_is_executed_by_hand(path):
    """``op.execute(...)`` outside the task runner: Airflow warns, and nothing of the task instance
    (XCom, links, retries) is real. The demo runs DAGs instead."""
    calls = [
        f"{path.name}:{node.lineno}"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "execute"
        and not _database_connection(node.func.value)
    ]
    assert calls == []


def test_the_demos_check_finds_warnings_and_errors_but_not_what_the_dag_asks_for():
    from airflow_provider_hwocr.catalog import get_api

    lines = [
        "2026-12-07T10:31:26Z [warning  ] HuaweiOcrVatInvoiceOperator.execute cannot be called outside of the Task Runner! [airflow.task]",
        "2026-12-07T10:33:43Z [error    ] XCom not found                 [airflow.sdk.api.client] key=hwocr_obs_source",
        "WARNING  airflow.sdk.definitions.dag:dag.py:1424 No tasks to run.",
        "ERROR:root:something broke",
        "[2026-12-07 10:00:00] {taskinstance.py:1} WARNING - old style",
        f"2026-12-07T10:31:31Z [warning  ] Invoice Verification (invoice-verification): {get_api('invoice-verification').deprecation} [py.warnings]",
        "2026-12-07T10:31:31Z [info     ] OCR vat-invoice on obs://hwocr-demo/mainland/vat_invoice.png",
        "HWOCR_FIELDS {\"code\": \"011002100111\"}",
        "      | ERROR_CODE 42 WARNINGS  (0.93)",  # words read from an image
    ]  # fmt: skip
    assert DEMO.log_problems("\n".join(lines)) == lines[:5]


def _load(path):
    module = _module(path, f"demo_dag_{path.stem}")
    return module.dag


def _examples(dag_id):
    from tests.test_example_dags import _load as load_example

    return load_example(dag_id)


#: The bundles of DAGs: the example DAGs (the DAGs folder), and the demo's own, as a second bundle
#: (the demo runs them with their folder as the DAGs folder).
BUNDLES = [
    {"name": "dags-folder", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle", "kwargs": {}},
    {
        "name": "hwocr-demo-dags",
        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
        "kwargs": {"path": str(DEMO.DEMO_DAGS)},
    },
]


def _upload_like_the_demo(obs, bucket) -> None:
    from airflow_provider_hwocr.emulator.samples import all_samples

    docs = {name: sample.png for name, sample in all_samples().items() if name != DEMO.MAINLAND}
    for name in ("receipt", "note"):
        obs.put_bytes(bucket, f"incoming/{name}.png", docs[name], content_type="image/png")
        obs.put_bytes(bucket, f"scans/2026-11-18/{name}.png", docs[name], content_type="image/png")
    for name in DEMO.ROUTED:
        obs.put_bytes(bucket, f"inbox/{name}.png", docs[name], content_type="image/png")


class _Runs:
    """``dag.test()`` of one DAG at a time, keeping each run's log (what Airflow and the tasks wrote)."""

    def __init__(self, bucket, caplog, capfd) -> None:
        self.bucket, self.caplog, self.capfd = bucket, caplog, capfd
        self.logs: dict[str, str] = {}

    def run(self, what, dag, logical_date=DAY, **conf) -> None:
        dag_run = dag.test(logical_date=logical_date, run_conf={"bucket": self.bucket, **conf})
        self.logs[what] = self.caplog.text + "".join(self.capfd.readouterr())
        self.caplog.clear()
        assert dag_run.state == "success", what


def _mainland(runs: _Runs, obs, emulator) -> None:
    """The demo's mainland step (read a VAT invoice, verify it) and its free re-run."""
    from airflow_provider_hwocr.emulator.samples import vat_invoice

    image = f"obs://{runs.bucket}/mainland/vat_invoice.png"
    obs.put_bytes(runs.bucket, "mainland/vat_invoice.png", vat_invoice().png, content_type="image/png")
    mainland = _load(DEMO.DEMO_DAGS / f"{DEMO.MAINLAND_DAG}.py")
    runs.run("mainland invoice", mainland, image=image)
    assert emulator.count("vat-invoice") == emulator.count("invoice-verification") == 1
    runs.run("mainland invoice again", mainland, image=image)
    assert emulator.count("vat-invoice") == emulator.count("invoice-verification") == 1
    assert "HWOCR_FIELDS" in runs.logs["mainland invoice"]


def test_the_demos_dag_runs_log_no_warning_or_error(
    airflow_db, emulator, obs_conn, obs_bucket, caplog, capfd, monkeypatch
):
    from airflow_provider_hwocr.emulator.samples import cjk_font_path
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    emulator.config.results = "computed"  # read from the images, as in the demo (reset() puts it back)
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(BUNDLES))
    caplog.set_level(logging.WARNING)
    obs = HuaweiObsHook()
    _upload_like_the_demo(obs, obs_bucket)
    runs = _Runs(obs_bucket, caplog, capfd)

    runs.run("new uploads", _examples("ocr_new_uploads"))
    runs.run(
        "backfill", _examples("ocr_daily_backfill"), logical_date=pendulum.datetime(2026, 11, 18, tz="UTC")
    )
    for name in DEMO.ROUTED:
        image = f"obs://{obs_bucket}/inbox/{name}.png"
        runs.run(f"route {name}", _examples("ocr_classify_and_route"), image=image)
    runs.run("new uploads again", _examples("ocr_new_uploads"))
    if emulator.reader.chinese is not None and cjk_font_path() is not None:  # as the demo skips it
        _mainland(runs, obs, emulator)

    assert all("HWOCR_BRANCH" in runs.logs[f"route {name}"] for name in DEMO.ROUTED)  # the runs' own logs
    problems = {what: DEMO.log_problems(log) for what, log in runs.logs.items()}
    assert {what: lines for what, lines in problems.items() if lines} == {}
    assert "Task Runner" not in "".join(runs.logs.values())
