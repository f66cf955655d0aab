"""The blank form: the committed file is what `kim-excel vorlage` writes, and it reads back."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from kim_excel.cli.main import main
from kim_excel.core.errors import InputError
from kim_excel.input.validation import load_input
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
    # Empty: at 0 % the note that fits the year (SPEC R8); a prefix is the employer's choice.
    assert settings["Hinweis Umsatzsteuer"] is None
    assert "Präfix Rechnungsnummer" in settings and settings["Präfix Rechnungsnummer"] is None
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


def test_the_examples_kassenzeichen_fit_their_regions():
    from openpyxl import load_workbook

    sheet = load_workbook(ROOT / "input" / "Beispiel_Abrechnung_2024.xlsx")["Vertragsparteien"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    region, code = header.index("Region"), header.index("Kassenzeichen")
    given = {r[0]: (r[region], r[code]) for r in rows[1:] if r[0] and r[code]}
    assert given["Nordkirchen"] == ("Süd", "KIM-2024-SUED-02")
    for name, (where, kassenzeichen) in given.items():
        assert kassenzeichen.startswith(f"KIM-2024-{where.upper().replace('Ü', 'UE')}-"), name


def test_the_cost_sheets_carry_an_input_hint_for_every_column(tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "v.xlsx"
    CliRunner().invoke(main, ["vorlage", str(path)])
    book = load_workbook(path)
    for sheet in ("Personalkosten", "Sachkosten"):
        ws = book[sheet]
        headers = [c.value for c in ws[1] if c.value]
        prompts = {}
        for validation in ws.data_validations.dataValidation:
            for cells in validation.sqref.ranges:
                prompts[ws.cell(1, cells.min_col).value] = (cells.min_row, validation.prompt)
        for header in headers:
            first_row, prompt = prompts[header]
            assert first_row == 2 and prompt, (sheet, header)
    assert "z. B. 65.200,00" in next(v.prompt for v in book["Personalkosten"].data_validations
                                     .dataValidation if "Personalkosten" in (v.promptTitle or ""))


def test_the_hints_never_become_cost_rows(tmp_path):
    from tests.builders import coesfeld_form

    path = write(coesfeld_form(2024), tmp_path / "leer.xlsx")
    inp, _ = load_input(path, date(2026, 1, 1))
    assert inp.positions == () and inp.material_costs == () and inp.advances == ()
    assert inp.hours == {} and inp.subsidies_received == {}
    example, _ = load_input(write(example_2024(), tmp_path / "b.xlsx"), date(2026, 1, 1))
    assert len(example.positions) == 7 and len(example.material_costs) == 8


@pytest.mark.slow
def test_the_blank_form_prints_one_page_per_sheet(tmp_path):
    import subprocess

    from kim_excel.documents.pdf import convert

    code, output = convert([ROOT / "templates" / "Abrechnung_Vorlage.xlsx"], tmp_path, "pdf",
                           timeout=180)
    assert code == 0, output
    info = subprocess.run(["pdfinfo", str(tmp_path / "Abrechnung_Vorlage.pdf")],
                          capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages")))
    assert pages == 8  # Anleitung, Einstellungen, Vertragsparteien, 5 input sheets



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
