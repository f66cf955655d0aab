"""The blank form: the committed file is what `kim-excel vorlage` writes, and it reads back."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from kim_excel.cli import main
from kim_excel.errors import InputError
from kim_excel.validation import load_input
from tests.builders import example_2024, write
from tests.xlsx_content import workbook_content

ROOT = Path(__file__).resolve().parent.parent


def test_committed_template_matches_what_vorlage_writes(tmp_path):
    result = CliRunner().invoke(main, ["vorlage", str(tmp_path / "neu.xlsx")])
    assert result.exit_code == 0, result.output
    assert "Vorlage geschrieben" in result.output
    assert workbook_content(tmp_path / "neu.xlsx") == workbook_content(
        ROOT / "templates" / "Abrechnung_Vorlage.xlsx")


def test_shipped_example_is_what_the_example_builder_writes(tmp_path):
    write(example_2024(), tmp_path / "beispiel.xlsx")
    assert workbook_content(tmp_path / "beispiel.xlsx") == workbook_content(
        ROOT / "input" / "Beispiel_Abrechnung_2024.xlsx")


def test_blank_form_has_the_eleven_parties_and_the_spec_defaults(tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "v.xlsx"
    CliRunner().invoke(main, ["vorlage", str(path)])
    wb = load_workbook(path)
    assert wb.sheetnames[:8] == ["Anleitung", "Einstellungen", "Vertragsparteien",
                                 "Personalkosten", "Sachkosten", "Förderung", "Stunden",
                                 "Abschläge"]
    parties = [r for r in wb["Vertragsparteien"].iter_rows(min_row=2, values_only=True) if r[0]]
    assert len(parties) == 11
    nordkirchen = next(r for r in parties if r[0] == "Nordkirchen")
    assert nordkirchen[7] == "59394"  # the agreement's 49394 is a typo
    settings = {r[0]: r[1] for r in wb["Einstellungen"].iter_rows(min_row=2, values_only=True)}
    assert settings["Förderbetrag je VZÄ"] == 57000
    assert settings["Landesförderung entfallen"] == "Nein"
    assert settings["Umsatzsteuersatz"] == 0
    assert settings["Zahlungsziel (Tage)"] == 30
    assert settings["Kündigungsfrist (Monate)"] == 18
    kinds = [v.formula1 for v in wb["Sachkosten"].data_validations.dataValidation]
    assert any("Technische Ausstattung" in (k or "") for k in kinds)
    assert wb["Personalkosten"].freeze_panes == "A2"


def test_blank_form_asks_for_the_year_and_not_for_bank_details_nobody_bills_with(tmp_path):
    """Bank details are needed only by an employer that bills (SPEC § 4): a blank form has
    no costs, so it asks for the year alone."""
    path = tmp_path / "v.xlsx"
    CliRunner().invoke(main, ["vorlage", str(path)])
    with pytest.raises(InputError) as err:
        load_input(path, date(2026, 1, 1))
    messages = [str(p) for p in err.value.problems]
    assert any("Einstellungen!B2: „Abrechnungsjahr“ fehlt" in m for m in messages)
    assert not any("IBAN fehlt" in m for m in messages)


def test_blank_form_carries_the_public_gemeindeschluessel_and_no_leitweg_id(tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "v.xlsx"
    CliRunner().invoke(main, ["vorlage", str(path)])
    rows = list(load_workbook(path)["Vertragsparteien"].values)
    header = list(rows[0])
    keys = {r[0]: r[header.index("Gemeindeschlüssel")] for r in rows[1:] if r[0]}
    assert keys["Coesfeld"] == "05558012" and keys["Dülmen"] == "05558016"
    assert len(set(keys.values())) == 11
    assert all(r[header.index("Leitweg-ID")] is None for r in rows[1:])
