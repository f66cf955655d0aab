"""Buchungsliste_<J>.csv: the exact format finance software imports, parsed back."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal as D
from fractions import Fraction

from kim_excel.commands.settle import run_settlement
from kim_excel.documents.booking import COLUMNS, fraction
from tests.builders import example_2024, write


def read_booking(path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM"
    text = raw.decode("utf-8-sig")
    return list(csv.DictReader(text.splitlines(), delimiter=";"))


def german(text: str) -> D:
    assert "." not in text, "no thousands separator"
    return D(text.replace(",", "."))


def test_booking_list_parses_back_to_the_settled_figures(tmp_path):
    write(example_2024(), tmp_path / "in" / "a.xlsx")
    result = run_settlement(tmp_path / "in", tmp_path / "out", today=date(2025, 1, 1))
    path = tmp_path / "out" / "2024" / "Buchungsliste_2024.csv"
    header = path.read_bytes().decode("utf-8-sig").splitlines()[0]
    assert header == ";".join(COLUMNS)
    rows = read_booking(path)
    assert len(rows) == 11  # every active party once, employers too
    by_name = {r["Kommune"]: r for r in rows}
    for region in result.settlement.regions:
        for share in region.shares:
            row = by_name[share.party.name]
            assert german(row["Betrag_netto_EUR"]) == share.net
            assert german(row["Eigenanteil_Region_EUR"]) == region.eigenanteil
            if share.is_employer:
                assert row["Rolle"] == "Anstellungskörperschaft"
                assert [row[c] for c in COLUMNS[8:]] == ["", "", "", "", ""]
            else:
                assert german(row["Saldo_EUR"]) == share.balance
                assert row["Faellig_am"] == share.due_date.strftime("%d.%m.%Y")
    # Nordkirchen paid 5,000.00 on a bill of 4,582.85: refund of 417.15, due date all the same.
    assert by_name["Nordkirchen"]["Saldo_EUR"] == "-417,15"
    assert by_name["Nordkirchen"]["Faellig_am"] == "01.04.2025"
    assert by_name["Billerbeck"]["Anteil"] == "0,25"
    assert by_name["Ascheberg"]["Betrag_netto_EUR"] == "4582,86"


def test_share_fraction_has_at_most_six_decimals():
    assert fraction(Fraction(1, 3)) == "0,333333"
    assert fraction(Fraction(29, 24) / Fraction("2.6")) == "0,464744"  # Nord 2025, exact key
    assert fraction(Fraction(1, 2_000_000)) == "0,000001"  # half up
    assert fraction(D(1) / 3) == "0,333333"
    assert fraction(D("0.25")) == "0,25"
    assert fraction(D(1)) == "1"
    assert fraction(D(2) / 3) == "0,666667"
