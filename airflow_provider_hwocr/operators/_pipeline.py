"""One image through OCR: resolve the source, skip if done, call, store, summarise.

Shared by the per-API operators (one image per task) and the batch operator
(many images per task), so both behave the same way. Imported only when a
task runs, never at DAG parse time.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from airflow_provider_hwocr.catalog import Api
from airflow_provider_hwocr.client.errors import HuaweiOcrError, HuaweiOcrValidationError
from airflow_provider_hwocr.client.request import prepare_request, read_image_file, safe_url, validate_params
from airflow_provider_hwocr.obs_uri import ObsLocation, is_obs_uri, parse_obs_uri
from airflow_provider_hwocr.results import (
    META_API,
    META_PARAMS,
    META_SOURCE,
    META_SOURCE_ETAG,
    META_SUMMARY,
    envelope,
    params_digest,
    result_key,
    source_identity,
    summarize,
)

if TYPE_CHECKING:
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
    from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook

IMAGE_SOURCES = ("signed_url", "authorized", "inline")
#: Service errors meaning "could not read the object from OBS".
_OBS_FETCH_CODES = frozenset(
    {"ModelArts.4603", "ModelArts.4702", "ModelArts.4703", "ModelArts.4704", "ModelArts.4706"}
)
#: Longest validity accepted for signed URLs (OBS allows up to 7 days).
MAX_SIGNED_URL_SECONDS = 7 * 24 * 3600


@dataclass
class ImageOutcome:
    """What happened to one image."""

    source: str
    #: ``done`` (OCR called) or ``skipped`` (result already in OBS).
    status: str
    #: The API's result (no output) or the reference ``{"uri", "summary"}``.
    value: Any
    request_id: str | None = None
    attempts: int = 0
    result_uri: str | None = None
    #: Retries after a try the service may already have billed (0: billed at most once).
    billed_retries: int = 0
    #: ETag of the stored result object (as a listing shows it), for the batch's index.
    result_etag: str | None = None


@dataclass
class _Source:
    kind: str  # obs, url, file, bytes
    display: str
    identity: str
    name: str
    url: str | None = None
    data: bytes | None = None
    etag: str | None = None
    record: dict[str, Any] = field(default_factory=dict)


def _name_of_url(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1] or "image"


class OcrPipeline:
    """Runs images through one API with fixed parameters and output settings."""

    def __init__(
        self,
        *,
        api: Api,
        parameters: dict[str, Any],
        ocr_hook: HuaweiOcrHook,
        obs_hook_factory: Callable[[], HuaweiObsHook],
        image_source: str = "signed_url",
        signed_url_expires: int = 900,
        output: ObsLocation | None = None,
        skip_existing: bool = True,
        enterprise_project_id: str | None = None,
        log: Any = None,
        export_text: bool = False,
    ) -> None:
        check_image_source(image_source, signed_url_expires)
        self.export_text = export_text
        self.api = api
        self.params = validate_params(api, parameters)
        self.digest = params_digest(self.params)
        self.ocr_hook = ocr_hook
        self._obs_factory = obs_hook_factory
        self._obs: HuaweiObsHook | None = None
        self.image_source = image_source
        self.signed_url_expires = signed_url_expires
        self.output = output
        self.skip_existing = skip_existing and output is not None
        self.enterprise_project_id = enterprise_project_id
        self.log = log or logging.getLogger(__name__)
        #: Called right before each OCR call (not for skipped images), e.g. a rate limiter.
        self.before_call: Callable[[], Any] | None = None

    @property
    def obs(self) -> HuaweiObsHook:
        if self._obs is None:
            self._obs = self._obs_factory()
        return self._obs

    # --- source ---------------------------------------------------------------------

    def _resolve(self, image: Any) -> _Source:
        if is_obs_uri(image):
            return self._resolve_obs(parse_obs_uri(image))
        if isinstance(image, str) and image.strip().lower().startswith(("http://", "https://")):
            url = image.strip()
            ident = source_identity("url", uri=url)
            return _Source(
                "url", safe_url(url), ident, _name_of_url(url), url=url, record={"kind": "url", "url": ident}
            )
        if isinstance(image, (bytes, bytearray, memoryview)):
            data = bytes(image)
            ident = source_identity("bytes", data=data) if data else "empty"
            return _Source(
                "bytes",
                "<bytes>",
                ident,
                "image",
                data=data,
                record={"kind": "bytes", "sha256": ident.removeprefix("sha256:"), "size": len(data)},
            )
        if isinstance(image, os.PathLike) or (
            isinstance(image, str) and image.strip() and not image.strip().lower().startswith("data:")
        ):
            path = os.fspath(image)
            data = read_image_file(path)
            ident = source_identity("file", data=data) if data else "empty"
            return _Source(
                "file",
                path,
                ident,
                os.path.basename(path),
                data=data,
                record={
                    "kind": "file",
                    "path": path,
                    "sha256": ident.removeprefix("sha256:"),
                    "size": len(data),
                },
            )
        # Anything else (None, "", other types): let request validation explain.
        return _Source("other", repr(image)[:80], "", "image", data=image)

    def _resolve_obs(self, loc: ObsLocation) -> _Source:
        info = self.obs.head(loc.bucket, loc.key)
        if info is None:
            raise HuaweiOcrValidationError(f"image: {loc.uri} does not exist", parameter="image")
        src = self.listed_source(loc, size=info.size, etag=info.etag)
        self.attach(src)
        return src

    def listed_source(self, loc: ObsLocation, *, size: int, etag: str | None) -> _Source:
        """An OBS source from what a HEAD or a listing said of it (no request); checks its size."""
        limit = self.api.limits.max_base64_bytes
        encoded = 4 * ((size + 2) // 3)
        if size == 0:
            raise HuaweiOcrValidationError(f"image: {loc.uri} is empty (0 bytes)", parameter="image")
        if encoded > limit:
            raise HuaweiOcrValidationError(
                f"image: {loc.uri} is {size:,} bytes, {encoded:,} after Base64; {self.api.slug} accepts "
                f"at most {limit:,} bytes (nothing was downloaded or sent)",
                parameter="image",
            )
        record = {"kind": "obs", "uri": loc.uri, "etag": etag, "size": size, "mode": self.image_source}
        return _Source(
            "obs", loc.uri, source_identity("obs", uri=loc.uri), loc.key, etag=etag or None, record=record
        )

    def attach(self, src: _Source) -> None:
        """Give an OBS source what the request needs: its bytes, a signed URL or its plain URL.

        Called only for images that will be sent. A signed URL is a secret that
        lives in ``src.url`` only: it is never logged, recorded or put in XCom,
        and :meth:`send` scrubs it from error text.
        """
        if src.kind != "obs" or src.url is not None or src.data is not None:
            return
        loc = parse_obs_uri(src.display)
        if self.image_source == "inline":
            src.data = self.obs.get_bytes(loc.bucket, loc.key)
        elif self.image_source == "authorized":
            src.url = self.obs.object_url(loc.bucket, loc.key)
        else:
            src.url = self.obs.signed_get_url(loc.bucket, loc.key, expires=self.signed_url_expires)

    # --- output ---------------------------------------------------------------------

    def _existing(self, key: str, src: _Source) -> dict[str, Any] | None:
        assert self.output is not None
        info = self.obs.head(self.output.bucket, key)
        if info is None:
            return None
        meta = info.metadata
        if meta.get(META_PARAMS) != self.digest:
            self.log.info("%s exists but was made with other parameters; recomputing", key)
            return None
        if src.etag and meta.get(META_SOURCE_ETAG) and meta[META_SOURCE_ETAG] != src.etag:
            self.log.info("%s exists but its source %s has changed since; recomputing", key, src.display)
            return None
        try:
            summary = json.loads(meta.get(META_SUMMARY) or "{}")
        except ValueError:
            summary = {}
        return {"uri": f"obs://{self.output.bucket}/{key}", "summary": summary}

    def _store(self, key: str, src: _Source, response: Any, summary: dict[str, Any]) -> dict[str, Any]:
        assert self.output is not None
        doc = envelope(
            api=self.api,
            parameters=self.params,
            source=src.record,
            request_id=response.request_id,
            region=self.ocr_hook.settings.region,
            result=response.result,
            summary=summary,
        )
        metadata = {
            META_API: self.api.slug,
            META_PARAMS: self.digest,
            META_SOURCE: src.identity
            if src.identity.isascii()
            else src.identity.encode("unicode_escape").decode(),
            META_SUMMARY: json.dumps(summary, ensure_ascii=True, separators=(",", ":")),
        }
        if src.etag:
            metadata[META_SOURCE_ETAG] = src.etag
        etag = self.obs.put_json(self.output.bucket, key, doc, metadata=metadata)
        if self.export_text:  # issue 11: plain-text pages next to the envelope
            from airflow_provider_hwocr.text_export import text_document, text_key

            text = text_document(
                self.api.slug,
                response.result,
                source=src.identity,
                request_id=response.request_id,
                result_uri=f"obs://{self.output.bucket}/{key}",
            )
            self.obs.put_json(self.output.bucket, text_key(key), text)
        return {"uri": f"obs://{self.output.bucket}/{key}", "summary": summary, "etag": etag}

    # --- one image ------------------------------------------------------------------

    def output_key_for(self, src: _Source) -> str | None:
        if self.output is None:
            return None
        return result_key(self.output.key, self.api, src.identity, src.name)

    def run(self, image: Any) -> ImageOutcome:
        """One image: resolve it (HEAD for OBS), skip it if its result is in OBS, else call and store."""
        src = self._resolve(image)
        key = self.output_key_for(src) if src.identity else None
        if key and self.skip_existing:
            existing = self._existing(key, src)
            if existing is not None:
                return ImageOutcome(src.display, "skipped", existing, result_uri=existing["uri"])
        return self.send(src, key)

    def check(self, src: _Source) -> Any:
        """Every local check of the request for ``src`` (no call); returns the prepared request."""
        return prepare_request(self.api, image=src.data, url=src.url, params=self.params)

    def send(self, src: _Source, key: str | None) -> ImageOutcome:
        """Call OCR for a resolved source and store the result under ``key`` (if any)."""
        # Everything is checked here, before the (billed) call.
        try:
            prepared = self.check(src)
        except HuaweiOcrError as exc:
            scrub(exc, src.url)
            raise
        if self.before_call is not None:
            self.before_call()
        try:
            response = self.ocr_hook.call(
                self.api, prepared.body, enterprise_project_id=self.enterprise_project_id
            )
        except HuaweiOcrError as exc:
            if src.kind == "obs" and self.image_source == "authorized" and exc.error_code in _OBS_FETCH_CODES:
                exc.hint = (
                    "image_source='authorized' needs OBS Authorization enabled in the OCR console and the "
                    "bucket in the same region as OCR; or use image_source='signed_url'."
                )
            scrub(exc, src.url)
            raise
        except Exception as exc:
            scrub(exc, src.url)
            raise
        summary = summarize(self.api, response.result)
        billed = getattr(response, "billed_retries", 0) or 0
        if key:
            reference = self._store(key, src, response, summary)
            etag = reference.pop("etag", None)
            return ImageOutcome(
                src.display,
                "done",
                reference,
                response.request_id,
                response.attempts,
                reference["uri"],
                billed_retries=billed,
                result_etag=etag,
            )
        return ImageOutcome(
            src.display,
            "done",
            response.result,
            response.request_id,
            response.attempts,
            billed_retries=billed,
        )


def scrub(exc: BaseException, url: str | None) -> None:
    """Take a URL that may carry a signature or credentials out of an exception's text, in place.

    Per-item secrets (signed URLs) are not registered with Airflow's masker
    (its cost grows with every value registered); instead, every error raised
    while one is in use is rewritten here before it can reach a log.
    """
    if not url:
        return
    secrets = [url]
    query = urlsplit(url).query
    if query:
        secrets.append(query)
        secrets.extend(v for _, v in parse_qsl(query) if len(v) >= 8)
    safe = safe_url(url)

    def clean(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, safe if secret == url else "…")
        return value

    for name in ("message", "error_msg", "hint"):
        if isinstance(getattr(exc, name, None), str):
            try:
                setattr(exc, name, clean(getattr(exc, name)))
            except AttributeError:  # pragma: no cover - read-only attribute
                pass
    exc.args = tuple(clean(a) for a in exc.args)


def check_image_source(image_source: str, signed_url_expires: Any) -> None:
    if image_source not in IMAGE_SOURCES:
        raise HuaweiOcrValidationError(
            f"image_source: {image_source!r} is not one of {', '.join(IMAGE_SOURCES)}",
            parameter="image_source",
        )
    if (
        isinstance(signed_url_expires, bool)
        or not isinstance(signed_url_expires, int)
        or not 1 <= signed_url_expires <= MAX_SIGNED_URL_SECONDS
    ):
        raise HuaweiOcrValidationError(
            f"signed_url_expires: must be whole seconds between 1 and {MAX_SIGNED_URL_SECONDS}, "
            f"got {signed_url_expires!r}",
            parameter="signed_url_expires",
        )


def parse_output_uri(output_uri: str | None) -> ObsLocation | None:
    """``obs://bucket/prefix/`` -> location (key = prefix, may be empty); None stays None."""
    if output_uri is None or output_uri == "":
        return None
    return parse_obs_uri(output_uri, allow_empty_key=True, parameter="output_uri")
