"""The error codes the docs name (``catalog/errors.py``), and their categories."""

from __future__ import annotations

from airflow_provider_hwocr.catalog import ERROR_CODES, LONG_DELAY_SECONDS


def test_every_code_has_a_known_category():
    categories = {e.category for e in ERROR_CODES.values()}
    assert categories <= {
        "invalid_input", "auth", "not_subscribed", "not_found", "throttled", "transient", "failed",
        "long_delay", "configuration",
    }  # fmt: skip


def test_the_docs_decide_the_categories_issue_19_names():
    assert ERROR_CODES["AIS.0118"].category == "long_delay" and LONG_DELAY_SECONDS == 7200
    assert ERROR_CODES["ModelArts.4201"].category == ERROR_CODES["ModelArts.4202"].category == "configuration"
    assert (
        ERROR_CODES["APIG.0308"].category == "throttled"
        and ERROR_CODES["AIS.0104"].category == "invalid_input"
    )
    assert ERROR_CODES["ModelArts.4204"].message.endswith("is not subscribed.")


def test_obs_fetch_error_codes_are_documented_codes() -> None:
    from airflow_provider_hwocr.catalog import ERROR_CODES, OBS_FETCH_ERROR_CODES

    assert OBS_FETCH_ERROR_CODES <= set(ERROR_CODES)
    assert "ModelArts.4702" in OBS_FETCH_ERROR_CODES  # the agency (OBS Authorization) is missing


def test_hints_are_catalog_data_read_by_the_client():
    from airflow_provider_hwocr.catalog.errors import CATEGORY_HINTS, UNAUTHORIZED_CODE, code_hint
    from airflow_provider_hwocr.client.errors import error_from_response

    assert set(CATEGORY_HINTS) <= {e.category for e in ERROR_CODES.values()}
    assert code_hint(None, 401) == ERROR_CODES[UNAUTHORIZED_CODE].hint
    assert code_hint(None, 403) is None and code_hint("AIS.0101") is None
    for code in ("APIG.0301", "APIG.0308", "APIG.0201", "ModelArts.6201", "ModelArts.4702"):
        err = error_from_response(400, {"error_code": code, "error_msg": "x"})
        assert err.hint == ERROR_CODES[code].hint, code
    err = error_from_response(400, {"error_code": "AIS.0118", "error_msg": "x"})
    assert err.hint == CATEGORY_HINTS["long_delay"].format(hours=LONG_DELAY_SECONDS // 3600)
