"""The references a bill carries: its Rechnungsnummer and its Verwendungszweck.

One home for both (SPEC § 5, § 7): the letter, the e-mail, the GiroCode and the e-invoice
all call these functions, so the texts can never diverge.
"""

from __future__ import annotations

from kim_excel.core.files import ascii_name

TOPIC = "Eigenanteil Case-Management"


def letter_file(year: int, partner: str) -> str:
    """A partner's letter, in ASCII (Outlook mangles other attachment names).

    >>> letter_file(2024, "Lüdinghausen")
    'Abrechnung_2024_Luedinghausen.xlsx'
    """
    return f"Abrechnung_{year}_{ascii_name(partner)}.xlsx"


def file_name_clashes(year: int, partners: list[str]) -> list[tuple[str, str, str]]:
    """(partner, the earlier partner, file) for every partner whose letter would overwrite
    another's after transliteration, ignoring case (``Lüdinghausen``, ``Luedinghausen``)."""
    taken: dict[str, str] = {}
    clashes = []
    for partner in partners:
        file = letter_file(year, partner)
        if file.lower() in taken:
            clashes.append((partner, taken[file.lower()], file))
        else:
            taken[file.lower()] = partner
    return clashes


def invoice_number(year: int, partner: str, correction: int = 0) -> str:
    """The Rechnungsnummer of a partner's settlement, or of correction round ``correction``.

    Unique in a year folder (partner file names are unique) and stable across re-runs:

    >>> invoice_number(2024, "Lüdinghausen")
    '2024-Luedinghausen'
    >>> invoice_number(2024, "Lüdinghausen", correction=2)
    '2024-Luedinghausen-K2'
    """
    number = f"{year}-{ascii_name(partner)}"
    return f"{number}-K{correction}" if correction else number


def payment_reference(year: int, number: str, kassenzeichen: str = "") -> str:
    """The Verwendungszweck: the partner's Kassenzeichen first (what its Kasse books by),
    then the Rechnungsnummer. At most 140 characters, as a GiroCode allows; a Kassenzeichen
    too long for that is shortened, so the Rechnungsnummer always stays.

    >>> payment_reference(2024, "2024-Billerbeck", "KIM-2024-BILL")
    'KIM-2024-BILL Rechnung 2024-Billerbeck Eigenanteil Case-Management 2024'
    >>> payment_reference(2024, "2024-Billerbeck-K1")
    'Rechnung 2024-Billerbeck-K1 Eigenanteil Case-Management 2024'
    """
    text = f"Rechnung {number} {TOPIC} {year}"
    room = 140 - len(text) - 1  # a long Kassenzeichen is shortened, never the number
    if kassenzeichen and room > 0:
        text = f"{kassenzeichen[:room].rstrip()} {text}"
    return text[:140]
