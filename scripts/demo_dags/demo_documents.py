"""The demo's documents step: a PDF and an OFD read page by page, one OCR call per page.

    ofd (vat-invoice, a fully digital VAT invoice, 2 pages)  \\
                                                               -> pages (what each page holds)
    pdf (general-text, an English invoice and its sales list, 3 pages) /

``scripts/demo.py`` runs it with ``airflow dags test`` (this folder is its DAGs folder for that
run), like the example DAGs. Neither operator has ``output_uri``: each returns its pages in the
XCom, ``{"pages": [{"page": 1, "result": {...}}, ...], "page_count": 2}``, and the ``pages`` task
prints one line per page after ``HWOCR_PAGE`` for the demo to show.
"""

from __future__ import annotations

import json

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator, HuaweiOcrVatInvoiceOperator

with DAG(
    dag_id="demo_documents",
    schedule=None,
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    params={
        "bucket": Param("hwocr-demo", type="string"),
        "ofd": Param("obs://hwocr-demo/documents/vat-invoice.ofd", type="string"),
        "pdf": Param("obs://hwocr-demo/documents/invoice-3-pages.pdf", type="string"),
    },
    tags=["hwocr", "demo", "obs"],
) as dag:
    # An OFD's page goes whole with page_num set to the page: the service reads its text objects.
    ofd = HuaweiOcrVatInvoiceOperator(task_id="ofd", image="{{ params.ofd }}", region="cn-north-4")
    # A PDF's page goes whole with pdf_page_number set to the page (every page: pages=None).
    pdf = HuaweiOcrGeneralTextOperator(task_id="pdf", image="{{ params.pdf }}")

    @task
    def pages(invoice: dict, scan: dict) -> None:
        """One line per page: the VAT invoice's page numbers and fields, the PDF's first line."""
        for page in invoice["pages"]:
            result = page["result"]
            shown = {
                "document": "ofd",
                "page": page["page"],
                "of": invoice["page_count"],
                **{name: result.get(name) for name in ("current_page", "total_pages", "number", "total")},
            }
            print("HWOCR_PAGE", json.dumps(shown, ensure_ascii=False))
        for page in scan["pages"]:
            blocks = page["result"].get("words_block_list") or [{"words": ""}]
            shown = {
                "document": "pdf",
                "page": page["page"],
                "of": scan["page_count"],
                "first_line": blocks[0]["words"],
            }
            print("HWOCR_PAGE", json.dumps(shown, ensure_ascii=False))

    pages(ofd.output, pdf.output)
