"""Where the recognised text lives in each API's result, as data.

``text_export`` reads this table to turn any API's result into plain text
pages; nothing else knows the result shapes for text. Every API in
:data:`~airflow_provider_hwocr.catalog.apis.APIS` has exactly one entry (a
test fails when one is missing).

Two ways a page holds text:

* **blocks**: lists of text blocks (``sources``), e.g. ``words_block_list``
  items with ``words`` and ``confidence``; the page text is the blocks' text,
  one per line, and the confidence the mean of the blocks' confidences.
* **fields** (no ``sources``): a card or document with named fields; the page
  text is one ``name: value`` line per text field, and the confidence the mean
  of the page's ``confidence`` object (or its ``confidence`` number).

List-shaped results (``per_item``) give one page per item; object-shaped
results are one page.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TextSource:
    """A list of text blocks inside a page.

    ``path`` leads from the page to the list; ``*`` steps into every item of a
    list on the way (``words_region_list.*.words_block_list``). ``text`` names
    the block's text field; with ``key`` set, a block reads as ``key: text``.
    """

    path: tuple[str, ...]
    text: str = "words"
    key: str | None = None
    confidence: str = "confidence"


@dataclass(frozen=True)
class TextLayout:
    #: List-shaped result: every item is one page (document, plate, page of a PDF).
    per_item: bool = False
    #: Inside a page, where the content sits (e.g. ``content`` of an auto-classification item).
    item_path: tuple[str, ...] = ()
    #: Block lists; empty means the page's fields are the text.
    sources: tuple[TextSource, ...] = ()


_WORDS = TextSource(("words_block_list",))

TEXT_LAYOUTS: dict[str, TextLayout] = {
    "general-text": TextLayout(sources=(_WORDS,)),
    "handwriting": TextLayout(sources=(_WORDS,)),
    "web-image": TextLayout(sources=(_WORDS,)),
    "general-table": TextLayout(sources=(TextSource(("words_region_list", "*", "words_block_list")),)),
    "smart-document-recognizer": TextLayout(
        per_item=True,
        sources=(
            TextSource(("ocr_result", "words_block_list")),
            TextSource(("kv_result", "kv_block_list"), text="value", key="key"),
            TextSource(("layout_result", "layout_block_list"), text="text"),
            TextSource(("formula_result", "formula_list"), text="formula"),
        ),
    ),
    "auto-classification": TextLayout(per_item=True, item_path=("content",)),
    "thailand-license-plate": TextLayout(per_item=True),
    "auto-id-doc-classification": TextLayout(),
    "id-document": TextLayout(),
    "passport": TextLayout(),
    "thailand-id-card": TextLayout(),
    "colombia-id-card": TextLayout(),
    "cambodian-idcard": TextLayout(),
    "myanmar-id-card": TextLayout(),
    "myanmar-driver-license": TextLayout(),
    "chile-id-card": TextLayout(),
    "vietnam-id-card": TextLayout(),
    "peru-id-card": TextLayout(),
    "hk-id-card": TextLayout(),
    "macao-id-card": TextLayout(),
    "business-card": TextLayout(),
    "seal": TextLayout(
        sources=(TextSource(("seal_list", "*", "words_block_list"), confidence="words_confidence"),)
    ),
    "vin": TextLayout(),
    "custom-template": TextLayout(),
    "vat-invoice": TextLayout(),
    "invoice-verification": TextLayout(),
    "mvs-invoice": TextLayout(),
    "quota-invoice": TextLayout(),
    "taxi-invoice": TextLayout(),
    "toll-invoice": TextLayout(),
    "train-ticket": TextLayout(),
    "flight-itinerary": TextLayout(),
    "acceptance-bill": TextLayout(),
    "bank-receipt": TextLayout(
        sources=(TextSource(("bank_receipt_list", "*", "kv_pair_list"), text="value", key="key"),)
    ),
    "financial-statement": TextLayout(sources=(TextSource(("words_region_list", "*", "words_block_list")),)),
    "insurance-policy": TextLayout(),
    "id-card": TextLayout(),
    "driver-license": TextLayout(),
    "vehicle-license": TextLayout(),
    "vehicle-certificate": TextLayout(),
    "license-plate": TextLayout(per_item=True),
    "business-license": TextLayout(),
    "bankcard": TextLayout(),
    "household-register": TextLayout(per_item=True, item_path=("content",)),
    "real-estate-certificate": TextLayout(),
    "transportation-license": TextLayout(),
    "transportation-qualification-certificate": TextLayout(),
    "exit-entry-permit": TextLayout(),
    "mainland-travel-permit": TextLayout(),
    "health-code": TextLayout(sources=(_WORDS,)),
    "pcr-test-record": TextLayout(sources=(_WORDS,)),
    "waybill-electronic": TextLayout(),
}


def text_layout(slug: str) -> TextLayout:
    try:
        return TEXT_LAYOUTS[slug]
    except KeyError:
        raise KeyError(f"no text layout for OCR API {slug!r}") from None
