"""On/off values read strictly: one set of words for operator arguments and the provider's switches.

A flag is ``True``/``False``, ``1``/``0`` or one of the words below (any case, surrounding
blanks ignored). Anything else is an error naming the flag, never a guess: Python's
``bool("no")`` is ``True``, and Airflow's ``getboolean`` raises on ``yes``; a switch that
guards money must not read either way by accident.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FALSE_WORDS", "TRUE_WORDS", "parse_flag"]

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})


def parse_flag(value: Any) -> bool:
    """``value`` as a bool; :class:`ValueError` (saying what is accepted) for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise ValueError(f"must be true or false (also 1/0, yes/no, on/off), got {value!r}")
