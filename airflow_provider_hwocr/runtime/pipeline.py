"""One image through OCR: resolve the source, skip if done, check, call, store, summarise.

Shared by the per-API operators (one image per task) and the batch (many images per task),
so both behave the same way. Runs at task time only; it receives arguments the operator
has checked (:mod:`airflow_provider_hwocr.operators.arguments`) and API parameters that
were validated once, by the operator, for the whole task.

A PDF or OFD document is read page by page (:mod:`airflow_provider_hwocr.runtime.documents`):
the pipeline tells a document from an image, opens it (its pages counted and chosen), sends each
page with its page parameters and stores each page's result under a key naming the page and the
document's page count (:meth:`ResultStore.page_key`), the envelope recording ``page`` and ``pages``.

An API without an image (invoice-verification) goes the same way: its "image" is the
request's fields (a ``fields`` :class:`~airflow_provider_hwocr.client.sources.ImageSource`),
from the task's parameters or from each entry of a batch's ``images=``; the fields
identify the result, so a re-run of a verified invoice finds its result and calls nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from airflow_provider_hwocr.catalog import Api
from airflow_provider_hwocr.catalog.errors import AUTHORIZED_SOURCE_HINT, OBS_FETCH_ERROR_CODES
from airflow_provider_hwocr.catalog.formats import base64_size
from airflow_provider_hwocr.catalog.pages import DocumentKind
from airflow_provider_hwocr.client.documents import DEFAULT_MAX_PAGES
from airflow_provider_hwocr.client.errors import HuaweiOcrError, HuaweiOcrValidationError
from airflow_provider_hwocr.client.request import PreparedRequest, prepare_request
from airflow_provider_hwocr.client.sources import (
    ImageSource,
    ObsLocation,
    parse_obs_uri,
    read_image_file,
    safe_url,
)
from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook
from airflow_provider_hwocr.runtime.documents import (
    MAX_DOCUMENT_BYTES,
    Document,
    document_pages_spec,
    download,
    kind_by_name,
    source_kind,
)
from airflow_provider_hwocr.runtime.envelopes import (
    META_API,
    META_PARAMS,
    META_SOURCE,
    META_SOURCE_ETAG,
    META_SUMMARY,
    envelope,
    params_digest,
    summarize,
)
from airflow_provider_hwocr.runtime.store import PageKey, ResultStore
from airflow_provider_hwocr.runtime.text_export import text_document

if TYPE_CHECKING:
    from airflow_provider_hwocr.runtime.ledger import InvoiceLedger


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
    #: The page of a document this is the result of (``None``: an image), and the document's pages.
    page: int | None = None
    pages: int | None = None
    #: The envelope stored (the object that was PUT), for a caller that makes rows of it without
    #: reading it back; ``None`` for an outcome that stored nothing.
    envelope: dict[str, Any] | None = field(default=None, repr=False, compare=False)


class OcrPipeline:
    """Runs images through one API with fixed, already validated parameters and output settings."""

    def __init__(
        self,
        *,
        api: Api,
        params: dict[str, Any],
        ocr_hook: HuaweiOcrHook,
        obs_hook_factory: Callable[[], HuaweiObsHook],
        image_source: str = "signed_url",
        signed_url_expires: int = 900,
        store: ResultStore | None = None,
        skip_existing: bool = True,
        enterprise_project_id: str | None = None,
        log: Any = None,
        export_text: bool = False,
        ledger: InvoiceLedger | None = None,
        pages: Any = None,
        max_pages: int | None = DEFAULT_MAX_PAGES,
    ) -> None:
        self.api = api
        self.params = params
        #: The pages of each document to read (``pages=``, else the API's page field among the
        #: parameters, else ``None``: every page); refused when both are given, differently.
        self.pages = document_pages_spec(api, params, pages)
        self.max_pages = max_pages
        # an API without image: the request's fields are the source (its identity and version)
        self.digest = params_digest(params if api.image_field is not None else {})
        self.ocr_hook = ocr_hook
        self._obs_factory = obs_hook_factory
        self._obs: HuaweiObsHook | None = None
        self.image_source = image_source
        self.signed_url_expires = signed_url_expires
        self.store = store
        self.skip_existing = skip_existing and store is not None
        self.enterprise_project_id = enterprise_project_id
        self.export_text = export_text
        self.log = log or logging.getLogger(__name__)
        #: invoice-verification: each call takes a check of the invoice's daily limit first
        self.ledger = ledger

    @property
    def obs(self) -> HuaweiObsHook:
        if self._obs is None:
            self._obs = self._obs_factory()
        return self._obs

    # --- source ---------------------------------------------------------------------

    def resolve(self, image: Any) -> ImageSource:
        """The source for an image argument: a file is read, an OBS object HEADed (and signed).

        For an API without image: the task's own fields (``image`` None) or the given mapping.
        """
        if self.api.image_field is None:
            if image is None:
                return ImageSource.of_fields(self.params)
            if not isinstance(image, Mapping):
                raise HuaweiOcrValidationError(
                    f"image: {self.api.slug} takes no image; give its fields as parameters, or as a dict "
                    f"per entry of a batch's images= (got {ImageSource.of(image).display})",
                    parameter="image",
                )
        return self.load(ImageSource.of(image))

    def load(self, src: ImageSource) -> ImageSource:
        """Do the I/O a parsed source needs before it can be checked: read a file, HEAD an object."""
        if src.kind == "file" and src.path is not None and src.data is None:
            return src.with_data(read_image_file(src.path))
        if src.kind == "obs":
            loc = src.location or parse_obs_uri(str(src.image))  # a malformed URI is refused here
            info = self.obs.head(loc.bucket, loc.key)
            if info is None:
                raise HuaweiOcrValidationError(f"image: {loc.uri} does not exist", parameter="image")
            src = self.listed_source(loc, size=info.size, etag=info.etag)
            self.attach(src)
        return src

    def listed_source(self, loc: ObsLocation, *, size: int, etag: str | None) -> ImageSource:
        """An OBS source from what a HEAD or a listing said of it (no request); checks its size.

        A document (a key ending in ``.pdf`` or ``.ofd``) may be larger than one request takes: its
        pages are sent one at a time, each checked when it is sent.
        """
        limit = self.api.limits.max_base64_bytes
        encoded = base64_size(size)
        if size == 0:
            raise HuaweiOcrValidationError(f"image: {loc.uri} is empty (0 bytes)", parameter="image")
        if self.api.image_field is not None and kind_by_name(loc.key) is not None:
            limit, encoded = MAX_DOCUMENT_BYTES, size
        if encoded > limit:
            raise HuaweiOcrValidationError(
                f"image: {loc.uri} is {size:,} bytes, {encoded:,} after Base64; {self.api.slug} accepts "
                f"at most {limit:,} bytes (nothing was downloaded or sent)",
                parameter="image",
            )
        return ImageSource.obs(loc, size=size, etag=etag)

    def attach(self, src: ImageSource) -> None:
        """Give an OBS source what the request needs: its bytes, a signed URL or its plain URL.

        Called only for images that will be sent. A signed URL is a secret that
        lives in ``src.url`` only: it is never logged, recorded or put in XCom,
        and :meth:`send` scrubs it from error text.
        """
        loc = src.location
        if src.kind != "obs" or loc is None or src.url is not None or src.data is not None:
            return
        if self.image_source == "inline":
            src.data = self.obs.get_bytes(loc.bucket, loc.key)
        elif self.image_source == "authorized":
            src.url = self.obs.object_url(loc.bucket, loc.key)
        else:
            src.url = self.obs.signed_get_url(loc.bucket, loc.key, expires=self.signed_url_expires)

    # --- documents ------------------------------------------------------------------

    def document_kind(self, src: ImageSource) -> DocumentKind | None:
        """``"pdf"`` or ``"ofd"`` for a document source, ``None`` for an image (no request)."""
        return source_kind(self.api, src)

    def open_document(self, src: ImageSource, data: bytes | None = None) -> Document | None:
        """The document ``src`` is, counted and checked (``pages``, ``max_pages``) before any call: its
        bytes are ``data``, else read (one GET of an object or a URL); ``None`` if they are not a PDF
        or OFD after all."""
        if data is None:
            data = download(src, self._obs_for(src))
        return Document.open(
            self.api,
            src,
            data,
            pages=self.pages,
            max_pages=self.max_pages,
            inline=self.inline,
        )

    def _obs_for(self, src: ImageSource) -> HuaweiObsHook | None:
        return self.obs if src.kind == "obs" and src.data is None else None

    @property
    def inline(self) -> bool:
        """Whether an ``obs://`` source is sent as bytes (``image_source="inline"``)."""
        return self.image_source == "inline"

    def known_document(self, src: ImageSource, kind: DocumentKind, count: int) -> Document:
        """The document, its page count known already (from the keys of its stored pages), its pages
        chosen and checked, nothing read: :meth:`Document.needs_data` says whether its pages need
        its bytes anyway (split, rendered, sent as bytes: then :meth:`open_document`)."""
        return Document.planned(
            self.api, src, kind, count, pages=self.pages, max_pages=self.max_pages, size=src.size
        )

    # --- output ---------------------------------------------------------------------

    def result_key(self, src: ImageSource, page: int | None = None, pages: int | None = None) -> str | None:
        """Where this image's result (or this page's of a document) goes; ``None`` without an output
        (or for an unusable source)."""
        if self.store is None or not src.identity:
            return None
        return self.store.result_key(src.identity, src.name, page, pages)

    def document_stem(self, src: ImageSource) -> str | None:
        """What the keys of a document's pages start with; ``None`` without an output."""
        if self.store is None or not src.identity:
            return None
        return self.store.document_stem(src.identity, src.name)

    def stored_pages(self, src: ImageSource) -> dict[int, set[int]]:
        """The pages of ``src`` stored already, by the page count their keys name: one listing of the
        document's keys (``{}`` without an output, or when nothing is stored)."""
        stem = self.document_stem(src)
        if stem is None or self.store is None:
            return {}
        found: dict[int, set[int]] = {}
        for info in self.obs.list_objects(self.store.bucket, self.store.page_prefix(stem)):
            parsed = self.store.parse_page_key(info.key)
            if parsed is not None and parsed.stem == stem:
                found.setdefault(parsed.pages, set()).add(parsed.page)
        return found

    def page_of(self, key: str) -> PageKey | None:
        """The page a result key names (``None``: an image's key)."""
        return None if self.store is None else self.store.parse_page_key(key)

    def existing(self, key: str, src: ImageSource) -> dict[str, Any] | None:
        """The stored result for ``key`` if it was made with these parameters from this source (a HEAD)."""
        assert self.store is not None
        info = self.obs.head(self.store.bucket, key)
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
        reference: dict[str, Any] = {"uri": self.store.uri(key), "summary": summary}
        page = self.page_of(key)
        if page is not None:
            reference["page"] = page.page
        return reference

    def _store(
        self, key: str, src: ImageSource, response: Any, summary: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Write one answer under ``key``; a page's key names its page and the document's page count,
        which its envelope and text pages record. Returns (the reference, the envelope written)."""
        store = self.store
        assert store is not None
        page = store.parse_page_key(key)
        doc = envelope(
            api=self.api,
            parameters=self.params,
            source=src.record(self.image_source),
            request_id=response.request_id,
            region=self.ocr_hook.settings.region,
            result=response.result,
            summary=summary,
            page=None if page is None else page.page,
            pages=None if page is None else page.pages,
        )
        identity = src.identity
        metadata = {
            META_API: self.api.slug,
            META_PARAMS: self.digest,
            META_SOURCE: identity if identity.isascii() else identity.encode("unicode_escape").decode(),
            META_SUMMARY: json.dumps(summary, ensure_ascii=True, separators=(",", ":")),
        }
        if src.etag:
            metadata[META_SOURCE_ETAG] = src.etag
        etag = self.obs.put_json(store.bucket, key, doc, metadata=metadata)
        uri = store.uri(key)
        if self.export_text:  # plain-text pages next to the envelope
            text = text_document(
                self.api.slug,
                response.result,
                source=identity,
                request_id=response.request_id,
                result_uri=uri,
            )
            if page is not None:  # the document's page, not the items of the page's result
                for item in text["pages"]:
                    item["metadata"].update(page=page.page, pages=page.pages)
            self.obs.put_json(store.bucket, store.text_key(key), text)
        reference: dict[str, Any] = {"uri": uri, "summary": summary, "etag": etag}
        if page is not None:
            reference["page"] = page.page
        return reference, doc

    # --- one image ------------------------------------------------------------------

    def run(self, image: Any) -> ImageOutcome:
        """One image: resolve it (HEAD for OBS), skip it if its result is in OBS, else call and store."""
        return self.run_source(self.resolve(image))

    def run_source(self, src: ImageSource) -> ImageOutcome:
        """One resolved image: skipped if its result is in OBS, else called and stored."""
        key = self.result_key(src)
        if key and self.skip_existing:
            existing = self.existing(key, src)
            if existing is not None:
                return ImageOutcome(src.display, "skipped", existing, result_uri=existing["uri"])
        return self.send(src, key)

    def check(self, src: ImageSource, page_params: Mapping[str, Any] | None = None) -> PreparedRequest:
        """Every local check of the request for ``src`` (no call); returns the prepared request.

        ``page_params``: the page field that chooses a document's page (``{"pdf_page_number": 3}``).
        """
        if src.kind == "fields":
            return prepare_request(self.api, params=self._fields_params(src))
        image = src.data if src.kind in ("obs", "file", "bytes") else src.image
        params = {**self.params, **page_params} if page_params else self.params
        return prepare_request(
            self.api, image=None if src.url else image, url=src.url, params=params, validated=True
        )

    def _fields_params(self, src: ImageSource) -> dict[str, Any]:
        """The task's parameters with a source's own fields; a field set twice, differently, is an error."""
        own = src.fields
        for name, value in own.items():
            if name in self.params and self.params[name] != value:
                raise HuaweiOcrValidationError(
                    f"{name}: given both as a task parameter ({self.params[name]!r}) and by the entry "
                    f"{src.display} ({value!r}); give it once",
                    parameter=name,
                )
        return {**self.params, **own}

    def recognise(
        self,
        src: ImageSource,
        *,
        ensure_may_send: Callable[[], None] | None = None,
        page_params: Mapping[str, Any] | None = None,
    ) -> tuple[Any, dict[str, Any]]:
        """The billed part of one image: check, call OCR; returns ``(response, summary)``.

        ``ensure_may_send`` is called after the checks, right before the call, and raises to stop
        it (the batch: once it stops, loses its lease or spends its budget). The hook's rate
        limiter paces every try. Nothing is stored: the batch hands the answer to its writer
        stage (:mod:`airflow_provider_hwocr.runtime.batch.write`), :meth:`send` stores it at once.
        ``page_params`` choose a document's page (:meth:`check`).
        """
        # Everything is checked here, before the (billed) call.
        try:
            prepared = self.check(src, page_params)
        except HuaweiOcrError as exc:
            scrub(exc, src.url)
            raise
        if ensure_may_send is not None:
            ensure_may_send()
        if self.ledger is not None:
            self.ledger.take(prepared.body)  # refused before the call once the day's checks are used
        try:
            response = self.ocr_hook.call(
                self.api, prepared.body, enterprise_project_id=self.enterprise_project_id
            )
        except HuaweiOcrError as exc:
            if (
                src.kind == "obs"
                and self.image_source == "authorized"
                and exc.error_code in OBS_FETCH_ERROR_CODES
            ):
                exc.hint = AUTHORIZED_SOURCE_HINT
            scrub(exc, src.url)
            raise
        except Exception as exc:
            scrub(exc, src.url)
            raise
        return response, summarize(self.api, response.result)

    def store_result(
        self, key: str, src: ImageSource, response: Any, summary: dict[str, Any]
    ) -> ImageOutcome:
        """Write one answer under ``key`` (and its text, with ``export_text``); the image is done once this returns."""
        reference, doc = self._store(key, src, response, summary)
        etag = reference.pop("etag", None)
        page = self.page_of(key)
        return ImageOutcome(
            src.display,
            "done",
            reference,
            response.request_id,
            response.attempts,
            reference["uri"],
            billed_retries=getattr(response, "billed_retries", 0) or 0,
            result_etag=etag,
            page=None if page is None else page.page,
            pages=None if page is None else page.pages,
            envelope=doc,
        )

    def send(self, src: ImageSource, key: str | None) -> ImageOutcome:
        """Call OCR for a resolved source and store the result under ``key`` (if any)."""
        response, summary = self.recognise(src)
        if key:
            return self.store_result(key, src, response, summary)
        return ImageOutcome(
            src.display,
            "done",
            response.result,
            response.request_id,
            response.attempts,
            billed_retries=getattr(response, "billed_retries", 0) or 0,
        )


def scrub(exc: BaseException, url: str | None) -> None:
    """Take a URL that may carry a signature or credentials out of an exception's text, in place.

    Per-item secrets (signed URLs) are not registered with Airflow's masker
    (its cost grows with every value registered); instead, every error raised
    while one is in use is rewritten here before it can reach a log.
    """
    if not url:
        return
    secrets, safe = url_secrets(url), safe_url(url)

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


def url_secrets(url: str) -> list[str]:
    """What of a URL must not reach a log: the URL, its query, and each long query value (as
    decoded and as sent); the URL first."""
    secrets = [url]
    query = urlsplit(url).query
    if query:
        secrets.append(query)
        secrets.extend(v for _, v in parse_qsl(query) if len(v) >= 8)  # as decoded
        secrets.extend(
            v for _, _, v in (p.partition("=") for p in query.split("&")) if len(v) >= 8
        )  # as sent
    return secrets
