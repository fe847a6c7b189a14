"""The forms of invoice-verification's ``check_code`` and ``subtotal_amount``, as regular expressions.

The parameter table (:mod:`~airflow_provider_hwocr.catalog.apis`) and the invoice rules
(:mod:`~airflow_provider_hwocr.catalog.invoice_rules`) both read them. They live apart from the
rules so that the table, which every DAG file loads through the operators, does not build the
rules' tables: only a check of an invoice-verification request (and the emulator) needs those.
"""

from __future__ import annotations

#: The check code of the ordinary kinds: its last six digits (the whole code has 20).
LAST_SIX_DIGITS = r"\d{6}"
#: A blockchain invoice's check code: five characters, digits or letters and digits.
BLOCKCHAIN_CHECK_CODE = r"[0-9A-Za-z]{5}"
#: Every form of ``check_code`` some kind takes (the parameter's pattern).
CHECK_CODE_PATTERN = f"{LAST_SIX_DIGITS}|{BLOCKCHAIN_CHECK_CODE}"
#: ``subtotal_amount`` as printed on the invoice: with its two decimals (``88.00``, not
#: ``88`` or ``88.0``); a red-letter (negative) invoice keeps its minus sign.
AMOUNT_PATTERN = r"-?\d+\.\d{2}"
