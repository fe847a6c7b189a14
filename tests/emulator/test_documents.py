"""Reading document fields out of recognised lines (``emulator/documents.py``): ICAO check digits and the
machine-readable zone, labelled fields, the kind of document, an invoice's number and total. No OCR.
"""

from __future__ import annotations

from airflow_provider_hwocr.emulator import documents, samples
from airflow_provider_hwocr.emulator.ocr import Line, Word


def _line(text: str) -> Line:
    return Line(tuple(Word(w, 0.9, (10 * i, 0, 10 * i + 8, 10)) for i, w in enumerate(text.split())))


def test_check_digits_of_the_icao_specimen():
    # ICAO 9303 part 4's specimen passport: L898902C3 -> 6, 740812 -> 2, 120415 -> 9.
    assert (documents.check_digit("L898902C3"), documents.check_digit("740812")) == ("6", "2")
    assert documents.check_digit("120415") == "9"
    line1, line2 = samples.td3(
        country="UTO", surname="ERIKSSON", given_names="ANNA MARIA", number="L898902C3",
        nationality="UTO", birth="740812", sex="F", expiry="120415", personal="ZE184226B",
    )  # fmt: skip
    assert line1 == "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
    assert line2 == "L898902C36UTO7408122F1204159ZE184226B<<<<<10"


def test_mrz_survives_the_usual_ocr_confusions_and_rejects_bad_check_digits():
    good = documents.read_mrz(
        [
            _line("P<UT0ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"),
            _line("L898902C36UT07408122F1204159ZE184226B<<<<<10"),
        ]
    )
    assert good is not None
    assert (good.country_code, good.nationality, good.surname, good.given_name) == (
        "UTO", "UTO", "ERIKSSON", "ANNA MARIA",
    )  # fmt: skip
    assert (good.date_of_birth, good.date_of_expiry, good.sex) == ("1974-08-12", "2012-04-15", "F")
    bad_birth = "L898902C36UTO7408132F1204159ZE184226B<<<<<10"  # 740813 with 740812's check digit
    assert (
        documents.read_mrz([_line("P<UTOERIKSSON<<ANNA<<<<<<<<<<<<<<<<<<<<<<<<<<"), _line(bad_birth)]) is None
    )
