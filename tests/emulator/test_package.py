"""The emulator package (``emulator/__init__.py``): an independent witness, importing neither the
provider's client nor Airflow nor the vendor's SDK.
"""

from __future__ import annotations

import subprocess
import sys


def test_emulator_imports_neither_client_nor_airflow_nor_sdk():
    code = (
        "import sys, airflow_provider_hwocr.emulator, airflow_provider_hwocr.emulator.__main__\n"
        "bad = [m for m in sys.modules if m == 'airflow' or m.startswith(('airflow.', "
        "'airflow_provider_hwocr.client', 'huaweicloudsdk', 'requests'))]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
