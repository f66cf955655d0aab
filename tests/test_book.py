"""The typed ledger (kim_excel/ledger/book.py): the one answer to "do the figures match?", the
states of bills, issuing. Built from a real settlement of the example, no files."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from kim_excel.ledger.book import (
    Ledger,
    Region,
    Sending,
    SendResult,
    State,
    bill_state,
    changed_partners,
)
from kim_excel.ledger.life import context_of, correction_version, settlement_version
from tests import builders
from tests.builders import D, example_2024

TODAY = date(2025, 3, 2)


@pytest.fixture(scope="module")
def settlements(tmp_path_factory):
    """The example, and the example with Nord's costs 4,000 higher (+1,000 per partner)."""
    plain = builders.settled(example_2024(), tmp_path_factory.mktemp("plain"), TODAY)
    form = example_2024()
    form.positions[0]["Personalkosten"] += D("4000")
    higher = builders.settled(form, tmp_path_factory.mktemp("higher"), TODAY)
    return plain, higher


def nord(settlement):
    return next(r for r in settlement.regions if r.region == "Nord")


def ledger_of(settlement, issued: bool = False) -> Ledger:
    context = context_of(settlement)
    regions = {}
    for result in settlement.regions:
        version = settlement_version(result, context)
        if issued:
            version.state, version.issued_on = State.ISSUED, TODAY
        regions[result.region] = Region(result.region, [version])
    return Ledger(year=2024, context=context, regions=regions)


def test_a_draft_matches_exactly_or_says_what_a_partner_would_notice(settlements):
    plain, higher = settlements
    ledger = ledger_of(plain)
    context = context_of(plain)
    assert ledger.regions["Nord"].differences(nord(plain), context) == []
    assert ledger.regions["Nord"].differences(nord(higher), context) == [
        f"{n}: laut Abrechnung 6.875,00 € fällig am 01.04.2025, laut Eingabe 7.875,00 € "
        f"fällig am 01.04.2025" for n in ("Billerbeck", "Havixbeck", "Rosendahl")]
    later = replace(context, writer="9.9")
    assert ledger.regions["Nord"].differences(nord(plain), later) == [
        "Region Nord: die Eingabe weicht von der Abrechnung ab"]


def test_an_issued_region_differs_only_by_what_partners_are_billed(settlements):
    plain, higher = settlements
    ledger = ledger_of(plain, issued=True)
    region = ledger.regions["Nord"]
    context = context_of(plain)
    billerbeck = nord(plain).partner_shares[0]
    advances = replace(nord(plain), shares=tuple(
        replace(s, advances=D("100.00"), balance=s.balance - D("100.00"))
        if s is billerbeck else s for s in nord(plain).shares))
    assert region.differences(advances, context) == []  # advances change no issued bill
    assert region.differences(nord(higher), context) == [
        f"{n}: bisher 6.875,00 €, jetzt 7.875,00 €"
        for n in ("Billerbeck", "Havixbeck", "Rosendahl")]

    region.versions.append(correction_version(region, nord(higher), context,
                                              date(2025, 4, 10), 1))
    assert region.differences(nord(higher), context) == []  # the open correction says so
    assert region.differences(nord(plain), context) == [
        "Region Nord: der Entwurf der Korrektur Nr. 1 entfällt"]


def test_changed_partners_names_who_joined_and_who_left(settlements):
    plain, _ = settlements
    region = nord(plain)
    without = replace(region, shares=region.shares[:-1])
    assert changed_partners(region, without) == {
        "Rosendahl": "nicht mehr in der Region (bisher 6.875,00 €)"}
    assert changed_partners(without, region) == {"Rosendahl": "neu in der Region, 6.875,00 €"}


def test_a_correction_corrects_the_last_issued_bill_and_refunds_a_partner_that_left(
        settlements):
    plain, higher = settlements
    ledger = ledger_of(plain, issued=True)
    region = ledger.regions["Nord"]
    left = replace(nord(higher), shares=nord(higher).shares[:-1])
    version = correction_version(region, left, context_of(plain), date(2025, 4, 10), 1)
    assert {p: (b.number, b.amount, b.corrects, b.due) for p, b in version.bills.items()} == {
        "Billerbeck": ("2024-Billerbeck-K1", D("1000.00"), "2024-Billerbeck", date(2025, 5, 12)),
        "Havixbeck": ("2024-Havixbeck-K1", D("1000.00"), "2024-Havixbeck", date(2025, 5, 12)),
        "Rosendahl": ("2024-Rosendahl-K1", D("-6875.00"), "2024-Rosendahl", date(2025, 5, 12))}
    version.state = State.ISSUED
    region.versions.append(version)
    second = correction_version(region, nord(higher), context_of(plain), date(2025, 5, 2), 2)
    assert second.bills["Rosendahl"].corrects == "2024-Rosendahl-K1"
    region.versions.append(second)
    assert region.billed_before(second) is version


def test_issuing_by_post_marks_every_bill_that_has_not_gone_out(settlements):
    plain, _ = settlements
    ledger = ledger_of(plain)
    mitte = ledger.regions["Mitte"]
    nottuln = mitte.settlement.bills["Nottuln"]
    assert bill_state(mitte.settlement, nottuln) == "Entwurf"
    nottuln.sendings.append(Sending("2025-03-05T10:00:00+01:00", "k@nottuln.example",
                                    SendResult.TEST))
    assert not nottuln.delivered  # a test mail never counts

    lines = ledger.issue(mitte, date(2025, 3, 6), posted=True)
    assert lines == ["Region Mitte: Abrechnung", "Region Mitte: Abrechnung_2024_Nottuln.xlsx "
                                                 "per Post"]
    assert bill_state(mitte.settlement, nottuln) == "festgeschrieben, per Post am 06.03.2025"
    assert ledger.issue(mitte, date(2025, 3, 7), posted=True) == []  # nothing twice
    assert ledger.regions["Nord"].settlement.state is State.DRAFT


def test_a_sent_bill_says_when_and_to_whom(settlements):
    plain, _ = settlements
    ledger = ledger_of(plain, issued=True)
    version = ledger.regions["Süd"].settlement
    olfen = version.bills["Olfen"]
    assert bill_state(version, olfen) == "festgeschrieben, noch nicht versandt"
    olfen.sendings += [Sending("2025-03-05T10:00:00+01:00", "k@olfen.example",
                               SendResult.FAILED),
                       Sending("2025-03-06T09:30:00+01:00", "k@olfen.example",
                               SendResult.SENT)]
    assert bill_state(version, olfen) == \
        "festgeschrieben, per E-Mail am 06.03.2025 an k@olfen.example"
    assert ledger.undelivered(ledger.regions["Süd"]) and olfen not in [
        b for _, b in ledger.undelivered()]


@pytest.mark.parametrize("written", ["Süd", "Sued", "süd", "SUED", " sued "])
def test_a_region_is_found_as_people_write_it(settlements, written):
    plain, _ = settlements
    assert ledger_of(plain).region_named(written).name == "Süd"


def test_the_ledger_finds_a_bill_by_its_number_and_its_file(settlements):
    plain, _ = settlements
    ledger = ledger_of(plain)
    region, version, bill = ledger.bill("2024-Luedinghausen")
    assert (region.name, bill.partner) == ("Süd", "Lüdinghausen")
    assert ledger.bill_of_file("Abrechnung_2024_Luedinghausen.xlsx")[2] is bill
    assert ledger.bill("2024-Unbekannt") is None
    assert copy.deepcopy(ledger) == ledger
    assert region.party("Lüdinghausen").full_name == "Stadt Lüdinghausen"
    assert version.bills["Lüdinghausen"].amount == Decimal("4582.85")
