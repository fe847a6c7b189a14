"""From a running operator's settings to its pipeline (``runtime.task``): rendered parameters validated
there, where results go, what is worth a warning, and which price an estimate uses."""

from __future__ import annotations

import logging

import pytest

from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.runtime.store import ResultStore
from airflow_provider_hwocr.runtime.task import pipeline_for as _pipeline_for
from airflow_provider_hwocr.runtime.task import price_of as _price_of
from tests.helpers.airflow_env import CONN_ENV, conn_json
from tests.helpers.client_support import SLUG


def operator(**kwargs):
    from airflow_provider_hwocr.operators.base import HuaweiOcrOperator

    return HuaweiOcrOperator(**{"task_id": "t", "api": SLUG, "image": "x.png", **kwargs})


def pipeline_for(op, *, shard: str = ""):
    """The pipeline ``execute()`` builds: from the operator's checked settings and collaborators."""
    return _pipeline_for(op._ocr_settings(), op.hook, op._collaborators(), shard=shard)


def price_of(op, hook):
    return _price_of(op._ocr_settings(), hook)


def test_without_output_there_is_no_store_and_nothing_to_skip(ocr_conn):
    pipe = pipeline_for(operator())
    assert pipe.store is None and pipe.skip_existing is False and pipe.api.slug == SLUG


def test_the_store_follows_output_uri_and_the_shard(ocr_conn):
    op = operator(output_uri="obs://results-bkt/out", skip_existing=False)
    pipe = pipeline_for(op, shard="s1of2")
    assert pipe.store == ResultStore("results-bkt", "out/", SLUG, "s1of2")
    assert pipe.skip_existing is False
    assert pipeline_for(operator(output_uri="obs://results-bkt/out/")).skip_existing is True


def test_rendered_parameters_are_validated_before_any_call(emulator, ocr_conn):
    op = operator(parameters={"quick_mode": "{{ params.quick }}"})  # templated: not checkable at parse time
    op.parameters = {"quick_mode": "perhaps"}  # what it rendered to
    with pytest.raises(HuaweiOcrValidationError) as info:
        pipeline_for(op)
    assert info.value.parameter == "quick_mode"
    op.parameters = {"quick_mode": "true", "language": None}
    assert pipeline_for(op).params == {"quick_mode": True}  # normalised once, None left out
    assert emulator.count() == 0


def _logged(caplog, capsys) -> str:
    """What the task logged (Airflow's task logger prints; plain logging goes to caplog)."""
    text = caplog.text + capsys.readouterr().out
    caplog.clear()
    return text


def test_inline_files_without_an_output_are_worth_a_warning(ocr_conn, caplog, capsys):
    caplog.set_level(logging.WARNING)
    pipeline_for(operator(api="general-table", parameters={"return_excel": True}, max_xcom_bytes=1234))
    text = _logged(caplog, capsys)
    assert "return_excel returns files or images inline" in text and "1234 bytes" in text
    pipeline_for(
        operator(api="general-table", parameters={"return_excel": True}, output_uri="obs://results-bkt/o/")
    )
    assert "inline" not in _logged(caplog, capsys)


def test_an_enterprise_project_the_docs_do_not_list_is_sent_with_a_warning(ocr_conn, caplog, capsys):
    caplog.set_level(logging.WARNING)
    pipe = pipeline_for(operator(api="web-image", enterprise_project_id="ep-1"))
    assert pipe.enterprise_project_id == "ep-1"
    assert "Enterprise-Project-Id header for web-image" in _logged(caplog, capsys)
    pipeline_for(operator(enterprise_project_id="ep-1"))  # general-text lists it
    assert "Enterprise-Project-Id" not in _logged(caplog, capsys)


def test_price_of_the_task_then_of_the_connection(emulator, monkeypatch):
    monkeypatch.setenv(CONN_ENV, conn_json(emulator, extra={"price_per_call": "0.5"}))
    op = operator(price_per_call=0.2)
    assert price_of(op, op.hook) == 0.2
    op = operator()
    assert price_of(op, op.hook) == 0.5
    monkeypatch.setenv(CONN_ENV, conn_json(emulator))
    op = operator()
    assert price_of(op, op.hook) is None
