"""A bill's references: its Rechnungsnummer and the one Verwendungszweck (SPEC § 5, § 7), and the
file names of a year folder that the writers and the ledger share."""

from __future__ import annotations

import pytest

from kim_excel.core.agreement import COESFELD_PARTIES
from kim_excel.core.references import (
    SETTLEMENT_FILE,
    companion,
    correction_booking_file,
    correction_file,
    draft_file,
    invoice_number,
    own_file_pattern,
    payment_reference,
    storno_file,
)

NAMES = [row[0] for row in COESFELD_PARTIES]


def test_the_rechnungsnummer_is_the_year_and_the_partner_in_ascii():
    assert invoice_number(2024, "Billerbeck") == "2024-Billerbeck"
    assert invoice_number(2024, "Lüdinghausen") == "2024-Luedinghausen"
    assert invoice_number(2024, "Dülmen") == "2024-Duelmen"


def test_a_correction_round_is_appended_as_k_and_its_number():
    assert invoice_number(2024, "Lüdinghausen", correction=1) == "2024-Luedinghausen-K1"
    assert invoice_number(2024, "Lüdinghausen", correction=12) == "2024-Luedinghausen-K12"


def test_every_party_of_the_agreement_has_its_own_ascii_number():
    numbers = [invoice_number(2024, name) for name in NAMES]
    assert len(set(numbers)) == len(NAMES) == 11
    assert all(number.isascii() for number in numbers)


def test_the_year_and_the_round_keep_numbers_apart():
    numbers = {invoice_number(year, name, k) for year in (2023, 2024) for name in NAMES
               for k in range(3)}
    assert len(numbers) == 2 * 11 * 3


@pytest.mark.parametrize("a, b", [("Lüdinghausen", "Luedinghausen"), ("Straß", "Strass")])
def test_names_that_transliterate_alike_share_a_number_as_they_share_a_file_name(a, b):
    """Uniqueness rests on the partner file names: ``check_file_names`` refuses two partners
    whose ASCII names collide, and the invoice number uses the very same ASCII name."""
    assert invoice_number(2024, a) == invoice_number(2024, b)


def test_names_that_differ_in_ascii_keep_their_own_numbers():
    assert invoice_number(2024, "Groß Ort") == "2024-Gross_Ort"
    assert invoice_number(2024, "Groß-Ort") == "2024-Gross-Ort"


def test_names_with_path_characters_give_a_plain_number():
    assert invoice_number(2024, "../../Olfen") == "2024-Olfen"


def test_the_verwendungszweck_starts_with_the_kassenzeichen():
    """The Kasse of the partner books by its Kassenzeichen, so it comes first."""
    text = payment_reference(2024, "2024-Billerbeck", "KIM-2024-BILL")
    assert text == "KIM-2024-BILL Rechnung 2024-Billerbeck Eigenanteil Case-Management 2024"


def test_without_kassenzeichen_the_verwendungszweck_starts_with_the_rechnungsnummer():
    assert payment_reference(2024, "2024-Billerbeck-K1") == \
        "Rechnung 2024-Billerbeck-K1 Eigenanteil Case-Management 2024"


def test_the_verwendungszweck_fits_a_girocode_even_for_long_names():
    """At most 140 characters (EPC QR code, SEPA remittance information)."""
    number = invoice_number(2024, "Gemeinde " + "Sehrlangername" * 10, correction=3)
    text = payment_reference(2024, number, "K" * 35)
    assert len(text) == 140
    assert text.startswith("KKK") and text.endswith(f" Rechnung {number} Eigenanteil "
                                                    f"Case-Management 2024")


def test_every_partner_of_the_agreement_fits_with_a_typical_kassenzeichen():
    for name in NAMES:
        text = payment_reference(2024, invoice_number(2024, name, 9), "5.2024.000.123456")
        assert len(text) <= 140 and text.endswith(" Eigenanteil Case-Management 2024")


def test_a_long_kassenzeichen_never_pushes_out_the_rechnungsnummer():
    from kim_excel.core.references import payment_reference

    text = payment_reference(2024, "2024-Billerbeck-K2", "K" * 200)
    assert len(text) == 140
    assert text.endswith("Rechnung 2024-Billerbeck-K2 Eigenanteil Case-Management 2024")


def test_the_employers_prefix_stands_before_every_number_of_its_bills():
    """``Präfix Rechnungsnummer`` (SPEC § 4): before the year, for letters and corrections."""
    assert invoice_number(2024, "Olfen", prefix="RE-KIM-") == "RE-KIM-2024-Olfen"
    assert invoice_number(2024, "Lüdinghausen", 2, "RE-KIM-") == "RE-KIM-2024-Luedinghausen-K2"
    assert "Rechnung RE-KIM-2024-Olfen " in payment_reference(2024, "RE-KIM-2024-Olfen", "")


def test_own_file_names_are_told_apart_from_the_clerks_files():
    ours = own_file_pattern(2024, ["Olfen", "Lüdinghausen"])
    for name in ("Abrechnung_2024_Olfen.xlsx", "Abrechnung_2024_Luedinghausen.xml",
                 "Korrektur_2024_Olfen_1.xlsx", "Korrektur_2024_Olfen_2_Storno.xml",
                 "Buchungsliste_2024_Korrektur_3.csv"):
        assert ours.match(name), name
    # a PDF is no sign: Excel's "Save as PDF" suggests the letter's own name to the clerk
    for name in ("Abrechnung_2024_Olfen_unterschrieben.pdf", "Abrechnung_2024_Senden.xlsx",
                 "Abrechnung_2024_Olfen.pdf", "Korrektur_2024_Luedinghausen_1.pdf",
                 "Abrechnung_2023_Olfen.xlsx", "Korrektur_2024_Olfen_1_bearbeitet.xlsx",
                 "Uebersicht_2024.xlsx", "Notiz.txt"):
        assert not ours.match(name), name


def test_the_file_names_of_a_year_folder():
    assert correction_file(2024, "Lüdinghausen", 1) == "Korrektur_2024_Luedinghausen_1.xlsx"
    assert storno_file("Korrektur_2024_Olfen_1.xlsx") == "Korrektur_2024_Olfen_1_Storno.xml"
    assert draft_file("Abrechnung_2024_Olfen.xlsx") == "E-Mails/Abrechnung_2024_Olfen.eml"
    assert companion("Abrechnung_2024_Olfen.xlsx", ".pdf") == "Abrechnung_2024_Olfen.pdf"
    assert correction_booking_file(2024, 2) == "Buchungsliste_2024_Korrektur_2.csv"
    assert SETTLEMENT_FILE.match("Uebersicht_2024.xlsx")
    assert not SETTLEMENT_FILE.match("LIESMICH.txt")
