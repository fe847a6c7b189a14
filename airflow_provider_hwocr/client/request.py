"""Turn an image and keyword parameters into the JSON body of one OCR call.

Everything the service would reject is rejected here, before a request is
sent, with an error that names the parameter and what is allowed: the values of
every body field the catalog knows (types, allowed values, documented empty
strings, required fields, exclusive pairs), the image (format, sides, Base64 size,
and that the file is whole), and whether the API is still served
(:func:`check_lifecycle`) and offered in the region (:func:`check_region`). The
checks are driven by the catalog: adding an API needs no code here.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from airflow_provider_hwocr.catalog import Api, Param, base64_size, get_api, region_support
from airflow_provider_hwocr.client.body import RequestBody
from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.client.images import image_size, sniff_format, structure_problem
from airflow_provider_hwocr.client.sources import image_kind, read_image_file, safe_url

log = logging.getLogger("airflow_provider_hwocr.client")

__all__ = [
    "ALLOW_RETIRED_ENV",
    "PreparedRequest",
    "build_request_body",
    "check_lifecycle",
    "check_region",
    "prepare_request",
    "read_image_file",
    "safe_url",
    "validate_params",
]

#: Environment variable naming, comma-separated, the retired or removed APIs a caller still
#: calls on purpose (the vendor may keep serving old accounts): ``HWOCR_ALLOW_RETIRED_APIS=id-document``.
ALLOW_RETIRED_ENV = "HWOCR_ALLOW_RETIRED_APIS"

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
    import difflib  # only for this message: a DAG file that passes good values never loads it

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
    if value == "" and p.empty is not None:
        return value  # documented: an empty string means "{p.empty}"
    if not value.strip():
        meaning = "" if p.allowed is None else f"; allowed: {', '.join(p.allowed)}"
        raise _fail(p.name, f"must not be empty{meaning}")
    _check_allowed(p, value)
    if p.pattern is not None and not re.fullmatch(p.pattern, value):
        raise _fail(p.name, f"{value!r} is not in the documented form ({p.doc.rstrip('.')})")
    if p.date:
        _check_date(p, value)
    return value


def _check_allowed(p: Param, value: str) -> None:
    """Refuse a value outside the parameter's documented ones, suggesting the nearest."""
    if p.allowed is not None and value not in p.allowed:
        raise _fail(
            p.name, f"{value!r} is not allowed{_suggest(value, p.allowed)}; allowed: {', '.join(p.allowed)}"
        )


def _check_date(p: Param, value: str) -> None:
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise _fail(p.name, f"{value!r} is not a date YYYY-MM-DD") from None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise _fail(p.name, f"{value!r} is not a date YYYY-MM-DD")


def _coerce_list(p: Param, value: Any) -> list[str] | None:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise _fail(p.name, f"must be a list of strings, got {type(value).__name__} {value!r}")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise _fail(p.name, f"items must be strings, got {item!r}")
        _check_allowed(p, item)
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


#: auto-classification's ``extended_parameters`` kinds that are an API of the catalog.
_KIND_APIS = {
    kind: kind.replace("_", "-")
    for kind in (
        "vat_invoice", "quota_invoice", "taxi_invoice", "train_ticket", "flight_itinerary", "toll_invoice",
        "mvs_invoice", "id_card", "passport", "driver_license", "vehicle_license", "transportation_license",
    )
}  # fmt: skip
_KIND_APIS["bankcard"] = "bankcard"


def _coerce_object(p: Param, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(p.name, f"must be a JSON object (a dict), got {type(value).__name__} {value!r}")
    out: dict[str, Any] = {}
    for key, inner in value.items():
        if p.keys is not None and key not in p.keys:
            raise _fail(
                p.name,
                f"{key!r} is not a key it takes{_suggest(str(key), p.keys)}; keys: {', '.join(p.keys)}",
            )
        slug = _KIND_APIS.get(str(key))
        if slug is not None:
            if not isinstance(inner, Mapping):
                raise _fail(f"{p.name}.{key}", f"must be the {slug} parameters as a dict, got {inner!r}")
            try:
                out[key] = validate_params(slug, inner)
            except HuaweiOcrValidationError as exc:
                raise _fail(f"{p.name}.{key}.{exc.parameter}", str(exc)) from None
        else:
            out[key] = inner
    return out


_COERCE = {
    "bool": _coerce_bool,
    "int": _coerce_int,
    "str": _coerce_choice,
    "str_list": _coerce_list,
    "json_str": _coerce_json_str,
    "object": _coerce_object,
}


def validate_params(api: Api | str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check and normalise optional parameters; ``None`` values are left out."""
    api = _as_api(api)
    params = dict(params or {})
    _refuse_image_params(api, params)
    known = {p.name: p for p in api.params}
    out: dict[str, Any] = {}
    for name, value in params.items():
        p = known.get(name)
        if p is None:
            raise _fail(
                name,
                f"is not a parameter of {api.slug}{_suggest(name, tuple(known))}; "
                f"its parameters: {', '.join(known) or 'none'}",
            )
        coerced = None if value is None else _COERCE[p.kind](p, value)
        if coerced is not None:
            out[name] = coerced
    _warn_on_combinations(api, out)
    return out


def _refuse_image_params(api: Api, params: dict[str, Any]) -> None:
    """The image goes in as ``image=``, never as a parameter (and an API without image takes none)."""
    for reserved in (api.image_field, "url", "image", "data"):
        if reserved is None or reserved not in params:
            continue
        if api.image_field is None:
            raise _fail(reserved, f"{api.slug} takes no image: its parameters are the request")
        raise _fail(reserved, "pass the image with image= (a URL, a file path or bytes), not as a parameter")


def _check_body(api: Api, body: dict[str, Any]) -> None:
    """What only the whole body tells: required fields present, exclusive pairs sent once."""
    missing = [name for name in api.required_params if name not in body]
    if missing:
        raise _fail(
            missing[0],
            f"{api.slug} needs {', '.join(missing)} (required); nothing was sent. "
            + "; ".join(f"{n}: {api.param(n).doc}" for n in missing),
        )
    for p in api.params:
        if p.one_of is not None and p.name < p.one_of:
            _check_exclusive(p.name, p.one_of, body)


def _check_exclusive(name: str, other: str, body: dict[str, Any]) -> None:
    given = [n for n in (name, other) if n in body]
    if len(given) != 1:
        raise _fail(name, f"give exactly one of {name} and {other}, got {len(given)}")


# --- is the API served, and served here? ------------------------------------------------

_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def _warn_once(key: tuple[str, str], message: str) -> None:
    """Log ``message`` once per process for ``key`` (a batch of 10,000 images warns once)."""
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    log.warning("%s", message)


def allowed_retired() -> frozenset[str]:
    """The retired or removed APIs the environment opts in to (:data:`ALLOW_RETIRED_ENV`)."""
    raw = os.environ.get(ALLOW_RETIRED_ENV, "")
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def check_lifecycle(api: Api | str, *, allow_retired: bool | None = None) -> None:
    """Refuse a retired or removed API before any call, naming the date and the way around it.

    ``allow_retired`` (else the slug listed in ``$HWOCR_ALLOW_RETIRED_APIS``) lets an
    account the vendor still serves call it anyway. A sales-stopped API is served:
    warned about once.
    """
    api = _as_api(api)
    notice = api.lifecycle.notice(api.title)
    if notice is None:
        return
    if api.lifecycle.live:
        _warn_once(("lifecycle", api.slug), notice + " Calls still work for existing packages.")
        return
    if allow_retired is None:
        allow_retired = api.slug in allowed_retired()
    if allow_retired:
        _warn_once(("lifecycle", api.slug), notice + " Called anyway (opted in).")
        return
    raise HuaweiOcrValidationError(
        f"api: {notice} Nothing was sent. If the vendor still serves your account, opt in with "
        f"{ALLOW_RETIRED_ENV}={api.slug} in the worker's environment.",
        parameter="api",
        api=api.slug,
    )


def check_region(api: Api | str, region: str) -> None:
    """Refuse an API the vendor's endpoint tables do not offer in ``region``; warn where they may lag."""
    api = _as_api(api)
    support = region_support(api, region)
    if support.verdict == "listed":
        return
    if support.verdict == "unsure":
        _warn_once((api.slug, region), support.message or "")
        return
    raise HuaweiOcrValidationError(
        support.message or f"{api.slug} is not offered in {region}",
        parameter="region",
        api=api.slug,
        region=region,
    )


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
    encoded_len = base64_size(len(data))
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
    check_whole_file(data, fmt, source)
    return fmt, size


def check_whole_file(data: bytes, fmt: str, source: str) -> None:
    """Refuse a file cut short or broken (``fmt`` as the catalog names formats): the service would too."""
    problem = structure_problem(data, fmt)
    if problem is not None:
        raise _fail(
            "image",
            f"{source} is not a whole {fmt} file: {problem}. The service would refuse it (AIS.0102/AIS.0104) "
            "and may bill the refusal; nothing was sent. Re-upload or re-export the file.",
        )


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
    check_lifecycle(api)
    body = dict(params or {}) if validated else validate_params(api, params)
    if api.image_field is None:
        return _fields_request(api, body, image, url)
    _check_body(api, body)
    image, url = _image_or_url(image, url)
    if url is not None:
        return _url_request(api, body, url)
    return _image_request(api, body, image)


def _fields_request(api: Api, body: dict[str, Any], image: Any, url: Any) -> PreparedRequest:
    """The request of an API without image: its parameters are the body."""
    if image is not None or url is not None:
        raise _fail(
            "image",
            f"{api.slug} takes no image: pass its fields ({', '.join(api.param_names)}) as parameters",
        )
    _check_body(api, body)
    # What the tax authority would refuse (invoice-verification); loaded here, not when a DAG
    # file imports the operators.
    from airflow_provider_hwocr.client.invoice import check_request as check_invoice_request

    check_invoice_request(api, body)
    return PreparedRequest(body=RequestBody(body), source_kind="fields", source=api.slug)


def _image_or_url(image: Any, url: Any) -> tuple[Any, Any]:
    """``(image, url)``, exactly one of them set: an ``http(s)://`` image goes as ``url``."""
    kind = image_kind(image)
    if kind == "url":
        if url is not None:
            raise _fail("image", "give the image either as image= or as url=, not both")
        image, url = None, str(image).strip()
    else:
        _refuse_image_kind(kind, image)
    if image is not None and url is not None:
        raise _fail("image", "give the image either as image= or as url=, not both")
    if image is None and url is None:
        raise _fail("image", "no image given: pass a URL, a local file path or bytes")
    return image, url


def _refuse_image_kind(kind: str | None, image: Any) -> None:
    if kind == "obs":
        raise _fail(
            "image",
            "obs:// URIs are resolved by the Airflow operators (HuaweiOcr*Operator); "
            "the plain client takes a URL, a file path or bytes",
        )
    if kind == "data":
        raise _fail("image", "data: URIs are not accepted; pass the file path or the raw bytes instead")
    if isinstance(image, str) and not image.strip():
        raise _fail("image", "is an empty string")


def _url_request(api: Api, body: dict[str, Any], url: Any) -> PreparedRequest:
    if not isinstance(url, str):
        raise _fail("url", f"must be a string, got {type(url).__name__}")
    clean = _normalise_url(url)
    body[api.url_field] = clean
    return PreparedRequest(body=RequestBody(body), source_kind="url", source=_redact_url(clean))


def _image_request(api: Api, body: dict[str, Any], image: Any) -> PreparedRequest:
    data, kind, source = _read_image(image)
    fmt, size = check_image_bytes(api, data, source)
    return PreparedRequest(
        body=RequestBody(body, image_field=api.image_field, image=data),  # encoded once, when sent
        source_kind=kind,
        source=source if kind == "file" else "<bytes>",
        image_format=fmt,
        image_bytes=len(data),
        dimensions=size,
    )


def _read_image(image: Any) -> tuple[bytes, str, str]:
    """The image's bytes, its kind (``bytes`` or ``file``) and how error messages name it."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        return bytes(image), "bytes", "the image bytes"
    if isinstance(image, (str, os.PathLike)):
        return read_image_file(image), "file", f"file {os.fspath(image)!r}"
    raise _fail("image", f"must be a URL, a file path or bytes, got {type(image).__name__}")


def build_request_body(
    api: Api | str,
    *,
    image: Any = None,
    url: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body for one call, as a plain dict (the image as Base64 text); see :func:`prepare_request`."""
    return dict(prepare_request(api, image=image, url=url, params=params).body)
