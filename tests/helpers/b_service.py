"""An emulator of a test's own with behaviour knobs, and a raw HTTP client on it holding an IAM token.

No signing code is involved: the client authenticates with a password token.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests

from airflow_provider_hwocr.catalog import get_api
from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator
from tests.helpers.b_images import b64, render
from tests.helpers.constants import IAM_DOMAIN, IAM_PASSWORD, IAM_USER, PROJECT_ID, REGION

SMALL_PNG = b64(render(["Hello"], size=(120, 60), text_size=20))


class Service:
    """An emulator of its own plus a raw HTTP client holding an IAM token for it."""

    def __init__(self, emulator: OcrEmulator) -> None:
        self.emu = emulator
        self.url = emulator.url
        self.http = requests.Session()
        self.token = self.new_token()

    def new_token(self) -> str:
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {"name": IAM_USER, "password": IAM_PASSWORD, "domain": {"name": IAM_DOMAIN}}
                    },
                },
                "scope": {"project": {"name": REGION}},
            }
        }
        response = requests.post(f"{self.url}/v3/auth/tokens", json=body, timeout=10)
        assert response.status_code == 201, response.text
        return response.headers["X-Subject-Token"]

    def ocr(self, slug: str, body: dict | None = None, timeout: float = 10, **kwargs) -> requests.Response:
        if body is None:
            body = {get_api(slug).image_field: SMALL_PNG}
        return self.http.post(
            f"{self.url}/v2/{PROJECT_ID}/ocr/{slug}",
            json=body,
            headers={"X-Auth-Token": kwargs.pop("token", self.token)},
            timeout=timeout,
            **kwargs,
        )


@contextmanager
def service(**knobs) -> Iterator[Service]:
    config = EmulatorConfig(
        project_id=PROJECT_ID, region=REGION, iam_users={(IAM_DOMAIN, IAM_USER): IAM_PASSWORD}, **knobs
    )
    with OcrEmulator(config) as emulator:
        yield Service(emulator)


def code_of(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error_code"]
