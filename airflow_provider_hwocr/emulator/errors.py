"""The one exception type the emulator raises to answer a request with an error."""

from __future__ import annotations

from airflow_provider_hwocr.catalog import ERROR_CODES


def catalog_message(code: str, slug: str | None = None) -> str:
    """The documented message of ``code`` (``XXX`` filled with ``slug`` for 4204)."""
    entry = ERROR_CODES.get(code)
    if entry is None:
        return "Emulated failure."
    message = entry.message
    if slug and "XXX" in message:
        message = message.replace("XXX", slug)
    return message


class EmulatorError(Exception):
    """An error answer: HTTP status plus the service's ``{"error_code", "error_msg"}`` body.

    ``detail`` never reaches the body; it goes to the ``X-Emulator-Detail``
    header so that people debugging a client learn *why* without the body
    drifting from what the real service returns. It must never hold secrets.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str | None = None,
        *,
        slug: str | None = None,
        headers: dict[str, str] | None = None,
        detail: str | None = None,
        close: bool = False,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message if message is not None else catalog_message(code, slug)
        self.headers = dict(headers or {})
        self.detail = detail
        #: Close the connection after answering (the body was not read).
        self.close = close
        super().__init__(f"{status} {code}: {self.message}")

    def body(self, request_id: str) -> dict[str, str]:
        return {"error_code": self.code, "error_msg": self.message, "request_id": request_id}


#: Sub-causes the gateway appends to APIG.0301.
AKSK_FAIL = "verify aksk signature fail"
TOKEN_EXPIRED = "token expires"
TOKEN_MISSING = "x-auth-token not found"
TOKEN_UNKNOWN = "decrypt token fail"


def auth_error(cause: str, detail: str | None = None) -> EmulatorError:
    """401 APIG.0301 with the gateway's sub-cause appended to the message."""
    return EmulatorError(
        401,
        "APIG.0301",
        f"{catalog_message('APIG.0301').rstrip('.')}: {cause}",
        detail=detail,
    )
