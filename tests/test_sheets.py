"""input/parse.py: a party row with a bad cell is reported and still kept for the checks; the
employer's own settings (date, VAT note, prefix of the Rechnungsnummer)."""

from __future__ import annotations

from datetime import date

from kim_excel.core.agreement import default_vat_note
from kim_excel.core.schema import ALL_SHEETS
from kim_excel.input.cells import Collector
from kim_excel.input.parse import parse_workbook
from kim_excel.input.reading import read_workbook
from tests.builders import example_2024, write


def parsed(tmp_path, form):
    out = Collector()
    wb = parse_workbook(read_workbook(write(form, tmp_path / "a.xlsx"), ALL_SHEETS),
                        date(2025, 1, 10), out)
    return wb, [str(p) for p in out.problems]


def test_a_party_with_a_bad_iban_is_reported_and_kept(tmp_path):
    form = example_2024()
    form.parties[1]["IBAN"] = "DE00"
    form.parties[1]["Leitweg-ID"] = "05558008-0001-57"
    wb, problems = parsed(tmp_path, form)
    assert [p.name for p in wb.parties][:2] == ["Coesfeld", "Billerbeck"]
    assert wb.parties[1].iban == "" and wb.parties[1].leitweg_id == "05558008-0001-57"
    assert len(problems) == 1 and "Vertragsparteien!K3: „DE00“ ist keine gültige IBAN" \
        in problems[0]
    assert wb.incomplete == {"nord", "billerbeck"}


def test_a_party_without_a_role_is_left_out_and_its_region_marked(tmp_path):
    form = example_2024()
    form.parties[0]["Rolle"] = "Chefin"
    wb, problems = parsed(tmp_path, form)
    assert "Coesfeld" not in [p.name for p in wb.parties]
    assert "nord" in wb.incomplete and "coesfeld" in wb.incomplete
    assert any("Vertragsparteien!D2: „Chefin“ ist keine Rolle" in p for p in problems)


# ------------------------------------------------------------------ the employer's settings


def test_an_empty_date_is_left_for_the_ledger_and_an_empty_vat_note_fits_the_year(tmp_path):
    """``Datum der Abrechnung`` empty: no date yet (``ledger/life.settle_dated`` decides);
    ``Hinweis Umsatzsteuer`` empty at 0 %: the note of the year (SPEC R8)."""
    form = example_2024()
    form.settings["Datum der Abrechnung"] = None
    wb, problems = parsed(tmp_path, form)
    assert problems == []
    assert wb.terms.settlement_date is None and not wb.terms.date_given
    assert wb.terms.vat_note == default_vat_note(2024)
    assert wb.terms.invoice_prefix == ""

    form.settings.update({"Abrechnungsjahr": 2027, "Umsatzsteuersatz": 19})
    (tmp_path / "b").mkdir()
    wb, _ = parsed(tmp_path / "b", form)
    assert wb.terms.vat_note == ""  # above 0 % no "nicht steuerbar" note is made up


def test_a_prefix_for_the_rechnungsnummer_is_one_word_or_refused_at_its_cell(tmp_path):
    form = example_2024()
    form.settings["Präfix Rechnungsnummer"] = "RE-KIM/2024_"
    wb, problems = parsed(tmp_path, form)
    assert problems == [] and wb.terms.invoice_prefix == "RE-KIM/2024_"

    for bad in ("RE KIM", "Ümlaut-", "-RE", "R" * 21):
        form.settings["Präfix Rechnungsnummer"] = bad
        folder = tmp_path / f"bad{len(bad)}{bad[:2]}"
        folder.mkdir()
        wb, problems = parsed(folder, form)
        assert [p.split(": ", 1)[1].split(": ", 1)[0] for p in problems] == [
            "Einstellungen!B12"], (bad, problems)
        assert "als Präfix der Rechnungsnummer nicht möglich" in problems[0]
        assert "z. B. „RE-KIM-“" in problems[0]
        assert not wb.settings_sound
