"""German notation: how numbers, dates and yes/no words are written (parsing half).

Every place that reads what a person typed — the form's cells, the SMTP settings — uses
these, so ``Ja``/``WAHR``/``x`` mean the same everywhere and ``1.234,56 €`` is always a number.
"""

from __future__ import annotations

import re
from datetime import date

# One set of yes/no words for the form (``Landesförderung entfallen``) and the SMTP settings
# (``starttls``); compared after lower-casing. An empty cell means no.
YES = ("ja", "j", "yes", "wahr", "true", "x", "1", "an", "on")
NO = ("nein", "n", "no", "falsch", "false", "0", "aus", "off", "")

_GROUPED = re.compile(r"-?\d{1,3}(\.\d{3})+(,\d+)?")
_COMMA = re.compile(r"-?\d+,\d+")
_PLAIN = re.compile(r"-?\d+(\.\d+)?")
_DATE = re.compile(r"\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*")


def yes_no_word(text: str) -> bool | None:
    """``"Ja"`` → True, ``"nein"`` or ``""`` → False, anything else → None.

    >>> yes_no_word(" WAHR "), yes_no_word("Nein"), yes_no_word("vielleicht")
    (True, False, None)
    """
    word = text.strip().lower()
    if word in YES:
        return True
    if word in NO:
        return False
    return None


def german_number_text(text: str) -> str:
    """``"1.234,56 €"`` → ``"1234.56"``; text that is no number stays as it is.

    >>> german_number_text("1.234,56 €"), german_number_text("7,5"), german_number_text("abc")
    ('1234.56', '7.5', 'abc')
    """
    t = text.strip().replace("€", "").replace("EUR", "").replace("\u00a0", "").replace(" ", "")
    if _GROUPED.fullmatch(t):
        t = t.replace(".", "").replace(",", ".")
    elif _COMMA.fullmatch(t):
        t = t.replace(",", ".")
    return t if is_number_text(t) else text


def is_number_text(text: str) -> bool:
    return bool(_PLAIN.fullmatch(text.strip()))


def parse_german_date(text: str) -> date | None:
    """``"31.12.2024"`` → that date; anything else (``"31.02.2024"`` too) → None."""
    match = _DATE.fullmatch(text)
    if not match:
        return None
    try:
        return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None
