"""The lazy exports of ``airflow_provider_hwocr.client``: every name resolves to its submodule's object
on first use, and importing a submodule (or an operator) does not pull in the HTTP client."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import airflow_provider_hwocr.client as client_package


def test_operator_init_does_not_import_the_http_client():
    probe = (
        "import sys\n"
        "from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator as Op\n"
        "Op(task_id='t', image='/x.png', language='zh')\n"
        "print('requests' in sys.modules, 'airflow_provider_hwocr.client.client' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1].endswith("False")


def test_all_lists_exactly_the_lazy_exports():
    assert client_package.__all__ == list(client_package._EXPORTS)
    assert set(client_package._EXPORTS.values()) == {"auth", "client", "errors", "retry", "signer"}


@pytest.mark.parametrize("name", sorted(client_package._EXPORTS))
def test_every_export_is_the_object_of_its_submodule(name):
    module = importlib.import_module(f"airflow_provider_hwocr.client.{client_package._EXPORTS[name]}")
    assert getattr(client_package, name) is getattr(module, name)
    assert vars(client_package)[name] is getattr(module, name)  # cached: looked up once


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="'airflow_provider_hwocr.client' has no attribute 'OcrHook'"):
        client_package.OcrHook  # noqa: B018
    with pytest.raises(ImportError):
        from airflow_provider_hwocr.client import OcrHook  # noqa: F401


def test_submodules_load_without_the_http_client_until_a_client_name_is_used():
    probe = (
        "import sys\n"
        "import airflow_provider_hwocr.client as pkg\n"
        "from airflow_provider_hwocr.client import HuaweiOcrValidationError\n"
        "from airflow_provider_hwocr.client.request import prepare_request\n"
        "before = ['requests' in sys.modules, 'airflow_provider_hwocr.client.client' in sys.modules]\n"
        "pkg.OcrClient\n"
        "after = ['requests' in sys.modules, 'airflow_provider_hwocr.client.client' in sys.modules]\n"
        "print(before, after, 'airflow' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.split() == ["[False,", "False]", "[True,", "True]", "False"]
