"""``HuaweiOcrOperator``: one Huawei Cloud OCR API on one image; the base of every OCR operator.

What a DAG file imports, so it stays cheap: the catalog, the argument checks and the
integration mixin. The hooks, the HTTP stack and the task's work
(:mod:`airflow_provider_hwocr.runtime`) load when a task runs, in ``execute()``, which builds the
run's checked settings once (:mod:`airflow_provider_hwocr.runtime.contract`) and hands them, with
the task's collaborators, to the runtime.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Union, cast

from airflow.sdk import BaseOperator

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.client.request import validate_params
from airflow_provider_hwocr.errors import HuaweiOcrXComSizeError
from airflow_provider_hwocr.integration.assets import with_result_outlet
from airflow_provider_hwocr.integration.links import HuaweiObsResultLink, HuaweiObsSourceLink, ObsLocationLink
from airflow_provider_hwocr.integration.mixin import (
    DEFAULT_MAP_INDEX_TEMPLATE,
    OcrIntegrationMixin,
    image_label,
)
from airflow_provider_hwocr.operators.arguments import (
    DEFAULT_MAX_PAGES,
    check_export_text,
    check_flag,
    check_image_source,
    check_max_calls,
    check_max_pages,
    check_max_xcom_bytes,
    check_on_timeout,
    check_output_uri,
    check_pages,
    check_parameters,
    check_price,
    check_review,
    check_review_timeout,
    is_static,
    output_location,
    when_static,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_hwocr.catalog import Api
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
    from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook
    from airflow_provider_hwocr.runtime.contract import Collaborators, ImageSourceMode, OcrTaskSettings
    from airflow_provider_hwocr.runtime.costs import CallBudget
    from airflow_provider_hwocr.runtime.ratelimit import RateLimiter
    from airflow_provider_hwocr.runtime.single import HeldImage

__all__ = ["DEFAULT_MAX_XCOM_BYTES", "HuaweiOcrOperator", "HuaweiOcrXComSizeError", "ImageArg", "own_params"]

#: What ``image=`` accepts: an ``http(s)://`` URL, an ``obs://bucket/key`` URI,
#: a local file path, or the image bytes.
ImageArg = Union[str, bytes, "os.PathLike[str]", None]

#: Default ceiling for a result pushed whole to XCom (bytes of JSON).
DEFAULT_MAX_XCOM_BYTES = 48 * 1024


def own_params(slug: str, scope: dict[str, Any]) -> dict[str, Any]:
    """The API parameters among a constructor's local variables that were set (generated operators)."""
    names = get_api(slug).param_names
    return {name: scope[name] for name in names if scope.get(name) is not None}


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
    :param dry_run: resolve and check the image and decide the skip; no OCR call, no write.
    :param max_calls: OCR calls this task may make (0 refuses the call).
    :param price_per_call: for cost estimates (else the connection's ``price_per_call``).
    :param pages: the pages of a PDF or OFD document to read, each page one call: ``None``
        (default: every page), a page (``3``), pages and ranges (``"2-5"``, ``"1,3-4"``, ``"3-"``
        for page 3 to the end) or a list (``[1, 4]``). Templated. A document is counted locally
        before anything is called: an ``obs://`` object or a URL is downloaded once for that
        (then, for an API with a page field, each page is still sent as the URL with the page
        field set), unless its stored pages already say how many it has. Pages past the end are
        refused naming ``pages``; an image is one page, and ``pages`` choosing any other page of
        it is refused. How each page is sent follows from the API: with its page field
        (``pdf_page_number``, ``page_num``), as a one-page PDF, or rendered to PNG.
    :param max_pages: the most pages of one document (counting those ``pages`` chooses), default
        50: a longer one is refused before any call, naming ``max_pages`` and its page count.
        ``None``: no cap.
    :param log_text: log the first line of text read (and the word or field count) after a
        successful call. ``None`` (default): on, except for ID documents (ID cards, passports,
        licences, permits: personal data); ``True`` or ``False`` forces it.
    :param review_below: hold an uncertain answer for a person's review: a confidence threshold for
        every gating field (``0.9``), or a dict field -> threshold whose key ``"*"`` is the default of
        the fields not named. A gating field under its threshold, missing, or without a confidence
        holds the image: the task itself becomes the review (a Required action in the UI; on Airflow
        3.3+ it waits in ``awaiting_input``, holding no worker slot, before that it defers to the
        standard provider's ``HITLTrigger``), and returns the corrected result once answered
        ("Reject" fails it with ``HuaweiOcrReviewRejectedError``). Resuming makes no OCR call. The
        result is paid and, with ``output_uri``, stored before the review; the decision is written
        into it as a new version (its ``review`` record keeps what OCR read). Checked when the DAG
        is parsed. Images only: a PDF or OFD document is refused before any call (review its pages
        with ``HuaweiOcrBatchOperator`` and ``HuaweiOcrReviewOperator``).
    :param review_fields: the fields that gate (default: the keys of ``review_below`` other than
        ``"*"``; with a number, every field the API scores).
    :param review_timeout: how long a review may wait (a ``timedelta`` or seconds; ``None``: no limit).
    :param on_review_timeout: what a review that timed out decides: ``"fail"`` (default: the task
        fails), ``"approve"`` (the machine's values are kept) or ``"reject"``.
    :param review_assigned_users: who may answer, e.g. ``[{"id": "li", "name": "Li"}]`` (default: anyone
        who may edit the DAG's HITL details).
    :return: the API's ``result`` (a dict, or a list for list-shaped APIs), or
        the reference to it in OBS; pushed to XCom. For a PDF or OFD document, every page:
        ``{"pages": [{"page": 1, "result": ...}, ...], "page_count": n}``, or with
        ``output_uri`` a list of references ``{"uri", "summary", "page"}``.
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
        "price_per_call",
        "pages",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"parameters": "json"}
    ui_color = "#c7000b"
    ui_fgcolor = "#ffffff"
    operator_extra_links: tuple[ObsLocationLink, ...] = (HuaweiObsSourceLink(), HuaweiObsResultLink())

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
        pages: int | str | list[int] | None = None,
        max_pages: int | None = DEFAULT_MAX_PAGES,
        log_text: bool | None = None,
        review_below: float | dict[str, float] | None = None,
        review_fields: Sequence[str] | None = None,
        review_timeout: timedelta | float | None = None,
        on_review_timeout: str = "fail",
        review_assigned_users: Sequence[dict[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        # The default above (read by .partial() too) names mapped instances by file.
        super().__init__(map_index_template=map_index_template, **kwargs)
        # On/off arguments are read strictly: "no" is False, "maybe" an error (never bool("no")).
        self.export_text = check_flag(export_text, "export_text")
        self.api = api
        # Not ``self.dry_run``: that name is BaseOperator's method (``airflow tasks test --dry-run``).
        self.ocr_dry_run = check_flag(dry_run, "dry_run")
        # Numbers as users pass them ("20", "0.0012" from a Variable): converted once, here when
        # known at parse time, else when execute() builds the settings (both are templated).
        self.max_calls = when_static(check_max_calls, max_calls)
        self.price_per_call = when_static(check_price, price_per_call)
        self.image = image
        self.parameters = check_parameters(parameters)
        self.image_source = image_source
        self.signed_url_expires = check_image_source(image_source, signed_url_expires)
        self.output_uri = output_uri
        self.skip_existing = check_flag(skip_existing, "skip_existing", optional=True)
        self.max_xcom_bytes = check_max_xcom_bytes(max_xcom_bytes)
        self.huaweicloud_ocr_conn_id = huaweicloud_ocr_conn_id
        self.region = region
        self.project_id = project_id
        self.enterprise_project_id = enterprise_project_id
        self.retry_possibly_billed = check_flag(retry_possibly_billed, "retry_possibly_billed", optional=True)
        self.emit_asset = check_flag(emit_asset, "emit_asset")
        self.pages = check_pages(pages)  # a template is checked once rendered
        self.max_pages = check_max_pages(max_pages)
        self.log_text = check_flag(log_text, "log_text", optional=True)
        # The review gate, checked against the API now (a field it lacks or does not score is an error).
        self.review_below = review_below
        self.review_fields = None if review_fields is None else list(review_fields)
        self.review_rule = check_review(review_below, self.review_fields, api)
        self.review_timeout = check_review_timeout(review_timeout)
        self.on_review_timeout = check_on_timeout(on_review_timeout, "on_review_timeout")
        self.review_assigned_users = None if review_assigned_users is None else list(review_assigned_users)
        self._check_at_parse_time()
        if self.emit_asset:
            self.outlets = with_result_outlet(self.outlets, self.output_uri)

    def _check_at_parse_time(self) -> None:
        """Fail at DAG parse time on what is already known to be wrong (no I/O)."""
        spec = self._checked_api()
        if isinstance(self.parameters, dict):
            static = {k: v for k, v in self.parameters.items() if is_static(v)}
            # Names are never templated: check every name, and the values known now.
            templated = {k: None for k in self.parameters if k not in static}
            validate_params(spec, {**static, **templated})
        self._check_output_at_parse_time()

    def _checked_api(self) -> Api:
        """The API named by ``api=`` (a deprecated one is warned about)."""
        try:
            spec = get_api(self.api)
        except KeyError as exc:
            raise HuaweiOcrValidationError(f"api: {exc.args[0]}", parameter="api") from None
        if spec.deprecation:
            from airflow.exceptions import AirflowProviderDeprecationWarning  # only for a deprecated API

            warnings.warn(
                f"{spec.title} ({spec.slug}): {spec.deprecation}",
                AirflowProviderDeprecationWarning,
                stacklevel=4,
            )
        return spec

    def _check_output_at_parse_time(self) -> None:
        """``output_uri`` and what needs it (``export_text``, ``emit_asset``), when known now."""
        fixed = isinstance(self.output_uri, str) and is_static(self.output_uri)
        if self.output_uri is None or fixed:
            check_output_uri(self.output_uri)
            check_export_text(self.export_text, self.output_uri)
        if self.emit_asset and not (fixed and self.output_uri):
            raise HuaweiOcrValidationError(
                "emit_asset: needs a fixed output_uri='obs://bucket/prefix/' (no template): the asset "
                f"must be known when the DAG is parsed, got output_uri={self.output_uri!r}",
                parameter="emit_asset",
            )

    def _ocr_settings(self, *, output_required: bool = False) -> OcrTaskSettings:
        """The run's checked settings, from what the templates rendered to: every run-time check of
        the OCR arguments is here, once (``execute()`` builds them, then nothing checks them again)."""
        from airflow_provider_hwocr.runtime.contract import ObsPrefix, OcrTaskSettings

        output = output_location(self.output_uri, required=output_required)
        check_export_text(self.export_text, self.output_uri)
        spec = get_api(self.api)
        return OcrTaskSettings(
            api=spec,
            image=self.image,
            params=check_parameters(self.parameters, rendered=True),
            image_source=cast("ImageSourceMode", self.image_source),  # checked in __init__
            signed_url_expires=self.signed_url_expires,
            output=None if output is None else ObsPrefix(str(self.output_uri), output.bucket, output.key),
            skip_existing=self.skip_existing is not False,  # None: on
            max_xcom_bytes=self.max_xcom_bytes,
            enterprise_project_id=self.enterprise_project_id,
            dry_run=self.ocr_dry_run,
            max_calls=check_max_calls(self.max_calls),
            price_per_call=check_price(self.price_per_call),
            export_text=self.export_text,
            emit_asset=self.emit_asset,
            region=self.region or None,
            pages=check_pages(self.pages, rendered=True),
            max_pages=self.max_pages,
            log_text=self.log_text,
            review=self.review_rule,
        )

    # --- the hooks (built when the task runs) ----------------------------------------------

    def _new_ocr_hook(self, *, rate_limiter: RateLimiter | None, budget: CallBudget | None) -> HuaweiOcrHook:
        """The one way this operator builds an OCR hook: on its connection, with a pace and a budget."""
        from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook

        return HuaweiOcrHook(
            huaweicloud_ocr_conn_id=self.huaweicloud_ocr_conn_id,
            region=self.region,
            project_id=self.project_id,
            retry_possibly_billed=self.retry_possibly_billed,
            rate_limiter=rate_limiter,
            budget=budget,
        )

    @cached_property
    def hook(self) -> HuaweiOcrHook:
        """The task's OCR hook, built once on first use, without pace or call budget.

        A run that has neither uses it; a run with a pace or a ``max_calls`` budget gets a hook
        built with them (:meth:`_run_hook`), which is the task's ``hook`` from then on.
        """
        return self._new_ocr_hook(rate_limiter=None, budget=None)

    def _run_hook(self, *, rate_limiter: RateLimiter | None, budget: CallBudget | None) -> HuaweiOcrHook:
        """The OCR hook of a run (the runtime's ``OcrHookFactory``)."""
        if rate_limiter is None and budget is None:
            return self.hook
        self.hook = self._new_ocr_hook(rate_limiter=rate_limiter, budget=budget)
        return self.hook

    def obs_hook(self) -> HuaweiObsHook:
        """A new OBS hook on this task's connection (the runtime asks once, when it first needs OBS)."""
        from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

        return HuaweiObsHook(huaweicloud_ocr_conn_id=self.huaweicloud_ocr_conn_id, region=self.region)

    def _collaborators(self) -> Collaborators:
        """What the runtime works with besides the settings: the log and the hooks' factories."""
        from airflow_provider_hwocr.runtime.contract import Collaborators

        return Collaborators(log=self.log, ocr_hook=self._run_hook, obs_hook=self.obs_hook)

    @property
    def map_index_label(self) -> str:
        """What a mapped instance is called in the UI and logs: the image's file name."""
        return image_label(self.image)

    # --- execution ------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        from airflow_provider_hwocr.runtime import single

        settings = self._ocr_settings()  # every run-time check, once
        # Once the image is done: lineage, the console links and the asset event, from what the run says.
        after_run = functools.partial(self._integration_after_run, context)
        on_held = functools.partial(self._await_review, context) if settings.review is not None else None
        return single.run(settings, context, self._collaborators(), after_run=after_run, on_held=on_held)

    # --- review_below: the task becomes the review of its held answer --------------------------

    def _await_review(self, context: Context, held: HeldImage) -> Any:
        """Ask for the review (the HITL detail of this task instance), then wait without a worker slot:
        ``awaiting_input`` on Airflow 3.3+, else deferred to the standard provider's ``HITLTrigger``.
        Resumes in :meth:`review_complete`."""
        from airflow.sdk.execution_time.hitl import upsert_hitl_detail

        from airflow_provider_hwocr.runtime.review.form import review_form

        form = review_form(
            self.api,
            held.descriptor,
            held.held,
            lambda _n: None,  # no crop: a single task's image is not served to the UI
            None,
            on_timeout=self.on_review_timeout,
            language=None,
        )
        upsert_hitl_detail(
            ti_id=context["task_instance"].id,
            options=form.options,
            subject=form.subject,
            body=form.body,
            defaults=form.defaults,
            multiple=False,
            params=form.params,
            assigned_users=cast("Any", self.review_assigned_users or []),
        )
        kwargs = {"review": held.resume}
        awaiting = _awaiting_input()
        self.log.info("Waiting for a review of %s", held.descriptor.get("source"))
        if awaiting is not None:  # Airflow 3.3+: no trigger, no worker slot
            raise awaiting(method_name="review_complete", kwargs=kwargs, timeout=self.review_timeout)
        from airflow.providers.standard.triggers.hitl import HITLTrigger
        from airflow.sdk.timezone import utcnow

        timeout = self.review_timeout
        self.defer(
            trigger=HITLTrigger(
                ti_id=context["task_instance"].id,
                options=form.options,
                defaults=form.defaults,
                params=form.params,
                multiple=False,
                timeout_datetime=utcnow() + timeout if timeout else None,
            ),
            method_name="review_complete",
            kwargs=kwargs,
        )

    def review_complete(
        self, context: Context, event: dict[str, Any] | None = None, review: Any = None
    ) -> Any:
        """The review's answer (or its timeout): the decision written, the corrected value returned; no
        OCR call. "Reject" fails the task with ``HuaweiOcrReviewRejectedError`` once recorded."""
        from airflow_provider_hwocr.runtime import single

        if not isinstance(review, dict):
            raise TypeError(f"{self.task_id}: resumed without its review ({event!r})")
        settings = self._ocr_settings()
        return single.resume_review(
            settings,
            context,
            self._collaborators(),
            review,
            dict(event or {}),
            on_timeout=self.on_review_timeout,
        )


def _awaiting_input() -> Any:
    """Airflow 3.3+'s ``TaskAwaitingInput`` (a task parks for a person's input, holding nothing), else
    ``None`` (below 3.3 a review defers to the standard provider's ``HITLTrigger``)."""
    import importlib

    # Looked up by name: the class is not there below 3.3, and mypy checks both ends of the range.
    return getattr(importlib.import_module("airflow.sdk.exceptions"), "TaskAwaitingInput", None)
