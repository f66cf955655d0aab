"""Properties of the settlement that hold for every input, checked with Hypothesis.

The calculation is tested on model objects built directly (random regions, parties, keys,
positions, costs, advances, VAT, lapsed subsidy, exits); the order of rows and columns and
the split into one workbook per employer are tested through real workbooks.
"""

from __future__ import annotations

import math
import random
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kim_excel.commands.settle import load_settlement
from kim_excel.core.calculation import settle
from kim_excel.core.model import (
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
from kim_excel.documents.booking import booking_csv
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
def region_members(draw, r: int, year: int) -> list[Party]:
    """One region's parties: perhaps an employer that left and its successor, partners that
    may have left, Stundenanteile that do not all vanish."""
    region = f"Region {r}"
    members = []
    if draw(st.integers(0, 4)) == 0:  # an employer that left, and its successor
        members.append(party(f"Alt{r}", region, EMPLOYER, draw(shares),
                             date(year - draw(st.integers(1, 3)), 12, 31)))
    members.append(party(f"Amt{r}", region, EMPLOYER, draw(shares)))
    for p in range(draw(st.integers(0, 6))):
        left = draw(st.sampled_from([None, None, None, year - 1, year, year + 1]))
        members.append(party(f"Dorf{r}x{p}", region, PARTNER, draw(shares),
                             date(left, 12, 31) if left else None))
    if sum(m.stundenanteil for m in members) == 0:
        members[-1] = Party(**{**members[-1].__dict__, "stundenanteil": Decimal("0.5")})
    return members


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
        members = draw(region_members(r, year))
        employer = next(m for m in members if m.name == f"Amt{r}")
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
    return SettlementInput(settings=settings_, parties=tuple(parties), positions=tuple(positions),
                           material_costs=tuple(material), subsidies_received=subsidies,
                           hours=hours, advances=tuple(advances),
                           terms={p.name: terms for p in parties if p.is_employer})


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


def half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half away from zero, in integers only: the test's
    own R7 arithmetic, sharing nothing with ``money.round_cents``."""
    assert denominator > 0
    whole = (2 * abs(numerator) + denominator) // (2 * denominator)
    return whole if numerator >= 0 else -whole


@st.composite
def inherited_splits(draw) -> tuple[SettlementInput, int, dict[str, int], int]:
    """One region of 3, 5 or 7 active parties and 1 to 7 that left: every key inherits a
    share in odd parts (0.625 / 3), the case where a key cut after 28 digits rounded an
    exact half cent down. The Eigenanteil is one Sachkosten row (no positions, no
    subsidy); in half of the cases it is chosen so that one partner's share lies exactly
    on half a cent. Returns (input, Eigenanteil in cents, active keys and left total in
    thousandths)."""
    year = 2025
    count = draw(st.sampled_from([3, 5, 7]))
    nominal = draw(st.lists(st.integers(0, 1000), min_size=count, max_size=count))
    left = draw(st.lists(st.integers(1, 1000), min_size=1, max_size=7))
    names = ["Amt", *(f"Dorf{i}" for i in range(1, count))]
    keys = dict(zip(names, nominal, strict=True))
    freed, total = sum(left), sum(nominal) + sum(left)
    partner = draw(st.integers(1, count - 1))
    numerator = count * nominal[partner] + freed  # the partner's key × 1000 × count
    common = math.gcd(2 * numerator, count * total)
    if (2 * numerator // common) % 2 and draw(st.booleans()):
        step = count * total // common  # e × key / total is then k / 2 cents, k odd
        eigenanteil = step * (2 * draw(st.integers(0, max(0, 10**9 // step - 1) // 2)) + 1)
    else:
        eigenanteil = draw(st.integers(0, 10**9))
    parties = [party(n, "Nord", EMPLOYER if n == "Amt" else PARTNER, Decimal(k) / 1000)
               for n, k in keys.items()]
    parties += [party(f"Weg{i}", "Nord", PARTNER, Decimal(k) / 1000,
                      date(year - 1 - i % 3, 12, 31)) for i, k in enumerate(left)]
    rnd = draw(st.randoms(use_true_random=False))
    rnd.shuffle(parties)
    inp = SettlementInput(
        settings=Settings(year=year), terms={"Amt": Terms(date(year + 1, 3, 2))},
        parties=tuple(parties),
        material_costs=(MaterialCost("Amt", KOSTENARTEN[0], "Ausstattung",
                                     Decimal(eigenanteil) / 100),))
    return inp, eigenanteil, keys, freed


NORD_2025 = (  # the case: Havixbeck 1,717.56 × (1 + 0.625/3) / 2.6 = 798.225
    SettlementInput(
        settings=Settings(year=2025), terms={"Amt": Terms(date(2026, 3, 2))},
        parties=(party("Amt", "Nord", EMPLOYER, Decimal("0.375")),
                 party("Dorf1", "Nord", PARTNER, Decimal("0.6")),
                 party("Dorf2", "Nord", PARTNER, Decimal("1")),
                 party("Weg0", "Nord", PARTNER, Decimal("0.625"), date(2024, 12, 31))),
        material_costs=(MaterialCost("Amt", KOSTENARTEN[0], "Ausstattung",
                                     Decimal("1717.56")),)),
    171756, {"Amt": 375, "Dorf1": 600, "Dorf2": 1000}, 625)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@example(NORD_2025)
@given(inherited_splits())
def test_every_share_is_its_formula_recalculated_with_exact_inherited_keys(case):
    """R6 + R7 recomputed in integers: a key is (count × Stundenanteil + left) / (1000 ×
    count), and each partner pays ``round(Eigenanteil × key / total, 2)`` half away from
    zero (plus its R7 give-back of a cent, if any), as the letter's ROUND formula does."""
    inp, eigenanteil, keys, freed = case
    count = len(keys)
    total = count * (sum(keys.values()) + freed)
    (region,) = settle(inp).regions
    for share in region.shares:
        numerator = count * keys[share.party.name] + freed
        assert share.key == Fraction(numerator, 1000 * count)
        if share.is_employer:
            continue
        formula = Decimal(half_up(eigenanteil * numerator, total)) / 100
        assert share.net - share.cent_correction == formula, (share.party.name, share.key)
    if inp is NORD_2025[0]:
        assert region.shares[2].net == Decimal("798.23")


@st.composite
def small_splits(draw) -> SettlementInput:
    """A region whose Eigenanteil is a few cents, either sign, often with an employer key of
    0: the cases where the partners' rounding can take more than the Eigenanteil."""
    count = draw(st.integers(2, 10))
    keys = [draw(st.sampled_from([0, 0, 0, 1, 250, 625]))]
    keys += draw(st.lists(st.integers(0, 1000), min_size=count - 1, max_size=count - 1))
    if not sum(keys):
        keys[-1] = 500
    parties = tuple(party(f"K{i}", "R", EMPLOYER if i == 0 else PARTNER, Decimal(k) / 1000)
                    for i, k in enumerate(keys))
    costs = Decimal(draw(st.integers(0, 30))) / 100
    received = Decimal(draw(st.integers(0, 30))) / 100 if draw(st.booleans()) else None
    return SettlementInput(
        settings=Settings(year=2025), terms={"K0": Terms(date(2026, 3, 2))}, parties=parties,
        material_costs=(MaterialCost("K0", KOSTENARTEN[0], "", costs),),
        subsidies_received={} if received is None else {"K0": received})


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(small_splits())
def test_cents_are_given_back_only_as_far_as_needed_and_by_those_rounded_furthest(inp):
    """R7: when the partners' rounding takes more than the Eigenanteil, give-backs stop as
    soon as the employer's rest is no longer of the opposite sign, so it ends at exactly
    0.00; and the partners that gave back are those rounded furthest (ties by name)."""
    (region,) = settle(inp).regions
    sign = 1 if region.eigenanteil >= 0 else -1
    partners = region.partner_shares
    given_back = [s for s in partners if s.cent_correction]
    if not given_back:
        return
    assert region.employer_share.net == 0
    exact = {s.party.name: Fraction(region.eigenanteil) * s.key / region.key_total
             for s in partners}

    def furthest_first(share):
        rounded = Fraction(share.net - share.cent_correction)
        return (-(rounded - exact[share.party.name]) * sign, share.party.name)

    ranked = sorted(partners, key=furthest_first)
    assert ranked[:len(given_back)] == sorted(given_back, key=furthest_first)


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
