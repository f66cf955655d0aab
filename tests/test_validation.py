"""Validation across sheets: successors, names in any spelling, several workbooks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from kim_excel.commands.settle import load_settlement
from kim_excel.core.errors import InputError
from kim_excel.core.model import EMPLOYER
from tests.builders import example_2024, write

TODAY = date(2025, 1, 10)


def with_successor(form, exit_year: int):
    """Coesfeld leaves on 31.12.<exit_year>; Billerbeck is named as the new employer."""
    for party in form.parties:
        if party["Kommune"] == "Coesfeld":
            party["Ausgeschieden zum"] = date(exit_year, 12, 31)
        if party["Kommune"] == "Billerbeck":
            party.update({"Rolle": EMPLOYER, "IBAN": "DE45401545300000234567",
                          "BIC": "WELADE3WXXX", "Kreditinstitut": "Sparkasse Westmünsterland"})
    return form


def test_successor_is_still_a_partner_while_the_old_employer_serves(tmp_path):
    """2024, Coesfeld leaves 31.12.2024: Coesfeld settles 2024 and bills Billerbeck too."""
    write(with_successor(example_2024(), 2024), tmp_path / "a.xlsx")
    settlement, notices = load_settlement(tmp_path, TODAY)
    nord = settlement.regions[0]
    assert nord.employer.name == "Coesfeld"
    assert [s.party.name for s in nord.partner_shares] == ["Billerbeck", "Havixbeck",
                                                           "Rosendahl"]
    assert any("übernimmt ab 2025" in n.message for n in notices)


def test_successor_takes_office_after_the_old_employer_left(tmp_path):
    """2024, Coesfeld left 31.12.2023: Billerbeck employs; Coesfeld's 0.625 is split among
    the three remaining (R6): each 0.625 + 0.625/3, a third of 27,500 each: partners
    9,166.67, Billerbeck 27,500 − 2 × 9,166.67 = 9,166.66."""
    form = with_successor(example_2024(), 2023)
    for row in form.positions + form.material:
        if row["Anstellungskörperschaft"] == "Coesfeld":
            row["Anstellungskörperschaft"] = "Billerbeck"
    write(form, tmp_path / "a.xlsx")
    settlement, _ = load_settlement(tmp_path, TODAY)
    nord = settlement.regions[0]
    assert nord.employer.name == "Billerbeck"
    assert {s.party.name: s.net for s in nord.shares} == {
        "Billerbeck": D("9166.66"), "Havixbeck": D("9166.67"), "Rosendahl": D("9166.67")}


def test_employer_that_left_without_successor_is_an_input_error(tmp_path):
    form = example_2024()
    form.parties[0]["Ausgeschieden zum"] = date(2023, 12, 31)
    write(form, tmp_path / "a.xlsx")
    with pytest.raises(InputError) as err:
        load_settlement(tmp_path, TODAY)
    assert any(str(p).startswith("a.xlsx: Vertragsparteien!A2: Anstellungskörperschaft "
                                 "Coesfeld ist zum 31.12.2023 ausgeschieden, für Region Nord "
                                 "ist aber keine neue benannt") for p in err.value.problems)


def test_names_in_cost_sheets_match_ignoring_case_and_spaces(tmp_path):
    form = example_2024()
    form.positions[0]["Anstellungskörperschaft"] = "  coesfeld "
    write(form, tmp_path / "a.xlsx")
    settlement, _ = load_settlement(tmp_path, TODAY)
    assert settlement.regions[0].costs == D("170000.00")


def test_empty_year_is_named_with_its_cell(tmp_path):
    form = example_2024()
    del form.settings["Abrechnungsjahr"]
    write(form, tmp_path / "a.xlsx")
    with pytest.raises(InputError) as err:
        load_settlement(tmp_path, TODAY)
    assert "Einstellungen!B2: „Abrechnungsjahr“ fehlt" in str(err.value)


def test_vat_as_plain_percent_or_as_percent_formatted_fraction(tmp_path):
    for value in (19, 0.19, "19 %"):
        form = example_2024()
        form.settings["Umsatzsteuersatz"] = value
        write(form, tmp_path / "a.xlsx")
        settlement, _ = load_settlement(tmp_path, TODAY)
        assert {r.terms.vat_rate for r in settlement.regions} == {D("0.19")}, value


def test_each_employer_settles_with_its_own_date_term_and_aktenzeichen(tmp_path):
    """SPEC § 4: the employer's own settings apply to its region only; due dates, letters and
    Buchungsliste rows follow them."""
    import csv

    from openpyxl import load_workbook

    from tests.builders import per_employer
    from tests.runner import run_kim

    nord = per_employer(example_2024(), "Coesfeld")
    nord.settings.update({"Datum der Abrechnung": date(2025, 3, 3), "Zahlungsziel (Tage)": 30,
                          "Aktenzeichen": "50.31-Nord"})
    sued = per_employer(example_2024(), "Ascheberg")
    sued.settings.update({"Datum der Abrechnung": date(2025, 3, 10), "Zahlungsziel (Tage)": 14,
                          "Aktenzeichen": "20.1-Süd"})
    write(nord, tmp_path / "input" / "Nord.xlsx")
    write(sued, tmp_path / "input" / "Sued.xlsx")
    result = run_kim("abrechnen", "--eingang", "input", "--ausgabe", "output", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    folder = tmp_path / "output" / "2024"
    with open(folder / "Buchungsliste_2024.csv", encoding="utf-8-sig", newline="") as f:
        due = {row["Kommune"]: row["Faellig_am"] for row in csv.DictReader(f, delimiter=";")}
    assert due["Billerbeck"] == "02.04.2025"  # Mon 03.03. + 30 days = Wed 02.04.
    assert due["Olfen"] == "24.03.2025"  # Mon 10.03. + 14 days
    letters = {name: [c for row in load_workbook(folder / f"Abrechnung_2024_{name}.xlsx")[
        "Abrechnung"].iter_rows(values_only=True) for c in row if c is not None]
        for name in ("Billerbeck", "Olfen")}
    assert "50.31-Nord" in letters["Billerbeck"] and "20.1-Süd" not in letters["Billerbeck"]
    assert "20.1-Süd" in letters["Olfen"] and "50.31-Nord" not in letters["Olfen"]
