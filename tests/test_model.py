"""The plain data of a settlement: who is a party in which year (R6), and the sums the
writers read off a result (a region's partner totals, a file's date)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from kim_excel.core.agreement import COESFELD_PARTIES
from kim_excel.core.calculation import settle
from kim_excel.core.model import (
    EMPLOYER,
    PARTNER,
    Advance,
    CellRef,
    MaterialCost,
    Notice,
    Party,
    Position,
    Problem,
    Settings,
    SettlementInput,
    Severity,
    Terms,
)


def coesfeld_parties(**exit_dates: date) -> tuple[Party, ...]:
    return tuple(Party(name, bezeichnung, region, role, share, exit_date=exit_dates.get(name),
                       street=street, postcode=postcode, city=city)
                 for name, bezeichnung, region, role, share, street, postcode, city
                 in COESFELD_PARTIES)


def coesfeld_input(dates: dict[str, date] | None = None, **exit_dates: date) -> SettlementInput:
    """One full position and 1,000 Sachkosten in each region, advances from two partners in
    Süd; each employer settles on its own date (``dates``, default 02.03.2025)."""
    parties = coesfeld_parties(**exit_dates)
    employers = [p.name for p in parties if p.role == EMPLOYER]
    dates = dates or {}
    return SettlementInput(
        settings=Settings(year=2024),
        parties=parties,
        positions=tuple(Position(e, f"CM {e}", D(1), D(12), D("70000.00")) for e in employers),
        material_costs=tuple(MaterialCost(e, "Technische Ausstattung", "IT", D("1000.00"))
                             for e in employers),
        advances=(Advance("Olfen", date(2024, 7, 15), D("2500.00")),
                  Advance("Nordkirchen", date(2024, 7, 15), D("5000.00"))),
        terms={e: Terms(settlement_date=dates.get(e, date(2025, 3, 2))) for e in employers},
    )


# ------------------------------------------------------------------ R6: who is a party


def test_a_party_without_exit_date_is_active_in_every_year():
    billerbeck = coesfeld_parties()[1]
    assert all(billerbeck.is_active_in(year) for year in (2019, 2024, 2100))


def test_a_party_that_left_on_31_december_is_active_that_year_and_not_after():
    """R6: left on 31.12.2023 → still a party in 2023, none in 2024 or later."""
    rosendahl = next(p for p in coesfeld_parties(Rosendahl=date(2023, 12, 31))
                     if p.name == "Rosendahl")
    assert rosendahl.is_active_in(2022)
    assert rosendahl.is_active_in(2023)
    assert not rosendahl.is_active_in(2024)
    assert not rosendahl.is_active_in(2030)


def test_a_party_that_left_is_not_billed_in_the_following_year():
    settlement = settle(coesfeld_input(Rosendahl=date(2023, 12, 31)))
    nord = next(r for r in settlement.regions if r.region == "Nord")
    assert "Rosendahl" not in [s.party.name for s in nord.shares]
    assert [p.name for p in nord.exited] == ["Rosendahl"]


def test_full_name_and_role_of_a_party():
    coesfeld, billerbeck = coesfeld_parties()[:2]
    assert coesfeld.full_name == "Stadt Coesfeld" and coesfeld.is_employer
    assert billerbeck.full_name == "Stadt Billerbeck" and not billerbeck.is_employer
    assert billerbeck.role == PARTNER


# ------------------------------------------------------------------ sums of a result


def test_partner_total_sums_the_partners_bills_without_the_employer():
    """Süd: 71,000 − 57,000 = 14,000 Eigenanteil, 2,800 for each of five parties; the four
    partners are billed 11,200; Olfen and Nordkirchen paid 7,500 in advance."""
    settlement = settle(coesfeld_input())
    sued = next(r for r in settlement.regions if r.region == "Süd")
    assert sued.eigenanteil == D("14000.00")
    assert sued.partner_total("net") == D("11200.00")
    assert sued.partner_total("advances") == D("7500.00")
    assert sued.partner_total("balance") == D("3700.00")
    assert sued.employer_share.net == D("2800.00")
    assert [s.party.name for s in sued.partner_shares] == [
        "Lüdinghausen", "Nordkirchen", "Olfen", "Senden"]


def test_settlement_totals_add_the_regions():
    """Nord 4 × 3,500, Mitte 2 × 7,000, Süd 5 × 2,800: every region 14,000 Eigenanteil."""
    settlement = settle(coesfeld_input())
    assert settlement.total("eigenanteil") == D("42000.00")
    assert settlement.total("costs") == D("213000.00")
    assert settlement.partner_total("net") == D("42000.00") - D("3500.00") - D("7000.00") \
        - D("2800.00")
    assert sum(r.partner_total("balance") for r in settlement.regions) == \
        settlement.partner_total("balance")


def test_share_of_finds_a_party_in_its_region():
    region, share = settle(coesfeld_input()).share_of("Nottuln")
    assert region.region == "Mitte" and share.net == D("7000.00")
    with pytest.raises(KeyError):
        settle(coesfeld_input()).share_of("Münster")


def test_latest_date_is_the_latest_settlement_date_of_the_regions():
    """A file that covers all regions carries the date of the last of them."""
    dates = {"Coesfeld": date(2025, 2, 14), "Dülmen": date(2025, 4, 30),
             "Ascheberg": date(2025, 3, 2)}
    assert settle(coesfeld_input(dates)).latest_date == date(2025, 4, 30)


def test_latest_date_of_a_settlement_without_regions_is_the_years_end():
    settlement = settle(coesfeld_input())
    empty = type(settlement)(settlement.settings, settlement.subsidy_rate,
                             settlement.subsidy_rate_is_default, regions=())
    assert empty.latest_date == date(2024, 12, 31)


# ------------------------------------------------------------------ messages


def test_a_problem_names_file_sheet_and_cell():
    where = CellRef("Abrechnung.xlsx", "Personalkosten", "D2")
    assert str(Problem("„13“ ist ungültig", where)) == \
        "Abrechnung.xlsx: Personalkosten!D2: „13“ ist ungültig"
    assert str(Problem("Keine Arbeitsmappe")) == "Keine Arbeitsmappe"
    assert str(CellRef("Abrechnung.xlsx", "Einstellungen")) == "Einstellungen"


def test_a_notice_says_whether_it_is_a_warning_or_a_hint():
    where = CellRef("Abrechnung.xlsx", "Abschläge", "C3")
    assert str(Notice("Betrag ungewöhnlich hoch", where=where)) == \
        "Warnung: Abrechnung.xlsx: Abschläge!C3: Betrag ungewöhnlich hoch"
    assert str(Notice("3 Regionen", Severity.INFO)) == "Hinweis: 3 Regionen"
