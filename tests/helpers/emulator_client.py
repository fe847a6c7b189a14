"""An OCR emulator of a test's own, and a plain HTTP client on it with an IAM token."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests

from airflow_provider_hwocr.emulator import EmulatorConfig, OcrEmulator
from tests.helpers.constants import IAM_DOMAIN, IAM_PASSWORD, IAM_USER, PROJECT_ID, REGION


class Client:
    def __init__(self, emulator: OcrEmulator) -> None:
        self.url = emulator.url
        self.http = requests.Session()
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
        response = self.http.post(f"{self.url}/v3/auth/tokens", json=body, timeout=10)
        assert response.status_code == 201, response.text
        self.token = response.headers["X-Subject-Token"]

    def ocr(self, slug: str, body: dict) -> requests.Response:
        return self.http.post(
            f"{self.url}/v2/{PROJECT_ID}/ocr/{slug}",
            json=body,
            headers={"X-Auth-Token": self.token},
            timeout=60,
        )


@contextmanager
def emulator(**knobs) -> Iterator[Client]:
    config = EmulatorConfig(
        project_id=PROJECT_ID, region=REGION, iam_users={(IAM_DOMAIN, IAM_USER): IAM_PASSWORD}, **knobs
    )
    with OcrEmulator(config) as emu:
        yield Client(emu)
