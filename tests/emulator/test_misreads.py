"""Misreads on purpose (``emulator/misreads.py``): which documents, which field, what confidences,
the same every run; and through the server, the CLI and the environment."""

from __future__ import annotations

import base64
import hashlib
import statistics

import pytest

from airflow_provider_hwocr.catalog.labels import LABELS
from airflow_provider_hwocr.emulator import EmulatorConfig, cli, samples
from airflow_provider_hwocr.emulator.misreads import misread
from airflow_provider_hwocr.emulator.ocr import rapidocr_problem
from tests.helpers.emulator_client import emulator

VAT = "vat-invoice"
#: The sample invoice's fields by name, as the reader returns them.
TRUTH = {LABELS[VAT][label]: value for label, value in samples.VAT_INVOICE_FIELDS.items()}


def answer() -> dict:
    return {**TRUTH, "title": "增值税专用发票", "confidence": dict.fromkeys(TRUTH, 0.999)}


def _data(i: int) -> bytes:
    return hashlib.sha256(str(i).encode()).digest() * 4


def test_a_misread_changes_one_digit_of_one_field_and_lowers_its_confidence():
    result = answer()
    done = misread(VAT, result, b"the image", misread_rate=1.0, false_alarm_rate=0.0, seed=1)
    assert done is not None and done.field in TRUTH and done.was == TRUTH[done.field]
    wrong = {name for name in TRUTH if result[name] != TRUTH[name]}
    assert wrong == {done.field}
    before, after = TRUTH[done.field], result[done.field]
    assert len(before) == len(after)
    diffs = [(a, b) for a, b in zip(before, after) if a != b]
    assert len(diffs) == 1 and diffs[0][0].isdigit() and diffs[0][1].isdigit()
    assert 0 < result["confidence"][done.field] < 1 and done.false_alarms == ()
    assert all(result["confidence"][name] == 0.999 for name in TRUTH if name != done.field)


def test_the_same_document_is_misread_the_same_way_whatever_the_order():
    first = [answer() for _ in range(30)]
    for i, result in enumerate(first):
        misread(VAT, result, _data(i), misread_rate=0.5, false_alarm_rate=0.2, seed=7)
    again = [answer() for _ in range(30)]
    for i in reversed(range(30)):
        misread(VAT, again[i], _data(i), misread_rate=0.5, false_alarm_rate=0.2, seed=7)
    assert again == first
    other = [answer() for _ in range(30)]
    for i, result in enumerate(other):
        misread(VAT, result, _data(i), misread_rate=0.5, false_alarm_rate=0.2, seed=8)
    assert other != first  # another seed, other misreads
    second_pages = [answer() for _ in range(30)]
    for i, result in enumerate(second_pages):
        misread(VAT, result, _data(i), page=2, misread_rate=0.5, false_alarm_rate=0.2, seed=7)
    assert second_pages != first  # a page is a document of its own


def test_rates_and_confidences_follow_the_documented_model():
    n = 3000
    misreads, wrong_conf, alarm_conf, alarms, others = 0, [], [], 0, 0
    for i in range(n):
        result = answer()
        done = misread(VAT, result, _data(i), misread_rate=0.3, false_alarm_rate=0.1, seed=None)
        assert done is not None
        if done.field is not None:
            misreads += 1
            wrong_conf.append(result["confidence"][done.field])
        alarms += len(done.false_alarms)
        others += len(TRUTH) - (done.field is not None)
        alarm_conf += [result["confidence"][name] for name in done.false_alarms]
    assert abs(misreads / n - 0.3) < 0.04  # binomial sd 0.008
    assert abs(alarms / others - 0.1) < 0.02
    assert abs(statistics.mean(wrong_conf) - 4 / 7) < 0.02  # Beta(4, 3)
    assert abs(sum(c > 0.8 for c in wrong_conf) / len(wrong_conf) - 0.099) < 0.03
    assert abs(statistics.mean(alarm_conf) - 0.8) < 0.02  # Beta(8, 2)
    assert abs(sum(c < 0.8 for c in alarm_conf) / len(alarm_conf) - 0.438) < 0.05


def test_nothing_to_touch_is_left_alone():
    assert misread(VAT, answer(), b"x", misread_rate=0.0, false_alarm_rate=0.0) is None
    no_scores = {**TRUTH}
    assert (
        misread(VAT, no_scores, b"x", misread_rate=1.0, false_alarm_rate=1.0) is None and no_scores == TRUTH
    )
    assert (
        misread("general-text", {"words_block_list": []}, b"x", misread_rate=1.0, false_alarm_rate=1.0)
        is None
    )
    words = {"buyer_name": "北京示例科技有限公司", "confidence": {"buyer_name": 0.99}}
    done = misread(VAT, words, b"x", misread_rate=1.0, false_alarm_rate=0.0)
    assert done is not None and done.field is None  # no digit to misread


def test_the_knobs_are_checked_and_set_from_flags_and_the_environment():
    with pytest.raises(ValueError, match="misread_rate"):
        EmulatorConfig(misread_rate=1.5)
    with pytest.raises(ValueError, match="false_alarm_rate"):
        EmulatorConfig(false_alarm_rate=-0.1)
    args = cli.parse(["--misread-rate", "0.05"], {"HWOCR_EMULATOR_FALSE_ALARM_RATE": "0.02"})
    config = cli.config_from_args(args)
    assert (config.misread_rate, config.false_alarm_rate) == (0.05, 0.02)
    assert "misreads 0.05 of documents" in " ".join(cli._fault_knobs(config))


def test_the_server_misreads_the_sample_invoice_and_says_which_field():
    if rapidocr_problem() is not None or samples.cjk_font_path() is None:
        pytest.skip("needs the Chinese reader and font (emulator-zh)")
    image = base64.b64encode(samples.vat_invoice().png).decode()
    body = {"image": image, "advanced_mode": True}
    with emulator(misread_rate=1.0, seed=3) as client:
        response = client.ocr(VAT, body)
        assert response.status_code == 200, response.text
        field = response.headers["X-Emulator-Misread"]
        result = response.json()["result"]
        assert result[field] != TRUTH[field] and result["confidence"][field] < 1
        assert {name for name in TRUTH if result[name] != TRUTH[name]} == {field}
        assert client.ocr(VAT, body).json()["result"] == result  # the same every call
