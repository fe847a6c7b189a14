"""The review plugin: the API server serves a review form's crops to users who may read the DAG's
Human-in-the-loop details, from the task instance's own XCom, review crops only.

The FastAPI application is the plugin's own, called through its HTTP interface; the caller is
resolved from the UI's session cookie by Airflow's ``get_user``, and an auth manager that records
what it is asked stands in for the deployment's. The system test fetches a crop through a real
API server with a logged-in session.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from airflow_provider_hwocr.integration.review import POINTER_FORMAT, image_key, review_path
from tests.helpers.images import png

DAG, RUN, TASK = "ocr_invoice_review", "manual__2026-12-07T10:00:00+00:00", "review"
CROP = "ocr/2026-12-07_hwocr/vat-invoice/review-crops/" + "ab" * 16 + ".png"
PAGE = "ocr/2026-12-07_hwocr/vat-invoice/review-crops/" + "cd" * 16 + ".png"


class User:
    def __init__(self, name: str, allowed: bool) -> None:
        self.name, self.allowed = name, allowed

    def get_id(self) -> str:
        return self.name

    def get_name(self) -> str:
        return self.name


class AuthManager:
    """Knows two users by their session token; records what it is asked."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []
        self.users = {"tok-li": User("li", True), "tok-wang": User("wang", False)}

    async def get_user_from_token(self, token: str) -> User:
        from jwt import InvalidTokenError

        if token not in self.users:
            raise InvalidTokenError("unknown")
        return self.users[token]

    def is_authorized_dag(self, *, method, access_entity=None, details=None, user=None) -> bool:
        self.asked.append({"method": method, "entity": access_entity, "dag": details.id, "user": user.name})
        return user.allowed


@pytest.fixture
def served(fast_conn, fast_bucket, monkeypatch):
    """(HTTP client of the plugin's app, the auth manager, the pointers by (dag, run, task, map index))."""
    from airflow.api_fastapi.core_api import security
    from fastapi.testclient import TestClient

    from airflow_provider_hwocr.plugins import review

    fast_conn.put_object(fast_bucket, CROP, png((120, 40), "1130.00"))
    fast_conn.put_object(fast_bucket, PAGE, png((400, 300), "page"))
    fast_conn.put_object(
        fast_bucket, "ocr/2026-12-07/x.vat-invoice.json", b'{"secret": 1}', "application/json"
    )
    pointer = {
        "format": POINTER_FORMAT,
        "bucket": fast_bucket,
        "crops": [CROP, None],
        "page": PAGE,
        "conn_id": "huaweicloud_ocr_default",
        "region": None,
    }
    pointers: dict[tuple, Any] = {(DAG, RUN, TASK, 3): pointer}
    asked: list[tuple] = []

    def read_pointer(dag_id, run_id, task_id, map_index):
        asked.append((dag_id, run_id, task_id, map_index))
        return pointers.get((dag_id, run_id, task_id, map_index))

    auth = AuthManager()
    monkeypatch.setattr(security, "get_auth_manager", lambda: auth)
    monkeypatch.setattr(security.DagModel, "get_team_name", staticmethod(lambda dag_id: None))
    monkeypatch.setattr(review, "read_pointer", read_pointer)
    with TestClient(review.create_app()) as client:
        yield client, auth, pointers, asked


def _path(image: str, map_index: int = 3, run: str = RUN) -> str:
    from airflow_provider_hwocr.integration.review import PLUGIN_PREFIX

    return review_path(DAG, run, TASK, map_index, image).removeprefix(PLUGIN_PREFIX)


def test_a_user_who_may_read_the_dags_reviews_gets_the_crop_with_the_ui_cookie(served):
    client, auth, _, asked = served
    resp = client.get(_path("crop/0.png"), cookies={"_token": "tok-li"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "image/png" and resp.content.startswith(b"\x89PNG")
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["cache-control"].startswith("private")
    assert asked == [(DAG, RUN, TASK, 3)]  # the run id as it is, from its encoded path segment
    (question,) = auth.asked
    assert question["method"] == "GET" and question["dag"] == DAG and question["user"] == "li"
    assert str(question["entity"]).endswith("HITL_DETAIL")
    page = client.get(_path("page.png"), cookies={"_token": "tok-li"})
    assert page.status_code == 200 and page.content.startswith(b"\x89PNG")


def test_a_bearer_token_works_as_the_cookie_does(served):
    client, *_ = served
    assert client.get(_path("crop/0.png"), headers={"Authorization": "Bearer tok-li"}).status_code == 200


def test_no_user_or_a_user_without_access_gets_nothing_and_nothing_is_read(served):
    client, _, _, asked = served
    assert client.get(_path("crop/0.png")).status_code == 401
    assert client.get(_path("crop/0.png"), cookies={"_token": "forged"}).status_code == 403
    assert client.get(_path("crop/0.png"), cookies={"_token": "tok-wang"}).status_code == 403
    assert asked == []  # refused before the XCom is read


def test_only_review_crops_the_task_instance_names_are_served(served):
    client, _, pointers, _ = served
    ok = {"_token": "tok-li"}
    assert client.get(_path("crop/1.png"), cookies=ok).status_code == 404  # that field has no crop
    assert client.get(_path("crop/7.png"), cookies=ok).status_code == 404
    assert client.get(_path("crop/0.png", map_index=4), cookies=ok).status_code == 404  # no pointer
    # an XCom naming another object (a result, a traversal): never served
    for key in ("ocr/2026-12-07/x.vat-invoice.json", f"{CROP}/../../x.vat-invoice.json", "../" + CROP):
        pointers[(DAG, RUN, TASK, 3)]["crops"] = [key]
        resp = client.get(_path("crop/0.png"), cookies=ok)
        assert resp.status_code == 404 and b"secret" not in resp.content, key


def test_an_object_gone_from_obs_is_a_404(served, fast_bucket):
    client, _, pointers, _ = served
    pointers[(DAG, RUN, TASK, 3)]["crops"] = [CROP.replace("ab" * 16, "ef" * 16)]
    assert client.get(_path("crop/0.png"), cookies={"_token": "tok-li"}).status_code == 404


def test_image_key_reads_a_pointer_strictly():
    pointer = {"format": POINTER_FORMAT, "bucket": "b", "crops": [CROP], "page": None}
    assert image_key(pointer, "crop/0.png") == ("b", CROP)
    assert image_key(pointer, "page.png") is None
    assert image_key({**pointer, "format": "other"}, "crop/0.png") is None
    assert image_key(pointer, "crop/-1.png") is None and image_key(pointer, "crop/x.png") is None
    assert image_key({**pointer, "bucket": ""}, "crop/0.png") is None


def test_the_crop_keys_the_review_task_writes_are_the_ones_the_plugin_serves():
    from airflow_provider_hwocr.runtime.review.apply import store_of
    from airflow_provider_hwocr.runtime.review.prepare import crop_key

    store = store_of("obs://bkt/ocr/2026-12-07/x-0123456789ab.vat-invoice.json", "vat-invoice")
    key = crop_key(store.housekeeping, "vat-invoice", b"png bytes")
    assert image_key({"format": POINTER_FORMAT, "bucket": "b", "crops": [key]}, "crop/0.png") == ("b", key)
    root = store_of(
        "obs://bkt/x-0123456789ab.vat-invoice.json", "vat-invoice"
    )  # results at the bucket's root
    key = crop_key(root.housekeeping, "vat-invoice", b"png bytes")
    assert image_key({"format": POINTER_FORMAT, "bucket": "b", "crops": [key]}, "crop/0.png") == ("b", key)


def test_the_plugin_is_registered_once_whether_or_not_providers_load_lazily():
    """An entry point only: in provider info too, Airflow loads it twice with ``[core]
    lazy_discover_providers`` off and reports the second as a plugin import error."""
    from airflow.providers_manager import ProvidersManager

    from airflow_provider_hwocr.get_provider_info import get_provider_info
    from airflow_provider_hwocr.integration.review import PLUGIN_PREFIX
    from airflow_provider_hwocr.plugins.review import HuaweiOcrReviewPlugin

    assert "plugins" not in get_provider_info()
    manager = ProvidersManager()
    manager.initialize_providers_plugins()
    assert "hwocr_review" not in {p.name for p in manager.plugins}
    (app,) = HuaweiOcrReviewPlugin.fastapi_apps
    assert app["url_prefix"] == PLUGIN_PREFIX
    assert not any(
        PLUGIN_PREFIX.startswith(p) for p in ("/api/v2", "/ui", "/execution", "/auth", "/pluginsv2")
    )


def test_airflow_finds_the_plugin_through_its_entry_point():
    """Airflow loads provider plugins from provider info only with ``[core] lazy_discover_providers``
    off (it is on by default), so the plugin is also an ``airflow.plugins`` entry point."""
    from importlib.metadata import entry_points

    (entry,) = [e for e in entry_points(group="airflow.plugins") if e.name == "hwocr_review"]
    assert entry.value == "airflow_provider_hwocr.plugins.review:HuaweiOcrReviewPlugin"
    code = (
        "from airflow import plugins_manager as m\n"
        "if hasattr(m, 'get_fastapi_plugins'):\n"  # Airflow 3.2+
        "    apps = m.get_fastapi_plugins()[0]\n"
        "else:\n"
        "    m.initialize_fastapi_plugins(); apps = m.fastapi_apps\n"
        "print([a['url_prefix'] for a in apps])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert "'/hwocr/review'" in out.stdout.strip().splitlines()[-1]


def test_importing_the_plugin_builds_no_app():
    """Workers import provider plugins for their macros: the application waits for the API server."""
    code = (
        "import airflow_provider_hwocr.plugins.review as m, sys; "
        "print(m.create_app.cache_info().currsize, 'fastapi.applications' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    built, _fastapi = out.stdout.split()
    assert built == "0"


def test_the_package_s_metadata_is_found_once_so_airflow_loads_the_plugin_once():
    """Airflow walks every distribution on ``sys.path`` (no deduplication): an ``*.egg-info`` left in
    the project root, which the editable install puts on ``sys.path``, loaded the plugin twice and
    reported the second as an import error. setup.cfg sends it to ``.build/``."""
    from importlib.metadata import distributions

    from tests.helpers.paths import REPO

    found = [
        d
        for d in distributions()
        if any(e.group == "airflow.plugins" and e.name == "hwocr_review" for e in d.entry_points)
    ]
    assert len(found) == 1, [str(getattr(d, "_path", d)) for d in found]
    assert not list(REPO.glob("*.egg-info"))
