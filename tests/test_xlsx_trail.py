"""The trail ``Berechnung``: the R7 share formula every writer uses, the key's unit and the
note that explains the split, the dates line, and the trail as written into a letter."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest

from kim_excel.core.model import KeyBasis
from kim_excel.documents.workbooks import write_partner_workbook
from kim_excel.documents.xlsx.trail import (
    TRAIL,
    dates_text,
    key_unit,
    net_formula,
    partner_cells,
    split_note,
)
from tests.builders import example_2024, settled


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    return settled(example_2024(), tmp_path_factory.mktemp("trail"))


# ------------------------------------------------------------------ R7: one share formula


def test_a_partner_pays_its_rounded_part_of_the_eigenanteil(example):
    _, billerbeck = example.share_of("Billerbeck")
    assert net_formula(billerbeck, "$E$20", "$C$30", "$C$34", "$E$31:$E$33") == \
        "=ROUND($E$20*$C$30/$C$34,2)"


def test_the_employer_carries_the_rest_of_the_eigenanteil(example):
    _, coesfeld = example.share_of("Coesfeld")
    assert net_formula(coesfeld, "$E$20", "$C$30", "$C$34", "$E$31:$E$33") == \
        "=$E$20-SUM($E$31:$E$33)"
    assert net_formula(coesfeld, "$E$20", "$C$30", "$C$34", ["$E$31", "$E$33"]) == \
        "=$E$20-($E$31+$E$33)"
    assert net_formula(coesfeld, "$E$20", "$C$30", "$C$34", []) == "=$E$20"


def test_a_cent_given_back_is_part_of_the_partners_formula(example):
    _, olfen = example.share_of("Olfen")
    corrected = replace(olfen, cent_correction=D("-0.01"))
    assert net_formula(corrected, "$E$20", "$C$30", "$C$34", "") == \
        "=ROUND($E$20*$C$30/$C$34,2)-0.01"


def test_adjacent_partner_rows_become_one_range_others_a_list():
    assert partner_cells([30, 31, 32], 4) == "$E$31:$E$33"
    assert partner_cells([30, 32], 4) == ["$E$31", "$E$33"]
    assert partner_cells([], 4) == []


# ------------------------------------------------------------------ texts


def test_the_key_unit_names_what_the_split_counts(example):
    nord = example.regions[0]
    assert [key_unit(replace(nord, key_basis=basis)) for basis in KeyBasis] == [
        "VZÄ", "Stunden", "Teile"]


def test_the_split_note_names_the_key_and_the_rounding_rule(example):
    nord = example.regions[0]
    note = split_note(example, nord)
    assert note.startswith("Schlüssel: der Stundenanteil der Vertragsparteien in VZÄ")
    assert "auf den Cent gerundet" in note
    assert "tatsächlichen Stunden" in split_note(example, replace(nord, key_basis=KeyBasis.HOURS))
    ended = replace(example, settings=replace(example.settings, contract_end=date(2023, 12, 31)))
    assert "Abwicklung nach dem Vertragsende zum 31.12.2023 (§ 4 Abs. 3)" in \
        split_note(ended, replace(nord, wind_down=True))


def test_one_settlement_date_or_one_per_region(example):
    assert dates_text(example) == "Datum der Abrechnung 02.03.2025"
    mitte = example.regions[1]
    later = replace(mitte, terms=replace(mitte.terms, settlement_date=date(2025, 4, 30)))
    differing = replace(example, regions=(example.regions[0], later, example.regions[2]))
    assert dates_text(differing) == ("Datum der Abrechnung je Region: Nord 02.03.2025, "
                                     "Mitte 30.04.2025, Süd 02.03.2025")


# ------------------------------------------------------------------ the trail as written


def trail_rows(path: Path) -> list[tuple]:
    ws = openpyxl.load_workbook(path, data_only=True)[TRAIL]
    return [r for r in ws.iter_rows(values_only=True) if any(v not in (None, "") for v in r)]


def test_the_trail_of_a_letter_lists_every_party_of_the_region_with_its_share(example,
                                                                               tmp_path):
    region, share = example.share_of("Olfen")
    path = tmp_path / "Abrechnung_2024_Olfen.xlsx"
    write_partner_workbook(path, example, region, share)
    rows = trail_rows(path)
    head = rows.index(("Vertragspartei", "Rolle", "", "", "Schlüssel (VZÄ)", "Anteil",
                       "Anteil am Eigenanteil"))
    split = rows[head + 1:head + 1 + len(region.shares) + 1]
    assert [(r[0], r[4], r[6]) for r in split] == [
        ("Gemeinde Ascheberg", 0.5, 4582.86), ("Stadt Lüdinghausen", 0.5, 4582.85),
        ("Gemeinde Nordkirchen", 0.5, 4582.85), ("Stadt Olfen", 0.5, 4582.85),
        ("Gemeinde Senden", 0.5, 4582.85), ("Summe", 2.5, 22914.26)]
    assert split[0][1] == "Anstellungskörperschaft (trägt den Rest)"
    assert ("Summe Abschläge", None, None, None, 7500) in [r[:5] for r in rows]


def test_the_trail_formulas_reference_the_trail_itself(example, tmp_path):
    region, share = example.share_of("Billerbeck")
    path = tmp_path / "Abrechnung_2024_Billerbeck.xlsx"
    write_partner_workbook(path, example, region, share)
    ws = openpyxl.load_workbook(path)[TRAIL]
    formulas = [c.value for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert len(formulas) > 10
    assert any(f.startswith("=ROUND(") and "/" in f for f in formulas)  # R7 share formula
    assert not any("Abrechnung!" in f for f in formulas)  # the trail never reads the letter
