"""Airflow hook for Huawei Cloud OCR: an Airflow Connection turned into an ``OcrClient``."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from airflow.sdk import BaseHook

from airflow_provider_hwocr._compat import SUPERVISOR_LOCK
from airflow_provider_hwocr.catalog import Api
from airflow_provider_hwocr.client import (
    AkSkCredentials,
    IamTokenCredentials,
    OcrClient,
    OcrResponse,
    OcrRetryPolicy,
)
from airflow_provider_hwocr.client.errors import HuaweiOcrError
from airflow_provider_hwocr.client.request import prepare_request
from airflow_provider_hwocr.client.retry import TryBudget
from airflow_provider_hwocr.get_provider_info import CONN_FIELDS, CONN_TYPE, UI_FIELD_BEHAVIOUR
from airflow_provider_hwocr.hooks.connection import CloudSettings, settings_from_connection


class HuaweiOcrHook(BaseHook):
    """Calls Huawei Cloud OCR with the credentials of a ``huaweicloud_ocr`` connection.

    :param huaweicloud_ocr_conn_id: the Airflow connection to use.
    :param region: overrides the connection's ``region`` extra.
    :param project_id: overrides the connection's ``project_id`` extra.
    :param retry: overrides the retry policy built from the connection's ``max_retries``
        and ``retry_possibly_billed``.
    :param retry_possibly_billed: overrides the connection's ``retry_possibly_billed``:
        whether to retry a try the service may already have billed.
    :param rate_limiter: paces every try of every call made through this hook (e.g. an
        :class:`~airflow_provider_hwocr.runtime.ratelimit.AdaptiveRateLimiter` shared by a task's threads).
    :param budget: the billable tries every call of this hook draws from, retries included (e.g. a
        task's ``max_calls`` as a :class:`~airflow_provider_hwocr.runtime.costs.CallBudget`);
        ``None``: no cap.

    Nothing is looked up until the first call: creating the hook is free.
    """

    conn_name_attr = "huaweicloud_ocr_conn_id"
    default_conn_name = "huaweicloud_ocr_default"
    conn_type = CONN_TYPE
    hook_name = "Huawei Cloud OCR"

    def __init__(
        self,
        huaweicloud_ocr_conn_id: str = default_conn_name,
        *,
        region: str | None = None,
        project_id: str | None = None,
        retry: OcrRetryPolicy | None = None,
        retry_possibly_billed: bool | None = None,
        rate_limiter: Any = None,
        budget: TryBudget | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.huaweicloud_ocr_conn_id = huaweicloud_ocr_conn_id
        self.region = region
        self.project_id = project_id
        self.retry = retry
        self.retry_possibly_billed = retry_possibly_billed
        self.rate_limiter = rate_limiter
        #: Billable tries every call of this hook draws from, consulted before each try.
        self.budget = budget
        #: Requests sent and retries that may have been billed twice, over all calls of this hook.
        self.requests_sent = 0
        self.billed_retries = 0
        self._count_lock = threading.Lock()

    def _count(self, attempts: int | None, billed_retries: int) -> None:
        with self._count_lock:
            self.requests_sent += attempts or 0
            self.billed_retries += billed_retries

    # --- connection ---------------------------------------------------------------

    @cached_property
    def settings(self) -> CloudSettings:
        with SUPERVISOR_LOCK:  # a batch's threads may ask at once
            conn = self.get_connection(self.huaweicloud_ocr_conn_id)
        settings = settings_from_connection(conn, region=self.region, project_id=self.project_id)
        # The AK is not masked by Airflow (it is the login); mask it and the
        # rest explicitly so no log line or rendered field shows them.
        settings.mask_secrets()
        return settings

    @cached_property
    def client(self) -> OcrClient:
        s = self.settings
        if s.auth_type == "token":
            credentials: Any = IamTokenCredentials(
                user_name=s.user_name or "",
                password=s.password or "",
                domain_name=s.domain_name or "",
                project_name=s.region,
                iam_endpoint=s.iam_endpoint,  # None: the client's IAM endpoint for the region
            )
        else:
            credentials = AkSkCredentials(s.ak or "", s.sk or "", security_token=s.security_token)
        return OcrClient(
            region=s.region,
            project_id=s.project_id,
            credentials=credentials,
            endpoint=s.endpoint,
            iam_endpoint=s.iam_endpoint,
            verify=s.verify,
            proxy=s.proxy,
            timeout=(10.0, s.timeout),
            retry=self.retry
            or OcrRetryPolicy(max_attempts=s.max_retries, retry_possibly_billed=self._retry_billed),
            rate_limiter=self.rate_limiter,
        )

    @property
    def _retry_billed(self) -> bool:
        if self.retry_possibly_billed is not None:
            return bool(self.retry_possibly_billed)
        return self.settings.retry_possibly_billed

    def get_conn(self) -> OcrClient:
        return self.client

    # --- calls ----------------------------------------------------------------------

    def recognize(
        self,
        api: Api | str,
        *,
        image: Any = None,
        url: str | None = None,
        enterprise_project_id: str | None = None,
        **params: Any,
    ) -> OcrResponse:
        """Validate and send one OCR call; returns the response (``.result`` is the API's result)."""
        api_obj = self.client._api(api)
        body = prepare_request(api_obj, image=image, url=url, params=params).body  # encoded once, when sent
        return self.call(api_obj, body, enterprise_project_id=enterprise_project_id)

    def call(
        self, api: Api | str, body: Mapping[str, Any], *, enterprise_project_id: str | None = None
    ) -> OcrResponse:
        """Send an already-validated body (see ``client.request.prepare_request``).

        Counts requests and billed retries on the hook (``requests_sent``, ``billed_retries``).
        """
        try:
            response = self.client.call(
                api, body, enterprise_project_id=enterprise_project_id, budget=self.budget
            )
        except HuaweiOcrError as exc:
            self._count(exc.attempts, exc.billed_retries)
            raise
        self._count(response.attempts, response.billed_retries)
        failed = [d for d in response.documents or () if not d["ok"]]
        if failed:
            self.log.warning(
                "OCR %s: %d of %d document(s) failed to be recognised (not billed): %s",
                getattr(api, "slug", api),
                len(failed),
                len(response.documents or ()),
                ", ".join(f"{d['type'] or 'unknown type'} {d['error_code']}" for d in failed[:10]),
            )
        return response

    def test_connection(self) -> tuple[bool, str]:
        """Check credentials and project id with IAM ``GET /v3/projects`` (free; no OCR call)."""
        try:
            s = self.settings
            projects = self.client.list_projects(name=s.region)
        except Exception as exc:  # noqa: BLE001 (reported, not raised: test_connection's contract)
            return False, f"{type(exc).__name__}: {exc}"
        ids = {p.get("id") for p in projects}
        if s.project_id not in ids:
            found = ", ".join(sorted(str(i) for i in ids)) or "none"
            return False, (
                f"Credentials work, but project {s.project_id!r} is not a project of region {s.region!r} "
                f"(projects found: {found})."
            )
        return (
            True,
            f"Connected: credentials accepted ({s.auth_type}), project {s.project_id} is in {s.region}.",
        )

    # --- connection form for Airflow < 3.2 (3.2+ reads provider info) ------------------------

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import PasswordField, StringField

        widgets: dict[str, Any] = {}
        for name, spec in CONN_FIELDS.items():
            secret = spec["schema"].get("format") == "password"
            field_cls, widget = (
                (PasswordField, BS3PasswordFieldWidget) if secret else (StringField, BS3TextFieldWidget)
            )
            widgets[name] = field_cls(
                lazy_gettext(spec["label"]), widget=widget(), description=spec.get("description")
            )
        return widgets

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": list(UI_FIELD_BEHAVIOUR["hidden-fields"]),
            "relabeling": dict(UI_FIELD_BEHAVIOUR["relabeling"]),
            "placeholders": dict(UI_FIELD_BEHAVIOUR["placeholders"]),
        }
