"""The review plugin: the API server serves the crops and page images of review forms.

A review form (:class:`~airflow_provider_hwocr.operators.review.HuaweiOcrReviewOperator`) shows
each uncertain field's crop as a Markdown image. The Airflow UI renders an image from a relative
or ``https`` URL only (it drops ``data:`` URIs), and a presigned OBS URL would put a signature in
the form, where everyone who can read the form (and the database) could copy it. So the form
links ``/hwocr/review/{dag_id}/{run_id}/{task_id}/{map_index}/crop/{n}.png`` (and ``…/page.png``),
which this plugin serves from the API server:

* the caller is the UI's user (the session cookie, or a bearer token), authorised exactly as for
  that DAG's Human-in-the-loop details (``requires_access_dag(GET, HITL_DETAIL)``);
* where the image is comes from that task instance's own XCom (key ``hwocr_review``, written by
  the task), never from the URL, and only keys of review crops are served
  (:func:`~airflow_provider_hwocr.integration.review.image_key`);
* the object is read through the task's connection (``huaweicloud_ocr_conn_id``), on the API
  server, which therefore needs the connection as the workers do.

Workers import provider plugins too (for macros), so importing this module stays cheap: the
FastAPI application is built the first time the API server reads ``fastapi_apps``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from airflow.providers.common.compat.sdk import AirflowPlugin

from airflow_provider_hwocr.integration.review import (
    PLUGIN_PREFIX,
    REVIEW_XCOM_KEY,
    image_key,
    image_media_type,
)

__all__ = ["HuaweiOcrReviewPlugin", "create_app", "read_pointer"]


def read_pointer(dag_id: str, run_id: str, task_id: str, map_index: int) -> Any:
    """The pointer a review task instance keeps in its XCom (``None`` when it has none)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        query = XComModel.get_many(
            run_id=run_id, key=REVIEW_XCOM_KEY, task_ids=task_id, dag_ids=dag_id, map_indexes=map_index
        )
        row = session.scalars(query.limit(1)).first()
        return None if row is None else XComModel.deserialize_value(row)


def _read_object(pointer: dict[str, Any], bucket: str, key: str) -> bytes | None:
    """The image's bytes through the task's connection; ``None`` when the object is gone."""
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
    from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsNotFoundError

    conn_id = pointer.get("conn_id") or HuaweiObsHook.default_conn_name
    region = pointer.get("region") or None
    hook = HuaweiObsHook(huaweicloud_ocr_conn_id=str(conn_id), region=region)
    try:
        return bytes(hook.get_bytes(bucket, key))
    except HuaweiObsNotFoundError:
        return None
    finally:
        hook.close()


@cache
def create_app() -> Any:
    """The FastAPI application mounted at :data:`PLUGIN_PREFIX` (built once)."""
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import requires_access_dag
    from fastapi import Depends, FastAPI, HTTPException, Response

    app = FastAPI(
        title="Huawei Cloud OCR review images",
        description="Crops and page images of OCR review forms, for users who may read the DAG's "
        "Human-in-the-loop details.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    allowed = [Depends(requires_access_dag(method="GET", access_entity=DagAccessEntity.HITL_DETAIL))]

    def serve(dag_id: str, run_id: str, task_id: str, map_index: int, image: str) -> Response:
        pointer = read_pointer(dag_id, run_id, task_id, map_index)
        where = image_key(pointer, image)
        if where is None:
            raise HTTPException(status_code=404, detail="no such review image")
        try:
            data = _read_object(pointer, *where)
        except Exception as exc:  # noqa: BLE001 - say what failed, never the connection's details
            raise HTTPException(
                status_code=502, detail=f"the review image could not be read ({type(exc).__name__})"
            ) from None
        if data is None:
            raise HTTPException(status_code=404, detail="the review image is gone from OBS")
        headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
        return Response(content=data, media_type=image_media_type(data), headers=headers)

    @app.get("/{dag_id}/{run_id}/{task_id}/{map_index}/crop/{n}.png", dependencies=allowed)
    def crop(dag_id: str, run_id: str, task_id: str, map_index: int, n: int) -> Response:
        """The ``n``-th held field's crop of a review task instance."""
        return serve(dag_id, run_id, task_id, map_index, f"crop/{n}.png")

    @app.get("/{dag_id}/{run_id}/{task_id}/{map_index}/page.png", dependencies=allowed)
    def page(dag_id: str, run_id: str, task_id: str, map_index: int) -> Response:
        """The whole page of a review task instance."""
        return serve(dag_id, run_id, task_id, map_index, "page.png")

    return app


class _FastApiApps:
    """``fastapi_apps`` read on the class: the application, built on first read (only the API
    server reads it; a worker that imports the plugin for its macros builds nothing)."""

    def __get__(self, obj: Any, owner: Any = None) -> list[dict[str, Any]]:
        return [{"app": create_app(), "url_prefix": PLUGIN_PREFIX, "name": "hwocr-review-images"}]


class HuaweiOcrReviewPlugin(AirflowPlugin):
    """Serves the images of the provider's review forms (see the module)."""

    name = "hwocr_review"
    fastapi_apps = _FastApiApps()
