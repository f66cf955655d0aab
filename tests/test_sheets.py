"""sheets.py: a party row with a bad cell is reported and still kept for the checks."""

from __future__ import annotations

from datetime import date

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
