"""``HuaweiOcrReviewOperator``: a person checks the uncertain fields of one held page.

Mapped over a batch's held pages, one Required action per page::

    review = HuaweiOcrReviewOperator.partial(
        task_id="review", table_uri="obs://b/tables/", review_below=REVIEW_BELOW,
        response_timeout=timedelta(hours=8), on_timeout="reject",
    ).expand(held=held_pages(ocr))

(Airflow maps over a task's return value only, never over a part of it or another XCom key, so
``ocr.output["held"]`` cannot be expanded: :func:`held_pages` adds a small task that returns the
batch's ``held`` list.)

A subclass of the standard provider's ``HITLOperator``: on Airflow 3.3+ the task waits in
``awaiting_input`` (no worker, no pool slot, no triggerer), on 3.1 and 3.2 it defers to the
provider's ``HITLTrigger``. The form is built when the task runs, from the stored result
(:mod:`airflow_provider_hwocr.runtime.review.prepare`); its crops are served to the form by the
provider's review plugin (:mod:`airflow_provider_hwocr.plugins.review`) from this task
instance's own XCom, so no signed URL appears anywhere. On the answer the decision is written
(:func:`~airflow_provider_hwocr.runtime.review.apply.apply_decision`): the corrected result as
a new version of the same object, the page's table rows, the review ledger. No OCR call.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from airflow.providers.standard.operators.hitl import HITLOperator

from airflow_provider_hwocr.integration.review import POINTER_FORMAT, REVIEW_XCOM_KEY, review_path
from airflow_provider_hwocr.operators.arguments import check_obs_uri, is_static

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
    from airflow_provider_hwocr.runtime.review.prepare import Prepared

__all__ = ["HuaweiOcrReviewOperator", "held_pages"]

#: ``on_timeout`` -> the form's default option (what an unanswered form becomes at its timeout).
_TIMEOUT_DEFAULTS: dict[str, list[str] | None] = {"fail": None, "approve": ["Approve"], "reject": ["Reject"]}


def held_pages(batch: Any, *, task_id: str | None = None) -> Any:
    """The held pages of a batch task as a list to map reviews over (``.expand(held=held_pages(ocr))``).

    Adds a task ``{batch.task_id}_held`` (or ``task_id``) downstream of the batch that returns its
    XCom's ``held`` list (``[]`` when nothing is held: the reviews are then skipped). Call it in
    the DAG's context, as an operator is built.
    """
    from airflow.sdk import task

    @task(task_id=task_id or f"{batch.task_id}_held")
    def held(value: Any) -> list[Any]:
        return list((value or {}).get("held") or []) if isinstance(value, dict) else []

    return held(batch.output)


class HuaweiOcrReviewOperator(HITLOperator):
    """Ask a person about the uncertain fields of one page a batch held (see the module).

    :param held: one descriptor of the batch's ``held`` list (``.expand(held=held_pages(ocr))``).
        Templated.
    :param review_below: the batch's ``review_below`` (thresholds shown in the form and the fields
        asked about); by default the descriptor's ``thresholds``, when it carries them.
    :param review_fields: the fields asked about; default: those the batch held.
    :param table_uri: ``obs://bucket/prefix/``: write the page's table rows there after the decision
        (the batch's ``table_uri``; the day is the batch run's, from the descriptor). Templated.
    :param table_format: ``"parquet"`` (default), ``"csv"`` or ``"xlsx"``, as the batch's.
    :param on_timeout: what an unanswered review becomes at ``response_timeout``: ``"fail"``
        (default: the task fails, nothing is written), ``"approve"`` (the machine's values are kept,
        ``reviewed_by`` ``timeout``) or ``"reject"`` (the page's rows say ``rejected``).
    :param response_timeout: how long a review waits (``None``: as long as it takes).
    :param assigned_users: who may answer, e.g. ``[{"id": "li", "name": "Li"}]``.
    :param notifiers: notifiers called when the review starts waiting (e.g. a chat message with
        :meth:`generate_link_to_ui_from_context`).
    :param language: ``"zh"`` for a Chinese form; default: Chinese for the mainland APIs.
    :param huaweicloud_ocr_conn_id: the connection whose OBS holds the results. Templated.
    :param region: overrides the connection's region.
    :return: ``{"result_uri", "outcome", "by", "changes", "timed_out", "tables"}``.
    """

    template_fields: Sequence[str] = ("held", "table_uri", "huaweicloud_ocr_conn_id", "region")
    template_fields_renderers: ClassVar[dict[str, str]] = {"held": "json"}
    ui_color = "#c7000b"
    ui_fgcolor = "#ffffff"

    def __init__(
        self,
        *,
        held: Any,
        review_below: Any = None,
        review_fields: Sequence[str] | None = None,
        table_uri: str | None = None,
        table_format: str = "parquet",
        on_timeout: str = "fail",
        response_timeout: timedelta | None = None,
        assigned_users: Any = None,
        notifiers: Any = None,
        language: str | None = None,
        huaweicloud_ocr_conn_id: str = "huaweicloud_ocr_default",
        region: str | None = None,
        **kwargs: Any,
    ) -> None:
        if on_timeout not in _TIMEOUT_DEFAULTS:
            raise ValueError(f"on_timeout: one of {', '.join(_TIMEOUT_DEFAULTS)}, not {on_timeout!r}")
        if table_format not in ("parquet", "csv", "xlsx"):
            raise ValueError(f"table_format: one of parquet, csv, xlsx, not {table_format!r}")
        if isinstance(table_uri, str) and is_static(table_uri):
            check_obs_uri(table_uri, "table_uri", allow_empty_key=True)
        super().__init__(
            # What the form says is known when the task runs (the page, its fields): these are
            # placeholders until execute() fills them in.
            subject="OCR review",
            options=["Approve", "Reject"],
            defaults=_TIMEOUT_DEFAULTS[on_timeout],
            multiple=False,
            response_timeout=response_timeout,
            assigned_users=assigned_users,
            notifiers=notifiers,
            **kwargs,
        )
        self.held = held
        self.review_below = review_below
        self.review_fields = list(review_fields) if review_fields is not None else None
        self.table_uri = table_uri
        self.table_format = table_format
        self.on_timeout = on_timeout
        self.language = language
        self.huaweicloud_ocr_conn_id = huaweicloud_ocr_conn_id
        self.region = region

    def obs_hook(self) -> HuaweiObsHook:
        from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

        return HuaweiObsHook(huaweicloud_ocr_conn_id=self.huaweicloud_ocr_conn_id, region=self.region)

    def _prepared(self, context: Context, obs: Any) -> tuple[dict[str, Any], Prepared]:
        from airflow.providers.common.compat.sdk import conf

        from airflow_provider_hwocr.runtime.review.prepare import (
            check_descriptor,
            prepare_review,
            review_rule,
        )

        descriptor = check_descriptor(self.held)
        rule = review_rule(descriptor, self.review_below, self.review_fields)
        ti = context["ti"]
        base_path = urlsplit(conf.get("api", "base_url", fallback="") or "").path

        map_index = -1 if ti.map_index is None else ti.map_index

        def url_of(image: str) -> str:
            return review_path(ti.dag_id, ti.run_id, ti.task_id, map_index, image, base_path=base_path)

        prepared = prepare_review(
            obs,
            descriptor,
            rule,
            url_of=url_of,
            on_timeout=self.on_timeout,
            language=self.language,
            log=self.log,
        )
        return descriptor, prepared

    def execute(self, context: Context) -> Any:
        """Build the form from the stored page, keep the crops' location in XCom, then wait."""
        from airflow.sdk.definitions.param import Param, ParamsDict

        obs = self.obs_hook()
        try:
            descriptor, prepared = self._prepared(context, obs)
        finally:
            obs.close()
        if prepared.reviewed is not None:  # decided before (a cleared task): nothing to ask
            self.log.info("%s was reviewed already; nothing to ask", descriptor["result_uri"])
            return _summary(descriptor["result_uri"], prepared.reviewed, [])
        form = prepared.form
        assert form is not None
        # Where the images are, for the review plugin (no secret: the bucket, keys, connection id)
        pointer = {
            "format": POINTER_FORMAT,
            "bucket": prepared.bucket,
            "crops": prepared.crops,
            "page": prepared.page,
            "conn_id": self.huaweicloud_ocr_conn_id,
            "region": self.region,
        }
        context["ti"].xcom_push(key=REVIEW_XCOM_KEY, value=pointer)
        self.subject, self.body = form.subject, form.body
        self.defaults = form.defaults
        self.params = ParamsDict(
            {
                name: Param(p["value"], description=p.get("description"), **p.get("schema", {}))
                for name, p in form.params.items()
            }
        )
        self.log.info(
            "Review of %s: %d field(s) held (%s); waiting for an answer",
            descriptor["source"],
            len(prepared.held),
            ", ".join(h.field for h in prepared.held),
        )
        return super().execute(context)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """The answer (or the timeout): store the decision; a rejected page still succeeds here."""
        from airflow_provider_hwocr.runtime.review.apply import apply_decision, decision_of
        from airflow_provider_hwocr.runtime.review.prepare import check_descriptor, held_now, review_rule

        descriptor = check_descriptor(self.held)
        rule = review_rule(descriptor, self.review_below, self.review_fields)
        obs = self.obs_hook()
        try:
            reviewed, held = held_now(obs, descriptor, rule, self.language)
            if reviewed is not None:
                return self._decided_before(descriptor, reviewed, event)
            decision = decision_of(event, held, on_timeout=self.on_timeout)
            applied = apply_decision(
                obs,
                descriptor,
                decision,
                held=held,
                table=self._table(),
                day=descriptor.get("day"),
                log=self.log,
                table_format=self.table_format,
            )
        finally:
            obs.close()
        return _summary(applied.result_uri, applied.review, applied.tables)

    def _decided_before(
        self, descriptor: dict[str, Any], reviewed: dict[str, Any], event: dict[str, Any]
    ) -> Any:
        """The page carries a decision already: this same answer delivered again (an event may come
        twice) is done; another decision (made meanwhile elsewhere) is refused, never merged."""
        from airflow_provider_hwocr.runtime.review.apply import decision_of

        try:
            mine = decision_of(event, [], on_timeout=self.on_timeout)
        except Exception:  # noqa: BLE001 - an answer that means nothing here is not this decision
            mine = None
        if mine is not None and (mine.outcome, mine.by) == (reviewed.get("outcome"), reviewed.get("by")):
            self.log.info("%s: this decision was stored already", descriptor["result_uri"])
            return _summary(descriptor["result_uri"], reviewed, [])
        raise ValueError(
            f"{descriptor['result_uri']} was decided meanwhile ({reviewed.get('outcome')} by "
            f"{reviewed.get('by')}); this answer is not applied"
        )

    def _table(self) -> Any:
        if not self.table_uri:
            return None
        from airflow_provider_hwocr.runtime.contract import ObsPrefix

        loc = check_obs_uri(self.table_uri, "table_uri", allow_empty_key=True)
        return ObsPrefix(str(self.table_uri), loc.bucket, loc.key)


def _summary(result_uri: str, review: dict[str, Any], tables: list[str]) -> dict[str, Any]:
    """What a review task returns: small, no value of the page (values may be personal data)."""
    return {
        "result_uri": result_uri,
        "outcome": review.get("outcome"),
        "by": review.get("by"),
        "changes": [c.get("field") for c in review.get("changes") or []],
        "timed_out": bool(review.get("timed_out")),
        "tables": tables,
    }
