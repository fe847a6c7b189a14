"""Pages are the unit of work: a PDF or OFD document read page by page against the emulator by the
one-image operators, each page the way its API reads it.

* render (handwriting), select with ``pdf_page_number`` (smart-document-recognizer) and with
  ``page_num`` (vat-invoice, a PDF and an OFD), split (business-license): every page of the
  document read, each result that page's own text (the emulator reads what is on the page);
* before any call: a document over ``max_pages`` (a 61-page scan) and ``pages`` past the end are
  refused naming the argument; ``pages="2-3"`` makes two calls; an image is one page;
* results per page, the document whole: page keys, envelopes with ``page`` and ``pages``, the
  XCom of every page; a re-run of a finished document makes no call and no download.

The batch's pages are in ``test_batch_pages.py``.
"""

from __future__ import annotations

import base64

import pytest

from airflow_provider_hwocr.client.documents import count_pages, document_kind
from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.emulator import samples
from airflow_provider_hwocr.emulator.ocr import rapidocr_problem
from airflow_provider_hwocr.errors import HuaweiCloudBudgetExceededError
from airflow_provider_hwocr.testing.documents import numbered_pdf, page_lines
from tests.helpers.images import png
from tests.helpers.pages import document_gets, words

SLUG = "general-text"


@pytest.fixture
def computed(emulator):
    """The shared emulator reading what is on each page (reset() puts its documented answers back)."""
    emulator.config.results = "computed"
    return emulator


@pytest.fixture
def chinese() -> None:
    problem = rapidocr_problem()
    if problem is not None or samples.cjk_font_path() is None:
        pytest.skip(problem or "no CJK font to render the Chinese documents")


def _op(api: str, **kwargs):
    from airflow_provider_hwocr.operators.base import HuaweiOcrOperator

    return HuaweiOcrOperator(task_id="t", api=api, **kwargs)


def _sent(call, field: str) -> bytes:
    return base64.b64decode(call.body[field])


# --- each way a page reaches the service ---------------------------------------------------------


def test_handwriting_reads_every_page_rendered(computed, ocr_conn):
    doc = numbered_pdf(3)
    value = _op("handwriting", image=doc.data).execute({})
    assert value["page_count"] == 3 and [p["page"] for p in value["pages"]] == [1, 2, 3]
    for entry in value["pages"]:
        assert " ".join(page_lines(entry["page"], 3)) in words(entry["result"])
    calls = computed.calls("handwriting")
    assert len(calls) == 3 and all(_sent(c, "image").startswith(b"\x89PNG") for c in calls)  # rendered


def test_smart_document_recognizer_selects_each_page_of_an_object_by_its_url(
    computed, counted, obs, obs_bucket
):
    doc = numbered_pdf(3)
    obs.put_bytes(obs_bucket, "in/scan.PDF", doc.data)  # the extension in any case
    counted.reset()
    refs = _op(
        "smart-document-recognizer",
        image=f"obs://{obs_bucket}/in/scan.PDF",
        output_uri=f"obs://{obs_bucket}/out/",
    ).execute({})
    calls = computed.calls("smart-document-recognizer")
    assert sorted(c.body["pdf_page_number"] for c in calls) == [1, 2, 3]
    assert all("url" in c.body and "data" not in c.body for c in calls)  # a signed URL, not the bytes
    assert document_gets(counted) == 1  # the document downloaded once, to count its pages
    assert [r["page"] for r in refs] == [1, 2, 3]
    for ref in refs:
        assert f".p{ref['page']:04d}of0003.smart-document-recognizer.json" in ref["uri"]
        envelope = obs.get_json(obs_bucket, ref["uri"].split("/", 3)[3])
        assert (envelope["page"], envelope["pages"]) == (ref["page"], 3)
        assert envelope["source"]["uri"] == f"obs://{obs_bucket}/in/scan.PDF"
        assert page_lines(ref["page"], 3)[1] in words(envelope["result"])
    computed.reset()
    counted.reset()
    computed.config.results = "computed"
    again = _op(
        "smart-document-recognizer",
        image=f"obs://{obs_bucket}/in/scan.PDF",
        output_uri=f"obs://{obs_bucket}/out/",
    ).execute({})
    assert again == refs and computed.count() == 0
    assert document_gets(counted) == 0  # one listing and a HEAD per page: no download


def test_vat_invoice_selects_each_page_with_page_num(computed, ocr_conn, chinese):
    doc = samples.vat_invoice_pdf()
    value = _op("vat-invoice", image=doc.data).execute({})
    calls = computed.calls("vat-invoice")
    assert sorted(c.body["page_num"] for c in calls) == [1, 2, 3]
    assert all(document_kind(_sent(c, "image")) == "pdf" for c in calls)  # the document, its page chosen
    for entry in value["pages"]:
        result = entry["result"]
        assert (result["current_page"], result["total_pages"]) == (str(entry["page"]), "3")
        assert result["number"] == "12345678"  # printed on every page


def test_vat_invoice_reads_every_page_of_an_ofd(computed, ocr_conn):
    doc = samples.vat_invoice_ofd()
    value = _op("vat-invoice", image=doc.data).execute({})
    assert value["page_count"] == doc.page_count == 2
    assert sorted(c.body["page_num"] for c in computed.calls("vat-invoice")) == [1, 2]
    for entry in value["pages"]:
        assert entry["result"]["current_page"] == str(entry["page"])
        assert entry["result"]["number"] == "26112000000012345678"


def test_business_license_gets_each_page_as_a_pdf_of_its_own(computed, ocr_conn, chinese):
    names = ["第一示例有限公司", "第二示例有限公司", "第三示例有限公司"]
    doc = samples.pdf_of(
        "licences.pdf",
        [[f"名称：{name}", f"统一社会信用代码：91110000MA0000000{n}"] for n, name in enumerate(names, 1)],
        size=(1000, 400),
        kind="cjk",
    )
    value = _op("business-license", image=doc.data).execute({})
    calls = computed.calls("business-license")
    assert len(calls) == 3 and all(count_pages(_sent(c, "image")) == 1 for c in calls)  # split
    assert [p["result"]["name"] for p in value["pages"]] == names


# --- checks before any call ------------------------------------------------------------------------


def test_a_61_page_scan_is_refused_before_any_call(emulator, ocr_conn):
    doc = numbered_pdf(61)
    with pytest.raises(HuaweiOcrValidationError, match=r"^max_pages: .*61 pages, over max_pages=50") as info:
        _op(SLUG, image=doc.data).execute({})
    assert info.value.parameter == "max_pages" and emulator.count() == 0
    with pytest.raises(HuaweiOcrValidationError, match="max_pages"):
        _op(SLUG, image=doc.data, max_pages=60).execute({})
    assert emulator.count() == 0
    value = _op(SLUG, image=doc.data, pages="60-61").execute({})  # two chosen: within the cap
    assert [p["page"] for p in value["pages"]] == [60, 61] and emulator.count() == 2


def test_chosen_pages_make_one_call_each_and_pages_past_the_end_none(computed, ocr_conn):
    doc = numbered_pdf(5)
    value = _op(SLUG, image=doc.data, pages="2-3").execute({})
    assert sorted(c.body["pdf_page_number"] for c in computed.calls(SLUG)) == [2, 3]
    assert [p["page"] for p in value["pages"]] == [2, 3] and value["page_count"] == 5
    assert "BRAVO RECEIPT 0002" in words(value["pages"][0]["result"])
    with pytest.raises(HuaweiOcrValidationError, match=r"^pages: '4-9' names page 9, past the end") as info:
        _op(SLUG, image=doc.data, pages="4-9").execute({})
    assert info.value.parameter == "pages" and computed.count(SLUG) == 2


def test_an_image_is_one_page(emulator, ocr_conn):
    image = png()
    assert _op(SLUG, image=image, pages=1).execute({}) == _op(SLUG, image=image).execute({})  # as before
    with pytest.raises(HuaweiOcrValidationError, match=r"^pages: '2' chooses pages of a PDF") as info:
        _op(SLUG, image=image, pages="2").execute({})
    assert info.value.parameter == "pages" and emulator.count() == 2


def test_a_document_needing_more_calls_than_max_calls_is_refused_before_any(emulator, ocr_conn):
    with pytest.raises(HuaweiCloudBudgetExceededError, match=r"needs 3 page call\(s\), over max_calls=2"):
        _op(SLUG, image=numbered_pdf(3).data, max_calls=2).execute({})
    assert emulator.count() == 0


def test_a_dry_run_counts_the_page_calls(emulator, ocr_conn):
    report = _op(SLUG, image=numbered_pdf(4).data, dry_run=True, price_per_call=0.5).execute({})
    assert (report["would_call"], report["pages"], report["page_count"], report["estimated_cost"]) == (
        4,
        4,
        4,
        2.0,
    )
    assert emulator.count() == 0


def test_a_document_by_url_is_read_once_then_each_page_sent_as_the_url(computed, ocr_conn, image_server):
    base, folder = image_server
    (folder / "scan.pdf").write_bytes(numbered_pdf(3).data)
    value = _op(SLUG, image=f"{base}/scan.pdf", pages="2-").execute({})
    calls = computed.calls(SLUG)
    assert sorted(c.body["pdf_page_number"] for c in calls) == [2, 3]
    assert all(c.body["url"] == f"{base}/scan.pdf" and "image" not in c.body for c in calls)
    assert [p["page"] for p in value["pages"]] == [2, 3]
    assert "CHARLIE RECEIPT 0003" in words(value["pages"][1]["result"])
