"""Turn an image and keyword parameters into the JSON body of one OCR call.

Everything the service would reject is rejected here, before a request is
sent, with an error that names the parameter and what is allowed. The
checks are driven by the catalog: adding an API needs no code here.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from airflow_provider_hwocr.catalog import Api, Param, get_api
from airflow_provider_hwocr.client.body import RequestBody
from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.client.images import image_size, sniff_format
from airflow_provider_hwocr.client.sources import image_kind, read_image_file, safe_url

log = logging.getLogger("airflow_provider_hwocr.client")

__all__ = [
    "PreparedRequest",
    "build_request_body",
    "prepare_request",
    "read_image_file",
    "safe_url",
    "validate_params",
]

# Characters that may stay as they are in a URL; everything else (spaces,
# non-ASCII) is percent-encoded, as the service requires.
_URL_SAFE = "/:@!$&'()*+,;=-._~%"


@dataclass(frozen=True)
class PreparedRequest:
    """A validated request body plus a description safe to log.

    ``body`` reads like the JSON dict; it holds the image bytes by reference and is
    serialised once, when sent (:class:`~airflow_provider_hwocr.client.body.RequestBody`).
    """

    body: RequestBody
    #: ``url``, ``file`` or ``bytes``.
    source_kind: str
    #: Human-readable origin of the image: a file path, a URL without its
    #: query string (which may carry a signature), or ``<bytes>``.
    source: str
    image_format: str | None = None
    image_bytes: int | None = None
    dimensions: tuple[int, int] | None = None


def _fail(parameter: str, message: str) -> HuaweiOcrValidationError:
    return HuaweiOcrValidationError(f"{parameter}: {message}", parameter=parameter)


def _as_api(api: Api | str) -> Api:
    return api if isinstance(api, Api) else get_api(api)


# --- parameters --------------------------------------------------------------------


def _suggest(value: str, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(value, allowed, n=1) or [
        a for a in allowed if a.lower() == value.lower()
    ]
    return f" (did you mean {close[0]!r}?)" if close else ""


def _coerce_bool(p: Param, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    # Rendered templates produce strings; accept the two spellings of a boolean.
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _fail(p.name, f"must be a boolean (true or false), got {value!r}")


def _coerce_int(p: Param, value: Any) -> int:
    if isinstance(value, bool):
        raise _fail(p.name, f"must be an integer, got {value!r}")
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise _fail(p.name, f"must be an integer, got {value!r}")
    if p.minimum is not None and value < p.minimum:
        raise _fail(p.name, f"must be at least {p.minimum}, got {value}")
    return value


def _coerce_choice(p: Param, value: Any) -> str:
    if not isinstance(value, str):
        raise _fail(p.name, f"must be a string, got {type(value).__name__} {value!r}")
    if p.allowed is None:
        if not value.strip():
            raise _fail(p.name, "must not be empty")
        return value
    if value not in p.allowed:
        raise _fail(
            p.name, f"{value!r} is not allowed{_suggest(value, p.allowed)}; allowed: {', '.join(p.allowed)}"
        )
    return value


def _coerce_list(p: Param, value: Any) -> list[str] | None:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise _fail(p.name, f"must be a list of strings, got {type(value).__name__} {value!r}")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise _fail(p.name, f"items must be strings, got {item!r}")
        if p.allowed is not None and item not in p.allowed:
            raise _fail(
                p.name, f"{item!r} is not allowed{_suggest(item, p.allowed)}; allowed: {', '.join(p.allowed)}"
            )
        if item not in out:
            out.append(item)
    return out or None  # an empty list means "all", the same as leaving it out


def _coerce_json_str(p: Param, value: Any) -> str:
    if isinstance(value, Mapping):
        return json.dumps(dict(value), ensure_ascii=False)
    if not isinstance(value, str):
        raise _fail(p.name, f"must be a JSON object (a dict or its JSON text), got {value!r}")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise _fail(p.name, f"is not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(parsed, dict):
        raise _fail(p.name, 'must be a JSON object such as \'{"Name": "Full name"}\'')
    return value


_COERCE = {
    "bool": _coerce_bool,
    "int": _coerce_int,
    "str": _coerce_choice,
    "str_list": _coerce_list,
    "json_str": _coerce_json_str,
}


def validate_params(api: Api | str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check and normalise optional parameters; ``None`` values are left out."""
    api = _as_api(api)
    params = dict(params or {})
    for reserved in (api.image_field, "url", "image", "data"):
        if reserved in params:
            raise _fail(
                reserved, "pass the image with image= (a URL, a file path or bytes), not as a parameter"
            )
    known = {p.name: p for p in api.params}
    out: dict[str, Any] = {}
    for name, value in params.items():
        p = known.get(name)
        if p is None:
            allowed = ", ".join(known) or "none"
            raise _fail(
                name,
                f"is not a parameter of {api.slug}{_suggest(name, tuple(known))}; its parameters: {allowed}",
            )
        if value is None:
            continue
        coerced = _COERCE[p.kind](p, value)
        if coerced is not None:
            out[name] = coerced
    _warn_on_combinations(api, out)
    return out


def _warn_on_combinations(api: Api, params: dict[str, Any]) -> None:
    # Combinations the docs say have no effect: not errors, but worth a word.
    if params.get("return_char_location") and not params.get("return_text_location"):
        log.warning("%s: return_char_location needs return_text_location=true to have an effect", api.slug)
    if api.slug == "smart-document-recognizer":
        if params.get("return_excel") and not params.get("table"):
            log.warning("%s: return_excel only has an effect with table=true", api.slug)
        if params.get("kv") and params.get("language", "zh") != "zh":
            log.warning("%s: kv only works with language='zh'", api.slug)


# --- image ---------------------------------------------------------------------------


def _normalise_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise _fail("url", f"must be an http:// or https:// URL, got scheme {parts.scheme!r}")
    # The service refuses raw non-ASCII characters in URLs: encode them (and
    # spaces) as UTF-8 percent escapes; existing escapes are kept.
    path = quote(parts.path, safe=_URL_SAFE)
    query = quote(parts.query, safe=_URL_SAFE + "?")
    return urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))


_redact_url = safe_url


def check_image_bytes(api: Api, data: bytes, source: str) -> tuple[str, tuple[int, int] | None]:
    """Check raw image bytes against the API's limits; return (format, size)."""
    limits = api.limits
    if not data:
        raise _fail("image", f"{source} is empty (0 bytes)")
    encoded_len = 4 * ((len(data) + 2) // 3)
    if encoded_len > limits.max_base64_bytes:
        raise _fail(
            "image",
            f"{source} is {len(data):,} bytes, {encoded_len:,} after Base64; {api.slug} accepts at most "
            f"{limits.max_base64_bytes:,} bytes of Base64 (about {limits.max_base64_bytes * 3 // 4 // 1_000_000} MB of file)",
        )
    fmt = sniff_format(data)
    allowed = ", ".join(sorted(limits.formats))
    if fmt is None:
        raise _fail(
            "image",
            f"{source} is not an image format {api.slug} accepts (unrecognised content); accepted: {allowed}",
        )
    if fmt not in limits.formats:
        raise _fail("image", f"{source} is {fmt}, which {api.slug} does not accept; accepted: {allowed}")
    size = image_size(data, fmt)
    if size is not None:
        _check_dimensions(api, size, source)
    return fmt, size


def _check_dimensions(api: Api, size: tuple[int, int], source: str) -> None:
    w, h = size
    lim = api.limits
    # Both rules bound the short side from below and the long side from above;
    # they differ only in how the docs phrase them.
    rule = (
        f"short side >= {lim.min_side} px and long side <= {lim.max_side} px"
        if lim.side_rule == "short_long"
        else f"each side between {lim.min_side} and {lim.max_side} px"
    )
    if min(w, h) < lim.min_side or max(w, h) > lim.max_side:
        raise _fail("image", f"{source} is {w}x{h} px; {api.slug} needs {rule}")
    if lim.max_pixels is not None and w * h > lim.max_pixels:
        raise _fail(
            "image", f"{source} is {w}x{h} = {w * h:,} pixels; {api.slug} accepts at most {lim.max_pixels:,}"
        )


def prepare_request(
    api: Api | str,
    *,
    image: Any = None,
    url: str | None = None,
    params: Mapping[str, Any] | None = None,
    validated: bool = False,
) -> PreparedRequest:
    """Validate everything and build the body; raises ``HuaweiOcrValidationError``.

    ``image`` may be raw bytes, a local file path, or an ``http(s)://`` URL
    (then sent as ``url``). ``obs://`` URIs are resolved by the Airflow layer.
    ``validated=True``: ``params`` is what :func:`validate_params` returned (a task
    validates its parameters once, not once per image).
    """
    api = _as_api(api)
    body = dict(params or {}) if validated else validate_params(api, params)

    kind = image_kind(image)
    if kind == "url":
        if url is not None:
            raise _fail("image", "give the image either as image= or as url=, not both")
        image, url = None, str(image).strip()
    elif kind == "obs":
        raise _fail(
            "image",
            "obs:// URIs are resolved by the Airflow operators (HuaweiOcr*Operator); "
            "the plain client takes a URL, a file path or bytes",
        )
    elif kind == "data":
        raise _fail("image", "data: URIs are not accepted; pass the file path or the raw bytes instead")
    elif isinstance(image, str) and not image.strip():
        raise _fail("image", "is an empty string")

    if image is not None and url is not None:
        raise _fail("image", "give the image either as image= or as url=, not both")
    if image is None and url is None:
        raise _fail("image", "no image given: pass a URL, a local file path or bytes")

    if url is not None:
        if not isinstance(url, str):
            raise _fail("url", f"must be a string, got {type(url).__name__}")
        clean = _normalise_url(url)
        body[api.url_field] = clean
        return PreparedRequest(body=RequestBody(body), source_kind="url", source=_redact_url(clean))

    if isinstance(image, (bytes, bytearray, memoryview)):
        data, kind, source = bytes(image), "bytes", "the image bytes"
    elif isinstance(image, (str, os.PathLike)):
        data, kind, source = read_image_file(image), "file", f"file {os.fspath(image)!r}"
    else:
        raise _fail(
            "image",
            f"must be a URL, a file path or bytes, got {type(image).__name__}",
        )
    fmt, size = check_image_bytes(api, data, source)
    return PreparedRequest(
        body=RequestBody(body, image_field=api.image_field, image=data),  # encoded once, when sent
        source_kind=kind,
        source=source if kind == "file" else "<bytes>",
        image_format=fmt,
        image_bytes=len(data),
        dimensions=size,
    )


def build_request_body(
    api: Api | str,
    *,
    image: Any = None,
    url: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body for one call, as a plain dict (the image as Base64 text); see :func:`prepare_request`."""
    return dict(prepare_request(api, image=image, url=url, params=params).body)
