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


# --- labelled fields, the kind of document, amounts -------------------------------------------


def test_labelled_fields_are_keyed_by_normalised_label_and_found_through_synonyms():
    lines = [
        _line("Name: ANNA SMITH"),
        _line("Date of birth: 1990-01-02"),
        _line("no label on this line"),
        _line("Name: SECOND NAME"),
    ]
    labels = documents.labelled_fields(lines)
    assert {k: v.value for k, v in labels.items()} == {"name": "ANNA SMITH", "date_of_birth": "1990-01-02"}
    assert labels["name"].box == lines[0].box
    assert documents.field_value("full_name", labels).value == "ANNA SMITH"
    assert documents.field_value("birth_date", labels).value == "1990-01-02"
    assert documents.field_value("address", labels) is None


def test_a_valid_mrz_makes_a_passport_else_the_first_keyword_group_decides():
    mrz = [
        _line("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"),
        _line("L898902C36UTO7408122F1204159ZE184226B<<<<<10"),
    ]
    passport = documents.classify([_line("INVOICE TOTAL"), *mrz])
    assert passport.kind == "passport" and passport.mrz.passport_number == "L898902C3"
    assert documents.classify([_line("INVOICE No. 7"), _line("TOTAL 9.50")]).kind == "invoice"
    assert documents.classify([_line("Thank you!"), _line("TOTAL 9.50")]).kind == "receipt"
    unknown = documents.classify([_line("Meeting notes")])
    assert (unknown.kind, unknown.confidence, unknown.mrz) == (None, 0.0, None)
    assert documents.classify([]).box is None


def test_a_passport_number_misread_by_one_character_is_repaired_by_its_check_digit():
    line1, line2 = samples.td3(
        country="UTO", surname="ERIKSSON", given_names="ANNA MARIA", number="L898902C3",
        nationality="UTO", birth="740812", sex="F", expiry="320415",
    )  # fmt: skip
    fields = documents.parse_td3(line1, line2.replace("L898902C3", "L8989O2C3"))
    assert fields["passport_number"] == "L898902C3"
    assert fields["date_of_expiry"] == "2032-04-15"  # two-digit years: expiry in this century
    assert documents.parse_td3(line1, line2[:-1]) is None  # not 44 characters


def test_amounts_reads_the_invoice_number_and_the_total():
    lines = [_line("INVOICE No. 2026-1120"), _line("Widgets 10 4.50 45.00"), _line("Total due 65.00")]
    assert documents.amounts(lines) == {"number": "2026-1120", "amount": "65.00"}
    assert documents.amounts([_line("Meeting at 10")]) == {}
