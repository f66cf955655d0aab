"""Validation across sheets: successors, names in any spelling, several workbooks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from kim_excel.errors import InputError
from kim_excel.model import EMPLOYER
from kim_excel.pipeline import load_settlement
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
        assert settlement.settings.vat_rate == D("0.19"), value
