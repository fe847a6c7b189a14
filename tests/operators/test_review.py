"""``HuaweiOcrReviewOperator``: the form from the stored page, the images the plugin serves, and the
decision written, on the fast object server (which checks ``If-Match`` as OBS does).

The wait itself is the standard provider's: on Airflow 3.3+ the task parks (``TaskAwaitingInput``),
below it defers to ``HITLTrigger`` (this module runs on the 3.1.2 floor too). The system test
``tests/system/test_review.py`` answers real reviews through the REST API.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.integration.review import POINTER_FORMAT, REVIEW_XCOM_KEY, image_key
from airflow_provider_hwocr.operators.review import HuaweiOcrReviewOperator
from airflow_provider_hwocr.runtime.envelopes import envelope, summarize
from tests.helpers.images import png

SLUG = "vat-invoice"
#: A VAT invoice read with its total blurred: the total misread and unsure, the number sure.
RESULT = {
    "number": "12345678",
    "total": "130.00",
    "subtotal_amount": "1000.00",
    "confidence": {"number": 1.0, "total": 0.974, "subtotal_amount": 1.0},
    "text_location": {
        "number": [[200, 173], [351, 173], [351, 203], [200, 203]],
        "total": [[200, 712], [323, 712], [323, 742], [200, 742]],
    },
}
REVIEW = {"review_below": {"total": 0.99, "number": 0.95}, "review_fields": ["total", "number"]}
DAY = "2026-12-07"


class FakeTI:
    """What the operator reads of its task instance, and the XComs it pushes."""

    dag_id = "ocr_invoice_review"
    run_id = "manual__2026-12-07T10:00:00+00:00"
    task_id = "review"
    map_index = 3
    id = "0199f0f0-0000-7000-8000-000000000001"

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = json.loads(json.dumps(value))  # as XCom keeps it: JSON


def _context(ti: FakeTI) -> dict[str, Any]:
    return {"ti": ti, "task_instance": ti}


@pytest.fixture
def page(fast_conn, fast_bucket):
    """A held page in OBS: its source image and its stored result; returns its descriptor."""
    server, bucket = fast_conn, fast_bucket
    server.put_object(bucket, "in/inv-007.png", png((1100, 860), "invoice 7"))
    api = get_api(SLUG)
    env = envelope(
        api=api,
        parameters={"advanced_mode": True, "return_text_location": True},
        source={"kind": "obs", "uri": f"obs://{bucket}/in/inv-007.png", "etag": "e1"},
        request_id="r-1",
        region="cn-north-4",
        result=json.loads(json.dumps(RESULT)),
        summary=summarize(api, RESULT),
    )
    key = "ocr/2026-12-07/inv-007.png-0123456789ab.vat-invoice.json"
    server.put_object(bucket, key, json.dumps(env, ensure_ascii=False).encode(), "application/json")
    return {
        "source": f"obs://{bucket}/in/inv-007.png",
        "page": None,
        "pages": None,
        "result_uri": f"obs://{bucket}/{key}",
        "api": SLUG,
        "fields": ["total"],
        "day": DAY,
    }


@pytest.fixture
def store(fast_conn):
    """An OBS hook on the fast object server (set-up and checks)."""
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    hook = HuaweiObsHook()
    yield hook
    hook.close()


def _op(held: Any, **kwargs: Any) -> HuaweiOcrReviewOperator:
    return HuaweiOcrReviewOperator(task_id="review", held=held, **{**REVIEW, **kwargs})


def _stored(obs: Any, uri: str) -> Any:
    bucket, key = uri.removeprefix("obs://").split("/", 1)
    return json.loads(obs.get_bytes(bucket, key))


class _Waited(Exception):
    """Stands for the wait: what the standard operator's execute() would do next."""


@pytest.fixture
def waits(monkeypatch):
    """The standard operator's execute() (writing the form, then waiting), recorded."""
    from airflow.providers.standard.operators.hitl import HITLOperator

    seen: list[dict[str, Any]] = []

    def execute(self, context):
        seen.append(
            {
                "subject": self.subject,
                "body": self.body,
                "params": self.serialized_params,
                "defaults": self.defaults,
                "options": self.options,
            }
        )
        raise _Waited

    monkeypatch.setattr(HITLOperator, "execute", execute)
    return seen


def test_the_form_links_crops_the_plugin_serves_and_holds_no_signature(page, store, waits):
    ti = FakeTI()
    with pytest.raises(_Waited):
        _op(page, on_timeout="reject").execute(_context(ti))
    (form,) = waits
    body = form["body"]
    base = "/hwocr/review/ocr_invoice_review/manual__2026-12-07T10%3A00%3A00%2B00%3A00/review/3/"
    assert f"]({base}crop/0.png)" in body
    assert f"]({base}page.png)" in body
    assert "价税合计" in body and "130.00" in body and "0.974" in body
    for secret in ("http://", "https://", "Signature", "AccessKeyId", "X-Amz", "Expires="):
        assert secret not in body
    assert form["subject"].startswith("复核")
    assert form["options"] == ["Approve", "Reject"] and form["defaults"] == ["Reject"]
    (name,) = form["params"]  # only the field under its threshold: the number is sure
    assert name == "total"
    assert "130.00" in json.dumps(form["params"])
    pointer = ti.pushed[REVIEW_XCOM_KEY]
    assert pointer["format"] == POINTER_FORMAT and pointer["conn_id"] == "huaweicloud_ocr_default"
    assert set(pointer) == {"format", "bucket", "crops", "page", "conn_id", "region"}
    for image in ("crop/0.png", "page.png"):
        where = image_key(pointer, image)
        assert where is not None, (image, pointer)
        data = store.get_bytes(*where)
        assert data.startswith(b"\x89PNG")
    from PIL import Image

    crop = Image.open(io.BytesIO(store.get_bytes(*image_key(pointer, "crop/0.png"))))
    assert crop.width <= 300 and crop.height < 200  # a crop of the field, not the page


def test_a_second_execute_writes_no_new_crop(page, store, fast_bucket, waits):
    for _ in range(2):
        with pytest.raises(_Waited):
            _op(page).execute(_context(FakeTI()))
    crops = [k for k in store.list_keys(fast_bucket) if "/review-crops/" in k]
    assert len(crops) == 2  # the crop and the page, content-addressed
    assert all(k.startswith("ocr/2026-12-07_hwocr/vat-invoice/review-crops/") for k in crops)


def _answer(user: str | None, option: str, params: dict[str, Any] | None = None, **extra: Any) -> dict:
    return {
        "chosen_options": [option],
        "params_input": params or {},
        "responded_at": datetime(2026, 12, 7, 10, 5, tzinfo=timezone.utc),
        "responded_by_user": None if user is None else {"id": user, "name": user.title()},
        **extra,
    }


def test_a_correction_is_stored_with_the_machines_value_and_written_to_the_table(page, store, fast_bucket):
    pytest.importorskip("pyarrow")
    op = _op(page, table_uri=f"obs://{fast_bucket}/tables/")
    out = op.execute_complete(_context(FakeTI()), _answer("li", "Approve", {"total": "1130.00"}))
    assert out["outcome"] == "approved" and out["by"] == "li" and out["changes"] == ["total"]
    assert out["result_uri"] == page["result_uri"]
    stored = _stored(store, page["result_uri"])
    assert stored["result"]["total"] == "1130.00"
    review = stored["review"]
    assert review["outcome"] == "approved" and review["by"] == "li" and review["timed_out"] is False
    assert review["changes"] == [{"field": "total", "from": "130.00", "to": "1130.00"}]
    assert review["machine"]["total"] == "130.00"
    (table,) = [u for u in out["tables"] if "/vat-invoice/" in u]
    assert f"/dt={DAY}/review-" in table
    import pyarrow.parquet as pq

    bucket, key = table.removeprefix("obs://").split("/", 1)
    row = pq.read_table(io.BytesIO(store.get_bytes(bucket, key))).to_pylist()[0]
    assert row["total"] == pytest.approx(1130.0) or row["total"] == "1130.00"
    assert row["status"] == "ok" and row["reviewed"] is True
    ledger = [k for k in store.list_keys(fast_bucket) if "/reviews/" in k and k.endswith(".approved.json")]
    assert len(ledger) == 1


def test_a_rejection_keeps_the_values_and_marks_the_rows_rejected(page, store, fast_bucket):
    pytest.importorskip("pyarrow")
    op = _op(page, table_uri=f"obs://{fast_bucket}/tables/")
    out = op.execute_complete(_context(FakeTI()), _answer("li", "Reject"))
    assert out["outcome"] == "rejected"
    stored = _stored(store, page["result_uri"])
    assert stored["result"]["total"] == "130.00" and stored["review"]["outcome"] == "rejected"
    import pyarrow.parquet as pq

    (table,) = [u for u in out["tables"] if "/vat-invoice/" in u]
    bucket, key = table.removeprefix("obs://").split("/", 1)
    row = pq.read_table(io.BytesIO(store.get_bytes(bucket, key))).to_pylist()[0]
    assert row["status"] == "rejected" and row["reviewed"] is True


def test_a_timeout_approves_rejects_or_fails_as_on_timeout_says(page, store):
    from airflow_provider_hwocr.runtime.review.apply import HuaweiOcrReviewTimeoutError

    timeout = {"error": "The Human-in-the-loop response timeout has passed", "error_type": "timeout"}
    with pytest.raises(HuaweiOcrReviewTimeoutError):
        _op(page, on_timeout="fail").execute_complete(_context(FakeTI()), timeout)
    assert "review" not in _stored(store, page["result_uri"])  # nothing decided, nothing written
    defaults = _answer(None, "Approve", {"total": "130.00"}, timedout=True)
    out = _op(page, on_timeout="approve").execute_complete(_context(FakeTI()), defaults)
    assert out["outcome"] == "approved" and out["by"] == "timeout" and out["timed_out"] is True
    assert _stored(store, page["result_uri"])["result"]["total"] == "130.00"


def test_a_page_decided_before_is_not_asked_again(page, store, waits):
    _op(page).execute_complete(_context(FakeTI()), _answer("li", "Approve"))
    ti = FakeTI()
    out = _op(page).execute(_context(ti))
    assert out["outcome"] == "approved" and waits == [] and ti.pushed == {}
    again = _op(page).execute_complete(_context(FakeTI()), _answer("li", "Approve"))  # delivered twice
    assert again["outcome"] == "approved" and again["by"] == "li"
    with pytest.raises(ValueError, match="decided meanwhile"):
        _op(page).execute_complete(_context(FakeTI()), _answer("wang", "Reject"))


def test_it_waits_as_the_standard_operator_does_on_this_airflow(page, monkeypatch):
    """3.3+: parked in awaiting_input (no trigger); 3.1 and 3.2: deferred to HITLTrigger, whose params
    carry the form's field with the machine's value (what the triggerer validates answers with)."""
    from airflow.providers.standard.operators import hitl
    from airflow.providers.standard.version_compat import AIRFLOW_V_3_3_PLUS

    written: list[dict[str, Any]] = []
    monkeypatch.setattr(hitl, "upsert_hitl_detail", lambda **kw: written.append(kw))
    with pytest.raises((Exception, BaseException)) as waited:
        _op(page, response_timeout=None).execute(_context(FakeTI()))
    assert not isinstance(waited.value, (KeyError, AttributeError, TypeError)), waited.value
    (detail,) = written
    assert detail["options"] == ["Approve", "Reject"] and "/hwocr/review/" in detail["body"]
    assert "total" in detail["params"]
    if AIRFLOW_V_3_3_PLUS:
        from airflow.sdk.exceptions import TaskAwaitingInput

        assert isinstance(waited.value, TaskAwaitingInput)
        assert waited.value.method_name == "execute_complete"
    else:
        from airflow.providers.standard.triggers.hitl import HITLTrigger

        trigger = waited.value.trigger
        assert isinstance(trigger, HITLTrigger) and waited.value.method_name == "execute_complete"
        assert "total" in trigger.serialize()[1]["params"]


def test_arguments_are_checked_when_the_dag_is_parsed():
    with pytest.raises(ValueError, match="on_timeout"):
        _op({}, on_timeout="later")
    with pytest.raises(ValueError, match="table_format"):
        _op({}, table_format="json")
    with pytest.raises(Exception, match="table_uri"):
        _op({}, table_uri="s3://elsewhere/")
    assert _op({}, on_timeout="approve").defaults == ["Approve"]
    assert _op({}).defaults is None


def test_a_bad_descriptor_fails_naming_held(fast_conn, waits):
    with pytest.raises(ValueError, match="held: the descriptor lacks"):
        _op({"source": "obs://b/x.png"}).execute(_context(FakeTI()))
    with pytest.raises(ValueError, match="review_below"):
        HuaweiOcrReviewOperator(
            task_id="r", held={"source": "s", "result_uri": "obs://b/k", "api": SLUG, "fields": ["total"]}
        ).execute({"ti": FakeTI()})


def test_reviews_map_over_the_batchs_held_pages():
    """``ocr.output["held"]`` is an XCom key, which Airflow cannot map over: held_pages adds a task
    returning the held list from the batch's return value."""
    from airflow.sdk import DAG

    from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator
    from airflow_provider_hwocr.operators.review import held_pages

    with DAG("d", schedule=None) as dag:
        ocr = HuaweiOcrBatchOperator(
            task_id="ocr",
            api=SLUG,
            source_uri="obs://in-bucket/d/",
            output_uri="obs://out-bucket/d/",
            **REVIEW,
        )
        HuaweiOcrReviewOperator.partial(task_id="review", **REVIEW).expand(held=held_pages(ocr))
    held = dag.task_dict["ocr_held"]
    assert held.upstream_task_ids == {"ocr"} and dag.task_dict["review"].upstream_task_ids == {"ocr_held"}
    pick = held.python_callable
    assert pick({"held": [{"source": "s"}], "totals": {}}) == [{"source": "s"}]
    assert pick({"totals": {}}) == [] and pick(None) == []
