"""``HuaweiOcrOperator(review_below=...)``: the task becomes the review of its own held answer.

Run with ``dag.test()`` against the emulator and the fast object server. ``dag.test()`` never answers
a review itself (it waits while the task is parked), so a thread answers it the way the REST API's
``PATCH .../hitlDetails`` does: it writes the response into the task instance's ``HITLDetail`` row
(who, when, the chosen option, the edited params) and, on Airflow 3.3+, where the task waits in
``awaiting_input`` without a trigger, resumes it with ``handle_event_submit`` and the row's resume
payload, as the API route does; below 3.3 the task deferred to ``HITLTrigger``, which ``dag.test()``
runs in line and which reads the response from that row.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_hwocr.emulator.samples import vat_invoice
from airflow_provider_hwocr.runtime.review.decision import review_of
from tests.runtime.batch.test_review import PARAMS, invoice_without_total

_DAG_FILE = """
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_hwocr.operators.base import HuaweiOcrOperator

with DAG("hwocr_single_review", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    HuaweiOcrOperator(
        task_id="ocr",
        api="vat-invoice",
        image="obs://{bucket}/in/{name}",
        output_uri={output!r},
        parameters={params!r},
        review_below={{"total": 0.95}},
        review_fields=["total"],
        on_review_timeout="fail",
    )
"""


@pytest.fixture
def obs(fast_conn):
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    return HuaweiObsHook()


def _load(tmp_path, monkeypatch, bucket: str, name: str, *, stored: bool = True):
    import airflow.settings

    path = tmp_path / "hwocr_single_review.py"
    output = f"obs://{bucket}/ocr/" if stored else None
    path.write_text(_DAG_FILE.format(bucket=bucket, name=name, output=output, params=PARAMS))
    monkeypatch.setattr(airflow.settings, "DAGS_FOLDER", str(tmp_path))
    spec = importlib.util.spec_from_file_location("hwocr_single_review", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


class Answer(threading.Thread):
    """Answers the first pending review as the REST API would (see the module); keeps what it saw."""

    def __init__(self, chosen: list[str], params_input: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.chosen, self.params_input = chosen, params_input
        self.seen: dict[str, Any] = {}
        self.states: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set() and not self.seen:
            self._try()
            time.sleep(0.3)

    def _try(self) -> None:
        from airflow.models.hitl import HITLDetail
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with create_session() as session:
            detail = session.scalars(select(HITLDetail).where(HITLDetail.responded_at.is_(None))).first()
            if detail is None:
                return
            ti = detail.task_instance
            parked = ("awaiting_input", "deferred")
            if str(getattr(ti.state, "value", ti.state)) not in parked:
                return  # not parked yet: answering now would not resume it
            self.states.append(str(getattr(ti.state, "value", ti.state)))
            self.seen = {"subject": detail.subject, "body": detail.body, "params": dict(detail.params or {})}
            detail.responded_by = {"id": "li", "name": "Li"}
            detail.responded_at = datetime.now(timezone.utc)
            detail.chosen_options = self.chosen
            detail.params_input = self.params_input
            session.add(detail)
            if hasattr(detail, "as_resume_event_payload") and self.states[-1] == "awaiting_input":
                from airflow.models.trigger import handle_event_submit
                from airflow.triggers.base import TriggerEvent

                handle_event_submit(
                    TriggerEvent(detail.as_resume_event_payload()), task_instance=ti, session=session
                )


def _test(dag, answer: Answer):
    # Everything the answering thread uses is imported (and the ORM configured) here, first: two
    # threads importing Airflow's models at once deadlock on the import lock.
    from airflow.models import import_all_models
    from sqlalchemy.orm import configure_mappers

    import_all_models()
    configure_mappers()
    answer.start()
    try:
        return dag.test()
    finally:
        answer.stop.set()
        answer.join(10)


def _xcom(dag_run, task_id="ocr"):
    (ti,) = [t for t in dag_run.get_task_instances() if t.task_id == task_id]
    return ti.xcom_pull(task_ids=task_id)


def test_a_held_image_waits_for_its_review_and_returns_the_correction_without_a_call(
    airflow_db, emulator, fast_conn, fast_bucket, obs, tmp_path, monkeypatch
):
    emulator.config.results = "computed"
    fast_conn.put_object(fast_bucket, "in/unsure.png", invoice_without_total())
    dag = _load(tmp_path, monkeypatch, fast_bucket, "unsure.png")
    answer = Answer(["Approve"], {"total": "1180.00"})
    dag_run = _test(dag, answer)

    assert dag_run.state == "success"
    assert emulator.count("vat-invoice") == 1  # the call before the review; resuming made none
    assert answer.states and answer.states[0] in ("awaiting_input", "deferred")
    assert "total" in answer.seen["params"] and "unsure.png" in answer.seen["body"]
    (key,) = [k for k in obs.list_keys(fast_bucket, "ocr/") if k.endswith(".vat-invoice.json")]
    stored = obs.get_json(fast_bucket, key)
    assert stored["result"]["total"] == "1180.00"
    review = review_of(stored)
    assert review is not None and (review["outcome"], review["by"]) == ("approved", "li")
    value = _xcom(dag_run)
    assert value["uri"] == f"obs://{fast_bucket}/{key}" and value["review"]["outcome"] == "approved"


def test_a_certain_image_flows_on_without_a_review(
    airflow_db, emulator, fast_conn, fast_bucket, tmp_path, monkeypatch
):
    emulator.config.results = "computed"
    fast_conn.put_object(fast_bucket, "in/good.png", vat_invoice().png)
    dag = _load(tmp_path, monkeypatch, fast_bucket, "good.png")
    answer = Answer(["Approve"], {})
    dag_run = _test(dag, answer)
    assert dag_run.state == "success" and answer.seen == {}
    assert emulator.count("vat-invoice") == 1 and "review" not in _xcom(dag_run)


def test_a_rejection_fails_the_task_and_a_rerun_makes_no_call_and_stays_rejected(
    airflow_db, emulator, fast_conn, fast_bucket, obs, tmp_path, monkeypatch
):
    from airflow_provider_hwocr.errors import HuaweiOcrReviewRejectedError

    emulator.config.results = "computed"
    fast_conn.put_object(fast_bucket, "in/unsure.png", invoice_without_total())
    dag = _load(tmp_path, monkeypatch, fast_bucket, "unsure.png")
    dag_run = _test(dag, Answer(["Reject"], {}))
    assert dag_run.state == "failed"
    (key,) = [k for k in obs.list_keys(fast_bucket, "ocr/") if k.endswith(".vat-invoice.json")]
    assert review_of(obs.get_json(fast_bucket, key))["outcome"] == "rejected"
    # A retry: the stored result is found (no call) and its rejection stands (no new review).
    with pytest.raises(HuaweiOcrReviewRejectedError, match="rejected by li"):
        dag.get_task("ocr").execute({"run_id": "retry"})
    assert emulator.count("vat-invoice") == 1


def test_without_output_uri_the_result_travels_to_the_resumed_task(
    airflow_db, emulator, fast_conn, fast_bucket, tmp_path, monkeypatch
):
    emulator.config.results = "computed"
    fast_conn.put_object(fast_bucket, "in/unsure.png", invoice_without_total())
    dag = _load(tmp_path, monkeypatch, fast_bucket, "unsure.png", stored=False)
    dag_run = _test(dag, Answer(["Approve"], {"total": "1180.00"}))
    assert dag_run.state == "success" and emulator.count("vat-invoice") == 1
    value = _xcom(dag_run)
    assert value["total"] == "1180.00" and value["review"]["outcome"] == "approved"


def test_a_document_with_review_below_is_refused_before_any_call(emulator, fast_conn, fast_bucket):
    from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
    from airflow_provider_hwocr.emulator.samples import vat_invoice_pdf
    from airflow_provider_hwocr.operators.base import HuaweiOcrOperator

    fast_conn.put_object(fast_bucket, "in/x.pdf", vat_invoice_pdf().data, content_type="application/pdf")
    op = HuaweiOcrOperator(
        task_id="ocr", api="vat-invoice", image=f"obs://{fast_bucket}/in/x.pdf", review_below=0.9
    )
    with pytest.raises(HuaweiOcrValidationError, match="review_below"):
        op.execute({"run_id": "r"})
    assert emulator.count("vat-invoice") == 0


def test_review_arguments_are_checked_when_the_dag_is_parsed():
    from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
    from airflow_provider_hwocr.operators.base import HuaweiOcrOperator

    with pytest.raises(HuaweiOcrValidationError, match="on_review_timeout"):
        HuaweiOcrOperator(task_id="a", api="vat-invoice", review_below=0.9, on_review_timeout="later")
    with pytest.raises(HuaweiOcrValidationError, match="review_below"):
        HuaweiOcrOperator(task_id="b", api="general-text", review_below=0.9)  # it scores no field
    with pytest.raises(HuaweiOcrValidationError, match="review_fields"):
        HuaweiOcrOperator(task_id="c", api="vat-invoice", review_fields=["total"])
    op = HuaweiOcrOperator(
        task_id="d", api="vat-invoice", review_below={"total": 0.9, "*": 0.5}, review_timeout=60
    )
    assert op.review_rule is not None and op.review_rule.threshold("total") == 0.9
    assert op.review_timeout is not None and op.review_timeout.total_seconds() == 60
