"""The emulator's own OFD reader (``emulator/ofd.py``): documents, templates, relative and absolute
``BaseLoc``, elements with or without the namespace, glyph spacing, and broken or oversized packages.
"""

from __future__ import annotations

import io
import zipfile

import pytest

from airflow_provider_hwocr.emulator import ofd, pages, samples

OFD = samples.vat_invoice_ofd()


def test_ofd_reader_reads_template_and_page_text():
    count, page = ofd.read(OFD.data, 1)
    assert count == 2 and page is not None and page.size == (210.0, 140.0)
    texts = [t.text for t in page.texts]
    assert texts[0] == samples.DIGITAL_INVOICE_TITLE  # the template first
    assert "发票号码：" in texts and samples.DIGITAL_INVOICE_FIELDS["发票号码"] in texts
    lines = [line.text for line in pages.ofd_lines(page, 150 / 25.4)]
    # a label (template) and its value (page) on one row make one line, as an OCR reads them
    assert f"发票号码： {samples.DIGITAL_INVOICE_FIELDS['发票号码']}" in lines
    assert ofd.read(OFD.data, 3) == (2, None)


def _ofd(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buf.getvalue()


def test_ofd_reader_without_namespace_and_with_absolute_locations():
    data = _ofd({
        "OFD.xml": "<OFD><DocBody><DocRoot>/Doc/Document.xml</DocRoot></DocBody></OFD>",
        "Doc/Document.xml": '<Document><Pages><Page ID="1" BaseLoc="/Doc/P1.xml"/></Pages></Document>',
        "Doc/P1.xml": '<Page><Area><PhysicalBox>0 0 100 50</PhysicalBox></Area><Content><Layer>'
                      '<TextObject Boundary="10 10 40 6" Size="4"><TextCode X="1" Y="4">LEFT</TextCode>'
                      '<TextCode X="20">RIGHT</TextCode></TextObject>'
                      '<TextObject Boundary="10 30 40 6" Size="4"><TextCode X="0" Y="4" DeltaX="g 2 3">ABC</TextCode>'
                      "</TextObject></Layer></Content></Page>",
    })  # fmt: skip
    count, page = ofd.read(data, 1)
    assert count == 1 and page is not None and page.size == (100.0, 50.0)
    assert [t.text for t in page.texts] == ["LEFT", "RIGHT", "ABC"]
    left, right, abc = page.texts
    assert left.box[0] == 11 and right.box[0] == 30 and right.box[1] == pytest.approx(left.box[1] + 4)
    assert abc.box[2] == pytest.approx(10 + 3 + 3 + 4 * 0.55)  # two deltas, then the last glyph


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"OFD.xml": "<OFD><DocBody/></OFD>"}, "DocRoot"),
        ({"OFD.xml": "<OFD><DocBody><DocRoot>D.xml</DocRoot></DocBody></OFD>"}, "missing"),
        (
            {"OFD.xml": "<OFD><DocBody><DocRoot>D.xml</DocRoot></DocBody></OFD>", "D.xml": "<Document/>"},
            "no pages",
        ),
        (
            {"OFD.xml": "<OFD><DocBody><DocRoot>D.xml</DocRoot></DocBody></OFD>", "D.xml": "<Document"},
            "cannot",
        ),
    ],
)
def test_ofd_reader_refuses_a_broken_package(files, problem):
    with pytest.raises(ofd.OfdError, match=problem):
        ofd.read(_ofd(files), 1)
    with pytest.raises(pages.DocumentProblem):
        pages.outline(_ofd(files), "OFD", 1)


def test_ofd_reader_caps_what_it_unpacks(monkeypatch):
    monkeypatch.setattr(ofd, "MAX_PART_BYTES", 100)
    with pytest.raises(ofd.OfdError, match="larger than"):
        ofd.read(OFD.data, 1)
    with pytest.raises(ofd.OfdError, match="not a ZIP"):
        ofd.read(b"PK\x03\x04 not really", 1)
