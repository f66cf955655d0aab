"""The Kreis Coesfeld agreement as default data for the blank form (SPEC § 2).

This is data, not code: the form carries it in ``Vertragsparteien``, and another county
edits that sheet. Addresses are from the agreement's header; its postcode for Nordkirchen
(49394) is a typo, corrected here to 59394.
"""

from __future__ import annotations

from decimal import Decimal

from kim_excel.core.model import EMPLOYER, PARTNER

# (Kommune, Bezeichnung, Region, Rolle, Stundenanteil, Straße, PLZ, Ort)
COESFELD_PARTIES: tuple[tuple[str, str, str, str, Decimal, str, str, str], ...] = (
    ("Coesfeld", "Stadt", "Nord", EMPLOYER, Decimal("0.625"), "Markt 8", "48653", "Coesfeld"),
    ("Billerbeck", "Stadt", "Nord", PARTNER, Decimal("0.625"), "Markt 1", "48727", "Billerbeck"),
    ("Havixbeck", "Gemeinde", "Nord", PARTNER, Decimal("0.625"), "Willi-Richter-Platz 1",
     "48329", "Havixbeck"),
    ("Rosendahl", "Gemeinde", "Nord", PARTNER, Decimal("0.625"), "Hauptstr. 30", "48720",
     "Rosendahl"),
    ("Dülmen", "Stadt", "Mitte", EMPLOYER, Decimal("0.5"), "Markt 1–3", "48249", "Dülmen"),
    ("Nottuln", "Gemeinde", "Mitte", PARTNER, Decimal("0.5"), "Stiftsplatz 8", "48301",
     "Nottuln"),
    ("Ascheberg", "Gemeinde", "Süd", EMPLOYER, Decimal("0.5"), "Dieningstraße 7", "59387",
     "Ascheberg"),
    ("Lüdinghausen", "Stadt", "Süd", PARTNER, Decimal("0.5"), "Borg 2", "59348", "Lüdinghausen"),
    ("Nordkirchen", "Gemeinde", "Süd", PARTNER, Decimal("0.5"), "Bohlenstraße 2", "59394",
     "Nordkirchen"),
    ("Olfen", "Stadt", "Süd", PARTNER, Decimal("0.5"), "Kirchstr. 5", "59399", "Olfen"),
    ("Senden", "Gemeinde", "Süd", PARTNER, Decimal("0.5"), "Münsterstraße 30", "48308",
     "Senden"),
)

# Amtlicher Gemeindeschlüssel (Land 05 NRW, Regierungsbezirk 5 Münster, Kreis 58 Coesfeld,
# then the municipalities in alphabetical order in steps of 4), from the Gemeindeverzeichnis
# of the Statistisches Bundesamt (GV-ISys): public and certain, so the form carries them.
# Leitweg-IDs are not public in this way and are never pre-filled.
GEMEINDESCHLUESSEL = {
    "Ascheberg": "05558004", "Billerbeck": "05558008", "Coesfeld": "05558012",
    "Dülmen": "05558016", "Havixbeck": "05558020", "Lüdinghausen": "05558024",
    "Nordkirchen": "05558028", "Nottuln": "05558032", "Olfen": "05558036",
    "Rosendahl": "05558040", "Senden": "05558044",
}

# SPEC R8: the old treatment (§ 2 Abs. 3 UStG a. F. with the transition of § 27 Abs. 22a UStG)
# holds for services performed up to 31 Dec 2026; from 2027 § 2b UStG applies. Either way the
# settlement is not taxable ("nicht steuerbar"), not a taxable supply on which VAT is waived.
LAST_YEAR_OLD_VAT_RULE = 2026
VAT_NOTE_OLD_RULE = (
    "Nicht steuerbar: Die Kostenerstattung im Rahmen der interkommunalen Zusammenarbeit nach "
    "der Kooperationsvereinbarung erfolgt in Ausübung öffentlicher Gewalt (§ 2 Abs. 3 UStG a. F. "
    "in Verbindung mit § 27 Abs. 22a UStG); es wird keine Umsatzsteuer berechnet."
)
VAT_NOTE_2B = (
    "Nicht steuerbar nach § 2b UStG: Die Kostenerstattung im Rahmen der interkommunalen "
    "Zusammenarbeit nach der Kooperationsvereinbarung unterliegt nicht der Umsatzsteuer; es "
    "wird keine Umsatzsteuer berechnet."
)


def default_vat_note(year: int) -> str:
    """The ``Hinweis Umsatzsteuer`` a settlement at 0 % carries when the workbook leaves it
    empty: the rule that holds for the year.

    >>> default_vat_note(2026).startswith("Nicht steuerbar: ")
    True
    >>> "§ 2b UStG" in default_vat_note(2027)
    True
    """
    return VAT_NOTE_OLD_RULE if year <= LAST_YEAR_OLD_VAT_RULE else VAT_NOTE_2B
