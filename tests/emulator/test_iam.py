"""The emulator's IAM (``emulator/iam.py``): password tokens, their lifetime, and the project list.

Tokens are fetched with a raw ``POST /v3/auth/tokens`` and then used on OCR and ``GET /v3/projects``.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
import requests

from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator
from airflow_provider_hwocr.emulator.errors import EmulatorError
from airflow_provider_hwocr.emulator.iam import IamError, TokenStore, issue_token, list_projects
from tests.helpers.b_signed import (
    PNG_B64,
    REQUEST_ID,
    assert_auth_failure,
    get_token,
    ocr_path,
    send,
    sign,
)
from tests.helpers.constants import IAM_DOMAIN, IAM_PASSWORD, IAM_USER, PROJECT_ID, REGION


def test_iam_token_issue_and_use(emulator):
    before = emulator.token_issue_count
    issued = get_token(emulator)
    assert issued.status_code == 201, issued.text
    token = issued.headers["X-Subject-Token"]
    body = issued.json()["token"]
    assert body["project"]["id"] == PROJECT_ID and body["project"]["name"] == REGION
    expires = datetime.strptime(body["expires_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert abs((expires - datetime.now(timezone.utc)).total_seconds() - 86400) < 60
    assert emulator.token_issue_count == before + 1
    assert REQUEST_ID.match(issued.headers["X-Request-Id"])

    response = requests.post(
        f"{emulator.url}{ocr_path('general-text')}", json={"image": PNG_B64},
        headers={"X-Auth-Token": token}, timeout=10,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert emulator.calls()[0].auth_mode == "token"
    assert emulator.count() == 1  # IAM calls are not OCR calls


def test_expired_token(emulator):
    token = get_token(emulator).headers["X-Subject-Token"]
    emulator.expire_tokens()
    response = requests.post(
        f"{emulator.url}{ocr_path('general-text')}", json={"image": PNG_B64},
        headers={"X-Auth-Token": token}, timeout=10,
    )  # fmt: skip
    assert_auth_failure(response, "token expires")
    fresh = get_token(emulator).headers["X-Subject-Token"]
    ok = requests.post(
        f"{emulator.url}{ocr_path('general-text')}", json={"image": PNG_B64},
        headers={"X-Auth-Token": fresh}, timeout=10,
    )  # fmt: skip
    assert ok.status_code == 200


def test_reset_keeps_tokens_but_zeroes_their_count(emulator):
    token = get_token(emulator).headers["X-Subject-Token"]
    assert emulator.token_issue_count == 1
    emulator.reset()
    assert emulator.token_issue_count == 0
    response = requests.get(f"{emulator.url}/v3/projects", headers={"X-Auth-Token": token}, timeout=10)
    assert response.status_code == 200


def test_short_token_lifetime():
    config = EmulatorConfig(
        iam_users={(IAM_DOMAIN, IAM_USER): IAM_PASSWORD},
        project_id=PROJECT_ID,
        region=REGION,
        token_lifetime=0.2,
    )
    with OcrEmulator(config) as emu:
        token = get_token(emu).headers["X-Subject-Token"]
        url = f"{emu.url}/v3/projects"
        assert requests.get(url, headers={"X-Auth-Token": token}, timeout=10).status_code == 200
        time.sleep(0.3)
        assert_auth_failure(requests.get(url, headers={"X-Auth-Token": token}, timeout=10), "token expires")


def test_wrong_password_gets_no_token(emulator):
    response = get_token(emulator, password="wrong")
    assert response.status_code == 401
    assert "X-Subject-Token" not in response.headers
    assert response.json()["error"]["code"] == 401
    assert emulator.token_issue_count == emulator.stats()["tokens_issued"]


def test_token_for_another_region_is_refused(emulator):
    response = get_token(emulator, project="cn-north-4")
    assert response.status_code == 400
    assert "X-Subject-Token" not in response.headers


def test_token_request_needs_project_scope(emulator):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": IAM_USER, "password": IAM_PASSWORD, "domain": {"name": IAM_DOMAIN}}}},
        "scope": {"domain": {"name": IAM_DOMAIN}}}}  # fmt: skip
    assert requests.post(f"{emulator.url}/v3/auth/tokens", json=body, timeout=10).status_code == 400
    assert requests.post(f"{emulator.url}/v3/auth/tokens", data=b"nope", timeout=10).status_code == 400


def test_token_not_issued_here(emulator):
    response = requests.post(
        f"{emulator.url}{ocr_path('general-text')}", json={"image": PNG_B64},
        headers={"X-Auth-Token": "MIIforged"}, timeout=10,
    )  # fmt: skip
    assert_auth_failure(response, "decrypt token fail")
    assert emulator.calls()[0].auth_mode == "token"


def test_projects_with_aksk_signature_and_name_filter(emulator):
    response = send(sign(emulator, "/v3/projects", method="GET", query=[("name", REGION)]))
    assert response.status_code == 200, response.text
    (project,) = response.json()["projects"]
    assert (project["id"], project["name"]) == (PROJECT_ID, REGION)
    other = send(sign(emulator, "/v3/projects", method="GET", query=[("name", "cn-north-4")]))
    assert other.json()["projects"] == []


def test_projects_with_token(emulator):
    token = get_token(emulator).headers["X-Subject-Token"]
    response = requests.get(f"{emulator.url}/v3/projects", headers={"X-Auth-Token": token}, timeout=10)
    assert response.json()["projects"][0]["id"] == PROJECT_ID


def test_projects_need_auth(emulator):
    assert_auth_failure(requests.get(f"{emulator.url}/v3/projects", timeout=10), "x-auth-token not found")
    tampered = sign(emulator, "/v3/projects", method="GET", query=[("name", REGION)])
    tampered.uri = "/v3/projects?name=cn-north-4"
    assert_auth_failure(send(tampered), "verify aksk signature fail")


# --- token requests and the project list, without a server ------------------------------------

CONFIG = EmulatorConfig(
    project_id=PROJECT_ID, region=REGION, iam_users={(IAM_DOMAIN, IAM_USER): IAM_PASSWORD}
)


def _password_body(scope: dict, **user) -> dict:
    user = {"name": IAM_USER, "password": IAM_PASSWORD, "domain": {"name": IAM_DOMAIN}, **user}
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": user}}, "scope": scope}}


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({}, 400, "missing auth"),
        ({"auth": {"identity": {"methods": ["token"]}}}, 400, "password identity"),
        (_password_body({"project": {"name": REGION}}, domain="x"), 400, "domain.name"),
        (_password_body({"project": {}}), 400, "name or id"),
        (_password_body({"project": {"id": "f" * 32}}), 400, "No such project"),
        (_password_body({"project": {"name": REGION}}, name="someone-else"), 401, "wrong"),
    ],
    ids=[
        "no-auth",
        "not-password",
        "domain-not-an-object",
        "project-unnamed",
        "other-project-id",
        "unknown-user",
    ],
)
def test_token_requests_are_checked_field_by_field(body, status, words):
    with pytest.raises(IamError) as caught:
        issue_token(CONFIG, TokenStore(), body)
    assert caught.value.status == status and words in caught.value.message
    error = caught.value.body()["error"]
    assert (error["code"], error["title"]) == (status, "Bad Request" if status == 400 else "Unauthorized")


def test_a_token_scoped_by_project_id_names_stable_ids():
    store = TokenStore()
    token, answer = issue_token(CONFIG, store, _password_body({"project": {"id": PROJECT_ID}}))
    _, again = issue_token(CONFIG, store, _password_body({"project": {"name": REGION}}))
    assert token.startswith("MII") and store.issue_count == 2
    assert answer["token"]["user"]["id"] == again["token"]["user"]["id"]
    assert answer["token"]["project"] == again["token"]["project"]
    store.check(f" {token} ")  # surrounding spaces are ignored
    store.expire_all()
    with pytest.raises(EmulatorError, match="token expires"):
        store.check(token)


def test_the_project_list_is_filtered_by_name():
    everything = list_projects(CONFIG, "http://emu", None)
    assert [p["id"] for p in everything["projects"]] == [PROJECT_ID]
    assert everything["projects"][0]["links"]["self"] == f"http://emu/v3/projects/{PROJECT_ID}"
    assert list_projects(CONFIG, "http://emu", "cn-north-4")["projects"] == []
