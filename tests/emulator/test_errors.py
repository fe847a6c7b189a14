"""The emulator's error answers (``emulator/errors.py``): the catalog's messages, the gateway's auth
sub-causes, and a detail that stays out of the body.
"""

from __future__ import annotations

from airflow_provider_hwocr.catalog import ERROR_CODES
from airflow_provider_hwocr.emulator.errors import TOKEN_EXPIRED, EmulatorError, auth_error, catalog_message


def test_catalog_messages_name_the_api_and_unknown_codes_get_a_generic_one():
    assert (
        catalog_message("ModelArts.4204", "passport")
        == "Request api error! The API passport is not subscribed."
    )
    assert catalog_message("AIS.0101") == ERROR_CODES["AIS.0101"].message
    assert catalog_message("NOPE.0000") == "Emulated failure."


def test_the_detail_never_reaches_the_body():
    error = EmulatorError(400, "AIS.0102", detail="the Base64 had a newline")
    assert error.body("rid") == {
        "error_code": "AIS.0102", "error_msg": ERROR_CODES["AIS.0102"].message, "request_id": "rid",
    }  # fmt: skip
    denied = auth_error(TOKEN_EXPIRED, "issued 25 h ago")
    assert (denied.status, denied.code, denied.detail) == (401, "APIG.0301", "issued 25 h ago")
    assert denied.message == "Incorrect IAM authentication information: token expires"
    assert "issued" not in str(denied.body("rid"))
