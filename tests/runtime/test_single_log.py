"""The task log says what was read after a successful call: the word or field count and, unless the
API reads ID documents (personal data) or ``log_text=False``, the first line of text."""

from __future__ import annotations

import logging
import re

import pytest

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.catalog.apis import ID_DOCUMENTS
from airflow_provider_hwocr.runtime.single import first_line
from tests.helpers.images import png


def _read_lines(caplog, capsys) -> list[str]:
    """The "Read ..." lines of the task's log (through logging, or printed by Airflow's structlog)."""
    records = [r.getMessage() for r in caplog.records]
    printed = [line.split("] ", 1)[-1] for line in capsys.readouterr().out.splitlines()]
    found = [m for m in records if m.startswith("Read ")]
    return found or [re.sub(r"\s+\[airflow\.task.*$", "", m) for m in printed if m.startswith("Read ")]


def _general_text(**kwargs):
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator

    return HuaweiOcrGeneralTextOperator(task_id="t", image=png(), **kwargs)


def _id_card(**kwargs):
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrIdCardOperator

    return HuaweiOcrIdCardOperator(task_id="t", image=png(), **kwargs)


def test_a_general_text_run_logs_its_word_count_and_first_line(emulator, ocr_conn, caplog, capsys):
    caplog.set_level(logging.INFO)
    result = _general_text().execute({})
    line = first_line(result)
    assert line
    (read,) = _read_lines(caplog, capsys)
    assert read.endswith(f"first line: {line!r}") and " word(s)" in read


def test_an_id_card_run_does_not_log_the_name_by_default(emulator, ocr_conn, caplog, capsys):
    caplog.set_level(logging.INFO)
    result = _id_card().execute({})
    name = result["name"]
    assert name
    (read,) = _read_lines(caplog, capsys)
    assert "field(s)" in read and "first line" not in read
    assert name not in caplog.text and name not in read


def test_log_text_true_logs_an_id_cards_first_line(emulator, ocr_conn, caplog, capsys):
    caplog.set_level(logging.INFO)
    result = _id_card(log_text=True).execute({})
    (read,) = _read_lines(caplog, capsys)
    assert first_line(result) and read.endswith(f"first line: {first_line(result)!r}")


def test_log_text_false_keeps_general_text_out(emulator, ocr_conn, caplog, capsys):
    caplog.set_level(logging.INFO)
    _general_text(log_text=False).execute({})
    (read,) = _read_lines(caplog, capsys)
    assert "first line" not in read


@pytest.mark.parametrize("value", ["maybe", 2])
def test_log_text_is_read_strictly(value):
    from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError

    with pytest.raises(HuaweiOcrValidationError, match="log_text"):
        _general_text(log_text=value)


def test_the_id_documents_are_apis_of_the_catalog():
    assert {"id-card", "passport", "driver-license", "exit-entry-permit"} <= ID_DOCUMENTS
    for slug in ID_DOCUMENTS:
        get_api(slug)  # each names an API
