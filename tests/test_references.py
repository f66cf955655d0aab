"""A bill's references: its Rechnungsnummer and the one Verwendungszweck (SPEC § 5, § 7)."""

from __future__ import annotations

import pytest

from kim_excel.core.agreement import COESFELD_PARTIES
from kim_excel.core.references import invoice_number, payment_reference

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
    """Uniqueness rests on the partner file names: ``partner_file_names`` refuses two partners
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
