"""A local stand-in for the Huawei Cloud OCR service, for tests and offline development.

It checks AK/SK signatures and IAM tokens, validates request bodies against
the API catalog, answers each API's documented example, records every call,
and can be told to fail. It depends only on the catalog and the standard
library (Pillow, when installed, helps read image sizes); it never imports
the provider's client, so that it stays an independent check of it.
"""

from __future__ import annotations

from airflow_provider_hwocr.emulator.config import EmulatorConfig
from airflow_provider_hwocr.emulator.examples import example_response
from airflow_provider_hwocr.emulator.server import OcrEmulator
from airflow_provider_hwocr.emulator.stats import RecordedCall

__all__ = ["EmulatorConfig", "OcrEmulator", "RecordedCall", "example_response"]
