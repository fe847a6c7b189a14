"""Checks of operator arguments: in ``__init__`` on what is known when the DAG is parsed, and
once at the start of ``execute()`` on what templates rendered to, where the operator builds the
run's settings (:mod:`airflow_provider_hwocr.runtime.contract`) from the values they return.

Each check raises :class:`~airflow_provider_hwocr.client.errors.HuaweiOcrValidationError`
naming the argument, before anything is called. Cheap to import (DAG files load it): no
hook, no SDK, no I/O. The runtime receives values these checks have passed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.client.flags import parse_flag
from airflow_provider_hwocr.client.sources import ObsLocation, parse_obs_uri

if TYPE_CHECKING:
    from airflow_provider_hwocr.hooks.obs_match import ObsKeyQuery
    from airflow_provider_hwocr.runtime.review.rule import ReviewRule

__all__ = [
    "DEFAULT_LEASE_TTL",
    "DEFAULT_MAX_PAGES",
    "IMAGE_SOURCES",
    "MAX_SIGNED_URL_SECONDS",
    "check_export_text",
    "check_flag",
    "check_image_source",
    "check_images",
    "check_lease_ttl",
    "check_max_calls",
    "check_max_failures",
    "check_max_pages",
    "check_max_xcom_bytes",
    "check_number",
    "check_obs_uri",
    "check_on_timeout",
    "check_optional_number",
    "check_output_uri",
    "check_pages",
    "check_parameters",
    "check_price",
    "check_ratio",
    "check_review",
    "check_review_timeout",
    "check_shard",
    "check_signed_url_expires",
    "check_whole",
    "images_query",
    "is_deferred",
    "is_static",
    "output_location",
    "when_static",
]

#: How the service gets an ``obs://`` image (see ``HuaweiOcrOperator(image_source=...)``).
IMAGE_SOURCES = ("signed_url", "authorized", "inline")
#: Longest validity accepted for signed URLs (OBS allows up to 7 days).
MAX_SIGNED_URL_SECONDS = 7 * 24 * 3600
#: Seconds a batch's lease lives without a heartbeat (``HuaweiOcrBatchOperator(lease_ttl=...)``);
#: the runtime always gets the task's value in its settings.
DEFAULT_LEASE_TTL = 180.0
#: The most pages of one PDF or OFD document a task reads (``max_pages=``), each page one call:
#: ``client.documents.DEFAULT_MAX_PAGES``, spelled here so that a DAG file does not load that module
#: (a test holds the two equal).
DEFAULT_MAX_PAGES = 50


def _fail(parameter: str, message: str) -> HuaweiOcrValidationError:
    return HuaweiOcrValidationError(f"{parameter}: {message}", parameter=parameter)


def is_static(value: Any) -> bool:
    """True for a plain value known at parse time (not a template, not an XCom)."""
    if isinstance(value, str):
        return "{{" not in value and "{%" not in value
    if isinstance(value, (bool, int, float)) or value is None:
        return True
    if isinstance(value, (list, tuple)):
        return all(is_static(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_static(v) for k, v in value.items())
    return False


def is_deferred(value: Any) -> bool:
    """True for a value resolved only when the task runs: a template string or an XCom reference."""
    if isinstance(value, str):
        return not is_static(value)
    return type(value).__name__ in ("XComArg", "PlainXComArg", "MapXComArg") or hasattr(value, "resolve")


def check_flag(value: Any, parameter: str, *, optional: bool = False) -> Any:
    """An on/off argument read strictly: ``True``/``False`` (also ``1``/``0``, ``"yes"``/``"no"``,
    ``"on"``/``"off"``, ``"true"``/``"false"``); ``None`` too when ``optional``. Anything else,
    ``"maybe"`` or ``2``, is an error naming the argument: never Python's ``bool("no") is True``.
    """
    if value is None and optional:
        return None
    try:
        return parse_flag(value)
    except ValueError as exc:
        raise _fail(parameter, f"{exc}{' or None' if optional else ''}") from None


def check_parameters(parameters: Any, *, rendered: bool = False) -> Any:
    """The API parameters: a dict (``None``: none). At parse time a template or an XCom is left
    for run time, where it must have rendered to a dict; anything else is refused before a call.
    """
    if parameters is None:
        return {}
    if isinstance(parameters, Mapping):
        return dict(parameters)
    if not rendered and is_deferred(parameters):
        return parameters
    hint = (
        " (a template renders to text unless the DAG sets render_template_as_native_obj=True)"
        if rendered and isinstance(parameters, str)
        else ""
    )
    raise _fail(
        "parameters",
        f"must be a dict of the API's parameters, e.g. {{'detect_direction': True}}, got "
        f"{type(parameters).__name__} {_short(parameters)}{hint}; nothing was called",
    )


def check_export_text(export_text: bool, output_uri: Any) -> None:
    """``export_text`` writes next to the stored results: it needs an ``output_uri``."""
    if export_text and (output_uri is None or output_uri == ""):
        raise _fail(
            "export_text",
            "writes plain-text pages next to each result stored in OBS, so it needs "
            f"output_uri='obs://bucket/prefix/' (got output_uri={output_uri!r}); nothing was called",
        )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


# --- numbers: as users pass them (ints, floats, or the strings of Variables and templates) ------


def _as_number(value: Any) -> Any:
    """A number written as text (a Variable's value, a rendered template: ``" 20 "``, ``"0.0012"``)
    read as one; anything else as it is. Never a bool: ``True`` is not 1 here."""
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return int(text)
        try:
            return float(text)
        except ValueError:
            return value
    return value


def check_whole(value: Any, parameter: str, minimum: int = 0, *, maximum: int | None = None) -> int:
    """A whole number >= ``minimum`` (and <= ``maximum``); its digits as text count (``"20"``, ``" 20 "``).

    ``2.0`` and ``"1.5"`` are not whole numbers here; anything else is an error naming the argument.
    """
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())  # a Variable's value, a rendered template
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        within = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise _fail(parameter, f"must be a whole number {within}, got {value!r}")
    return value


def _finite(number: Any) -> bool:
    """A real number (not a bool), neither infinite nor NaN."""
    return not isinstance(number, bool) and isinstance(number, (int, float)) and math.isfinite(number)


def _within(number: float, positive: bool, maximum: float | None) -> bool:
    return (number > 0 if positive else number >= 0) and (maximum is None or number <= maximum)


def check_number(
    value: Any, parameter: str, *, positive: bool = False, maximum: float | None = None
) -> float:
    """A finite number, >= 0 (or > 0 with ``positive``; <= ``maximum``), as a float; numbers written
    as text count (``"0.0012"``, ``" 5 "``, ``"1e1"``); anything else is an error naming the argument."""
    number = _as_number(value)
    if not _finite(number) or not _within(number, positive, maximum):
        bound = f" and <= {maximum:g}" if maximum is not None else ""
        raise _fail(parameter, f"must be a finite number {'>' if positive else '>='} 0{bound}, got {value!r}")
    return float(number)


def check_optional_number(value: Any, parameter: str, *, positive: bool = False) -> float | None:
    """:func:`check_number`, or ``None`` (``qps=None``: no limit; ``overlap_timeout=None``: none)."""
    return None if value is None else check_number(value, parameter, positive=positive)


def check_max_calls(value: Any) -> int | None:
    """``max_calls`` as given to an operator: None, or a whole number >= 0."""
    return None if value is None else check_whole(value, "max_calls")


def check_price(value: Any, parameter: str = "price_per_call") -> float | None:
    """A price per call: None, or a finite number >= 0 (``"0.0012"`` is 0.0012)."""
    return None if value is None else check_number(value, parameter)


def check_max_failures(value: Any) -> int | None:
    """``max_failures``: None (no count allowed), or a whole number >= 0."""
    return None if value is None else check_whole(value, "max_failures")


def check_ratio(value: Any, parameter: str = "max_failure_ratio") -> float | None:
    """A fraction: None, or a number between 0 and 1 (``"0.01"`` is 0.01)."""
    if value is None:
        return None
    number = _as_number(value)
    if (
        isinstance(number, bool) or not isinstance(number, (int, float)) or not 0 <= number <= 1  # also NaN
    ):
        raise _fail(parameter, f"must be between 0 and 1, got {value!r}")
    return float(number)


def check_signed_url_expires(value: Any) -> int:
    """Seconds a signed URL is valid: a whole number from 1 to :data:`MAX_SIGNED_URL_SECONDS`."""
    try:
        return check_whole(value, "signed_url_expires", 1, maximum=MAX_SIGNED_URL_SECONDS)
    except HuaweiOcrValidationError:
        raise _fail(
            "signed_url_expires",
            f"must be whole seconds between 1 and {MAX_SIGNED_URL_SECONDS}, got {value!r}",
        ) from None


def check_max_xcom_bytes(value: Any) -> int:
    """The largest result pushed whole to XCom: a whole number of bytes > 0."""
    try:
        return check_whole(value, "max_xcom_bytes", 1)
    except HuaweiOcrValidationError:
        raise _fail("max_xcom_bytes", f"must be a whole number of bytes > 0, got {value!r}") from None


def check_lease_ttl(value: Any) -> float:
    """Seconds a batch's lease lives without a heartbeat: at least 6 (renewed every ``lease_ttl / 6``)."""
    ttl = check_number(value, "lease_ttl", positive=True)
    if ttl < 6:
        raise _fail("lease_ttl", f"at least 6 seconds (renewed every lease_ttl / 6), got {value!r}")
    return ttl


def when_static(check: Callable[..., Any], value: Any, *args: Any, **kwargs: Any) -> Any:
    """``check(value, ...)`` on a value known at parse time (its converted value); a template or an
    XCom is returned as it is, for the settings built in ``execute()`` to check once rendered."""
    return check(value, *args, **kwargs) if is_static(value) else value


def check_image_source(image_source: Any, signed_url_expires: Any) -> int:
    """``image_source`` one of :data:`IMAGE_SOURCES`; returns ``signed_url_expires`` as whole seconds."""
    if image_source not in IMAGE_SOURCES:
        raise _fail("image_source", f"{image_source!r} is not one of {', '.join(IMAGE_SOURCES)}")
    return check_signed_url_expires(signed_url_expires)


def check_output_uri(output_uri: Any, *, required: bool = False) -> None:
    """``obs://bucket/prefix/`` (the prefix may be empty); ``None``/``""`` unless ``required``."""
    output_location(output_uri, required=required)


def output_location(output_uri: Any, *, required: bool = False) -> ObsLocation | None:
    """:func:`check_output_uri`, returning the parsed location (``None`` without an output)."""
    if output_uri is None or output_uri == "":
        if required:
            raise _fail(
                "output_uri",
                f"rendered to {output_uri!r}; batch results need obs://bucket/prefix/ (nothing was called)",
            )
        return None
    return parse_obs_uri(output_uri, allow_empty_key=True, parameter="output_uri")


def check_obs_uri(value: Any, parameter: str, *, allow_empty_key: bool = False) -> ObsLocation:
    """An ``obs://bucket/key`` argument (``source_uri``, ``manifest_uri``), parsed."""
    return parse_obs_uri(str(value), allow_empty_key=allow_empty_key, parameter=parameter)


def check_shard(shard_index: Any, shard_count: int, *, rendered: bool = False) -> int | None:
    """A batch's shard: ``shard_index`` below ``shard_count``, required when ``shard_count > 1``.

    Returns the index when the batch is sharded, else ``None``. At parse time a templated index
    is left for run time; at run time an index without sharding is not used.
    """
    if shard_index is None:
        if shard_count > 1:
            raise _fail(
                "shard_index",
                f"required with shard_count={shard_count} "
                "(e.g. .partial(...).expand(shard_index=range(shard_count)))",
            )
        return None
    if (rendered and shard_count <= 1) or not (rendered or is_static(shard_index)):
        return None
    index = check_whole(shard_index, "shard_index", 0)
    if index >= shard_count:
        raise _fail("shard_index", f"must be below shard_count={shard_count}, got {index}")
    return index if shard_count > 1 else None


def check_images(images: Any, *, rendered: bool = False) -> None:
    """A batch's ``images=``: a list (or one string), a sensor's selection, or (at parse time) an XComArg.

    A selection (a dict) is checked whole: its format and every target of its query.
    """
    images_query(images, rendered=rendered)


def images_query(images: Any, *, rendered: bool = False) -> ObsKeyQuery | None:
    """:func:`check_images`, returning the query of a sensor's selection (``None`` for anything else,
    or for a selection left for run time)."""
    if isinstance(images, dict):
        if rendered or is_static(images):
            from airflow_provider_hwocr.hooks.obs_match import selection_query  # only for a selection

            return selection_query(images)  # raises HuaweiOcrValidationError naming images
        return None
    if images is None or isinstance(images, (str, list, tuple)):
        return None
    if not rendered and is_deferred(images):
        return None  # resolved at run time
    raise _fail(
        "images",
        "must be a list of obs:// URIs, http(s):// URLs or paths (or a sensor's selection), "
        f"got {type(images).__name__}",
    )


# --- pages of PDF and OFD documents ---------------------------------------------------------------

#: What a ``pages`` template may render to for "every page".
_EVERY_PAGE = ("", "none", "all")


def check_pages(pages: Any, *, rendered: bool = False) -> Any:
    """``pages``: ``None`` (every page), a page (``3``), a string of pages and ranges (``"2-5"``,
    ``"1,3-4"``, ``"3-"``) or a list of pages (returned as a tuple). At parse time a template or an
    XCom is left for run time; rendered, ``""``, ``"None"`` and ``"all"`` mean every page, and a list
    rendered as text (``"[1, 3]"``) is read as its pages. Syntax only: whether the pages exist is
    known once a document is read."""
    if pages is None:
        return None
    if not rendered and is_deferred(pages):
        return pages
    if rendered and isinstance(pages, str):
        text = pages.strip()
        if text.lower() in _EVERY_PAGE:
            return None
        if text.startswith("[") and text.endswith("]"):
            pages = text[1:-1]
    from airflow_provider_hwocr.client.documents import check_pages_spec  # pypdf is not loaded by it

    check_pages_spec(pages)
    return tuple(pages) if isinstance(pages, list) else pages


def check_max_pages(max_pages: Any) -> int | None:
    """``max_pages``: the most pages of one document (a whole number >= 1), or ``None`` for no cap."""
    return None if max_pages is None else check_whole(max_pages, "max_pages", 1)


# --- human review of uncertain fields ---------------------------------------------------------------


def check_review(review_below: Any, review_fields: Any, api: str) -> ReviewRule | None:
    """``review_below`` / ``review_fields``: the fields that hold a page for review and their thresholds,
    checked against the API when the DAG is parsed (``None``: no review). A value outside 0..1, a field
    the API does not have or does not score is an error naming the argument."""
    if review_below is None:
        if review_fields is not None:
            raise _fail("review_fields", "names the fields review_below gates: set review_below too")
        return None
    from airflow_provider_hwocr.runtime.review.rule import ReviewRule  # pure: the catalog only

    try:
        return ReviewRule.parse(review_below, review_fields, slug=api)
    except HuaweiOcrValidationError:
        raise
    except (TypeError, ValueError) as exc:
        message = str(exc)
        parameter = "review_fields" if message.startswith("review_fields") else "review_below"
        text = message if message.startswith(parameter) else f"{parameter}: {message}"
        raise HuaweiOcrValidationError(text, parameter=parameter) from None


#: What a review that timed out decides (``on_timeout`` / ``on_review_timeout``).
ON_TIMEOUT = ("fail", "approve", "reject")


def check_on_timeout(value: Any, parameter: str = "on_timeout") -> str:
    """``"fail"``, ``"approve"`` or ``"reject"``."""
    if value not in ON_TIMEOUT:
        raise _fail(parameter, f"one of {', '.join(repr(v) for v in ON_TIMEOUT)}, got {value!r}")
    return str(value)


def check_review_timeout(value: Any, parameter: str = "review_timeout") -> timedelta | None:
    """How long a review may wait: a ``timedelta`` or seconds (> 0); ``None``: no limit."""
    if value is None or isinstance(value, timedelta):
        if isinstance(value, timedelta) and value.total_seconds() <= 0:
            raise _fail(parameter, f"must be longer than 0 seconds, got {value!r}")
        return value
    return timedelta(seconds=check_number(value, parameter, positive=True))
