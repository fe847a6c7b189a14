"""``runtime/review/prepare.py``: a held page made ready to ask about, on the emulator's real reading
of the sample VAT invoice (its fields' confidences and locations), stored on the fast object server.
The operator around it: ``tests/operators/test_review.py``."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest

from airflow_provider_hwocr.runtime.review.prepare import (
    check_descriptor,
    crop_key,
    held_now,
    prepare_review,
    review_rule,
)

LOG = logging.getLogger("test")
KEY = "ocr/2026-12-07/invoice.png-0123456789ab.vat-invoice.json"


def _descriptor(bucket: str, **extra: Any) -> dict[str, Any]:
    return {
        "source": f"obs://{bucket}/in/invoice.png",
        "page": None,
        "pages": None,
        "result_uri": f"obs://{bucket}/{KEY}",
        "api": "vat-invoice",
        "fields": ["total"],
        **extra,
    }


@pytest.fixture
def stored(fast_conn, fast_bucket, invoice_png, invoice_envelope):
    """The sample invoice and the emulator's answer for it in OBS, its total made uncertain."""
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

    invoice_envelope["result"]["confidence"]["total"] = 0.41
    fast_conn.put_object(fast_bucket, "in/invoice.png", invoice_png)
    fast_conn.put_object(fast_bucket, KEY, json.dumps(invoice_envelope).encode(), "application/json")
    hook = HuaweiObsHook()
    yield hook, _descriptor(fast_bucket)
    hook.close()


def _url(image: str) -> str:
    return f"/hwocr/review/d/r/t/0/{image}"


def test_a_held_page_gets_its_crops_stored_and_a_form_linking_them(stored, invoice_envelope):
    from PIL import Image

    obs, descriptor = stored
    rule = review_rule(descriptor, {"total": 0.95}, None)
    prepared = prepare_review(obs, descriptor, rule, url_of=_url, on_timeout="fail", language=None, log=LOG)
    (held,) = prepared.held
    assert held.field == "total" and held.label == "价税合计" and held.confidence == 0.41
    assert prepared.form is not None and prepared.reviewed is None
    assert "](/hwocr/review/d/r/t/0/crop/0.png)" in prepared.form.body
    assert "](/hwocr/review/d/r/t/0/page.png)" in prepared.form.body
    (crop,) = prepared.crops
    assert crop is not None and prepared.page is not None
    assert crop.startswith("ocr/2026-12-07_hwocr/vat-invoice/review-crops/")
    image = Image.open(io.BytesIO(obs.get_bytes(prepared.bucket, crop)))
    assert image.width <= 300 and image.height < 100  # the total's line, not the page
    page = Image.open(io.BytesIO(obs.get_bytes(prepared.bucket, prepared.page)))
    assert page.size == (1100, 860)
    assert crop == crop_key("ocr/2026-12-07_hwocr/", "vat-invoice", obs.get_bytes(prepared.bucket, crop))


def test_a_source_that_cannot_be_read_gives_a_form_without_images(stored):
    obs, descriptor = stored
    descriptor = {**descriptor, "source": "https://example.invalid/invoice.png"}
    rule = review_rule(descriptor, {"total": 0.95}, None)
    prepared = prepare_review(obs, descriptor, rule, url_of=_url, on_timeout="fail", language="en", log=LOG)
    assert prepared.crops == [None] and prepared.page is None
    assert prepared.form is not None and "/hwocr/review/" not in prepared.form.body


def test_a_decided_page_is_not_prepared_again(stored, fast_conn, fast_bucket, invoice_envelope):
    obs, descriptor = stored
    invoice_envelope["review"] = {"format": "hwocr-review/1", "outcome": "approved", "by": "li"}
    fast_conn.put_object(fast_bucket, KEY, json.dumps(invoice_envelope).encode(), "application/json")
    rule = review_rule(descriptor, {"total": 0.95}, None)
    reviewed, held = held_now(obs, descriptor, rule, None)
    assert reviewed is not None and reviewed["by"] == "li" and held == []


def test_the_rule_is_the_operators_or_the_descriptors_thresholds():
    descriptor = _descriptor("bkt")
    assert review_rule(descriptor, {"total": 0.9, "number": 0.8}, None).threshold("total") == 0.9
    assert review_rule(descriptor, {"total": 0.9, "number": 0.8}, None).threshold("number") is None
    assert review_rule({**descriptor, "thresholds": {"total": 0.7}}, None, None).threshold("total") == 0.7
    assert review_rule(descriptor, 0.6, ["total", "number"]).threshold("number") == 0.6
    with pytest.raises(ValueError, match="review_below"):
        review_rule(descriptor, None, None)


def test_the_descriptor_is_checked_naming_held():
    assert check_descriptor(json.dumps(_descriptor("bkt")))["api"] == "vat-invoice"
    with pytest.raises(ValueError, match="held: the descriptor lacks result_uri"):
        check_descriptor({**_descriptor("bkt"), "result_uri": None})
    with pytest.raises(ValueError, match="obs://"):
        check_descriptor({**_descriptor("bkt"), "result_uri": "/tmp/x.json"})
    with pytest.raises(TypeError, match="held"):
        check_descriptor(["not", "a", "dict"])
