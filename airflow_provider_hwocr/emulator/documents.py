"""Reading document fields out of recognised lines: passport MRZ, labelled fields, document kind.

Everything here works on the :class:`~.ocr.Line` list the text reader gives,
so it is the same code whatever engine read the image.

* :func:`read_mrz` finds a passport's machine-readable zone (ICAO 9303 TD3:
  two lines of 44 characters) and checks its check digits, after undoing the
  usual OCR confusions (``0``/``O``, ``1``/``I``, ...) field by field.
* :func:`labelled_fields` reads ``Label: value`` lines (``Name: ANNA``).
* :func:`classify` names the kind of document from its keywords and layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from airflow_provider_hwocr.emulator.ocr import Box, Line, union

# --- the machine-readable zone ------------------------------------------------------------

_MRZ_CHARS = re.compile(r"[^A-Z0-9<]")
_TO_DIGIT = str.maketrans(
    {"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "B": "8", "G": "6"}
)
_TO_ALPHA = str.maketrans({"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B", "6": "G"})


def check_digit(text: str) -> str:
    """ICAO 9303 check digit: weights 7, 3, 1; digits as such, A-Z as 10-35, ``<`` as 0."""
    total = 0
    for i, char in enumerate(text):
        if char.isdigit():
            value = int(char)
        elif "A" <= char <= "Z":
            value = ord(char) - 55
        else:
            value = 0
        total += value * (7, 3, 1)[i % 3]
    return str(total % 10)


def _mrz_text(line: Line) -> str:
    text = line.text.upper().replace(" ", "").replace("«", "<<").replace("‹", "<")
    return _MRZ_CHARS.sub("<", text)


@dataclass(frozen=True)
class Mrz:
    """The fields of a TD3 machine-readable zone, and the two lines as read."""

    document_type: str
    country_code: str
    surname: str
    given_name: str
    passport_number: str
    nationality: str
    date_of_birth: str
    sex: str
    date_of_expiry: str
    line1: str
    line2: str
    confidence: float
    box: Box


def _date(yymmdd: str, future: bool) -> str:
    year = int(yymmdd[:2])
    # Birth dates are in the past, expiry dates within the next decades.
    century = 2000 if (future and year < 70) or (not future and year <= 30) else 1900
    return f"{century + year:04d}-{yymmdd[2:4]}-{yymmdd[4:6]}"


def _alpha(text: str) -> str:
    return text.translate(_TO_ALPHA)


def _digits(text: str) -> str:
    return text.translate(_TO_DIGIT)


def _checked_number(number: str, check: str) -> str | None:
    """The document number if its check digit holds, else the number one usual OCR confusion away
    whose check digit holds (the number mixes letters and digits), else None."""
    if check_digit(number) == check:
        return number
    for i, char in enumerate(number):
        for other in {char.translate(_TO_DIGIT), char.translate(_TO_ALPHA)} - {char}:
            candidate = number[:i] + other + number[i + 1 :]
            if check_digit(candidate) == check:
                return candidate
    return None


def parse_td3(line1: str, line2: str) -> dict[str, str] | None:
    """The fields of a TD3 zone, or None when its check digits do not hold."""
    if len(line1) != 44 or len(line2) != 44 or not line1.startswith("P"):
        return None
    number, number_check = line2[0:9], _digits(line2[9])
    birth, birth_check = _digits(line2[13:19]), _digits(line2[19])
    expiry, expiry_check = _digits(line2[21:27]), _digits(line2[27])
    if check_digit(birth) != birth_check or check_digit(expiry) != expiry_check:
        return None
    repaired = _checked_number(number, number_check)
    if repaired is None:
        return None
    number = repaired
    names = _alpha(line1[5:]).rstrip("<")
    surname, _, given = names.partition("<<")
    return {
        "document_type": line1[0:2].rstrip("<"),
        "country_code": _alpha(line1[2:5]).replace("<", ""),
        "surname": surname.replace("<", " ").strip(),
        "given_name": given.replace("<", " ").strip(),
        "passport_number": number.replace("<", ""),
        "nationality": _alpha(line2[10:13]).replace("<", ""),
        "date_of_birth": _date(birth, future=False),
        "sex": {"M": "M", "F": "F"}.get(line2[20], "X"),
        "date_of_expiry": _date(expiry, future=True),
    }


def read_mrz(lines: list[Line]) -> Mrz | None:
    """The first TD3 zone (two consecutive 44-character lines) whose check digits hold."""
    texts = [_mrz_text(line) for line in lines]
    for i in range(len(lines) - 1):
        one, two = texts[i], texts[i + 1]
        if "<" not in one or not (40 <= len(one) <= 46 and 40 <= len(two) <= 46):
            continue
        fields = parse_td3(one[:44].ljust(44, "<"), two[:44].ljust(44, "<"))
        if fields is not None:
            both = (lines[i], lines[i + 1])
            confidence = round(min(line.confidence for line in both), 4)
            return Mrz(
                **fields,
                line1=one[:44],
                line2=two[:44],
                confidence=confidence,
                box=union(line.box for line in both),
            )
    return None


# --- labelled fields ------------------------------------------------------------------------

_LABEL = re.compile(r"^\s*([A-Za-z][A-Za-z .'/]{0,30}?)\s*[:：]\s*(.+?)\s*$")


@dataclass(frozen=True)
class Labelled:
    value: str
    confidence: float
    box: Box


def normalise_label(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def labelled_fields(lines: list[Line]) -> dict[str, Labelled]:
    """``Label: value`` lines, keyed by the normalised label (``date_of_birth``)."""
    found: dict[str, Labelled] = {}
    for line in lines:
        match = _LABEL.match(line.text)
        if match:
            found.setdefault(
                normalise_label(match.group(1)), Labelled(match.group(2), line.confidence, line.box)
            )
    return found


#: Labels printed on cards for the documented field names (beyond the field name itself).
LABEL_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("name", "full_name", "name_en", "names"),
    "surname": ("surname", "last_name", "family_name", "first_surname", "apellidos"),
    "given_name": ("given_name", "given_names", "first_name", "first_name_en", "nombres"),
    "number": (
        "no",
        "number",
        "id_no",
        "id_number",
        "card_no",
        "document_no",
        "nrc_id",
        "cui_number",
        "nuip",
    ),
    "birth": (
        "born",
        "birth",
        "date_of_birth",
        "birth_date",
        "dob",
        "date_of_birth_en",
        "fecha_de_nacimiento",
    ),
    "expiry": ("expires", "expiry", "expiry_date", "date_of_expiry", "date_of_expiry_en", "valid_until"),
    "issue": ("issued", "issue_date", "date_of_issue", "date_of_issue_en"),
    "sex": ("sex", "gender"),
    "nationality": ("nationality",),
    "address": ("address", "address_th", "residence", "residence_place"),
    "birth_place": ("place_of_birth", "birth_place", "born_in"),
}

#: Field names of the ID-card APIs -> the synonym group their label belongs to.
FIELD_GROUPS: dict[str, str] = {
    "name": "name", "full_name": "name", "name_en": "name",
    "surname": "surname", "last_name": "surname", "last_name_en": "surname", "first_surname": "surname",
    "given_name": "given_name", "first_name": "given_name", "first_name_en": "given_name",
    "number": "number", "id_number": "number", "nrc_id": "number", "cui_number": "number",
    "document_number": "number", "card_number": "number",
    "birth_date": "birth", "date_of_birth_en": "birth", "birth": "birth", "date_of_birth": "birth",
    "expiry_date": "expiry", "date_of_expiry_en": "expiry", "expiried_date_en": "expiry",
    "issue_date": "issue", "date_of_issue_en": "issue",
    "sex": "sex", "gender": "sex",
    "nationality": "nationality",
    "address": "address", "residence_place": "address",
    "birth_place": "birth_place", "origin_place": "birth_place",
}  # fmt: skip


def field_value(field: str, labels: dict[str, Labelled]) -> Labelled | None:
    """The labelled value for a documented field name, by its own name or its group's labels."""
    if field in labels:
        return labels[field]
    group = FIELD_GROUPS.get(field)
    for label in LABEL_SYNONYMS.get(group or "", ()):
        if label in labels:
            return labels[label]
    return None


# --- what kind of document --------------------------------------------------------------------

#: (kind, keywords), the first kind with a keyword on the page wins.
_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("passport", ("passport", "passeport", "pasaporte")),
    ("id_card", ("identity card", "id card", "identification card", "national id", "cedula", "cédula")),
    ("driver_license", ("driving licence", "driving license", "driver license", "driver's license")),
    ("taxi_invoice", ("taxi",)),
    ("train_ticket", ("train ticket", "railway")),
    ("flight_itinerary", ("itinerary", "boarding pass", "flight")),
    ("toll_invoice", ("toll",)),
    ("invoice", ("invoice", "bill to", "tax invoice", "vat", "发票")),
    ("receipt", ("receipt", "thank you", "cash", "change due", "total")),
)  # fmt: skip


@dataclass(frozen=True)
class Kind:
    """What a page is: ``passport``, ``id_card``, ``invoice``, ``receipt``, ... (``None``: unknown)."""

    kind: str | None
    confidence: float
    box: Box | None
    mrz: Mrz | None


def classify(lines: list[Line]) -> Kind:
    """The kind of document the lines come from.

    A valid machine-readable zone makes a passport whatever else is printed;
    otherwise the first keyword group (in the order above) found on the page
    decides: a page saying INVOICE is an invoice even if it also has a total.
    """
    box = union(line.box for line in lines) if lines else None
    mrz = read_mrz(lines)
    if mrz is not None:
        return Kind("passport", mrz.confidence, box, mrz)
    text = "\n".join(line.text.lower() for line in lines)
    for kind, words in _KEYWORDS:
        hits = [w for w in words if re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", text)]
        if hits:
            confidence = min(0.99, 0.8 + 0.05 * len(hits))
            return Kind(kind, round(confidence, 4), box, None)
    return Kind(None, 0.0, box, None)


def amounts(lines: list[Line]) -> dict[str, Any]:
    """An invoice's number and total, when printed (``No. 2026-1120``, ``Total due 65.00``)."""
    out: dict[str, Any] = {}
    for line in lines:
        text = line.text
        number = re.search(
            r"\b(?:no\.?|number|#)(?![a-z])\s*[:.]?\s*([A-Z0-9][A-Z0-9-]{2,})", text, re.IGNORECASE
        )
        if number and "number" not in out:
            out["number"] = number.group(1)
        if re.search(r"\btotal\b", text, re.IGNORECASE):
            money = re.findall(r"\d+[.,]\d{2}\b", text)
            if money:
                out["amount"] = money[-1]
    return out
