"""The lazy exports of ``airflow_provider_hwocr.client``: every name resolves to its submodule's object
on first use, and importing a submodule (or an operator) does not pull in the HTTP client."""

from __future__ import annotations

import subprocess
import sys


def test_operator_init_does_not_import_the_http_client():
    probe = (
        "import sys\n"
        "from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator as Op\n"
        "Op(task_id='t', image='/x.png', language='zh')\n"
        "print('requests' in sys.modules, 'airflow_provider_hwocr.client.client' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1].endswith("False")
