"""The letter ``Abrechnung`` a partner receives: its texts in German notation (the key, the
positions, the months a position was filled, the subsidy, the body) and its place on paper
(the address in the envelope window, one A4 page)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest

from kim_excel.core.model import KeyBasis
from kim_excel.documents.workbooks import write_partner_workbook
from kim_excel.documents.xlsx.letter import (
    ADDRESS_ROW,
    LETTER,
    address_lines,
    body_text,
    key_label,
    key_text,
    months_text,
    personnel_text,
    subsidy_text,
)
from tests.builders import example_2024, settled


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    return settled(example_2024(), tmp_path_factory.mktemp("letter"))


def test_the_address_has_name_street_and_town_and_skips_empty_lines(example):
    _, billerbeck = example.share_of("Billerbeck")
    assert address_lines(billerbeck.party) == ["Stadt Billerbeck", "Markt 1", "48727 Billerbeck"]
    assert address_lines(replace(billerbeck.party, street="")) == [
        "Stadt Billerbeck", "48727 Billerbeck"]


def test_the_key_in_german_notation(example):
    """Nord: 0,625 of 2,5 VZÄ = 25 %; Süd: 0,5 of 2,5 = 20 %."""
    nord, billerbeck = example.share_of("Billerbeck")
    sued, olfen = example.share_of("Olfen")
    assert key_text(nord, billerbeck) == "0,625 von 2,5 VZÄ = 25,00 %"
    assert key_text(sued, olfen) == "0,5 von 2,5 VZÄ = 20,00 %"
    assert key_label(nord) == "Ihr Anteil nach dem Stundenanteil"
    assert key_label(replace(nord, key_basis=KeyBasis.EQUAL)) == "Ihr Anteil zu gleichen Teilen"
    assert key_text(replace(nord, key_basis=KeyBasis.HOURS), billerbeck).endswith(
        " Stunden = 25,00 %")


def test_positions_are_counted_with_their_vzae(example):
    nord, mitte = example.regions[0], example.regions[1]
    assert personnel_text(nord) == "3 Stellen, zusammen 2,5 VZÄ"
    assert personnel_text(mitte) == "1 Stelle, zusammen 1 VZÄ"
    assert personnel_text(replace(mitte, positions=())) == "keine Stellen"


@pytest.mark.parametrize("months, text", [
    ([D(12), D(12)], "12 von 12 Monaten"),
    ([D("7.5")], "7,5 von 12 Monaten"),
    ([D(12), D(12), D("7.5")], "eine Stelle 7,5 von 12 Monaten, zwei Stellen ganzjährig"),
    ([D(6)] * 13 + [D(12)], "13 Stellen 6 von 12 Monaten, eine Stelle ganzjährig"),
])
def test_how_long_positions_were_filled_in_plain_words(months, text):
    assert months_text(months) == text


def test_the_subsidy_line_explains_how_it_was_computed(example):
    """Nord: three full-year positions; Süd: one filled for 7,5 months."""
    nord, sued = example.regions[0], example.regions[2]
    assert subsidy_text(example, nord) == "2,5 VZÄ × 57.000,00 € je Jahr"
    assert subsidy_text(example, sued) == ("57.000,00 € je VZÄ und Jahr, anteilig: eine Stelle "
                                           "7,5 von 12 Monaten, zwei Stellen ganzjährig")
    received = replace(sued, subsidy_received=D("130000.00"))
    assert subsidy_text(example, received) == "laut Förderbescheid (rechnerisch 131.812,50 €)"
    lapsed = replace(example, settings=replace(example.settings, subsidy_lapsed=True))
    assert subsidy_text(lapsed, nord) == "entfallen (§ 2)"


def test_the_body_cites_the_agreement_and_the_region(example):
    nord, billerbeck = example.share_of("Billerbeck")
    text = body_text(example, nord, billerbeck)
    assert text.startswith("nach § 2 der Kooperationsvereinbarung über das Kommunale "
                           "Case-Management rechnen wir als Anstellungskörperschaft der Region "
                           "Nord die Kosten des Jahres 2024, soweit die Landesförderung sie "
                           "nicht deckt (Eigenanteil), mit Ihnen wie folgt ab.")
    hours = body_text(example, replace(nord, key_basis=KeyBasis.HOURS), billerbeck)
    assert "nach den tatsächlichen Stunden" in hours


@pytest.fixture(scope="module")
def billerbeck_letter(example, tmp_path_factory) -> Path:
    region, share = example.share_of("Billerbeck")
    path = tmp_path_factory.mktemp("brief") / "Abrechnung_2024_Billerbeck.xlsx"
    write_partner_workbook(path, example, region, share)
    return path


def test_the_recipient_stands_below_the_return_line_in_the_envelope_window(billerbeck_letter):
    ws = openpyxl.load_workbook(billerbeck_letter)[LETTER]
    column = [ws.cell(row, 1).value for row in range(1, 12)]
    assert column[0] == "Stadt Coesfeld"
    # row 7: 45 mm from the top edge of the sheet, where a DIN-lang window begins
    assert ADDRESS_ROW == 6
    assert column[6] == "Stadt Coesfeld · Markt 8 · 48653 Coesfeld"
    assert column[7:10] == [
        "Stadt Billerbeck", "Markt 1", "48727 Billerbeck"]


def test_the_letter_prints_on_one_a4_page_within_its_print_area(billerbeck_letter):
    book = openpyxl.load_workbook(billerbeck_letter)
    ws = book[LETTER]
    assert book.sheetnames[0] == LETTER
    assert ws.page_setup.paperSize == 9
    assert ws.page_setup.fitToHeight in (None, 1) and ws.sheet_properties.pageSetUpPr.fitToPage
    area = ws.print_area.split("!")[-1]  # 'Abrechnung'!$A$1:$D$45
    assert area.startswith("$A$1:$D$")
    last = int(area.rsplit("$", 1)[1])
    texts = [c.value for row in ws.iter_rows(max_row=last) for c in row if c.value]
    assert "Mit freundlichen Grüßen" in texts
