"""The references a bill carries and the names of every file kim-excel writes.

One home for the Rechnungsnummer, the Verwendungszweck (SPEC § 5, § 7: the letter, the e-mail,
the GiroCode and the e-invoice all call these functions, so the texts can never diverge) and
the file names of a year folder (SPEC § 5, § 7, § 9), which the writers, the ledger and its
checks share. Names are ASCII (``core/files.ascii_name``): Outlook mangles other attachment
names.
"""

from __future__ import annotations

import re
from pathlib import Path

from kim_excel.core.files import ascii_name

TOPIC = "Eigenanteil Case-Management"
LIESMICH = "LIESMICH.txt"
DRAFT_FOLDER = "E-Mails"  # versenden's drafts: <J>/E-Mails/<stem of the letter>.eml
SEND_LOG = "versand.csv"


def overview_file(year: int) -> str:
    return f"Uebersicht_{year}.xlsx"


def booking_file(year: int) -> str:
    return f"Buchungsliste_{year}.csv"


def correction_booking_file(year: int, round_: int) -> str:
    return f"Buchungsliste_{year}_Korrektur_{round_}.csv"


def correction_file(year: int, partner: str, round_: int) -> str:
    """``Korrektur_2024_Luedinghausen_1.xlsx``"""
    return f"Korrektur_{year}_{ascii_name(partner)}_{round_}.xlsx"


STORNO = "_Storno"
STORNO_NUMBER = "-S"  # the storno's Rechnungsnummer: <correction's number>-S (SPEC § 8)


def storno_file(correction: str) -> str:
    """The credit note that cancels a bill before a change of VAT (SPEC § 8):
    ``Korrektur_2024_Olfen_1.xlsx`` → ``Korrektur_2024_Olfen_1_Storno.xml``."""
    return f"{Path(correction).stem}{STORNO}.xml"


def document_of(name: str) -> str:
    """The letter a companion file belongs to: ``Korrektur_2024_Olfen_1_Storno.xml`` and
    ``Korrektur_2024_Olfen_1.pdf`` → ``Korrektur_2024_Olfen_1.xlsx``."""
    return f"{Path(name).stem.removesuffix(STORNO)}.xlsx"


def payments_file(year: int) -> str:
    return f"Zahlungen_{year}.xlsx"


def reminder_file(year: int, partner: str, round_: int) -> str:
    """``Zahlungserinnerung_2024_Olfen_1.xlsx`` (SPEC § 9)."""
    return f"Zahlungserinnerung_{year}_{ascii_name(partner)}_{round_}.xlsx"


def reminder_number(year: int, partner: str, round_: int, prefix: str = "") -> str:
    """A reminder's own reference (it bills nothing new: not a Rechnungsnummer).

    >>> reminder_number(2024, "Lüdinghausen", 2)
    '2024-Luedinghausen-Z2'
    """
    return f"{prefix}{year}-{ascii_name(partner)}-Z{round_}"


def plan_file(year: int) -> str:
    return f"Planung_{year}.xlsx"


def draft_file(document: str) -> str:
    """The e-mail draft of a letter: ``E-Mails/Abrechnung_2024_Olfen.eml``."""
    return f"{DRAFT_FOLDER}/{Path(document).stem}.eml"


def companion(document: str, suffix: str) -> str:
    """A letter's XRechnung or PDF beside it:
    ``companion("Abrechnung_2024_Olfen.xlsx", ".xml")``."""
    return Path(document).with_suffix(suffix).name


# What settlement runs write into <J>/; a folder holding any of these holds a settlement.
SETTLEMENT_FILE = re.compile(
    r"^(Abrechnung_\d{4}_[A-Za-z0-9_-]+\.(xlsx|pdf|xml)|Uebersicht_\d{4}\.xlsx|"
    r"Korrektur_\d{4}_[A-Za-z0-9_-]+_\d+(_Storno)?\.(xlsx|pdf|xml)|"
    r"Buchungsliste_\d{4}(_Korrektur_\d+)?\.csv)$"
)


def own_file_pattern(year: int, partners: list[str]) -> re.Pattern[str]:
    """The names kim-excel would write for these partners (not a clerk's
    ``Abrechnung_2024_Olfen_unterschrieben.pdf``), to tell its own files from others."""
    names = "|".join(sorted({re.escape(ascii_name(p)) for p in partners}, key=len, reverse=True))
    # No PDFs: Excel's "Save as PDF" suggests exactly the letter's name for the clerk's own.
    return re.compile(rf"^(Abrechnung_{year}_({names})\.(xlsx|xml)|"
                      rf"Korrektur_{year}_({names})_\d+(_Storno)?\.(xlsx|xml)|"
                      rf"Zahlungserinnerung_{year}_({names})_\d+\.xlsx|"
                      rf"Buchungsliste_{year}_Korrektur_\d+\.csv)$")


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


def invoice_number(year: int, partner: str, correction: int = 0, prefix: str = "") -> str:
    """The Rechnungsnummer of a partner's settlement, or of correction round ``correction``,
    after the employer's own ``prefix`` (``Präfix Rechnungsnummer``, SPEC § 4).

    Unique in a year folder (partner file names are unique) and stable across re-runs; the
    ledger stores it when the letter is written:

    >>> invoice_number(2024, "Lüdinghausen")
    '2024-Luedinghausen'
    >>> invoice_number(2024, "Lüdinghausen", correction=2, prefix="RE-KIM-")
    'RE-KIM-2024-Luedinghausen-K2'
    """
    number = f"{prefix}{year}-{ascii_name(partner)}"
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
