"""What the camt and MT940 readers share: where a problem is, the checks every statement
passes (euro only, balances that add up) and the texts of those messages.

Glossary:

- Anfangssaldo / Endsaldo: the booked balance before and after the statement's entries.
- Umsatz: one entry on the account.
"""

from __future__ import annotations

from kim_excel.core.bank import Statement
from kim_excel.core.german import format_eur
from kim_excel.core.model import CellRef, Problem

EURO = "EUR"
FILE = "Datei"  # the place of a problem with the whole file
USTRD_WIDTH = 140  # characters of one camt ``Ustrd`` line (ISO 20022 Max140Text)

CURRENCY_MESSAGE = ("Der Betrag ist in {currency} angegeben; gelesen werden nur Kontoauszüge in "
                    "Euro (EUR).")
ACCOUNT_CURRENCY_MESSAGE = ("Das Konto wird in {currency} geführt; gelesen werden nur "
                            "Kontoauszüge in Euro (EUR).")
BALANCE_MESSAGE = (
    "Die Salden passen nicht zu den Umsätzen: Anfangssaldo {opening} + gebuchte Umsätze "
    "{booked} ergibt {expected}, der Endsaldo ist aber {closing}. Der Auszug ist "
    "unvollständig oder beschädigt; bitte neu bei der Bank abrufen.")


class Refused(Exception):
    """One part of a file (an entry, a statement, the whole file) cannot be read."""

    def __init__(self, place: str, message: str):
        self.place = place
        self.message = message
        super().__init__(place, message)


def element(path: str) -> str:
    return f"Element {path}"


def line(number: int) -> str:
    return f"Zeile {number}"


def problem(source: str, refusal: Refused) -> Problem:
    return Problem(refusal.message, CellRef(source, refusal.place))


def check_balance(statement: Statement, place: str) -> None:
    """Opening balance plus booked entries must give the closing balance, where both exist."""
    if statement.balance_ok is False:
        raise Refused(place, BALANCE_MESSAGE.format(
            opening=format_eur(statement.opening), booked=format_eur(statement.booked_total),
            expected=format_eur(statement.opening + statement.booked_total),
            closing=format_eur(statement.closing)))


def check_euro(currency: str | None, place: str, *, account: bool = False) -> None:
    if currency is not None and currency.strip().upper() != EURO:
        text = ACCOUNT_CURRENCY_MESSAGE if account else CURRENCY_MESSAGE
        raise Refused(place, text.format(currency=currency.strip() or "ohne Angabe"))


def compact_iban(text: str | None) -> str:
    return "".join((text or "").split()).upper()


def cut_lines(text: str, width: int = USTRD_WIDTH) -> tuple[str, ...]:
    """``text`` in lines of ``width`` characters, as a bank cuts a long Verwendungszweck."""
    return tuple(text[start:start + width] for start in range(0, len(text), width))
