"""A local stand-in for the Huawei Cloud OCR service, for tests, demos and offline development.

It checks AK/SK signatures and IAM tokens, validates request bodies against
the API catalog, and answers every API in its documented shape: text APIs
read the image (with Tesseract when it is installed, else a deterministic
synthetic reader), structured APIs send their documented fields fitted to
the image. It can add latency, throttle per API, inject faults, records
every call with timestamps, and runs from the shell as ``hwocr-emulator``.

It depends only on the catalog and the standard library (Pillow, when
installed, reads the rarer image formats and prepares images for
Tesseract); it never imports the provider's client, so that it stays an
independent check of it.
"""

from __future__ import annotations

from airflow_provider_hwocr.emulator.config import EmulatorConfig
from airflow_provider_hwocr.emulator.examples import example_response
from airflow_provider_hwocr.emulator.server import OcrEmulator
from airflow_provider_hwocr.emulator.stats import RecordedCall

__all__ = ["EmulatorConfig", "OcrEmulator", "RecordedCall", "example_response"]
