"""Invoice verification's daily ledger (``runtime/ledger.py``): five checks of one invoice a day, counted
next to the output prefix, in Airflow Variables or in memory; the sixth refused before the call; a
verified invoice found again on later days for nothing. Against the emulator, through the operators."""

from __future__ import annotations

import importlib.util
import threading
from datetime import datetime, timedelta, timezone
from typing import ClassVar

import pytest

from airflow_provider_hwocr.catalog.invoice_rules import INVOICE_VERIFICATION
from airflow_provider_hwocr.client.invoice import normalise_invoice
from airflow_provider_hwocr.errors import HuaweiCloudNonRetryableError, HuaweiOcrDailyLimitError
from airflow_provider_hwocr.runtime import ledger
from airflow_provider_hwocr.runtime.ledger import (
    CHECK_PREFIX,
    RECORD_PREFIX,
    InvoiceLedger,
    MemoryClaims,
    ObsClaims,
    VariableClaims,
    VariableRecord,
    invoice_key,
)

SLUG = "invoice-verification"
INVOICE = {"code": "011002100111", "number": "12345678", "issue_date": "2024-05-20", "check_code": "123456"}
#: Six spellings of one invoice that the request checks accept: leading zeros lost or added.
SIX_WAYS = [
    INVOICE,
    {**INVOICE, "code": "11002100111"},
    {**INVOICE, "code": "0011002100111"},
    {**INVOICE, "number": "012345678"},
    {**INVOICE, "code": "11002100111", "number": "0012345678"},
    {**INVOICE, "code": "000011002100111", "number": "00012345678"},
]
#: Six spellings of it however written (spaces, full-width digits, date forms): one identity.
WRITTEN_ANYHOW = [
    INVOICE,
    {**INVOICE, "code": " 0110 0210 0111 ", "number": "0012345678"},
    {**INVOICE, "code": "11002100111", "issue_date": "20240520"},
    {**INVOICE, "number": "１２３４５６７８", "issue_date": "2024/5/20"},
    {**INVOICE, "issue_date": "2024年05月20日"},
    {**INVOICE, "code": "00011002100111", "issue_date": "2024.05.20"},
]
#: 2026-12-07 10:00 UTC is 18:00 in China; the next midnight there is 16:00 UTC.
NOON = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def obs(obs_conn):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    return HuaweiObsHook()


@pytest.fixture(autouse=True)
def _fresh_memory():
    MemoryClaims.forget()
    yield
    MemoryClaims.forget()


def _ledger(claims, when=NOON) -> InvoiceLedger:
    return InvoiceLedger(claims, INVOICE_VERIFICATION, clock=lambda: when)


# --- the ledger on its own ------------------------------------------------------------------------


def test_five_checks_a_day_then_the_refusal_names_the_limit_and_when_it_resets():
    book = _ledger(MemoryClaims())
    assert [book.take(fields) for fields in WRITTEN_ANYHOW[:5]] == [1, 2, 3, 4, 5]
    with pytest.raises(HuaweiOcrDailyLimitError) as info:
        book.take(WRITTEN_ANYHOW[5])
    error = info.value
    text = str(error)
    assert "checked 5 times on 2026-12-07" in text and "allows 5 checks of one invoice a day" in text
    assert "daily limit" in text and "Nothing was sent" in text
    assert "2026-12-08 00:00 Asia/Shanghai (2026-12-07 16:00 UTC)" in text
    assert (error.limit, error.day, error.resets_at) == (
        5,
        "2026-12-07",
        datetime(2026, 12, 7, 16, tzinfo=timezone.utc),
    )
    assert isinstance(error, HuaweiCloudNonRetryableError) and not error.retryable
    assert _ledger(MemoryClaims()).take({**INVOICE, "number": "12345679"}) == 1  # another invoice


def test_the_day_is_chinas_and_the_count_starts_again_at_its_midnight():
    claims = MemoryClaims()
    late = datetime(2026, 12, 7, 15, 59, tzinfo=timezone.utc)  # 23:59 in China
    for _ in range(5):
        _ledger(claims, late).take(INVOICE)
    with pytest.raises(HuaweiOcrDailyLimitError):
        _ledger(claims, late).take(INVOICE)
    assert _ledger(claims, late + timedelta(minutes=1)).take(INVOICE) == 1  # 00:00 on the 8th in China


def test_a_refused_check_takes_its_claim_back():
    class Racing(MemoryClaims):
        """Another run claims between this run's look and its claim."""

        def claim(self, day, invoice, token, record):
            super().claim(day, invoice, "the-other-run", record)
            return super().claim(day, invoice, token, record)

    claims = Racing()
    book = _ledger(claims)
    for _ in range(2):
        book.take(INVOICE)  # 2 checks, each with another run's: 4
    with pytest.raises(HuaweiOcrDailyLimitError):
        book.take(INVOICE)  # the 6th claim: refused, and taken back
    key = (NOON.date().isoformat(), invoice_key(normalise_invoice(INVOICE)))
    assert len(MemoryClaims._claims[key]) == 5


def test_next_to_the_output_prefix_one_object_per_check(obs, obs_bucket):
    claims = ObsClaims(lambda: obs, obs_bucket, "out_hwocr/invoice-verification/ledger/")
    book = _ledger(claims)
    for fields in SIX_WAYS[:5]:
        book.take(fields)
    with pytest.raises(HuaweiOcrDailyLimitError) as info:
        book.take(SIX_WAYS[5])
    folder = f"out_hwocr/invoice-verification/ledger/2026-12-07/{invoice_key(normalise_invoice(INVOICE))}/"
    keys = obs.list_keys(obs_bucket, folder)
    assert len(keys) == 5  # the refused claim was deleted
    assert obs.get_json(obs_bucket, keys[0])["invoice"] == {
        "code": "11002100111",
        "number": "12345678",
        "issue_date": "2024-05-20",
    }
    assert f"obs://{obs_bucket}/out_hwocr/invoice-verification/ledger/" in str(info.value)


def test_concurrent_runs_never_take_more_than_five_checks(obs, obs_bucket):
    """Twelve runs check one invoice at once: no count is lost, no sixth check goes ahead."""
    claims = ObsClaims(lambda: obs, obs_bucket, "race/ledger/")
    taken, refused = [], []
    start = threading.Barrier(12)

    def run():
        start.wait()
        try:
            taken.append(_ledger(claims).take(INVOICE))
        except HuaweiOcrDailyLimitError:
            refused.append(1)

    threads = [threading.Thread(target=run) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    listed = obs.list_keys(obs_bucket, "race/ledger/")
    assert len(taken) + len(refused) == 12 and all(n <= 5 for n in taken)
    assert 3 <= len(taken) <= 5  # racing claims step back and try again: most checks are taken
    assert len(listed) == len(taken)  # every check that went ahead is counted, every refused one taken back


def test_both_racers_for_the_last_check_may_be_refused_never_both_let_through(monkeypatch):
    class BothWriteThenBothList(MemoryClaims):
        def claim(self, day, invoice, token, record):
            super().claim(day, invoice, token, record)
            super().claim(day, invoice, "the-other-run", record)  # the other run wrote too
            taken = self.count(day, invoice)
            self.release(day, invoice, "the-other-run")  # ... and, refused, took its claim back
            return taken

    monkeypatch.setattr(ledger, "BACKOFF_SECONDS", 0.001)
    claims = BothWriteThenBothList()
    key = (NOON.date().isoformat(), invoice_key(normalise_invoice(INVOICE)))
    MemoryClaims._claims[key] = ["a", "b", "c", "d"]
    with pytest.raises(HuaweiOcrDailyLimitError, match="other runs were checking it at the same moment"):
        _ledger(claims).take(INVOICE)  # tried ATTEMPTS times, then refused: never a sixth check
    assert MemoryClaims._claims[key] == ["a", "b", "c", "d"]


# --- Airflow Variables (as the task SDK's Variable behaves) ----------------------------------------


class FakeVariables:
    """``airflow.sdk.Variable``'s class methods over a dict (3.2+: with ``keys`` and ``delete``)."""

    store: ClassVar[dict[str, str]] = {}

    @classmethod
    def get(cls, key, default=None):
        return cls.store.get(key, default)

    @classmethod
    def set(cls, key, value):
        cls.store[key] = value

    @classmethod
    def keys(cls, prefix=None):
        return [k for k in cls.store if k.startswith(prefix or "")]

    @classmethod
    def delete(cls, key):
        cls.store.pop(key, None)


class OldVariables:
    """Airflow 3.1's ``Variable``: ``get`` and ``set`` only."""

    store: ClassVar[dict[str, str]] = {}
    get = FakeVariables.__dict__["get"]
    set = FakeVariables.__dict__["set"]


def test_variables_one_per_check_and_past_days_forgotten(monkeypatch):
    monkeypatch.setattr(FakeVariables, "store", {f"{CHECK_PREFIX}2026-12-06.x.old": "{}", "other": "1"})
    book = _ledger(VariableClaims(FakeVariables))
    for fields in SIX_WAYS[:5]:
        book.take(fields)
    with pytest.raises(HuaweiOcrDailyLimitError) as info:
        book.take(SIX_WAYS[5])
    checks = [k for k in FakeVariables.store if k.startswith(CHECK_PREFIX)]
    assert len(checks) == 5 and all(k.startswith(f"{CHECK_PREFIX}2026-12-07.") for k in checks)
    assert "other" in FakeVariables.store  # only past days' checks are deleted
    assert "Airflow Variables hwocr_invoice_check." in str(info.value)


def test_without_variable_keys_one_record_per_invoice_read_back(monkeypatch):
    monkeypatch.setattr(OldVariables, "store", {})
    monkeypatch.setattr(ledger, "Variable", OldVariables)
    claims = ledger._airflow_claims()
    assert isinstance(claims, VariableRecord)
    claims.settle = 0
    book = _ledger(claims)
    for fields in SIX_WAYS[:5]:
        book.take(fields)
    with pytest.raises(HuaweiOcrDailyLimitError):
        book.take(SIX_WAYS[5])
    (record,) = OldVariables.store.values()
    assert list(OldVariables.store) == [f"{RECORD_PREFIX}{invoice_key(normalise_invoice(INVOICE))}"]
    assert '"day":"2026-12-07"' in record and record.count("Z-") == 5
    assert _ledger(claims, NOON + timedelta(days=1)).take(INVOICE) == 1  # a new day: a new record


def test_a_claim_overwritten_by_another_run_is_written_again(monkeypatch):
    class Overwriting(FakeVariables):
        store: ClassVar[dict[str, str]] = {}
        writes = 0

        @classmethod
        def set(cls, key, value):
            cls.writes += 1
            cls.store[key] = value
            if cls.writes == 1:  # another run read before our write and writes after it
                cls.store[key] = '{"day":"2026-12-07","claims":["the-other-run"]}'

    claims = VariableRecord(Overwriting, settle=0)
    assert _ledger(claims).take(INVOICE) == 2  # ours again, after the other run's
    assert Overwriting.writes == 2 and "the-other-run" in next(iter(Overwriting.store.values()))


def test_the_ledger_of_a_task(monkeypatch, caplog):
    import logging

    from airflow_provider_hwocr.catalog import get_api
    from airflow_provider_hwocr.runtime.store import ResultStore

    log = logging.getLogger("test")
    assert ledger.ledger_for(get_api("general-text"), None, lambda: None, log) is None
    store = ResultStore.from_uri("obs://bucket/out/", SLUG, "s0of2")
    on_obs = ledger.ledger_for(get_api(SLUG), store, lambda: None, log)
    assert isinstance(on_obs.claims, ObsClaims)
    assert on_obs.claims.where == "obs://bucket/out_hwocr/invoice-verification/ledger/"  # every shard's
    with caplog.at_level(logging.WARNING):
        in_memory = ledger.ledger_for(get_api(SLUG), None, lambda: None, log)
    assert isinstance(in_memory.claims, MemoryClaims) and "this process only" in caplog.text
    monkeypatch.setattr(ledger, "in_airflow_task", lambda: True)
    from airflow.sdk import Variable

    # Airflow 3.2+ lists Variable keys (one Variable per check); older releases keep one per invoice.
    expected = VariableClaims if callable(getattr(Variable, "keys", None)) else ledger.VariableRecord
    assert isinstance(ledger.ledger_for(get_api(SLUG), None, lambda: None, log).claims, expected)


# --- through the operators, against the emulator ----------------------------------------------------


def _verify(**kwargs):
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrInvoiceVerificationOperator

    return HuaweiOcrInvoiceVerificationOperator(task_id="verify", **kwargs).execute({})


def test_six_checks_with_output_uri_five_reach_the_service(obs, obs_bucket, emulator):
    out = f"obs://{obs_bucket}/verified/"
    for fields in SIX_WAYS[:5]:
        _verify(output_uri=out, skip_existing=False, **fields)  # asked again on purpose
    with pytest.raises(HuaweiOcrDailyLimitError, match="allows 5 checks of one invoice a day") as info:
        _verify(output_uri=out, skip_existing=False, **SIX_WAYS[5])
    assert emulator.count(SLUG) == 5  # the sixth was refused before the call
    assert "(China time, Asia/Shanghai)" in str(info.value) and " UTC)" in str(info.value)
    assert len(obs.list_keys(obs_bucket, "verified_hwocr/invoice-verification/ledger/")) == 5
    # one result however the invoice was written
    results = [k for k in obs.list_keys(obs_bucket, "verified/") if k.endswith(".invoice-verification.json")]
    assert len(results) == 1 and "/11002100111-12345678-" in f"/{results[0]}"


def test_a_batch_is_refused_per_invoice_before_the_call(obs, obs_bucket, emulator):
    from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator

    out = f"obs://{obs_bucket}/verified/"
    for fields in SIX_WAYS[:5]:
        _verify(output_uri=out, skip_existing=False, **fields)
    other = {**INVOICE, "number": "87654321"}
    report = HuaweiOcrBatchOperator(
        task_id="batch",
        api=SLUG,
        images=[SIX_WAYS[5], other],
        output_uri=out,
        skip_existing=False,
        qps=None,
        max_failures=1,
    ).execute({})
    assert emulator.count(SLUG) == 6  # the other invoice only
    assert report["totals"]["done"] == 1 and report["totals"]["failed"] == 1
    manifest = obs.get_json(obs_bucket, report["manifest_uri"].split("/", 3)[3])
    (failed,) = [e for e in manifest["images"] if e["status"] == "failed"]
    assert failed["error_type"] == "HuaweiOcrDailyLimitError" and failed["called"] is False
    assert "the daily limit" in failed["error_message"]


def test_a_verified_invoice_rerun_tomorrow_costs_nothing(obs, obs_bucket, emulator, monkeypatch):
    from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator

    out = f"obs://{obs_bucket}/verified/"
    first = _verify(output_uri=out, **INVOICE)
    assert emulator.count(SLUG) == 1
    tomorrow = ledger.utc_now() + timedelta(days=1)
    monkeypatch.setattr(ledger, "utc_now", lambda: tomorrow)
    for fields in SIX_WAYS:  # what the request checks accept, written differently
        assert _verify(output_uri=out, **fields)["uri"] == first["uri"]
    report = HuaweiOcrBatchOperator(
        task_id="batch", api=SLUG, images=WRITTEN_ANYHOW, output_uri=out, qps=None
    ).execute({})  # six spellings: one invoice, found
    assert report["totals"]["skipped"] == 1 and report["totals"].get("done", 0) == 0
    assert emulator.count(SLUG) == 1  # 0 checks tomorrow
    days = {k.split("/")[3] for k in obs.list_keys(obs_bucket, "verified_hwocr/invoice-verification/ledger/")}
    assert len(days) == 1  # no check was taken tomorrow


def test_the_same_invoice_asked_something_else_is_checked_again(obs, obs_bucket, emulator):
    out = f"obs://{obs_bucket}/verified/"
    first = _verify(output_uri=out, **INVOICE)
    again = _verify(output_uri=out, **{**INVOICE, "check_code": "654321"})  # another question
    assert again["uri"] == first["uri"] and emulator.count(SLUG) == 2


def test_without_output_uri_outside_airflow_the_process_counts(emulator, ocr_conn):
    for fields in SIX_WAYS[:5]:
        _verify(**fields)
    with pytest.raises(HuaweiOcrDailyLimitError, match="this process's memory"):
        _verify(**SIX_WAYS[5])
    assert emulator.count(SLUG) == 5


_DAG_FILE = """
import pendulum
from airflow.sdk import DAG, chain

from airflow_provider_hwocr.operators.ocr import HuaweiOcrInvoiceVerificationOperator

WAYS = {ways!r}

with DAG("hwocr_invoice_ledger", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")) as dag:
    chain(*[HuaweiOcrInvoiceVerificationOperator(task_id=f"check_{{i}}", retries=0, **w) for i, w in enumerate(WAYS)])
"""


def test_without_output_uri_airflow_variables_count_across_runs(
    airflow_db, emulator, ocr_conn, tmp_path, monkeypatch
):
    """Six tasks (six runs of the operator) check one invoice: the sixth is refused before the call,
    the checks are Airflow Variables, which every run of every DAG sees."""
    import warnings

    import airflow.settings
    from airflow.models.variable import Variable as StoredVariable
    from airflow.sdk import Variable
    from airflow.utils.session import create_session

    def stored(prefix: str) -> dict[str, str]:
        with create_session() as session:
            rows = session.query(StoredVariable).filter(StoredVariable.key.like(f"{prefix}%"))
            return {row.key: row.val for row in rows}

    with create_session() as session:
        for prefix in (CHECK_PREFIX, RECORD_PREFIX):
            session.query(StoredVariable).filter(StoredVariable.key.like(f"{prefix}%")).delete(
                synchronize_session=False
            )
    monkeypatch.setenv(ledger.SETTLE_ENV, "0.05")  # Airflow 3.1's record, read back after a pause
    path = tmp_path / "hwocr_invoice_ledger.py"
    path.write_text(_DAG_FILE.format(ways=SIX_WAYS))
    monkeypatch.setattr(airflow.settings, "DAGS_FOLDER", str(tmp_path))
    spec = importlib.util.spec_from_file_location("hwocr_invoice_ledger", path)
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the API's sales have stopped: warned about at parse time
        spec.loader.exec_module(module)

    run = module.dag.test()

    from airflow.models.taskinstance import TaskInstance

    with create_session() as session:
        rows = session.query(TaskInstance.task_id, TaskInstance.state).filter_by(run_id=run.run_id)
        states = {task_id: state for task_id, state in rows if task_id.startswith("check_")}
    assert [states[f"check_{i}"] for i in range(6)] == ["success"] * 5 + ["failed"]
    assert emulator.count(SLUG) == 5
    if callable(getattr(Variable, "keys", None)):  # Airflow 3.2+: one Variable per check
        checks = list(stored(CHECK_PREFIX))
        assert len(checks) == 5 and len({k.rsplit(".", 1)[0] for k in checks}) == 1  # one invoice, one day
    else:  # Airflow 3.1: one Variable per invoice, its claims inside
        (record,) = stored(RECORD_PREFIX).values()
        assert record.count("Z-") == 5
