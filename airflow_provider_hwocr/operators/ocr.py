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

from airflow_provider_hwocr.catalog import APIS, get_api
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
        "max_calls",
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
        dry_run: bool = False,
        max_calls: int | None = None,
        price_per_call: float | None = None,
        emit_asset: bool = False,
        export_text: bool = False,
        map_index_template: str | None = DEFAULT_MAP_INDEX_TEMPLATE,
        **kwargs: Any,
    ) -> None:
        # The default above (read by .partial() too) names mapped instances by file (issue 11).
        super().__init__(map_index_template=map_index_template, **kwargs)
        self.export_text = export_text
        self.api = api
        # Not ``self.dry_run``: that name is BaseOperator's method (``airflow tasks test --dry-run``).
        self.ocr_dry_run = dry_run
        self.max_calls = max_calls
        self.price_per_call = price_per_call
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
        from airflow_provider_hwocr.costs import check_max_calls, check_price

        if self.ocr_dry_run not in (True, False):
            raise HuaweiOcrValidationError(
                f"dry_run: must be True or False, got {self.ocr_dry_run!r}", parameter="dry_run"
            )
        if _is_static(self.max_calls):
            check_max_calls(self.max_calls)
        check_price(self.price_per_call)

    # --- cost controls --------------------------------------------------------------

    def _dry_run(self) -> tuple[bool, str | None]:
        from airflow_provider_hwocr.costs import resolve_dry_run

        return resolve_dry_run(self.ocr_dry_run)

    def _max_calls(self) -> int | None:
        from airflow_provider_hwocr.costs import check_max_calls

        return check_max_calls(self.max_calls)

    def _price(self, hook: Any) -> float | None:
        from airflow_provider_hwocr.costs import check_price

        price = check_price(self.price_per_call)
        if price is None:
            price = getattr(hook.settings, "price_per_call", None)
        return price

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

        dry, why = self._dry_run()
        limit = self._max_calls()
        pipeline = self.make_pipeline()
        if dry:
            return self._dry_run_one(pipeline, why)
        if limit == 0:
            from airflow_provider_hwocr.errors import HuaweiCloudBudgetExceededError

            def refuse() -> None:
                raise HuaweiCloudBudgetExceededError(
                    "max_calls: this task may make 0 OCR calls; the call was not made"
                )

            pipeline.before_call = refuse
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

    def _dry_run_one(self, pipeline: Any, why: str | None) -> dict[str, Any]:
        """Resolve and check the image and decide the skip, with no OCR call and no write."""
        from airflow_provider_hwocr.client.errors import HuaweiOcrError
        from airflow_provider_hwocr.costs import estimate_cost

        report: dict[str, Any] = {"dry_run": True, "reason": why, "total": 1}
        status, reason = "would_call", None
        try:
            src = pipeline._resolve(self.image)
            key = pipeline.output_key_for(src) if src.identity else None
            if key and pipeline.skip_existing and pipeline._existing(key, src) is not None:
                status = "skipped"
            else:
                pipeline.check(src)
        except (HuaweiOcrError, ValueError) as exc:
            status, reason = "rejected", str(exc)[:500]
        price = self._price(pipeline.ocr_hook)
        report.update(
            would_call=int(status == "would_call"),
            skipped=int(status == "skipped"),
            rejected=int(status == "rejected"),
            rejections=[{"source": _describe(self.image), "reason": reason}] if reason else [],
            price_per_call=price,
            estimated_cost=estimate_cost(int(status == "would_call"), price),
        )
        self.log.info(
            "DRY RUN (%s): %s %s%s; no OCR call and no write was made",
            why,
            _describe(self.image),
            {
                "would_call": "would be sent to OCR",
                "skipped": "is done already",
                "rejected": "would be rejected",
            }[status],
            f": {reason}" if reason else "",
        )
        return report

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


# --- the per-API operators -------------------------------------------------------------
# Generated from the catalog into _generated.py (scripts/gen_operators.py) and
# re-exported here lazily: _generated imports this module for the base class.

_GENERATED = frozenset(api.operator_name for api in APIS)

if TYPE_CHECKING:  # IDEs and type checkers see the classes with their signatures
    from airflow_provider_hwocr.operators._generated import (
        HuaweiOcrAutoClassificationOperator,
        HuaweiOcrAutoIdDocClassificationOperator,
        HuaweiOcrCambodianIdCardOperator,
        HuaweiOcrChileIdCardOperator,
        HuaweiOcrColombiaIdCardOperator,
        HuaweiOcrGeneralTableOperator,
        HuaweiOcrGeneralTextOperator,
        HuaweiOcrHandwritingOperator,
        HuaweiOcrIdDocumentOperator,
        HuaweiOcrMyanmarDriverLicenseOperator,
        HuaweiOcrMyanmarIdCardOperator,
        HuaweiOcrPassportOperator,
        HuaweiOcrPeruIdCardOperator,
        HuaweiOcrSmartDocumentRecognizerOperator,
        HuaweiOcrThailandIdCardOperator,
        HuaweiOcrThailandLicensePlateOperator,
        HuaweiOcrVietnamIdCardOperator,
        HuaweiOcrWebImageOperator,
    )


def __getattr__(name: str) -> Any:
    if name in _GENERATED:
        from airflow_provider_hwocr.operators import _generated

        return getattr(_generated, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
