"""One Airflow operator per Huawei Cloud OCR API, plus a generic one.

Importing this module is cheap: it needs only the catalog. The hook (and
with it ``requests``) is imported when a task runs, and no OBS SDK module is
imported here at all, so DAG files that use these operators parse fast.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Union

from airflow.sdk import BaseOperator

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.errors import HuaweiCloudNonRetryableError
from airflow_provider_hwocr.links import HuaweiObsResultLink, HuaweiObsSourceLink
from airflow_provider_hwocr.operators._integration import DEFAULT_MAP_INDEX_TEMPLATE, OcrIntegrationMixin

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook

#: What ``image=`` accepts: an ``http(s)://`` URL, an ``obs://bucket/key`` URI,
#: a local file path, or the image bytes.
ImageArg = Union[str, bytes, "os.PathLike[str]", None]

__all__ = [
    "HuaweiOcrAutoClassificationOperator",
    "HuaweiOcrAutoIdDocClassificationOperator",
    "HuaweiOcrCambodianIdCardOperator",
    "HuaweiOcrChileIdCardOperator",
    "HuaweiOcrColombiaIdCardOperator",
    "HuaweiOcrGeneralTableOperator",
    "HuaweiOcrGeneralTextOperator",
    "HuaweiOcrHandwritingOperator",
    "HuaweiOcrIdDocumentOperator",
    "HuaweiOcrMyanmarDriverLicenseOperator",
    "HuaweiOcrMyanmarIdCardOperator",
    "HuaweiOcrOperator",
    "HuaweiOcrPassportOperator",
    "HuaweiOcrPeruIdCardOperator",
    "HuaweiOcrSmartDocumentRecognizerOperator",
    "HuaweiOcrThailandIdCardOperator",
    "HuaweiOcrThailandLicensePlateOperator",
    "HuaweiOcrVietnamIdCardOperator",
    "HuaweiOcrWebImageOperator",
    "HuaweiOcrXComSizeError",
    "ImageArg",
]


def _own_params(slug: str, scope: dict[str, Any]) -> dict[str, Any]:
    """The API parameters among a constructor's local variables that were set."""
    names = get_api(slug).param_names
    return {name: scope[name] for name in names if scope.get(name) is not None}


def _is_static(value: Any) -> bool:
    """True for a plain value known at parse time (not a template, not an XCom)."""
    if isinstance(value, str):
        return "{{" not in value and "{%" not in value
    if isinstance(value, (bool, int, float)) or value is None:
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_static(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_static(v) for k, v in value.items())
    return False


#: Default ceiling for a result pushed whole to XCom (bytes of JSON).
DEFAULT_MAX_XCOM_BYTES = 48 * 1024

#: Parameters that make results large (Base64 files or images inside).
_LARGE_RESULT_PARAMS = ("return_excel", "return_portrait_image", "return_adjusted_image")


class HuaweiOcrXComSizeError(HuaweiCloudNonRetryableError, ValueError):
    """A result too large for XCom, with no ``output_uri`` to store it in.

    Raised after the (billed) call; never retry it: a retry bills again and
    fails the same way. ``parameter`` is ``max_xcom_bytes``.
    """

    parameter = "max_xcom_bytes"


class HuaweiOcrOperator(OcrIntegrationMixin, BaseOperator):
    """Run one Huawei Cloud OCR API on one image and return its ``result``.

    The image is checked (format, size, pixel limits) and every parameter is
    validated against the API's documentation before a request is sent, so a
    bad input fails the task without a billed call.

    :param api: the API's path slug, e.g. ``general-text`` (see the README table).
    :param image: an ``http(s)://`` URL (sent as ``url``), an ``obs://bucket/key``
        URI, a local file path or raw bytes (sent Base64). Templated.
    :param parameters: the API's optional body parameters. Templated.
    :param image_source: how the service gets an ``obs://`` image:
        ``signed_url`` (default: a temporary signed GET URL, works with any
        private bucket the connection can read), ``authorized`` (the plain
        object URL; needs OCR's OBS authorization enabled, bucket in the same
        region) or ``inline`` (downloaded by the worker and sent Base64).
    :param signed_url_expires: validity of signed URLs, seconds (default 900).
    :param output_uri: ``obs://bucket/prefix/`` to store each result there (an
        envelope with API, parameters, source, request id, time and result);
        XCom then gets ``{"uri": ..., "summary": ...}``. Templated
        (``obs://results/{{ ds }}/``). Unset: the result goes to XCom.
    :param skip_existing: with ``output_uri``, do not call OCR when the result
        object already exists (same image, same parameters); default on.
    :param max_xcom_bytes: a result larger than this is never pushed to XCom;
        without ``output_uri`` the task fails and says so. Default 48 KB.
    :param huaweicloud_ocr_conn_id: Airflow connection of type ``huaweicloud_ocr``.
    :param region: overrides the connection's region.
    :param project_id: overrides the connection's project id.
    :param enterprise_project_id: sent as the ``Enterprise-Project-Id`` header
        to split billing by enterprise project.
    :param emit_asset: with a fixed ``output_uri``, declare ``Asset("obs://bucket/prefix/")``
        as an outlet, so DAGs scheduled on it run when results land (the asset
        event's ``extra`` lists the result URIs). See README, "Airflow 3 integration".
    :param export_text: with ``output_uri``, also store each result as plain text
        pages with metadata (``{"text", "metadata"}`` per page) next to the envelope,
        at ``….{api}.text.json``.
    :param map_index_template: how mapped instances are named; default: the image's file name.
    :param retry_possibly_billed: retry a try the service may already have billed
        (read timeout, truncated answer, connection lost after sending). ``None``
        (default): the connection's ``retry_possibly_billed`` extra, itself on by
        default. Every such retry is logged at WARNING and counted; see the README,
        "Billing and retries".
    :return: the API's ``result`` (a dict, or a list for list-shaped APIs), or
        the reference to it in OBS; pushed to XCom.
    """

    template_fields: Sequence[str] = (
        "image",
        "parameters",
        "output_uri",
        "huaweicloud_ocr_conn_id",
        "region",
        "project_id",
        "enterprise_project_id",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"parameters": "json"}
    ui_color = "#c7000b"
    ui_fgcolor = "#ffffff"
    operator_extra_links = (HuaweiObsSourceLink(), HuaweiObsResultLink())

    def __init__(
        self,
        *,
        api: str,
        image: ImageArg = None,
        parameters: dict[str, Any] | None = None,
        image_source: str = "signed_url",
        signed_url_expires: int = 900,
        output_uri: str | None = None,
        skip_existing: bool | None = None,
        max_xcom_bytes: int = DEFAULT_MAX_XCOM_BYTES,
        huaweicloud_ocr_conn_id: str = "huaweicloud_ocr_default",
        region: str | None = None,
        project_id: str | None = None,
        enterprise_project_id: str | None = None,
        retry_possibly_billed: bool | None = None,
        emit_asset: bool = False,
        export_text: bool = False,
        map_index_template: str | None = DEFAULT_MAP_INDEX_TEMPLATE,
        **kwargs: Any,
    ) -> None:
        # The default above (read by .partial() too) names mapped instances by file (issue 11).
        super().__init__(map_index_template=map_index_template, **kwargs)
        self.export_text = export_text
        self.api = api
        self.image = image
        self.parameters = dict(parameters or {})
        self.image_source = image_source
        self.signed_url_expires = signed_url_expires
        self.output_uri = output_uri
        self.skip_existing = skip_existing
        self.max_xcom_bytes = max_xcom_bytes
        self.huaweicloud_ocr_conn_id = huaweicloud_ocr_conn_id
        self.region = region
        self.project_id = project_id
        self.enterprise_project_id = enterprise_project_id
        self.retry_possibly_billed = retry_possibly_billed
        self._check_at_parse_time()
        if (asset := self._integration_init(emit_asset=emit_asset)) is not None:
            self.outlets = [*self.outlets, asset]

    def _check_at_parse_time(self) -> None:
        """Fail at DAG parse time on what is already known to be wrong (no I/O)."""
        from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
        from airflow_provider_hwocr.client.request import validate_params
        from airflow_provider_hwocr.operators._pipeline import check_image_source, parse_output_uri

        try:
            spec = get_api(self.api)
        except KeyError as exc:
            raise HuaweiOcrValidationError(f"api: {exc.args[0]}", parameter="api") from None
        if spec.deprecation:
            from airflow.exceptions import AirflowProviderDeprecationWarning

            warnings.warn(
                f"{spec.title} ({spec.slug}): {spec.deprecation}",
                AirflowProviderDeprecationWarning,
                stacklevel=3,
            )
        if isinstance(self.parameters, dict):
            static = {k: v for k, v in self.parameters.items() if _is_static(v)}
            # Names are never templated: check every name, and the values known now.
            templated = {k: None for k in self.parameters if k not in static}
            validate_params(spec, {**static, **templated})
        check_image_source(self.image_source, self.signed_url_expires)
        if isinstance(self.output_uri, str) and _is_static(self.output_uri):
            parse_output_uri(self.output_uri)
        max_xcom = self.max_xcom_bytes
        if isinstance(max_xcom, bool) or not isinstance(max_xcom, int) or max_xcom <= 0:
            raise HuaweiOcrValidationError(
                f"max_xcom_bytes: must be a whole number of bytes > 0, got {max_xcom!r}",
                parameter="max_xcom_bytes",
            )
        if self.retry_possibly_billed is not None and not isinstance(self.retry_possibly_billed, bool):
            raise HuaweiOcrValidationError(
                f"retry_possibly_billed: must be True, False or None, got {self.retry_possibly_billed!r}",
                parameter="retry_possibly_billed",
            )

    # --- execution ------------------------------------------------------------------

    @property
    def hook(self) -> HuaweiOcrHook:
        from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook

        return HuaweiOcrHook(
            huaweicloud_ocr_conn_id=self.huaweicloud_ocr_conn_id,
            region=self.region,
            project_id=self.project_id,
            retry_possibly_billed=self.retry_possibly_billed,
        )

    def _obs_hook(self) -> Any:
        from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

        return HuaweiObsHook(huaweicloud_ocr_conn_id=self.huaweicloud_ocr_conn_id, region=self.region)

    def make_pipeline(self) -> Any:
        from airflow_provider_hwocr.operators._pipeline import OcrPipeline, parse_output_uri

        spec = get_api(self.api)
        output = parse_output_uri(self.output_uri)
        if output is None and any(self.parameters.get(p) for p in _LARGE_RESULT_PARAMS):
            self.log.warning(
                "%s returns files or images inline; set output_uri so a large result is stored in OBS "
                "instead of failing the XCom size limit (%d bytes)",
                ", ".join(p for p in _LARGE_RESULT_PARAMS if self.parameters.get(p)),
                self.max_xcom_bytes,
            )
        if self.enterprise_project_id and not spec.enterprise_project_header:
            self.log.warning(
                "The docs do not list the Enterprise-Project-Id header for %s; sending it anyway.", spec.slug
            )
        self._ocr_hook = self.hook
        return OcrPipeline(
            api=spec,
            parameters=self.parameters,
            ocr_hook=self._ocr_hook,
            obs_hook_factory=self._obs_hook,
            image_source=self.image_source,
            signed_url_expires=self.signed_url_expires,
            output=output,
            skip_existing=True if self.skip_existing is None else bool(self.skip_existing),
            enterprise_project_id=self.enterprise_project_id,
            log=self.log,
            export_text=bool(self.export_text),
        )

    def execute(self, context: Context) -> Any:
        from airflow_provider_hwocr.client.errors import HuaweiOcrError

        pipeline = self.make_pipeline()
        self.log.info("OCR %s on %s", pipeline.api.slug, _describe(self.image))
        try:
            outcome = pipeline.run(self.image)
        except HuaweiOcrError:
            self._report_billing(context, failed=True)
            raise
        self._integration_after_run(context, results=[outcome.result_uri])
        if outcome.status == "skipped":
            self.log.info("Result already in %s: skipped, no OCR call", outcome.result_uri)
            return outcome.value
        self.log.info(
            "OCR %s succeeded: request id %s, %d attempt(s)%s",
            pipeline.api.slug,
            outcome.request_id,
            outcome.attempts,
            f"; stored in {outcome.result_uri}" if outcome.result_uri else "",
        )
        self._report_billing(context, failed=False)
        if outcome.result_uri is None:
            self._check_xcom_size(outcome)
        return outcome.value

    def _report_billing(self, context: Any, *, failed: bool) -> None:
        """Log, and push to XCom under key ``billing``, the requests sent and billed retries."""
        hook = getattr(self, "_ocr_hook", None)
        if hook is None:
            return
        billing = {"requests_sent": hook.requests_sent, "billed_retries": hook.billed_retries}
        if hook.billed_retries:
            self.log.warning(
                "OCR %s: %d retr%s followed a try the service may already have billed; this image may "
                "have been billed %d times%s",
                self.api,
                hook.billed_retries,
                "y" if hook.billed_retries == 1 else "ies",
                hook.billed_retries + 1,
                " (and still failed)" if failed else "",
            )
        ti = context.get("ti") if isinstance(context, dict) or hasattr(context, "get") else None
        if ti is not None and hook.requests_sent:
            ti.xcom_push(key="billing", value=billing)

    def _check_xcom_size(self, outcome: Any) -> None:
        import json

        size = len(json.dumps(outcome.value, ensure_ascii=False).encode("utf-8"))
        if size > self.max_xcom_bytes:
            raise HuaweiOcrXComSizeError(
                f"the {self.api} result is {size:,} bytes, over max_xcom_bytes={self.max_xcom_bytes:,}; "
                "it is not pushed to XCom. Set output_uri='obs://bucket/prefix/' to store results in OBS "
                f"and push only a reference (request id {outcome.request_id})."
            )


def _describe(image: Any) -> str:
    """A log-safe description of the image argument (no bytes, no URL credentials, no URL query)."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        return f"<{len(image):,} bytes>"
    if not isinstance(image, str):
        return repr(image)
    from airflow_provider_hwocr.client.request import safe_url

    return safe_url(image) if "://" in image else image


class HuaweiOcrGeneralTextOperator(HuaweiOcrOperator):
    """General Text OCR (``general-text``): printed text in any layout, many languages, images and PDF pages.

    Regions: ap-southeast-1. Returns the API's ``result`` (a dict).

    :param image: ``http(s)://`` URL, ``obs://bucket/key``, local file path or bytes.
    :param detect_direction: Straighten tilted images and report the angle.
    :param quick_mode: Fast path for images holding a single line of text.
    :param character_mode: Return per-character results (char_list).
    :param language: Recognition language; auto detects it (zh = Chinese and English).
    :param single_orientation_mode: Assume all text shares one orientation.
    :param pdf_page_number: PDF page to recognise (1 = first page).
    :param return_markdown_result: Also return all text joined as markdown_result.
    """

    api_slug = "general-text"

    def __init__(
        self,
        *,
        image: ImageArg = None,
        detect_direction: bool | None = None,
        quick_mode: bool | None = None,
        character_mode: bool | None = None,
        language: str | None = None,
        single_orientation_mode: bool | None = None,
        pdf_page_number: int | None = None,
        return_markdown_result: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            api=self.api_slug, image=image, parameters=_own_params(self.api_slug, locals()), **kwargs
        )


class HuaweiOcrHandwritingOperator(HuaweiOcrOperator):
    """Handwriting OCR (``handwriting``): handwritten and printed text with positions.

    Regions: cn-north-4. Returns the API's ``result`` (a dict).

    :param image: ``http(s)://`` URL, ``obs://bucket/key``, local file path or bytes.
    :param quick_mode: Fast path for images holding a single line of text.
    :param char_set: Restricts the output character set (default general).
    :param detect_direction: Straighten tilted images.
    """

    api_slug = "handwriting"

    def __init__(
        self,
        *,
        image: ImageArg = None,
        quick_mode: bool | None = None,
        char_set: str | None = None,
        detect_direction: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            api=self.api_slug, image=image, parameters=_own_params(self.api_slug, locals()), **kwargs
        )


class HuaweiOcrGeneralTableOperator(HuaweiOcrOperator):
    """General Table OCR (``general-table``): tables with or without ruling lines, cell by cell, optionally as an Excel file.

    Regions: ap-southeast-3. Returns the API's ``result`` (a dict).

    :param image: ``http(s)://`` URL, ``obs://bucket/key``, local file path or bytes.
    :param return_text_location: Return the coordinates of text blocks and cells.
    :param return_char_location: Return per-character coordinates (needs return_text_location).
    :param return_confidence: Return confidence scores.
    :param return_excel: Return the table as a Base64 .xlsx in result.excel.
    :param return_rectification_matrix: Return the perspective correction matrix.
    :param with_borders: The image holds only ruled tables; recognise only those.
    """

    api_slug = "general-table"

    def __init__(
        self,
        *,
        image: ImageArg = None,
        return_text_location: bool | None = None,
        return_char_location: bool | None = None,
        return_confidence: bool | None = None,
        return_excel: bool | None = None,
        return_rectification_matrix: bool | None = None,
        with_borders: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            api=self.api_slug, image=image, parameters=_own_params(self.api_slug, locals()), **kwargs
        )


class HuaweiOcrWebImageOperator(HuaweiOcrOperator):
    """Web Image OCR (``web-image``): text in web and social-media pictures, with optional contact extraction and fonts.

    Regions: ap-southeast-2. Returns the API's ``result`` (a dict).

    :param image: ``http(s)://`` URL, ``obs://bucket/key``, local file path or bytes.
    :param detect_direction: Straighten tilted images.
    :param extract_type: Structured items to extract into extracted_data.
    :param detect_font: Return the most similar fonts of each block.
    :param detect_text_direction: Detect the direction of each text field.
    """

    api_slug = "web-image"

    def __init__(
        self,
        *,
        image: ImageArg = None,
        detect_direction: bool | None = None,
        extract_type: list[str] | str | None = None,
        detect_font: bool | None = None,
        detect_text_direction: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            api=self.api_slug, image=image, parameters=_own_params(self.api_slug, locals()), **kwargs
        )


class HuaweiOcrSmartDocumentRecognizerOperator(HuaweiOcrOperator):
    """Smart Document Recognizer OCR (``smart-document-recognizer``): text, key-value pairs, tables, layout, forms and formulas from documents and PDF pages.

    Regions: ap-southeast-1, ap-southeast-3. Returns the API's ``result`` (a list).

    :param image: ``http(s)://`` URL, ``obs://bucket/key``, local file path or bytes.
    :param single_orientation_mode: Assume all text shares one orientation.
    :param language: Recognition language (zh = Chinese and English).
    :param kv: Extract key-value pairs into kv_result (language zh only).
    :param table: Recognise tables into table_result.
    :param layout: Run layout analysis into layout_result.
    :param return_excel: Also return each table as a Base64 .xlsx (needs table=true).
    :param form: Recognise ruled forms into form_result.
    :param formula: Recognise formulas as LaTeX into formula_result.
    :param image_layout: Run layout analysis on pictures inside the document too.
    :param kv_map: JSON object (or a dict, serialised for you) that renames keys of kv_result.
    :param erase_seal: Erase stamps and seals before recognition.
    :param pdf_page_number: PDF page to recognise (1 = first page).
    :param character_mode: Return per-character results (char_list).
    """

    api_slug = "smart-document-recognizer"

    def __init__(
        self,
        *,
        image: ImageArg = None,
        single_orientation_mode: bool | None = None,
        language: str | None = None,
        kv: bool | None = None,
        table: bool | None = None,
        layout: bool | None = None,
        return_excel: bool | None = None,
        form: bool | None = None,
        formula: bool | None = None,
        image_layout: bool | None = None,
        kv_map: str | dict[str, str] | None = None,
        erase_seal: bool | None = None,
        pdf_page_number: int | None = None,
        character_mode: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            api=self.api_slug, image=image, parameters=_own_params(self.api_slug, locals()), **kwargs
        )


class HuaweiOcrAutoClassificationOperator(HuaweiOcrOperator):
    """Auto Classification OCR (``auto-classification``): finds and classifies several documents in one image and recognises each.

    Regions: cn-north-4. Returns the API's ``result`` (a list).

    :param image: ``http(s)://`` URL, ``obs://bucket/key``, local file path or bytes.
    :param type_list: Only documents of these types are recognised; omit for all.
    """

    api_slug = "auto-classification"

    def __init__(
        self,
        *,
        image: ImageArg = None,
        type_list: list[str] | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            api=self.api_slug, image=image, parameters=_own_params(self.api_slug, locals()), **kwargs
        )


class HuaweiOcrAutoIdDocClassificationOperator(HuaweiOcrOperator):
    """Auto ID Document Classification OCR (``auto-id-doc-classification``): classifies an identity document image and can raise quality alarms.

    Regions: ap-southeast-2. Returns the API's ``result`` (a dict).

    :param image: ``http(s)://`` URL, ``obs://bucket/key``, local file path or bytes.
    :param alarm: Detect blur, glare, occlusion, copies, recaptures and cut borders.
    """

    api_slug = "auto-id-doc-classification"

    def __init__(
        self,
        *,
        image: ImageArg = None,
        alarm: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            api=self.api_slug, image=image, parameters=_own_params(self.api_slug, locals()), **kwargs
        )


class HuaweiOcrIdDocumentOperator(HuaweiOcrOperator):
    """ID Document OCR (``id-document``): passports, driving licences and identity cards of many countries.

    Regions: ap-southeast-1. Returns the API's ``result`` (a dict).

    .. deprecated:: The vendor removed the ID Document API on 2025-11-04; calls may fail with APIG.0101.

    :param image: ``http(s)://`` URL, ``obs://bucket/key``, local file path or bytes.
    :param country_region: ISO 3166-1 alpha-3 codes of the issuing countries to consider.
    :param id_type: Document types to consider: PP passport, DL driving licence, ID identity card.
    :param return_portrait_image: Return the portrait photo as Base64.
    """

    api_slug = "id-document"

    def __init__(
        self,
        *,
        image: ImageArg = None,
        country_region: list[str] | str | None = None,
        id_type: list[str] | str | None = None,
        return_portrait_image: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            api=self.api_slug, image=image, parameters=_own_params(self.api_slug, locals()), **kwargs
        )


class HuaweiOcrPassportOperator(HuaweiOcrOperator):
    """Passport OCR (``passport``): passport data page fields, from the machine-readable zone or a Chinese passport.

    Regions: ap-southeast-1, ap-southeast-2. Returns the API's ``result`` (a dict).

    :param image: ``http(s)://`` URL, ``obs://bucket/key``, local file path or bytes.
    :param country_code: GENERAL reads the machine-readable zone, CHN reads all fields of a Chinese passport; omit to choose automatically.
    """

    api_slug = "passport"

    def __init__(
        self,
        *,
        image: ImageArg = None,
        country_code: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            api=self.api_slug, image=image, parameters=_own_params(self.api_slug, locals()), **kwargs
        )


class HuaweiOcrThailandIdCardOperator(HuaweiOcrOperator):
    """Thailand ID Card OCR (``thailand-id-card``): fields of Thai identity cards, front and back.

    Regions: ap-southeast-2. Returns the API's ``result`` (a dict).

    :param image: ``http(s)://`` URL, ``obs://bucket/key``, local file path or bytes.
    :param side: Which side of the card the image shows; omit to let the service detect it.
    :param return_portrait_image: Return the portrait photo of the card as Base64.
    :param return_portrait_location: Return where the portrait is on the image.
    :param return_idcard_type: Return whether the card is an original or a copy (idcard_type).
    :param return_text_location: Return the position of every recognised field (text_location).
    """

    api_slug = "thailand-id-card"

    def __init__(
        self,
        *,
        image: ImageArg = None,
        side: str | None = None,
        return_portrait_image: bool | None = None,
        return_portrait_location: bool | None = None,
        return_idcard_type: bool | None = None,
        return_text_location: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            api=self.api_slug, image=image, parameters=_own_params(self.api_slug, locals()), **kwargs
        )


class HuaweiOcrThailandLicensePlateOperator(HuaweiOcrOperator):
    """Thailand License Plate OCR (``thailand-license-plate``): thai vehicle plates: number, province and position, one item per plate.

    Regions: ap-southeast-2. Returns the API's ``result`` (a list).

    :param image: ``http(s)://`` URL, ``obs://bucket/key``, local file path or bytes.
    """

    api_slug = "thailand-license-plate"

    def __init__(self, *, image: ImageArg = None, **kwargs: Any) -> None:
        super().__init__(api=self.api_slug, image=image, **kwargs)


class HuaweiOcrColombiaIdCardOperator(HuaweiOcrOperator):
    """Colombia ID Card OCR (``colombia-id-card``): fields of Colombian identity cards.

    Regions: la-north-2. Returns the API's ``result`` (a dict).

    :param image: ``http(s)://`` URL, ``obs://bucket/key``, local file path or bytes.
    """

    api_slug = "colombia-id-card"

    def __init__(self, *, image: ImageArg = None, **kwargs: Any) -> None:
        super().__init__(api=self.api_slug, image=image, **kwargs)


class HuaweiOcrCambodianIdCardOperator(HuaweiOcrOperator):
    """Cambodian ID Card OCR (``cambodian-idcard``): fields of Cambodian identity cards, with optional fraud and quality alarms.

    Regions: ap-southeast-3. Returns the API's ``result`` (a dict).

    :param image: ``http(s)://`` URL, ``obs://bucket/key``, local file path or bytes.
    :param return_portrait_image: Return the portrait photo of the card as Base64.
    :param return_portrait_location: Return where the portrait is on the image.
    :param return_idcard_type: Return whether the card is an original or a copy (idcard_type).
    :param detect_border_integrity: Alarm when the card border is incomplete.
    :param detect_blocking_within_border: Alarm when something covers the card.
    :param detect_blur: Alarm when the image is blurred.
    :param detect_glare: Alarm on glare.
    :param return_adjusted_image: Return the straightened card image as Base64.
    :param detect_tampering: Alarm when the portrait looks edited.
    :param detect_reproduce: Alarm when the image is a photo of a screen or print.
    """

    api_slug = "cambodian-idcard"

    def __init__(
        self,
        *,
        image: ImageArg = None,
        return_portrait_image: bool | None = None,
        return_portrait_location: bool | None = None,
        return_idcard_type: bool | None = None,
        detect_border_integrity: bool | None = None,
        detect_blocking_within_border: bool | None = None,
        detect_blur: bool | None = None,
        detect_glare: bool | None = None,
        return_adjusted_image: bool | None = None,
        detect_tampering: bool | None = None,
        detect_reproduce: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            api=self.api_slug, image=image, parameters=_own_params(self.api_slug, locals()), **kwargs
        )


class HuaweiOcrMyanmarIdCardOperator(HuaweiOcrOperator):
    """Myanmar ID Card OCR (``myanmar-id-card``): fields of Myanmar NRC cards, optionally translated.

    Regions: ap-southeast-1, ap-southeast-2. Returns the API's ``result`` (a dict).

    :param image: ``http(s)://`` URL, ``obs://bucket/key``, local file path or bytes.
    :param convert_unicode: Return Burmese text as Unicode (true) instead of Zawgyi (false, the default).
    :param return_confidence: Return a confidence per field.
    :param return_portrait_image: Return the portrait photo of the card as Base64.
    :param return_portrait_location: Return where the portrait is on the image.
    :param return_idcard_type: Return whether the card is an original or a copy (idcard_type).
    :param return_translation: Return translations of the fields (translation_info).
    """

    api_slug = "myanmar-id-card"

    def __init__(
        self,
        *,
        image: ImageArg = None,
        convert_unicode: bool | None = None,
        return_confidence: bool | None = None,
        return_portrait_image: bool | None = None,
        return_portrait_location: bool | None = None,
        return_idcard_type: bool | None = None,
        return_translation: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            api=self.api_slug, image=image, parameters=_own_params(self.api_slug, locals()), **kwargs
        )


class HuaweiOcrMyanmarDriverLicenseOperator(HuaweiOcrOperator):
    """Myanmar Driving License OCR (``myanmar-driver-license``): fields of Myanmar driving licences.

    Regions: ap-southeast-1. Returns the API's ``result`` (a dict).

    :param image: ``http(s)://`` URL, ``obs://bucket/key``, local file path or bytes.
    :param convert_unicode: Return Burmese text as Unicode (true) instead of Zawgyi (false, the default).
    """

    api_slug = "myanmar-driver-license"

    def __init__(
        self,
        *,
        image: ImageArg = None,
        convert_unicode: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            api=self.api_slug, image=image, parameters=_own_params(self.api_slug, locals()), **kwargs
        )


class HuaweiOcrChileIdCardOperator(HuaweiOcrOperator):
    """Chile ID Card OCR (``chile-id-card``): fields of Chilean identity cards.

    Regions: la-south-2. Returns the API's ``result`` (a dict).

    :param image: ``http(s)://`` URL, ``obs://bucket/key``, local file path or bytes.
    """

    api_slug = "chile-id-card"

    def __init__(self, *, image: ImageArg = None, **kwargs: Any) -> None:
        super().__init__(api=self.api_slug, image=image, **kwargs)


class HuaweiOcrVietnamIdCardOperator(HuaweiOcrOperator):
    """Vietnam ID Card OCR (``vietnam-id-card``): fields of Vietnamese identity cards, front and back.

    Regions: ap-southeast-1. Returns the API's ``result`` (a dict).

    :param image: ``http(s)://`` URL, ``obs://bucket/key``, local file path or bytes.
    :param side: Which side of the card the image shows; omit to let the service detect it.
    :param return_portrait_image: Return the portrait photo of the card as Base64.
    :param return_portrait_location: Return where the portrait is on the image.
    :param return_idcard_type: Return whether the card is an original, a copy or a screen photo.
    :param return_text_location: Return the position of every recognised field (text_location).
    """

    api_slug = "vietnam-id-card"

    def __init__(
        self,
        *,
        image: ImageArg = None,
        side: str | None = None,
        return_portrait_image: bool | None = None,
        return_portrait_location: bool | None = None,
        return_idcard_type: bool | None = None,
        return_text_location: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            api=self.api_slug, image=image, parameters=_own_params(self.api_slug, locals()), **kwargs
        )


class HuaweiOcrPeruIdCardOperator(HuaweiOcrOperator):
    """Peru ID Card OCR (``peru-id-card``): fields of Peruvian identity cards.

    Regions: la-south-2. Returns the API's ``result`` (a dict).

    :param image: ``http(s)://`` URL, ``obs://bucket/key``, local file path or bytes.
    :param return_portrait_image: Return the portrait photo of the card as Base64.
    :param return_portrait_location: Return where the portrait is on the image.
    """

    api_slug = "peru-id-card"

    def __init__(
        self,
        *,
        image: ImageArg = None,
        return_portrait_image: bool | None = None,
        return_portrait_location: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            api=self.api_slug, image=image, parameters=_own_params(self.api_slug, locals()), **kwargs
        )
