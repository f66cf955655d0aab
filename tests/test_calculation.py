"""The settlement rules R1–R10 (SPEC § 3), each with figures worked out by hand."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from decimal import ROUND_HALF_UP
from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kim_excel.core.calculation import check_settlement, settle
from kim_excel.core.model import (
    EMPLOYER,
    PARTNER,
    Advance,
    KeyBasis,
    MaterialCost,
    Party,
    Position,
    Settings,
    SettlementInput,
    Terms,
)


def party(name, region="Nord", role=PARTNER, share="0.625", exit_date=None) -> Party:
    return Party(name=name, bezeichnung="Stadt", region=region, role=role,
                 stundenanteil=D(share), exit_date=exit_date, street="Markt 1",
                 postcode="48653", city=name, iban="DE26401545300000123456" if role == EMPLOYER
                 else "", bic="WELADE3WXXX")


NORD = (party("Coesfeld", role=EMPLOYER), party("Billerbeck"), party("Havixbeck"),
        party("Rosendahl"))


def nord_input(year=2023, rate="55000", positions=None, material=None, parties=NORD,
               **settings) -> SettlementInput:
    """Region Nord of the council paper: 5 half positions of 32,600 = 163,000; 7,000 Sachkosten."""
    if positions is None:
        positions = [Position("Coesfeld", f"CM {i}", D("0.5"), D(12), D("32600.00"))
                     for i in range(5)]
    if material is None:
        material = [MaterialCost("Coesfeld", "Technische Ausstattung", "IT", D("7000.00"))]
    own = {name: settings.pop(name) for name in [f.name for f in fields(Terms)]
           if name in settings}  # the employer's own settings (SPEC § 4)
    terms = Terms(**{"settlement_date": date(year + 1, 3, 2), **own})
    settings = Settings(year=year, subsidy_rate=D(rate) if rate is not None else None,
                        **settings)
    employers = {p.name: terms for p in parties if p.is_employer}
    return SettlementInput(settings=settings, parties=tuple(parties), terms=employers,
                           positions=tuple(positions), material_costs=tuple(material))


def nets(settlement) -> dict[str, D]:
    return {s.party.name: s.net for r in settlement.regions for s in r.shares}


def test_council_paper_region_nord_reproduces_exactly():
    """170,000 − 2.5 × 55,000 = 32,500; 0.625 / 2.5 = 1/4 each → 8,125.00; bills 3 × 8,125."""
    result = settle(nord_input())
    (nord,) = result.regions
    assert (nord.costs, nord.subsidy, nord.eigenanteil) == (D("170000.00"), D("137500.00"),
                                                           D("32500.00"))
    assert set(nets(result).values()) == {D("8125.00")}
    assert sum(s.gross for s in nord.partner_shares) == D("24375.00")
    assert nord.key_basis is KeyBasis.STUNDENANTEIL


def test_rate_57000_from_2023_when_the_form_leaves_it_empty():
    """2024, no rate given: 2.5 × 57,000 = 142,500; 170,000 − 142,500 = 27,500 → 6,875 each."""
    result = settle(nord_input(year=2024, rate=None))
    assert result.subsidy_rate == D(57000) and result.subsidy_rate_is_default
    assert result.regions[0].subsidy == D("142500.00")
    assert set(nets(result).values()) == {D("6875.00")}
    assert any("57.000,00 €" in n.message for n in result.notices)


def test_rate_55000_up_to_2022_when_empty():
    assert settle(nord_input(year=2022, rate=None)).subsidy_rate == D(55000)


def test_lapsed_subsidy_splits_all_costs_in_equal_parts_whatever_the_key():
    """R5: subsidy 0; 170,000 / 4 = 42,500 each, even with unequal Stundenanteile."""
    parties = (party("Coesfeld", role=EMPLOYER, share="1"), party("Billerbeck", share="0.5"),
               party("Havixbeck", share="0.5"), party("Rosendahl", share="0.5"))
    result = settle(nord_input(parties=parties, subsidy_lapsed=True))
    nord = result.regions[0]
    assert nord.subsidy == D("0.00") and nord.eigenanteil == D("170000.00")
    assert nord.key_basis is KeyBasis.EQUAL
    assert set(nets(result).values()) == {D("42500.00")}


def test_party_that_left_last_year_is_not_billed_and_its_share_goes_to_the_others():
    """R6: Rosendahl left 31.12.2022. In 2023 its 0.625 goes in equal parts to the three
    others: 0.625 + 0.625/3 = 0.8333… each of 2.5 → a third of 32,500 = 10,833.33 for each
    partner, the employer carries the rest 32,500 − 2 × 10,833.33 = 10,833.34."""
    parties = (*NORD[:3], party("Rosendahl", exit_date=date(2022, 12, 31)))
    result = settle(nord_input(parties=parties))
    assert nets(result) == {"Coesfeld": D("10833.34"), "Billerbeck": D("10833.33"),
                            "Havixbeck": D("10833.33")}
    nord = result.regions[0]
    assert [p.name for p in nord.exited] == ["Rosendahl"]
    assert nord.shares[1].inherited == Fraction("0.625") / 3


def nord_2025_with_a_half_cent() -> SettlementInput:
    """The issue's case: keys Coesfeld 0.375, Billerbeck 0.6, Havixbeck 1; Rosendahl
    (0.625) left; one Sachkosten row of 1,717.56 and no positions, so Eigenanteil 1,717.56."""
    parties = (party("Coesfeld", role=EMPLOYER, share="0.375"), party("Billerbeck", share="0.6"),
               party("Havixbeck", share="1"),
               party("Rosendahl", exit_date=date(2024, 12, 31)))
    material = [MaterialCost("Coesfeld", "Technische Ausstattung", "IT", D("1717.56"))]
    return nord_input(year=2025, parties=parties, positions=[], material=material)


def test_an_inherited_key_is_exact_so_a_half_cent_share_rounds_up():
    """R6 + R7: Havixbeck's key is 1 + 0.625/3 = 29/24 of 2.6, its share exactly
    1,717.56 × 29/24 / 2.6 = 798.225 → 798.23 (a key cut after 28 digits gave 798.22);
    Billerbeck 1,717.56 × (0.6 + 5/24) / 2.6 = 533.9906… → 533.99; Coesfeld the rest."""
    nord = settle(nord_2025_with_a_half_cent()).regions[0]
    assert {s.party.name: s.net for s in nord.shares} == {
        "Coesfeld": D("385.34"), "Billerbeck": D("533.99"), "Havixbeck": D("798.23")}
    havixbeck = nord.shares[2]
    assert (havixbeck.key, havixbeck.inherited) == (Fraction(29, 24), Fraction(5, 24))
    assert type(havixbeck.key) is Fraction and type(nord.key_total) is Fraction
    assert nord.key_total == Fraction("2.6")
    assert havixbeck.fraction == Fraction(29, 24) / Fraction("2.6")
    assert havixbeck.cent_correction == 0


def test_party_leaving_at_the_end_of_this_year_still_pays_this_year():
    parties = (*NORD[:3], party("Rosendahl", exit_date=date(2023, 12, 31)))
    assert nets(settle(nord_input(parties=parties)))["Rosendahl"] == D("8125.00")


def test_part_year_and_part_time_positions_are_subsidised_pro_rata():
    """R2: 0.5 VZÄ × 7.5 months at 57,000: 57,000 × 0.5 × 7.5 / 12 = 17,812.50;
    1.0 VZÄ × 3 months: 14,250.00. Costs 20,000 + 16,000 = 36,000 → Eigenanteil 3,937.50."""
    positions = [Position("Coesfeld", "CM 1", D("0.5"), D("7.5"), D("20000.00")),
                 Position("Coesfeld", "CM 2", D("1"), D("3"), D("16000.00"))]
    result = settle(nord_input(year=2024, rate="57000", positions=positions, material=[]))
    assert [r.subsidy for r in result.regions[0].positions] == [D("17812.50"), D("14250.00")]
    assert result.regions[0].eigenanteil == D("3937.50")


def test_subsidy_is_capped_at_the_positions_personnel_costs():
    """R2: 1.0 VZÄ × 12 months would be 57,000, but the position cost only 50,000.00."""
    positions = [Position("Coesfeld", "CM", D("1"), D("12"), D("50000.00"))]
    result = settle(nord_input(year=2024, rate="57000", positions=positions, material=[]))
    (pos,) = result.regions[0].positions
    assert (pos.subsidy, pos.subsidy_uncapped) == (D("50000.00"), D("57000.00"))
    assert result.regions[0].eigenanteil == D("0.00")


def test_received_subsidy_overrides_the_computed_one_with_a_warning():
    """Computed 137,500; received 137,000 → Eigenanteil 33,000 → 8,250 each."""
    inp = nord_input()
    inp = SettlementInput(**{**inp.__dict__, "subsidies_received": {"Coesfeld": D("137000.00")}})
    result = settle(inp)
    assert result.regions[0].subsidy == D("137000.00")
    assert set(nets(result).values()) == {D("8250.00")}
    (warning,) = [n for n in result.notices if "weicht" in n.message]
    assert "137.000,00 €" in warning.message and "137.500,00 €" in warning.message
    assert "-500,00 €" in warning.message


def test_actual_hours_are_the_key_when_given_for_the_whole_region():
    """R4: hours 400/300/200/100 of 1,000 → 40 %, 30 %, 20 %, 10 % of 32,500:
    13,000; 9,750; 6,500; 3,250."""
    inp = nord_input()
    hours = {"Coesfeld": D(400), "Billerbeck": D(300), "Havixbeck": D(200), "Rosendahl": D(100)}
    result = settle(SettlementInput(**{**inp.__dict__, "hours": hours}))
    assert result.regions[0].key_basis is KeyBasis.HOURS
    assert nets(result) == {"Coesfeld": D("13000.00"), "Billerbeck": D("9750.00"),
                            "Havixbeck": D("6500.00"), "Rosendahl": D("3250.00")}


def test_five_way_split_where_rounding_matters_gives_the_employer_the_remainder():
    """Süd: Eigenanteil 22,914.26 / 5 = 4,582.852 → four partners 4,582.85 (rounded down),
    Ascheberg 22,914.26 − 4 × 4,582.85 = 4,582.86."""
    parties = [party("Ascheberg", "Süd", EMPLOYER, "0.5")] + [
        party(n, "Süd", PARTNER, "0.5") for n in ("Lüdinghausen", "Nordkirchen", "Olfen",
                                                  "Senden")]
    positions = [Position("Ascheberg", "CM", D("1"), D("12"), D("79914.26"))]
    result = settle(nord_input(year=2024, rate="57000", parties=parties, positions=positions,
                               material=[]))
    assert result.regions[0].eigenanteil == D("22914.26")
    assert nets(result) == {"Ascheberg": D("4582.86"), "Lüdinghausen": D("4582.85"),
                            "Nordkirchen": D("4582.85"), "Olfen": D("4582.85"),
                            "Senden": D("4582.85")}


def test_half_cents_round_away_from_zero_like_excel():
    """3 partners of 4 equal: 0.10 × 1/4 = 0.025 → 0.03 each (not banker's 0.02); the
    employer carries 0.10 − 0.09 = 0.01."""
    positions = [Position("Coesfeld", "CM", D("1"), D("12"), D("55000.10"))]
    result = settle(nord_input(positions=positions, material=[]))
    assert nets(result) == {"Coesfeld": D("0.01"), "Billerbeck": D("0.03"),
                            "Havixbeck": D("0.03"), "Rosendahl": D("0.03")}


def test_vat_19_percent_is_added_to_each_partners_share():
    """R8: 8,125.00 × 19 % = 1,543.75 → gross 9,668.75."""
    result = settle(nord_input(vat_rate=D("0.19")))
    billerbeck = result.share_of("Billerbeck")[1]
    assert (billerbeck.vat, billerbeck.gross) == (D("1543.75"), D("9668.75"))


def test_vat_0_percent_adds_nothing():
    billerbeck = settle(nord_input()).share_of("Billerbeck")[1]
    assert (billerbeck.vat, billerbeck.gross) == (D("0.00"), D("8125.00"))


def test_advances_larger_than_the_bill_turn_into_a_refund():
    """R9: 8,125.00 due, 5,000 + 4,000 paid → balance −875.00 (refunded)."""
    inp = nord_input()
    advances = (Advance("Havixbeck", date(2023, 4, 1), D("5000.00")),
                Advance("Havixbeck", date(2023, 10, 1), D("4000.00")))
    result = settle(SettlementInput(**{**inp.__dict__, "advances": advances}))
    havixbeck = result.share_of("Havixbeck")[1]
    assert (havixbeck.advances, havixbeck.balance) == (D("9000.00"), D("-875.00"))


def test_due_date_moves_past_a_weekend():
    """R10: Fri 07.03.2025 + 30 days = Sun 06.04.2025 → Mon 07.04.2025."""
    result = settle(nord_input(settlement_date=date(2025, 3, 7), payment_days=30))
    assert result.regions[0].due_date == date(2025, 4, 7)
    assert result.share_of("Billerbeck")[1].due_date == date(2025, 4, 7)


def test_due_date_moves_past_christmas_and_the_weekend_after():
    """R10: 25.11.2025 + 30 = Thu 25.12. (holiday) → Fri 26.12. (holiday) → Sat/Sun →
    Mon 29.12.2025."""
    result = settle(nord_input(settlement_date=date(2025, 11, 25), payment_days=30))
    assert result.regions[0].due_date == date(2025, 12, 29)


def test_due_date_moves_past_an_nrw_only_holiday():
    """Corpus Christi (Fronleichnam) is a holiday in NRW: Thu 19.06.2025 → Fri 20.06.2025."""
    result = settle(nord_input(settlement_date=date(2025, 5, 20), payment_days=30))
    assert result.regions[0].due_date == date(2025, 6, 20)


def test_region_without_costs_is_skipped_with_a_notice():
    parties = (*NORD, party("Dülmen", "Mitte", EMPLOYER, "0.5"), party("Nottuln", "Mitte"))
    result = settle(nord_input(parties=parties))
    assert [r.region for r in result.regions] == ["Nord"]
    assert any("Mitte übersprungen" in n.message for n in result.notices)


def test_positions_under_half_a_vzae_are_warned_about_but_count_as_costs():
    positions = [Position("Coesfeld", "CM klein", D("0.4"), D("12"), D("30000.00"))]
    result = settle(nord_input(positions=positions, material=[]))
    assert result.regions[0].costs == D("30000.00")
    assert any("unter 0,5 VZÄ" in n.message for n in result.notices)


def test_check_settlement_rejects_a_broken_result():
    import dataclasses

    inp = nord_input()
    result = settle(inp)
    region = result.regions[0]
    broken_share = dataclasses.replace(region.shares[1], net=region.shares[1].net + D("0.01"))
    broken = dataclasses.replace(result, regions=(dataclasses.replace(
        region, shares=(region.shares[0], broken_share, *region.shares[2:])),))
    with pytest.raises(AssertionError, match="do not add up"):
        check_settlement(broken, inp)


def with_shares(result, *shares):
    """``result`` with its one region's shares replaced (and nothing else)."""
    import dataclasses

    (region,) = result.regions
    return dataclasses.replace(result, regions=(dataclasses.replace(region, shares=shares),))


def test_check_settlement_rejects_a_share_its_formula_does_not_give():
    """The cent moved from Havixbeck (798.23) to the employer still adds up to the
    Eigenanteil: only recalculating ROUND(Eigenanteil × key / total; 2) finds it."""
    import dataclasses

    inp = nord_2025_with_a_half_cent()
    employer, billerbeck, havixbeck = settle(inp).regions[0].shares
    broken = with_shares(settle(inp),
                         dataclasses.replace(employer, net=employer.net + D("0.01")), billerbeck,
                         dataclasses.replace(havixbeck, net=D("798.22"), gross=D("798.22"),
                                             balance=D("798.22")))
    with pytest.raises(AssertionError, match=r"Havixbeck: share 798.22 != its formula 798.23"):
        check_settlement(broken, inp)


def test_check_settlement_rejects_a_key_that_is_not_exact():
    import dataclasses

    inp = nord_2025_with_a_half_cent()
    result = settle(inp)
    shares = result.regions[0].shares
    cut = dataclasses.replace(shares[2], key=D(1) + D("0.625") / 3)
    with pytest.raises(AssertionError, match="keys must be exact fractions"):
        check_settlement(with_shares(result, shares[0], shares[1], cut), inp)


def test_check_settlement_rejects_a_share_of_the_wrong_sign():
    """Billerbeck billed 1,000 more and the employer 1,000 less: the sum still holds, but the
    employer's −614.66 has the opposite sign of the Eigenanteil of 1,717.56."""
    import dataclasses

    inp = nord_2025_with_a_half_cent()
    result = settle(inp)
    employer, billerbeck, havixbeck = result.regions[0].shares
    thousand = D("1000.00")
    broken = with_shares(result, dataclasses.replace(employer, net=employer.net - thousand,
                                                     gross=employer.net - thousand,
                                                     balance=employer.net - thousand),
                         dataclasses.replace(billerbeck, net=billerbeck.net + thousand,
                                             gross=billerbeck.gross + thousand,
                                             balance=billerbeck.balance + thousand),
                         havixbeck)
    with pytest.raises(AssertionError, match="Coesfeld: share has the opposite sign"):
        check_settlement(broken, inp)


def test_check_settlement_rejects_a_give_back_of_more_than_one_cent():
    """0.03 among six equal parties: 0.005 each; K1 and K2 gave back their cent (R7, ties by
    name), K3–K5 pay 0.01. K1 giving back two cents (and the employer taking one) still
    adds up, and no share has the opposite sign."""
    import dataclasses

    parties = [party(f"K{i}", role=EMPLOYER if i == 0 else PARTNER, share="0.5")
               for i in range(6)]
    inp = nord_input(year=2024, rate="0", parties=parties, material=[],
                     positions=[Position("K0", "CM", D("1"), D("12"), D("0.03"))])
    result = settle(inp)
    shares = list(result.regions[0].shares)
    assert [s.net for s in shares] == [D("0.00"), D("0.00"), D("0.00"), D("0.01"), D("0.01"),
                                       D("0.01")]
    assert [s.cent_correction for s in shares[1:]] == [D("-0.01"), D("-0.01"), 0, 0, 0]
    shares[1] = dataclasses.replace(shares[1], net=D("-0.01"), gross=D("-0.01"),
                                    balance=D("-0.01"), cent_correction=D("-0.02"))
    shares[0] = dataclasses.replace(shares[0], net=D("0.01"), gross=D("0.01"),
                                    balance=D("0.01"))
    with pytest.raises(AssertionError, match="K1: share has the opposite sign"):
        check_settlement(with_shares(result, *shares), inp)
    # and with the Eigenanteil's sign kept (K1 back to 0.00), the two cents themselves:
    shares[1] = dataclasses.replace(shares[1], net=D("0.00"), gross=D("0.00"),
                                    balance=D("0.00"))
    shares[0] = dataclasses.replace(shares[0], net=D("0.00"), gross=D("0.00"),
                                    balance=D("0.00"))
    with pytest.raises(AssertionError, match="K1: gives back -0.02, at most one cent"):
        check_settlement(with_shares(result, *shares), inp)


# --------------------------------------------------------------------- properties

cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: D(c) / 100)
shares = st.integers(min_value=1, max_value=2000).map(lambda k: D(k) / 1000)


@st.composite
def regions(draw):
    n = draw(st.integers(min_value=1, max_value=9))
    keys = draw(st.lists(shares, min_size=n, max_size=n))
    parties = [party(f"K{i}", role=EMPLOYER if i == 0 else PARTNER, share=str(k))
               for i, k in enumerate(keys)]
    positions = [Position("K0", f"CM {i}", v, m, c) for i, (v, m, c) in enumerate(draw(
        st.lists(st.tuples(shares.filter(lambda v: v <= 1),
                           st.integers(0, 24).map(lambda h: D(h) / 2), cents),
                 min_size=1, max_size=6)))]
    material = [MaterialCost("K0", "Technische Ausstattung", "", c)
                for c in draw(st.lists(cents, max_size=4))]
    return parties, positions, material


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(regions(), st.booleans())
def test_the_subsidy_is_the_rate_pro_rata_capped_at_each_positions_costs(region, lapsed):
    """R2 and R5 recomputed: 57,000 × VZÄ × months / 12 = 4,750 × VZÄ × months per
    position, rounded, at most its personnel costs; 0 when lapsed, and then equal keys.
    (That the shares add up to the Eigenanteil, ``settle`` itself checks on every run.)"""
    parties, positions, material = region
    result = settle(nord_input(year=2024, rate="57000", parties=parties, positions=positions,
                               material=material, subsidy_lapsed=lapsed))
    (r,) = result.regions
    computed = sum((min((D(4750) * p.vzae * p.months).quantize(D("0.01"), ROUND_HALF_UP),
                        p.personnel_costs)
                    for p in positions), D(0))
    assert r.subsidy_computed == computed
    assert r.subsidy == (0 if lapsed else computed)
    assert r.subsidy <= r.personnel_costs
    if lapsed:
        assert {s.key for s in r.shares} == {1}


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.integers(2, 12), cents)
def test_equal_keys_give_partner_shares_that_differ_by_at_most_one_cent(n, total):
    """Partners with equal keys pay the same to the cent. The employer carries the remainder
    (R7), which differs from its exact share by at most half a cent per partner: with
    0.02 among 4, each partner pays round(0.005) = 0.01 and the employer −0.01."""
    parties = [party(f"K{i}", role=EMPLOYER if i == 0 else PARTNER, share="0.5")
               for i in range(n)]
    positions = [Position("K0", "CM", D("1"), D("12"), total)]
    result = settle(nord_input(year=2024, rate="0", parties=parties, positions=positions,
                               material=[]))
    region = result.regions[0]
    partners = [s.net for s in region.partner_shares]
    assert max(partners) - min(partners) <= D("0.01")
    exact = region.eigenanteil / n
    assert abs(region.employer_share.net - exact) <= D("0.005") * (n - 1)


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(regions(), st.randoms(use_true_random=False))
def test_the_order_of_rows_never_changes_a_result(region, rnd):
    parties, positions, material = region
    before = settle(nord_input(year=2024, rate="57000", parties=parties, positions=positions,
                               material=material))
    employer, partners = parties[0], list(parties[1:])
    rnd.shuffle(partners)
    rnd.shuffle(positions)
    rnd.shuffle(material)
    after = settle(nord_input(year=2024, rate="57000", parties=[*partners, employer],
                              positions=positions, material=material))
    assert nets(before) == nets(after)
    assert before.regions[0].subsidy == after.regions[0].subsidy
