"""Money and its one rounding policy, from ``round_cents`` to the letter's ``ROUND`` formula.

The issue's case (SPEC R7, "keys are exact"): Region Nord 2025 with the keys Coesfeld
0.375, Billerbeck 0.6, Havixbeck 1, Rosendahl (0.625) gone, and one Sachkosten row of
1,717.56. Havixbeck's share is exactly 1,717.56 × (1 + 0.625/3) / 2.6 = 798.225, billed
798.23; a key cut after 28 digits billed 798.22 while the letter's formula said 798.23.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal as D
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest

from kim_excel.core.money import display_decimal, format_decimal, round_cents
from tests.builders import coesfeld_form, material, write
from tests.libreoffice import formula_mismatches, recalculate, tamper_cached_value
from tests.runner import run_kim


def test_an_exact_fraction_rounds_half_away_from_zero_like_a_decimal():
    assert round_cents(Fraction("2.675")) == D("2.68")
    assert round_cents(Fraction("-2.675")) == D("-2.68")
    assert round_cents(Fraction("2.674")) == D("2.67")
    assert round_cents(Fraction(1, 300)) == D("0.00")
    assert str(round_cents(Fraction(-1, 300))) == str(round_cents(D(-1) / 300)) == "-0.00"
    exact = Fraction("1717.56") * (1 + Fraction("0.625") / 3) / Fraction("2.6")
    assert exact == Fraction("798.225")
    assert round_cents(exact) == D("798.23")
    # the same share from a key cut after 28 digits lies below the half cent
    cut = D("1717.56") * (1 + D("0.625") / 3) / D("2.6")
    assert cut < D("798.225") and round_cents(cut) == D("798.22")


def test_a_key_becomes_a_decimal_only_for_display():
    assert display_decimal(Fraction(5, 24)) == D("0.2083333333333333333333333333")
    assert display_decimal(Fraction(5, 8)) == D("0.625")
    assert format_decimal(Fraction(29, 24)) == "1,208333333333333333333333333"
    assert format_decimal(Fraction(29, 24) / Fraction("2.6") * 100, 2) == "46,47"


def nord_2025_form():
    form = coesfeld_form(2025)
    keys = {"Coesfeld": "0.375", "Billerbeck": "0.6", "Havixbeck": "1", "Rosendahl": "0.625"}
    for row in form.parties:
        if row["Kommune"] in keys:
            row["Stundenanteil"] = D(keys[row["Kommune"]])
        if row["Kommune"] == "Rosendahl":
            row["Ausgeschieden zum"] = date(2024, 12, 31)
    form.material = [material("Coesfeld", "Technische Ausstattung", "Ausstattung", "1717.56")]
    return form


def cached(path: Path, sheet: str, cell: str):
    return openpyxl.load_workbook(path, data_only=True)[sheet][cell].value


def row_of(path: Path, label: str) -> int:
    sheet = openpyxl.load_workbook(path, data_only=True)["Abrechnung"]
    (row,) = [c.row for c in sheet["A"] if c.value == label]
    return row


@pytest.mark.slow
@pytest.mark.libreoffice
def test_nord_2025_bills_the_half_cent_up_and_libreoffice_recalculates_the_same(tmp_path):
    """Through the real command: 798.23 in the Buchungsliste and on the letter, and
    LibreOffice recalculating every formula of the letter and the overview gets the same
    figures. A letter whose cache says the old 798.22 is caught: the check can fail."""
    write(nord_2025_form(), tmp_path / "eingang" / "Abrechnung.xlsx")
    done = run_kim("abrechnen", "--eingang", "eingang", "--ausgabe", "ausgabe", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Gemeinde Havixbeck  zahlt        798,23 €" in done.stdout
    folder = tmp_path / "ausgabe" / "2025"

    text = (folder / "Buchungsliste_2025.csv").read_bytes().decode("utf-8-sig")
    rows = {r["Kommune"]: r for r in csv.DictReader(text.splitlines(), delimiter=";")}
    assert (rows["Havixbeck"]["Betrag_netto_EUR"], rows["Havixbeck"]["Saldo_EUR"]) == (
        "798,23", "798,23")
    assert rows["Billerbeck"]["Betrag_netto_EUR"] == "533,99"
    assert rows["Coesfeld"]["Betrag_netto_EUR"] == "385,34"
    assert rows["Havixbeck"]["Anteil"] == "0,464744"

    letter = folder / "Abrechnung_2025_Havixbeck.xlsx"
    share_row = row_of(letter, "Anteil der Gemeinde Havixbeck")
    assert cached(letter, "Abrechnung", f"D{share_row}") == 798.23
    assert cached(letter, "Abrechnung", f"D{row_of(letter, 'Zu zahlender Betrag')}") == 798.23

    old = tmp_path / "alt" / "Abrechnung_2025_Havixbeck_alt.xlsx"
    old.parent.mkdir()
    tamper_cached_value(letter, old, "xl/worksheets/sheet1.xml", f"D{share_row}", "798.22")
    workbooks = [letter, folder / "Uebersicht_2025.xlsx", old]
    fresh = recalculate(workbooks, tmp_path / "neu")
    for path in workbooks[:2]:
        count, mismatches = formula_mismatches(path, fresh[path])
        assert count > 10
        assert not mismatches, "\n".join(str(m) for m in mismatches)
    assert cached(fresh[letter], "Abrechnung", f"D{share_row}") == 798.23
    _, caught = formula_mismatches(old, fresh[old])
    assert [(m.cell, m.cached, m.recalculated) for m in caught] == [
        (f"D{share_row}", 798.22, 798.23)]
