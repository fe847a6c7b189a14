"""The sample documents (``emulator/samples.py``): rendered pages whose printed words real OCR reads back."""

from __future__ import annotations

import shutil

from airflow_provider_hwocr.emulator import samples
from tests.helpers.b_images import b64
from tests.helpers.emulator_client import emulator

SAMPLES = samples.all_samples()


def test_general_text_reads_every_sample_document(monkeypatch):
    """The done-when check: >= 90% of the rendered words of every sample, with no binary on PATH."""
    monkeypatch.setenv("PATH", "/nonexistent")
    assert shutil.which("tesseract") is None
    with emulator() as client:
        for name, sample in SAMPLES.items():
            response = client.ocr("general-text", {"image": b64(sample.png)})
            assert response.headers["X-Emulator-Ocr"] == "tesserocr"
            read = " ".join(b["words"] for b in response.json()["result"]["words_block_list"]).split()
            found = sum(1 for word in sample.words if word in read)
            assert found / len(sample.words) >= 0.9, (name, read)
