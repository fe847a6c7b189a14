"""Checks an OCR request body the way the service does, driven by the catalog.

Order of checks, first failure wins (all answered with HTTP 400):

1. body larger than the limit                      -> ModelArts.4104
2. body not JSON, or not a JSON object             -> ModelArts.4105
3. not exactly one of the image field and ``url``  -> AIS.0101
   (an API without image: an image field or ``url`` at all)
4. a key the API does not know                     -> AIS.0101
5. a parameter of the wrong type or value          -> AIS.0101
   (a required one missing, both or neither of an exclusive pair, a text not in its
   documented form: the catalog's pattern, a ``YYYY-MM-DD`` date)
   invoice-verification: what the tax authority cannot check -> AIS.0101
   (the catalog's invoice rules, see :mod:`.invoices`)
6. image field / url not a non-empty string        -> AIS.0101
7. Base64 text longer than the API's limit         -> AIS.0103
8. not strict Base64, or a ``data:`` prefix        -> AIS.0102
   url not http(s)                                 -> ModelArts.4601
   url download failed                             -> ModelArts.4603
9. bytes not in a format the API accepts           -> AIS.0102
10. sides or pixel count outside the API's limits  -> AIS.0103 (PDF, OFD: the page, in 12)
11. a file cut short or broken (no PNG IEND, no JPEG EOI, ...) -> AIS.0104
12. a document (PDF, OFD) that cannot be opened or has no pages -> AIS.0104;
    the page the API's page field selects (page 1 without one) past the last page -> AIS.0101;
    that page, rendered at 150 dpi, outside the API's side limits -> AIS.0103 (see :mod:`.pages`)
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from airflow_provider_hwocr.catalog import Api, Limits, Param
from airflow_provider_hwocr.catalog.invoice_rules import invoice_rules
from airflow_provider_hwocr.catalog.pages import page_field
from airflow_provider_hwocr.emulator import invoices, pages
from airflow_provider_hwocr.emulator.config import EmulatorConfig
from airflow_provider_hwocr.emulator.errors import EmulatorError
from airflow_provider_hwocr.emulator.images import (
    ImageProblem,
    TooLarge,
    base64_length,
    decode_base64,
    fetch_url,
    image_size,
    incomplete,
    sniff_format,
)


@dataclass(frozen=True)
class CheckedImage:
    """An image that passed every check: its bytes, format and (width, height) if known.

    For a document (PDF, OFD), ``page`` is the page to read (1-based) and ``pages`` how many
    it has; an image is page 1 of 1.
    """

    data: bytes
    fmt: str
    size: tuple[int, int] | None
    page: int = 1
    pages: int = 1


#: What an API without image (invoice-verification) is "read" from: nothing.
NO_IMAGE = CheckedImage(b"", "NONE", None)


def _bad(code: str, detail: str) -> EmulatorError:
    return EmulatorError(400, code, detail=detail)


def parse_body(raw: bytes, max_body_bytes: int) -> dict[str, Any]:
    """The request body as a JSON object, or 400 ModelArts.4104 / ModelArts.4105."""
    if len(raw) > max_body_bytes:
        raise _bad("ModelArts.4104", f"request body is larger than {max_body_bytes} bytes")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _bad("ModelArts.4105", "request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _bad("ModelArts.4105", "request body is not a JSON object")
    return body


def _int_ok(param: Param, value: Any) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and (param.minimum is None or value >= param.minimum)
    )


def _str_ok(param: Param, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if value == "":
        return param.empty is not None
    if param.pattern is not None and re.fullmatch(param.pattern, value) is None:
        return False
    if param.date and not _is_date(value):
        return False
    return param.allowed is None or value in param.allowed


def _is_date(value: str) -> bool:
    """A calendar date written ``YYYY-MM-DD``."""
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None


def _str_list_ok(param: Param, value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(item, str) and (param.allowed is None or item in param.allowed) for item in value
    )


def _json_str_ok(param: Param, value: Any) -> bool:
    """A string holding a JSON object."""
    if not isinstance(value, str):
        return False
    try:
        return isinstance(json.loads(value), dict)
    except ValueError:
        return False


#: Parameter kind -> whether a JSON value is acceptable for a parameter of that kind.
_VALUE_CHECKS: dict[str, Callable[[Param, Any], bool]] = {
    "bool": lambda param, value: isinstance(value, bool),
    "int": _int_ok,
    "str": _str_ok,
    "object": lambda param, value: isinstance(value, dict),
    "str_list": _str_list_ok,
    "json_str": _json_str_ok,
}


def param_value_ok(param: Param, value: Any) -> bool:
    """Whether ``value`` is acceptable JSON for ``param`` (``null`` never is)."""
    check = _VALUE_CHECKS.get(param.kind)
    return check is not None and check(param, value)


def _image_sources(api: Api, body: dict[str, Any]) -> list[str]:
    """The image keys the body uses: exactly one of the image field and ``url`` (none for an API without image)."""
    if api.image_field is None:
        if any(key in body for key in ("image", "data", "url")):
            raise _bad("AIS.0101", f"{api.slug} takes no image")
        return []
    sources = [key for key in (api.image_field, api.url_field) if key in body]
    if len(sources) != 1:
        raise _bad("AIS.0101", f"send exactly one of {api.image_field!r} and {api.url_field!r}")
    return sources


def _check_presence(api: Api, body: dict[str, Any]) -> None:
    """Required parameters are there; of an exclusive pair, exactly one is."""
    for p in api.params:
        if p.required and p.name not in body:
            raise _bad("AIS.0101", f"parameter {p.name!r} is required")
        if p.one_of is not None and (p.name in body) == (p.one_of in body):
            raise _bad("AIS.0101", f"send exactly one of {p.name!r} and {p.one_of!r}")


def _check_values(api: Api, body: dict[str, Any]) -> None:
    """Every key besides the image's is a parameter of the API, with an acceptable value."""
    params = {p.name: p for p in api.params}
    for key, value in body.items():
        if key in (api.image_field, api.url_field):
            continue
        param = params.get(key)
        if param is None:
            raise _bad("AIS.0101", f"unknown parameter {key[:64]!r}")
        if not param_value_ok(param, value):
            raise _bad("AIS.0101", f"parameter {key!r} has an invalid value")


def check_params(api: Api, body: dict[str, Any]) -> str | None:
    """Check keys and parameter values; return which image key is used (image field, ``url`` or none)."""
    sources = _image_sources(api, body)
    _check_presence(api, body)
    _check_values(api, body)
    rules = invoice_rules(api.slug)
    if rules is not None:
        invoices.check_invoice(body, rules, invoices.china_today(rules.dates))
    if not sources:
        return None
    source = sources[0]
    if not isinstance(body[source], str) or not body[source]:
        raise _bad("AIS.0101", f"{source!r} must be a non-empty string")
    return source


def _size(data: bytes, fmt: str) -> tuple[int, int] | None:
    """(width, height) from the header; None when the format does not say."""
    try:
        return image_size(data, fmt)
    except TooLarge:
        raise _bad("AIS.0103", f"{fmt} image is far too large") from None
    except ValueError:
        raise _bad("AIS.0102", f"{fmt} image header is damaged") from None


def _check_sides(limits: Limits, width: int, height: int) -> None:
    # Both side rules of the catalog ("each side within [min, max]" and "short
    # side >= min, long side <= max") come to the same test for two sides.
    if min(width, height) < limits.min_side or max(width, height) > limits.max_side:
        raise _bad(
            "AIS.0103",
            f"image is {width}x{height}; sides must be within {limits.min_side}..{limits.max_side}",
        )
    if limits.max_pixels is not None and width * height > limits.max_pixels:
        raise _bad("AIS.0103", f"image has more than {limits.max_pixels} pixels")


def check_image(limits: Limits, data: bytes) -> CheckedImage:
    """Check format and size of decoded image bytes."""
    fmt = sniff_format(data)
    if fmt is None:
        raise _bad("AIS.0102", "image bytes are not in a recognised format")
    if fmt not in limits.formats:
        raise _bad("AIS.0102", f"{fmt} is not accepted by this API")
    # Sides are not checked for documents (PDF, OFD).
    size = None if fmt in ("PDF", "OFD") else _size(data, fmt)
    if size is not None:
        _check_sides(limits, *size)
    problem = incomplete(data, fmt)
    if problem is not None:
        raise _bad("AIS.0104", problem)
    return CheckedImage(data, fmt, size)


def load_image(api: Api, source: str, value: str, config: EmulatorConfig) -> bytes:
    """The image bytes, from Base64 text or downloaded from a URL."""
    limit = api.limits.max_base64_bytes
    try:
        if source == api.image_field:
            if len(value) > limit:
                raise _bad("AIS.0103", f"Base64 image is longer than {limit} characters")
            return decode_base64(value)
        data = fetch_url(value, config.fetch_timeout, (limit // 4) * 3)
        if base64_length(len(data)) > limit:
            raise _bad("AIS.0103", "downloaded image is larger than the size limit")
        return data
    except ImageProblem as problem:
        raise _bad(problem.code, problem.detail) from None


def check_page(api: Api, body: dict[str, Any], image: CheckedImage) -> CheckedImage:
    """Check 12: the page of a document the request selects exists and fits the limits once rendered."""
    if image.fmt not in pages.DOCUMENT_FORMATS:
        return image  # an image has no pages: a page field sent with it has nothing to choose
    number = pages.requested_page(api, body)
    try:
        outline = pages.outline(image.data, image.fmt, number)
    except pages.DocumentProblem as problem:
        raise _bad("AIS.0104", str(problem)) from None
    if outline.size is None:
        raise _bad(
            "AIS.0101",
            f"{page_field(api)} is {number}, past the last page of the {image.fmt} ({outline.pages})",
        )
    _check_sides(api.limits, *outline.size)
    return replace(image, page=number, pages=outline.pages)


def validate(api: Api, body: dict[str, Any], config: EmulatorConfig) -> CheckedImage:
    """Run checks 3-12 on a body :func:`parse_body` returned; return the checked image."""
    source = check_params(api, body)
    if source is None:
        return NO_IMAGE
    data = load_image(api, source, body[source], config)
    return check_page(api, body, check_image(api.limits, data))
