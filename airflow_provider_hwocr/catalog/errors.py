"""Error codes the OCR service documents, and how a client should treat each.

Categories:

* invalid_input: the request itself is wrong; retrying cannot help.
* auth: credentials, token, account or permission problem.
* not_subscribed: the API is not enabled for this account in this region.
* not_found: no such API at this endpoint (wrong region, path or project id).
* throttled: rate or concurrency limit; retry later.
* transient: the service or its backend failed; a retry may succeed.
* failed: the service could not process this image; retrying the same
  image is unlikely to help.
* long_delay: a backend the service depends on is down for a while (the tax
  authority's interface, AIS.0118); retry after hours, never at once.
* configuration: the request URL itself is malformed (ModelArts.4201/4202):
  a wrong endpoint or path, not a wrong image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ErrorCategory = Literal[
    "invalid_input",
    "auth",
    "not_subscribed",
    "not_found",
    "throttled",
    "transient",
    "failed",
    "long_delay",
    "configuration",
]

#: How long the docs say to wait before retrying a ``long_delay`` error (AIS.0118: about 2 hours).
LONG_DELAY_SECONDS = 2 * 3600


@dataclass(frozen=True)
class ErrorCode:
    code: str
    message: str
    category: ErrorCategory
    #: What to do about it, when the code says more than its category does.
    hint: str | None = None


_TABLE = (
    ErrorCode("AIS.0101", "The input parameter is invalid.", "invalid_input"),
    ErrorCode("AIS.0102", "The image format is not supported.", "invalid_input"),
    ErrorCode("AIS.0103", "The image size does not meet the requirements.", "invalid_input"),
    ErrorCode("AIS.0104", "The image is not supported or the image quality is poor.", "invalid_input"),
    ErrorCode("AIS.0105", "Recognition failed.", "failed"),
    ErrorCode("AIS.0117", "Input ID does not exist.", "invalid_input"),
    ErrorCode(
        "AIS.0118", "Service request error or the tax authority's interface was malfunctioning.", "long_delay"
    ),
    ErrorCode("AIS.0119", "Template match failed, template_id={xxx}.", "invalid_input"),
    ErrorCode("AIS.0120", "Classification failed.", "failed"),
    ErrorCode(
        "AIS.0121", "The recognition area of template is not configured, template_id={xxx}", "invalid_input"
    ),
    ErrorCode("AIS.0122", "The image contains two or more ID cards with the same side.", "invalid_input"),
    ErrorCode("ModelArts.0203", "Invalid token.", "auth"),
    ErrorCode("ModelArts.4101", "Token header cannot be empty.", "auth"),
    ErrorCode("ModelArts.4102", "Parse Token error.", "auth"),
    ErrorCode("ModelArts.4103", "Invalid Token header.", "auth"),
    ErrorCode("ModelArts.4104", "Invalid Request Content Length.", "invalid_input"),
    ErrorCode("ModelArts.4105", "The JSON format of the input data is incorrect.", "invalid_input"),
    ErrorCode("ModelArts.4106", "Invalid authorization request.", "auth"),
    ErrorCode("ModelArts.4107", "Get user temp ak sk error.", "transient"),
    ErrorCode("ModelArts.4201", "Request url need service id.", "configuration"),
    ErrorCode("ModelArts.4202", "Request url format invalid.", "configuration"),
    ErrorCode("ModelArts.4203", "Access denied! You do not have permission.", "auth"),
    ErrorCode("ModelArts.4204", "Request api error! The API XXX is not subscribed.", "not_subscribed"),
    ErrorCode("ModelArts.4301", "Have error when get ai-service admin token.", "transient"),
    ErrorCode("ModelArts.4302", "Gateway forwarding error.", "transient"),
    ErrorCode("ModelArts.4401", "Max concurrency error.", "throttled"),
    ErrorCode("ModelArts.4402", "Backend service timeout error.", "transient"),
    ErrorCode("ModelArts.4403", "Backend service unavailable error.", "transient"),
    ErrorCode("ModelArts.4502", "Backend service response error.", "transient"),
    ErrorCode("ModelArts.4503", "Backend service found error.", "not_found"),
    ErrorCode("ModelArts.4504", "Backend service api not found.", "not_found"),
    ErrorCode("ModelArts.4505", "Backend service internal error.", "transient"),
    ErrorCode("ModelArts.4506", "SubService service found error.", "not_found"),
    ErrorCode("ModelArts.4508", "Service not start.", "transient"),
    ErrorCode(
        "ModelArts.4601",
        "Failed to download the file because the file path is not valid, please check it format.",
        "invalid_input",
    ),
    ErrorCode("ModelArts.4603", "Obtaining the file from the URL failed.", "invalid_input"),
    ErrorCode(
        "ModelArts.4702",
        "Query Obs agency failed.",
        "auth",
        hint="Enable 'OBS Authorization' for OCR in the OCR console of this region.",
    ),
    ErrorCode("ModelArts.4703", "The Obs URL is invalid.", "invalid_input"),
    ErrorCode("ModelArts.4704", "Obtaining the file from the OBS failed.", "invalid_input"),
    ErrorCode("ModelArts.4705", "The file stored on the OBS is oversized.", "invalid_input"),
    ErrorCode("ModelArts.4706", "The Obs file is not exist.", "invalid_input"),
    ErrorCode(
        "ModelArts.6201",
        "The user account has been suspended. Please check if you have an outstanding balance.",
        "auth",
        hint="The account is suspended; check for an outstanding balance.",
    ),
    ErrorCode(
        "APIG.0101", "The API does not exist or has not been published in the environment.", "not_found"
    ),
    ErrorCode(
        "APIG.0201",
        "Backend timeout.",
        "transient",
        hint=(
            "If calls are frequent, retry after 2-5 s or wait for one answer before the next; "
            "for large images or slow networks, compress the image."
        ),
    ),
    ErrorCode(
        "APIG.0301",
        "Incorrect IAM authentication information.",
        "auth",
        hint=(
            "Check the credentials: AK/SK (no stray spaces; five consecutive AK/SK failures lock the key "
            "for 5 minutes), or an expired or foreign token; also that the account is not frozen."
        ),
    ),
    ErrorCode(
        "APIG.0308",
        "The throttling threshold has been reached: policy user over ratelimit,limit:XX,time:1 minute.",
        "throttled",
        hint="Reduce the request rate (lower qps or max_concurrency).",
    ),
)

ERROR_CODES: dict[str, ErrorCode] = {e.code: e for e in _TABLE}

#: The code whose hint also fits an HTTP 401 that names no code (the gateway refused the credentials).
UNAUTHORIZED_CODE = "APIG.0301"

#: What to do about an error of a category, whatever its code; ``str.format`` templates of
#: ``what`` (the API), ``where`` (the region) and ``hours`` (:data:`LONG_DELAY_SECONDS` in hours).
CATEGORY_HINTS: dict[str, str] = {
    "not_subscribed": (
        "Subscribe to {what} in the OCR console of {where}. If it is already subscribed there, "
        "check that the subscription and this call use the same account and region."
    ),
    "not_found": (
        "The endpoint has no such API: check that the region matches the endpoint, that the project id "
        "is the id of the project for this region, and that the API is offered in this region."
    ),
    "long_delay": (
        "The tax authority's interface is down; retry in about {hours} hours "
        "(HWOCR_RETRY_POLICY waits that long; an immediate retry would fail the same way)."
    ),
    "configuration": (
        "The request URL is malformed: check the connection's endpoint (no path, no query) and the "
        "project id; the image is not the problem."
    ),
}


def code_hint(code: str | None, status: int | None = None) -> str | None:
    """The hint of error ``code`` (an HTTP 401 without code takes :data:`UNAUTHORIZED_CODE`'s)."""
    if code is None and status == 401:
        code = UNAUTHORIZED_CODE
    known = ERROR_CODES.get(code) if code else None
    return known.hint if known else None


#: Codes with which the service says it could not read an image from OBS (a ``url``
#: pointing at a bucket): the object is missing or unreadable, the URL malformed, or the
#: service's OBS authorisation (agency) is not set up.
OBS_FETCH_ERROR_CODES = frozenset(
    {"ModelArts.4603", "ModelArts.4702", "ModelArts.4703", "ModelArts.4704", "ModelArts.4706"}
)

#: What to tell a user whose ``image_source='authorized'`` call failed with one of
#: :data:`OBS_FETCH_ERROR_CODES`: the service reads the bucket itself, which needs both of these.
AUTHORIZED_SOURCE_HINT = (
    "image_source='authorized' needs OBS Authorization enabled in the OCR console and the "
    "bucket in the same region as OCR; or use image_source='signed_url'."
)
