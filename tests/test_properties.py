"""Properties of the settlement that hold for every input, checked with Hypothesis.

The calculation is tested on model objects built directly (random regions, parties, keys,
positions, costs, advances, VAT, lapsed subsidy, exits); the order of rows and columns and
the split into one workbook per employer are tested through real workbooks.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kim_excel.booking import booking_csv
from kim_excel.calculation import settle
from kim_excel.model import (
    EMPLOYER,
    KOSTENARTEN,
    PARTNER,
    Advance,
    MaterialCost,
    Party,
    Position,
    Settings,
    SettlementInput,
    Terms,
)
from kim_excel.pipeline import load_settlement
from tests.builders import clone, example_2024, write

CENT = Decimal("0.01")
TODAY = date(2025, 3, 2)

cents = st.integers(0, 20_000_000).map(lambda c: Decimal(c) / 100)  # up to 200,000.00
shares = st.integers(0, 1000).map(lambda k: Decimal(k) / 1000)  # 0 to 1 VZÄ
vzae = st.integers(1, 1000).map(lambda k: Decimal(k) / 1000)
months = st.integers(0, 24).map(lambda h: Decimal(h) / 2)


def party(name: str, region: str, role: str, share: Decimal, exit_date=None) -> Party:
    return Party(name=name, bezeichnung="Gemeinde", region=region, role=role,
                 stundenanteil=share, exit_date=exit_date, street="Markt 1",
                 postcode="48653", city=name, iban="DE26401545300000123456" if role == EMPLOYER
                 else "", bic="WELADE3WXXX" if role == EMPLOYER else "", bank="Sparkasse")


@st.composite
def settlement_inputs(draw) -> SettlementInput:
    """A valid input as validation would pass it: one active employer per region (perhaps
    the successor of one that left), partners that may have left, keys that do not all
    vanish, hours for all active parties of a region or none."""
    year = draw(st.integers(2020, 2030))
    lapsed = draw(st.sampled_from([False, False, False, True]))
    parties, positions, material, advances = [], [], [], []
    subsidies, hours = {}, {}
    for r in range(draw(st.integers(1, 4))):
        region = f"Region {r}"
        members = []
        if draw(st.integers(0, 4)) == 0:  # an employer that left, and its successor
            members.append(party(f"Alt{r}", region, EMPLOYER, draw(shares),
                                 date(year - draw(st.integers(1, 3)), 12, 31)))
        employer = party(f"Amt{r}", region, EMPLOYER, draw(shares))
        members.append(employer)
        for p in range(draw(st.integers(0, 6))):
            left = draw(st.sampled_from([None, None, None, year - 1, year, year + 1]))
            members.append(party(f"Dorf{r}x{p}", region, PARTNER, draw(shares),
                                 date(left, 12, 31) if left else None))
        if sum(m.stundenanteil for m in members) == 0:
            members[-1] = Party(**{**members[-1].__dict__, "stundenanteil": Decimal("0.5")})
        parties += members
        active = [m for m in members if m.is_active_in(year)]
        for i in range(draw(st.integers(0, 4))):
            positions.append(Position(employer.name, f"Stelle {r}.{i}", draw(vzae), draw(months),
                                      draw(cents)))
        for i in range(draw(st.integers(0, 3))):
            material.append(MaterialCost(employer.name, draw(st.sampled_from(KOSTENARTEN)),
                                         f"Sachkosten {r}.{i}", draw(cents)))
        if draw(st.booleans()) and draw(st.booleans()):
            subsidies[employer.name] = draw(cents)
        if draw(st.integers(0, 3)) == 0:
            given_hours = [Decimal(draw(st.integers(0, 2000))) for _ in active]
            if sum(given_hours) == 0:
                given_hours[0] = Decimal(1)
            hours.update(zip((m.name for m in active), given_hours, strict=True))
        for m in active:
            if not m.is_employer:
                for _ in range(draw(st.integers(0, 2))):
                    advances.append(Advance(m.name, date(year, 7, 1), draw(cents)))
    settings_ = Settings(
        year=year,
        subsidy_rate=draw(st.sampled_from([None, Decimal(55000), Decimal(57000),
                                           Decimal("60000.50")])),
        subsidy_lapsed=lapsed,
    )
    terms = Terms(
        settlement_date=date(year + 1, 3, 2),
        vat_rate=draw(st.sampled_from([Decimal(0), Decimal("0.19"), Decimal("0.07")])),
        payment_days=draw(st.integers(0, 60)),
    )
    employers = {p.name: terms for p in parties if p.is_employer}
    return SettlementInput(settings=settings_, parties=tuple(parties), terms=employers,
                           positions=tuple(positions),
                           material_costs=tuple(material), subsidies_received=subsidies,
                           hours=hours, advances=tuple(advances))


def amounts(settlement) -> dict[str, tuple]:
    """Every figure of a settlement by name, independent of the order of anything."""
    result = {}
    for region in settlement.regions:
        result[region.region] = (region.costs, region.subsidy, region.eigenanteil,
                                 region.key_basis, region.key_total)
        for share in region.shares:
            result[share.party.name] = (share.key, share.fraction, share.net, share.vat,
                                        share.gross, share.advances, share.balance,
                                        share.due_date)
    return result


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(settlement_inputs())
def test_the_shares_add_up_to_the_eigenanteil_to_the_cent(inp):
    settlement = settle(inp)
    for region in settlement.regions:
        assert sum(s.net for s in region.shares) == region.eigenanteil
        assert region.eigenanteil == region.costs - region.subsidy
        assert all(s.net == s.net.quantize(CENT) for s in region.shares)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(settlement_inputs())
def test_no_share_is_negative_unless_the_eigenanteil_is(inp):
    settlement = settle(inp)
    for region in settlement.regions:
        for share in region.shares:
            if region.eigenanteil >= 0:
                assert share.net >= 0, (region.region, region.eigenanteil, share)
            else:
                assert share.net <= 0, (region.region, region.eigenanteil, share)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(settlement_inputs(), st.randoms(use_true_random=False))
def test_the_order_of_rows_never_changes_an_amount(inp, rnd):
    """Positions, Sachkosten, advances and the parties (within and across regions) in
    another order: every figure stays the same."""
    def shuffled(items):
        items = list(items)
        rnd.shuffle(items)
        return tuple(items)

    from dataclasses import replace

    other = replace(inp, parties=shuffled(inp.parties), positions=shuffled(inp.positions),
                    material_costs=shuffled(inp.material_costs),
                    advances=shuffled(inp.advances))
    assert amounts(settle(other)) == amounts(settle(inp))


# ----------------------------------------------------------------- through real files


def settle_files(source: Path) -> tuple[dict, list[bytes]]:
    """Every figure, and the Buchungsliste's lines (the header first, then the rows sorted:
    rows follow the order of the parties sheet, their content must not depend on it)."""
    settlement, _ = load_settlement(source, TODAY)
    header, *rows = booking_csv(settlement).splitlines()
    return amounts(settlement), [header, *sorted(rows)]


def permuted(path: Path, rnd: random.Random) -> Path:
    """The same workbook with the rows of every list sheet and the columns of every sheet
    in another order (headers move with their columns)."""
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets[1:]:
        grid = [[c.value for c in row] for row in sheet.iter_rows()]
        if not grid:
            continue
        header, rows = grid[0], [r for r in grid[1:] if any(v is not None for v in r)]
        if sheet.title != "Einstellungen":
            rnd.shuffle(rows)
        order = list(range(len(header)))
        rnd.shuffle(order)
        sheet.delete_rows(1, sheet.max_row)
        for r, values in enumerate([header, *rows], start=1):
            for c, source in enumerate(order, start=1):
                sheet.cell(r, c, values[source])
    book.save(path)
    return path


def rich_example():
    """The shipped example plus received subsidy, hours in Süd and a partner that left."""
    from datetime import date as day

    form = example_2024()
    form.subsidies = [{"Anstellungskörperschaft": "Dülmen", "Förderung erhalten":
                       Decimal("56000.00")}]
    form.hours = [{"Kommune": k, "Stunden": Decimal(h)} for k, h in (
        ("Ascheberg", 820), ("Lüdinghausen", 790), ("Nordkirchen", 805.5), ("Olfen", 640),
        ("Senden", 812))]
    form.parties[3]["Ausgeschieden zum"] = day(2023, 12, 31)  # Rosendahl
    return form


@pytest.mark.slow
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_rows_and_columns_in_any_order_give_the_same_buchungsliste(tmp_path_factory, seed):
    folder = tmp_path_factory.mktemp("order")
    original = write(rich_example(), folder / "original" / "Abrechnung.xlsx")
    shuffled = write(rich_example(), folder / "shuffled" / "Abrechnung.xlsx")
    permuted(shuffled, random.Random(seed))
    assert settle_files(shuffled) == settle_files(original)


def test_one_workbook_per_employer_gives_the_same_settlement_as_one_for_all(tmp_path):
    """The example split in three: each workbook has the same settings and parties and
    only its employer's costs (Förderung, Stunden and Abschläge go with their region)."""
    whole = rich_example()
    single = write(whole, tmp_path / "single" / "Abrechnung.xlsx")
    regions = {"Coesfeld": ("Nord",), "Dülmen": ("Mitte",), "Ascheberg": ("Süd",)}
    region_of = {p["Kommune"]: p["Region"] for p in whole.parties}
    for employer, (region,) in regions.items():
        part = clone(whole)
        part.positions = [p for p in whole.positions if p["Anstellungskörperschaft"] == employer]
        part.material = [m for m in whole.material if m["Anstellungskörperschaft"] == employer]
        part.subsidies = [s for s in whole.subsidies
                          if s["Anstellungskörperschaft"] == employer]
        part.hours = [h for h in whole.hours if region_of[h["Kommune"]] == region]
        part.advances = [a for a in whole.advances if region_of[a["Kommune"]] == region]
        write(part, tmp_path / "split" / f"Abrechnung_{region}.xlsx")
    assert len(list((tmp_path / "split").iterdir())) == 3
    assert settle_files(tmp_path / "split") == settle_files(single)
