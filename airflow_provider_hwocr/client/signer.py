"""AK/SK request signing, algorithm ``SDK-HMAC-SHA256``.

This is an independent implementation of the scheme used by Huawei Cloud's
API Gateway. Its output must match the vendor's official signer byte for
byte (the test suite checks that against ``huaweicloudsdkcore``), so the
quirks below are deliberate, not accidents:

* ``X-Sdk-Date`` (UTC, ``%Y%m%dT%H%M%SZ``) and ``Host`` are added when the
  caller did not supply them (looked up case-insensitively). ``Host`` is the
  URL's authority exactly as written, port included when the URL has one.
* When a header spelled exactly ``Content-Type`` is present and is neither
  JSON nor BSON, ``X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`` is added (and
  signed) and the body is not hashed.
* Every header is signed except those whose name contains ``_``. Names are
  lowercased and sorted; values are stripped of surrounding whitespace.
* The canonical URI percent-decodes the path, splits it on ``/``, re-quotes
  each segment keeping only ``~`` unreserved on top of the RFC 3986 set, and
  always ends with ``/``.
* The canonical query sorts ``(key, value)`` pairs on their raw text, then
  quotes both sides the same way as path segments.
* The string to sign is ``SDK-HMAC-SHA256\\n<date>\\n<hex sha256 of the
  canonical request>`` and the signature is a single HMAC-SHA256 keyed with
  the SK (no derived-key chain).

Only the Python standard library is used here.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

__all__ = [
    "ALGORITHM",
    "DATE_FORMAT",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "canonical_url",
    "sign_request",
]

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"

_DATE_HEADER = "X-Sdk-Date"
_CONTENT_HASH_HEADER = "X-Sdk-Content-Sha256"
_UNSIGNED = "UNSIGNED-PAYLOAD"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _quote(text: str) -> str:
    # RFC 3986 unreserved characters stay as they are; everything else,
    # "/" included, is percent-encoded from its UTF-8 bytes.
    return quote(text, safe="~")


def _find(headers: dict[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def canonical_uri(path: str) -> str:
    """The path as signed: each segment decoded then re-quoted, with a trailing ``/``."""
    segments = unquote(path or "/").split("/")
    uri = "/".join(_quote(segment) for segment in segments)
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(pairs: list[tuple[str, str]]) -> str:
    """The query as signed: ``(key, value)`` pairs sorted on raw text, then quoted."""
    return "&".join(f"{_quote(key)}={_quote(value)}" for key, value in sorted(pairs))


def _query_pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def canonical_url(url: str) -> str:
    """Return ``url`` with its query rewritten in canonical form.

    Sending the query exactly as it was signed removes any doubt about how
    the gateway decodes it (``+`` versus ``%20``, ordering, repeated keys).
    """
    parts = urlsplit(url)
    query = canonical_query(_query_pairs(parts.query))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _signed_header_names(headers: dict[str, str]) -> list[str]:
    # Duplicates that differ only in case are kept, as the reference does.
    return sorted(key.lower() for key in headers if "_" not in key)


def canonical_request(
    method: str, path: str, query: str, headers: dict[str, str], payload_hash: str
) -> tuple[str, list[str]]:
    """Build the canonical request text and the list of signed header names.

    ``headers`` must already hold every header that is going to be sent.
    """
    values: dict[str, str] = {}
    for key, value in headers.items():
        values[key.lower()] = str(value).strip()
    names = _signed_header_names(headers)
    header_block = "".join(f"{name}:{values[name]}\n" for name in names)
    text = "\n".join(
        (
            method.upper(),
            canonical_uri(path),
            canonical_query(_query_pairs(query)),
            header_block,
            ";".join(names),
            payload_hash,
        )
    )
    return text, names


def _format_date(now: datetime | None) -> str:
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is not None:
        now = now.astimezone(timezone.utc)
    return now.strftime(DATE_FORMAT)


def _payload_hash(headers: dict[str, str], body: bytes) -> str:
    if not body:
        return _EMPTY_SHA256
    declared = _find(headers, _CONTENT_HASH_HEADER)
    # The reference reads this header after stripping it and re-encoding it
    # for the wire (UTF-8 bytes seen as Latin-1); do the same.
    declared = str(declared).strip() if declared is not None else ""
    if declared:
        return declared.encode("utf-8").decode("latin-1")
    return hashlib.sha256(body).hexdigest()


def sign_request(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | str | None,
    ak: str,
    sk: str,
    *,
    now: datetime | None = None,
) -> dict[str, str]:
    """Sign one request and return the complete header dict to send with it.

    ``headers`` is not modified. The result holds the caller's headers (values
    stripped, as signed), plus ``X-Sdk-Date`` and ``Host`` when missing, plus
    ``Authorization``. ``now`` fixes the signing time (naive values are taken
    as UTC); an ``X-Sdk-Date`` header, when given, wins over it.

    Send the request to :func:`canonical_url` of ``url`` so that its query
    string reaches the server exactly as it was signed.
    """
    if not ak:
        raise ValueError("cannot sign a request without an access key")
    if not sk:
        raise ValueError("cannot sign a request without a secret key")
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode("utf-8")

    parts = urlsplit(url)
    out: dict[str, str] = dict(headers)

    content_type = out.get("Content-Type")
    if content_type and not content_type.startswith(("application/json", "application/bson")):
        out[_CONTENT_HASH_HEADER] = _UNSIGNED

    date = _find(out, _DATE_HEADER)
    if date is None:
        date = _format_date(now)
        out[_DATE_HEADER] = date
    else:
        # Normalise (and validate) a caller-supplied date the way it is signed.
        date = datetime.strptime(date, DATE_FORMAT).strftime(DATE_FORMAT)

    if _find(out, "Host") is None:
        out["Host"] = parts.netloc.rpartition("@")[2]

    payload_hash = _payload_hash(out, body)
    text, names = canonical_request(method, parts.path, parts.query, out, payload_hash)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    string_to_sign = f"{ALGORITHM}\n{date}\n{digest}"
    signature = hmac.new(sk.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()

    result = {key: str(value).strip() for key, value in out.items()}
    result["Authorization"] = (
        f"{ALGORITHM} Access={ak}, SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return result
