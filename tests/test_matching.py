"""Matching bank entries to bills (SPEC § 9): the rules in order, the token pitfalls peers'
users report (NOTES.md "Bank statements"), the clerk's split, invariants under Hypothesis,
and 10,000 × 10,000 in seconds."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.matching import scenario
from kim_excel.core.bank import BankEntry, EntryStatus
from kim_excel.core.errors import InvariantViolation
from kim_excel.core.matching import (
    Allocation,
    ClerkAssignment,
    ClerkAssignmentError,
    Matching,
    OpenItem,
    Proposal,
    Rule,
    check_matching,
    fold,
    match,
)
from kim_excel.core.references import payment_reference

ACCOUNT = "DE02120300000000202051"  # the employer that billed
OTHER_ACCOUNT = "DE89370400440532013000"  # another employer of the same year folder
BILLERBECK_IBAN = "DE44400501500001234567"
D = Decimal


def bill(number: str, amount: str, partner: str = "Billerbeck", kassenzeichen: str = "",
         due: date = date(2025, 3, 1), paid: str = "0.00", account: str = ACCOUNT,
         ibans: tuple[str, ...] = (BILLERBECK_IBAN,)) -> OpenItem:
    return OpenItem(number=number, partner=partner, kassenzeichen=kassenzeichen,
                    amount=D(amount), paid=D(paid), due=due, account=account,
                    partner_ibans=frozenset(ibans))


def payment(amount: str, *lines: str, identity: str = "B1", booked: date = date(2025, 3, 10),
            account: str = ACCOUNT, iban: str = "", name: str = "", **more) -> BankEntry:
    return BankEntry(identity=identity, account=account, amount=D(amount), booked=booked,
                     iban=iban, name=name, remittance=lines, **more)


LETTER = bill("2024-Billerbeck", "1000.00", kassenzeichen="5.1234.5678")
CORRECTION = bill("2024-Billerbeck-K1", "250.00", kassenzeichen="5.1234.5678",
                  due=date(2025, 6, 1))


def allocated(result: Matching) -> list[tuple[str, str, Decimal, Rule]]:
    return [(a.entry, a.number, a.amount, a.rule) for a in result.allocations]


# ---------------------------------------------------------------- folding


def test_folding_ignores_case_spaces_umlauts_and_dash_kinds():
    assert fold("2024-Lüdinghausen") == fold("2024 - LUEDINGHAUSEN") == "2024-luedinghausen"
    assert fold("Weiß–Straße") == "weiss-strasse"
    assert fold("Lu\u0308dinghausen") == fold("Lüdinghausen")  # combining umlaut, as macOS


# ---------------------------------------------------------------- rule 2: Rechnungsnummer


def test_the_whole_entry_goes_to_the_bill_it_names():
    result = match([payment("1000.00", "Rechnung 2024-Billerbeck Eigenanteil")], [LETTER])
    assert allocated(result) == [("B1", "2024-Billerbeck", D("1000.00"), Rule.NUMBER)]


def test_the_number_alone_suffices_without_kassenzeichen():
    letter = replace(LETTER, kassenzeichen="")
    result = match([payment("1000.00", "2024-billerbeck")], [letter])
    assert allocated(result) == [("B1", "2024-Billerbeck", D("1000.00"), Rule.NUMBER)]


@pytest.mark.parametrize(("number", "text"), [
    ("2024-Luedinghausen", "Rechnung 2024-Lüdinghausen"),
    ("2024-Lüdinghausen", "RECHNUNG 2024-LUEDINGHAUSEN"),
    ("RE-KIM-2024-Luedinghausen", "re-kim-2024-lüding hausen"),
])
def test_ue_is_read_as_u_umlaut_both_ways(number, text):
    letter = bill(number, "500.00", partner="Lüdinghausen")
    result = match([payment("500.00", text)], [letter])
    assert allocated(result) == [("B1", number, D("500.00"), Rule.NUMBER)]


@pytest.mark.parametrize("lines", [
    ("Rechnung 2024-Biller", "beck Eigenanteil"),
    ("Rechnung 2024-", "Billerbeck"),
    ("Rechnung", "2024-Billerbeck"),  # the line break is a boundary, not "Rechnung2024-…"
    ("Rechnung 2", "024-Bil", "lerbeck"),
])
def test_a_number_cut_between_lines_is_found(lines):
    result = match([payment("1000.00", *lines)], [LETTER, CORRECTION])
    assert allocated(result) == [("B1", "2024-Billerbeck", D("1000.00"), Rule.NUMBER)]


@pytest.mark.parametrize("lines", [
    ("Rechnung 2024-Billerbeck-K1",),
    ("Rechnung 2024-Biller", "beck-K1"),
    ("Rechnung 2024-Billerbeck-", "K1"),
    ("Rechnung 2024-Billerbeck", "-K1"),
    ("Rechnung 2024-Billerbeck -K1",),
])
def test_the_correction_is_never_taken_for_the_letter(lines):
    result = match([payment("250.00", *lines)], [LETTER, CORRECTION])
    assert allocated(result) == [("B1", "2024-Billerbeck-K1", D("250.00"), Rule.NUMBER)]


def test_spaces_around_a_dash_do_not_count_so_the_longest_number_wins():
    result = match([payment("250.00", "Rechnung 2024-Billerbeck - K1")], [LETTER, CORRECTION])
    assert allocated(result) == [("B1", "2024-Billerbeck-K1", D("250.00"), Rule.NUMBER)]


@pytest.mark.parametrize("text", [
    "X2024-Billerbeck", "2024-Billerbeck2", "RE-2024-Billerbeck", "2024-Billerbeck-K9",
    "2024-Billerbeckstrasse",
])
def test_a_number_inside_a_longer_token_is_not_found(text):
    result = match([payment("1000.00", f"Zahlung {text} danke")], [LETTER])
    assert result.allocations == []
    assert result.unexplained == ["B1"]  # shaped like a number: the clerk looks at it


@pytest.mark.parametrize("text", [
    "Eigenanteil - 2024-Billerbeck", "Nr.2024-Billerbeck", "(2024-Billerbeck)",
    "2024-Billerbeck.", "Rechnung:2024-Billerbeck,Danke",
])
def test_punctuation_and_a_free_dash_are_boundaries(text):
    result = match([payment("1000.00", text)], [LETTER])
    assert allocated(result) == [("B1", "2024-Billerbeck", D("1000.00"), Rule.NUMBER)]


def test_the_end_to_end_and_the_structured_reference_count_too():
    entries = [payment("1000.00", "Danke", identity="B1", end_to_end="2024-BILLERBECK"),
               payment("250.00", identity="B2", reference="2024-Billerbeck-K1")]
    result = match(entries, [LETTER, CORRECTION])
    assert [(a.entry, a.number) for a in result.allocations] == [
        ("B1", "2024-Billerbeck"), ("B2", "2024-Billerbeck-K1")]


def test_a_partial_payment_leaves_the_rest_open_without_tolerance():
    result = match([payment("999.99", "2024-Billerbeck")], [LETTER])
    assert allocated(result) == [("B1", "2024-Billerbeck", D("999.99"), Rule.NUMBER)]


def test_an_overpayment_stays_on_the_bill():
    result = match([payment("1200.00", "2024-Billerbeck")], [LETTER, CORRECTION])
    assert allocated(result) == [("B1", "2024-Billerbeck", D("1200.00"), Rule.NUMBER)]


def test_a_second_payment_of_a_paid_bill_overpays_it_in_booking_order():
    first = payment("1000.00", "2024-Billerbeck", identity="B9", booked=date(2025, 3, 1))
    second = payment("1000.00", "2024-Billerbeck", identity="B1", booked=date(2025, 3, 2))
    result = match([second, first], [LETTER])  # given in the wrong order
    assert [a.entry for a in result.allocations] == ["B9", "B1"]  # two entries, never merged
    assert sum(a.amount for a in result.allocations) == D("2000.00")


# ---------------------------------------------------------------- rule 3: Kassenzeichen


def test_an_exact_payment_by_kassenzeichen():
    result = match([payment("1000.00", "KZ 5.1234.5678 Eigenanteil")], [LETTER])
    assert allocated(result) == [("B1", "2024-Billerbeck", D("1000.00"), Rule.KASSENZEICHEN)]


def test_the_kassenzeichen_pays_the_oldest_open_bill_first_the_rest_overpays_the_last():
    older = replace(LETTER, paid=D("400.00"))  # 600.00 open
    result = match([payment("900.00", "5.1234.5678")], [CORRECTION, older])
    assert allocated(result) == [
        ("B1", "2024-Billerbeck", D("600.00"), Rule.KASSENZEICHEN),
        ("B1", "2024-Billerbeck-K1", D("300.00"), Rule.KASSENZEICHEN),  # 50.00 over
    ]


def test_a_kassenzeichen_of_two_partners_is_left_to_the_clerk():
    other = bill("2024-Rosendahl", "1000.00", partner="Rosendahl", kassenzeichen="5.1234.5678")
    result = match([payment("1000.00", "KZ 5.1234.5678")], [LETTER, other])
    assert result.allocations == [] and result.unexplained == ["B1"]


def test_a_kassenzeichen_inside_a_longer_one_is_not_found():
    result = match([payment("1000.00", "5.1234.5678.9")], [LETTER])
    assert result.allocations == [] and result.unexplained == []
    assert result.unrelated == ["B1"]


def test_the_number_beats_the_kassenzeichen():
    text = payment_reference(2024, "2024-Billerbeck-K1", "5.1234.5678")
    result = match([payment("250.00", text)], [LETTER, CORRECTION])
    assert allocated(result) == [("B1", "2024-Billerbeck-K1", D("250.00"), Rule.NUMBER)]


# ---------------------------------------------------------------- rule 4: several bills


def test_one_payment_for_two_bills_pays_the_oldest_first():
    entry = payment("1300.00", "Rechnungen 2024-Billerbeck-K1 und 2024-Billerbeck")
    result = match([entry], [CORRECTION, LETTER])
    assert allocated(result) == [
        ("B1", "2024-Billerbeck", D("1000.00"), Rule.SEVERAL),
        ("B1", "2024-Billerbeck-K1", D("300.00"), Rule.SEVERAL),  # the rest overpays the last
    ]


def test_one_payment_short_of_two_bills_leaves_the_newer_open():
    result = match([payment("1100.00", "2024-Billerbeck 2024-Billerbeck-K1")],
                   [LETTER, CORRECTION])
    assert [(a.number, a.amount) for a in result.allocations] == [
        ("2024-Billerbeck", D("1000.00")), ("2024-Billerbeck-K1", D("100.00"))]


# ---------------------------------------------------------------- rule 5: proposals


def test_a_payment_without_reference_is_only_proposed():
    entry = payment("1000.00", "Zahlung", iban=BILLERBECK_IBAN, name="Stadt Billerbeck")
    result = match([entry], [LETTER, CORRECTION])
    assert result.allocations == [] and result.unexplained == []
    assert result.proposals == [Proposal("B1", "2024-Billerbeck")]


def test_no_proposal_when_the_amount_fits_no_open_bill_exactly():
    entry = payment("999.00", "Zahlung", iban=BILLERBECK_IBAN)
    result = match([entry], [LETTER, CORRECTION])
    assert result.proposals == [] and result.unexplained == ["B1"]


def test_no_proposal_when_two_open_bills_ask_that_amount():
    twin = replace(CORRECTION, amount=D("1000.00"))
    result = match([payment("1000.00", "Zahlung", iban=BILLERBECK_IBAN)], [LETTER, twin])
    assert result.proposals == [] and result.unexplained == ["B1"]


def test_no_proposal_when_the_iban_belongs_to_two_partners():
    other = bill("2024-Rosendahl", "1000.00", partner="Rosendahl")
    result = match([payment("1000.00", "Zahlung", iban=BILLERBECK_IBAN)], [LETTER, other])
    assert result.proposals == [] and result.unexplained == ["B1"]


# ---------------------------------------------------------------- 6: unexplained, unrelated


def test_entries_that_concern_no_partner_are_unrelated():
    entries = [payment("-3120.55", "Gehalt 11/2024 Personalnr. 4711", identity="S1",
                       iban="DE11111111111111111111", name="Erika Muster"),
               payment("-80.00", "Telefon Rechnung 2024-11", identity="S2")]
    no_iban = bill("2024-Rosendahl", "10.00", partner="Rosendahl", ibans=("",))
    result = match(entries + [payment("-5.00", "Gebuehr", identity="S3")], [LETTER, no_iban])
    assert result.unrelated == ["S1", "S2", "S3"] and result.unexplained == []


@pytest.mark.parametrize("entry", [
    payment("10.00", "Danke", iban=BILLERBECK_IBAN),  # a partner's IBAN
    payment("10.00", "Danke", name="Stadtkasse Billerbeck"),  # its name
    payment("10.00", "Eigenanteil Billerbeck"),  # its name in the text
    payment("10.00", "Rechnung 2024-Billerbek"),  # shaped like a number (a typo)
])
def test_entries_that_concern_a_partner_are_unexplained(entry):
    result = match([entry], [LETTER])
    assert result.unexplained == ["B1"] and result.allocations == []


# ---------------------------------------------------------------- direction, reversal, accounts


def test_an_outgoing_refund_pays_the_refund_bill():
    refund = bill("2024-Billerbeck-K1", "-250.00", due=date(2025, 6, 1))
    entries = [payment("-250.00", "Erstattung 2024-Billerbeck-K1", identity="B1"),
               payment("-250.00", "KZ 5.1234.5678", identity="B2")]
    result = match(entries, [LETTER, replace(refund, kassenzeichen="5.1234.5678")])
    assert allocated(result) == [
        ("B1", "2024-Billerbeck-K1", D("-250.00"), Rule.NUMBER),
        ("B2", "2024-Billerbeck-K1", D("-250.00"), Rule.KASSENZEICHEN),  # overpaid refund
    ]


def test_money_in_for_a_refund_bill_is_left_to_the_clerk():
    refund = bill("2024-Billerbeck-K1", "-250.00")
    result = match([payment("250.00", "2024-Billerbeck-K1")], [LETTER, refund])
    assert result.allocations == [] and result.unexplained == ["B1"]


def test_a_letter_and_its_credit_named_together_pays_the_letter():
    credit = bill("2024-Billerbeck-K1", "-250.00")
    result = match([payment("750.00", "2024-Billerbeck abzgl. 2024-Billerbeck-K1")],
                   [LETTER, credit])
    assert allocated(result) == [("B1", "2024-Billerbeck", D("750.00"), Rule.NUMBER)]


def test_a_reversal_reduces_what_was_paid():
    entries = [payment("1000.00", "2024-Billerbeck", identity="B1"),
               payment("-1000.00", "Storno 2024-Billerbeck", identity="B2", reversal=True,
                       booked=date(2025, 3, 11))]
    result = match(entries, [LETTER])
    assert allocated(result) == [("B1", "2024-Billerbeck", D("1000.00"), Rule.NUMBER),
                                 ("B2", "2024-Billerbeck", D("-1000.00"), Rule.NUMBER)]


def test_a_reversal_by_kassenzeichen_undoes_the_newest_payment_first():
    letter, correction = replace(LETTER, paid=D("1000.00")), replace(CORRECTION, paid=D("250"))
    entry = payment("-400.00", "Rueckbuchung 5.1234.5678", reversal=True)
    result = match([entry], [letter, correction])
    assert [(a.number, a.amount) for a in result.allocations] == [
        ("2024-Billerbeck-K1", D("-250.00")), ("2024-Billerbeck", D("-150.00"))]


def test_a_reversal_of_a_refund_goes_back_onto_the_refund():
    refund = bill("2024-Billerbeck-K1", "-250.00", paid="-250.00")
    entry = payment("250.00", "Ruecklastschrift 2024-Billerbeck-K1", reversal=True)
    result = match([entry], [LETTER, refund])
    assert allocated(result) == [("B1", "2024-Billerbeck-K1", D("250.00"), Rule.NUMBER)]


def test_another_accounts_entry_is_not_matched_to_this_employers_bills():
    entry = payment("1000.00", "KZ 5.1234.5678 Rechnung 2024-Billerbeck",
                    account=OTHER_ACCOUNT, iban=BILLERBECK_IBAN)
    result = match([entry], [LETTER])
    assert result.allocations == [] and result.proposals == []
    assert result.unexplained == ["B1"]


def test_the_same_kassenzeichen_on_two_accounts_pays_the_entrys_own():
    elsewhere = bill("RE-2024-Billerbeck", "1000.00", kassenzeichen="5.1234.5678",
                     account=OTHER_ACCOUNT)
    result = match([payment("1000.00", "5.1234.5678")], [elsewhere, LETTER])
    assert [a.number for a in result.allocations] == ["2024-Billerbeck"]


def test_pending_entries_are_never_allocated_nor_listed():
    entry = payment("1000.00", "2024-Billerbeck", status=EntryStatus.PENDING)
    result = match([entry], [LETTER], [ClerkAssignment("B1", "2024-Billerbeck")])
    assert result == Matching()


# ---------------------------------------------------------------- rule 1: the clerk


def test_the_clerk_splits_an_entry_and_gives_the_rest_to_another_bill():
    entry = payment("1000.00", "2024-Billerbeck")  # rule 2 would take it whole
    clerk = [ClerkAssignment("B1", "2024-Billerbeck", D("750.00")),
             ClerkAssignment("B1", "2024-Billerbeck-K1")]
    result = match([entry], [LETTER, CORRECTION], clerk)
    assert allocated(result) == [("B1", "2024-Billerbeck", D("750.00"), Rule.CLERK),
                                 ("B1", "2024-Billerbeck-K1", D("250.00"), Rule.CLERK)]


def test_a_clerk_split_short_of_the_entry_overpays_the_last_bill_named():
    clerk = [ClerkAssignment("B1", "2024-billerbeck-k1", D("100.00")),
             ClerkAssignment("B1", "2024-Billerbeck", D("600.00"))]
    result = match([payment("1000.00", "Danke")], [LETTER, CORRECTION], clerk)
    assert [(a.number, a.amount) for a in result.allocations] == [
        ("2024-Billerbeck-K1", D("100.00")), ("2024-Billerbeck", D("900.00"))]


def test_the_clerks_amounts_take_the_sign_of_an_outgoing_entry():
    refund = bill("2024-Billerbeck-K1", "-250.00")
    clerk = [ClerkAssignment("B1", "2024-Billerbeck-K1", D("200.00")),
             ClerkAssignment("B1", "2024-Billerbeck")]
    result = match([payment("-250.00", "Ueberweisung")], [LETTER, refund], clerk)
    assert [(a.number, a.amount) for a in result.allocations] == [
        ("2024-Billerbeck-K1", D("-200.00")), ("2024-Billerbeck", D("-50.00"))]


def test_a_split_beyond_the_entry_is_refused_in_german_with_every_problem():
    clerk = [ClerkAssignment("B1", "2024-Billerbeck", D("800.00")),
             ClerkAssignment("B1", "2024-Billerbeck-K1", D("300.00")),
             ClerkAssignment("B7", "2024-Billerbeck"),
             ClerkAssignment("B1", "2024-Rosendahl", D("1.00"))]
    with pytest.raises(ValueError) as raised:
        match([payment("1000.00", "2024-Billerbeck")], [LETTER, CORRECTION], clerk)
    assert isinstance(raised.value, ClerkAssignmentError)
    assert raised.value.problems == (
        "Buchung B7: nicht in den gelesenen Kontoauszügen.",
        "Buchung B1: eine Rechnung 2024-Rosendahl gibt es im Jahresordner nicht.",
        "Buchung B1: die Aufteilung ergibt 1.100,00 €, die Buchung lautet nur auf 1.000,00 €.",
    )


@pytest.mark.parametrize(("clerk", "message"), [
    ([ClerkAssignment("B1", "2024-Billerbeck", D("1000.01"))], "ergibt 1.000,01 €"),
    ([ClerkAssignment("B1", "2024-Billerbeck", D("-5.00"))], "muss größer als 0 sein"),
    ([ClerkAssignment("B1", "2024-Billerbeck", D("0.001"))], "kein Betrag in ganzen Cent"),
    ([ClerkAssignment("B1", "2024-Billerbeck"), ClerkAssignment("B1", "2024-Billerbeck-K1")],
     "der Rest kann nur an eine Rechnung gehen"),
    ([ClerkAssignment("B1", "RE-2024-Billerbeck")], "über das Konto DE89 3704"),
])
def test_impossible_clerk_assignments_are_refused(clerk, message):
    elsewhere = bill("RE-2024-Billerbeck", "1000.00", account=OTHER_ACCOUNT)
    with pytest.raises(ClerkAssignmentError, match=message):
        match([payment("1000.00", "Danke")], [LETTER, CORRECTION, elsewhere], clerk)


def test_broken_callers_data_is_refused():
    with pytest.raises(ValueError, match="Rechnungsnummer doppelt"):
        match([], [LETTER, replace(CORRECTION, number="2024-BILLERBECK")])
    with pytest.raises(ValueError, match="Buchung B1 doppelt"):
        match([payment("1.00", "a"), payment("2.00", "b")], [LETTER])


# ---------------------------------------------------------------- invariants


def test_check_matching_catches_a_broken_matching():
    entries = [payment("1000.00", "2024-Billerbeck"), payment("5.00", "x", identity="B2")]
    good = match(entries, [LETTER])
    check_matching(good, entries, [LETTER])
    short = Matching([Allocation("B1", "2024-Billerbeck", D("999.99"), Rule.NUMBER)],
                     unrelated=["B2"])
    twice = Matching(good.allocations, unexplained=["B1", "B2"])
    lost = Matching(good.allocations)
    foreign = Matching([replace(good.allocations[0], number="2024-Rosendahl")],
                       unrelated=["B2"])
    for broken, reason in ((short, "add up to 999.99"), (twice, "in 2 places"),
                           (lost, "booked, but nowhere"), (foreign, "no bill 2024-Rosendahl")):
        with pytest.raises(InvariantViolation, match=reason):
            check_matching(broken, entries, [LETTER])


PARTNERS = ("Billerbeck", "Lüdinghausen", "Rosendahl")


@st.composite
def year_folder(draw) -> list[OpenItem]:
    """Letters and corrections (some refunds, some partly paid) on two accounts."""
    items = []
    for n, partner in enumerate(PARTNERS):
        account = draw(st.sampled_from((ACCOUNT, OTHER_ACCOUNT)))
        for correction in range(draw(st.integers(1, 3))):
            number = f"2024-{partner}" + (f"-K{correction}" if correction else "")
            cents = draw(st.integers(-50_000, 100_000).filter(bool))
            paid = draw(st.integers(min(0, cents), max(0, cents)))  # same sign, up to all
            amount, paid = D(cents) / 100, D(paid) / 100
            items.append(OpenItem(number, partner, f"KZ-{n}{n}{n}" if n else "", amount,
                                  paid, date(2025, 3, 1 + correction * 7), account,
                                  frozenset({f"DE{n}"})))
    return items


def texts(items: list[OpenItem]):
    """Verwendungszwecke made of the bills' tokens, glued to noise, cut anywhere."""
    tokens = [i.number for i in items] + [i.kassenzeichen for i in items if i.kassenzeichen]
    tokens += [t.replace("ue", "ü") for t in tokens] + list(PARTNERS)
    noise = ["Rechnung", "X", "-K1", "2024-", " ", "-", ".", "Gehalt 11/24"]
    words = st.lists(st.sampled_from(tokens + noise), max_size=5) | st.lists(
        st.sampled_from(tokens), min_size=2, max_size=3) | st.sampled_from(([], ["Danke"]))
    return st.builds(lambda w, cuts: cut_at(" ".join(w), cuts), words,
                     st.lists(st.integers(0, 60), max_size=3))


def cut_at(text: str, cuts: list[int]) -> tuple[str, ...]:
    at = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    return tuple(text[a:b] for a, b in zip(at, at[1:], strict=False))


def pick(draw, options: Sequence):
    """One of ``options``, drawn through a cached integer strategy (a ``sampled_from`` of a
    new list per draw costs Hypothesis more than the matching it tests)."""
    return options[draw(st.integers(0, len(options) - 1))]


AMOUNTS = st.integers(-100_000, 100_000).map(lambda c: D(c) / 100)


@st.composite
def statements(draw):
    """Entries around the bills: each aimed at one (its account, its partner's IBAN, its
    amount or open amount, either sign) or at random, with texts of all the bills' tokens."""
    items = draw(year_folder())
    remittances = texts(items)
    entries = []
    for n in range(draw(st.integers(0, 12))):
        aim = pick(draw, items)
        exact = [s * x for x in (aim.amount, aim.open, aim.open) for s in (1, -1) if x]
        entries.append(BankEntry(
            identity=f"B{n}",
            account=pick(draw, (aim.account, aim.account, ACCOUNT, OTHER_ACCOUNT)),
            amount=pick(draw, exact) if draw(st.booleans()) else draw(AMOUNTS),
            booked=date(2025, 3, draw(st.integers(1, 5))),
            status=pick(draw, (EntryStatus.BOOKED,) * 3 + (EntryStatus.PENDING, EntryStatus.INFO)),
            reversal=draw(st.integers(0, 4)) == 0,
            iban=pick(draw, (*aim.partner_ibans, *aim.partner_ibans, "", "DE9")),
            remittance=draw(remittances)))
    clerk = []
    for entry in entries:
        mine = [i.number for i in items if i.account == entry.account]
        whole = int(abs(entry.amount) * 100)
        if mine and whole >= 2 and draw(st.integers(0, 4)) == 0:
            for _ in range(draw(st.integers(0, 2))):
                cents = draw(st.integers(1, whole // 2))
                clerk.append(ClerkAssignment(entry.identity, pick(draw, mine), D(cents) / 100))
            if draw(st.booleans()):
                clerk.append(ClerkAssignment(entry.identity, pick(draw, mine)))
    return entries, items, clerk


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(statements(), st.randoms(use_true_random=False))
def test_every_matching_keeps_its_invariants_whatever_the_order(case, rng: random.Random):
    entries, items, clerk = case
    result = match(entries, items, clerk)
    check_matching(result, entries, items)
    shuffled = list(entries)
    rng.shuffle(shuffled)
    assert match(shuffled, list(reversed(items)), clerk) == result  # booking order decides
    paid_by = {a.entry for a in result.allocations}
    for entry in entries:
        if entry.identity in paid_by and entry.identity not in {c.entry for c in clerk}:
            by = [a for a in result.allocations if a.entry == entry.identity]
            assert all(a.rule is not Rule.CLERK for a in by)


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(statements())
def test_writing_ue_as_u_umlaut_changes_nothing(case):
    entries, items, _ = case
    umlauted = [replace(e, remittance=tuple(line.replace("ue", "ü").replace("UE", "Ü")
                                            for line in e.remittance)) for e in entries]
    assert match(umlauted, items) == match(entries, items)


# ---------------------------------------------------------------- linear


@pytest.mark.slow
def test_ten_thousand_entries_against_ten_thousand_bills_in_seconds():
    entries, items = scenario(10_000, 10_000)
    started = time.perf_counter()
    result = match(entries, items)
    seconds = time.perf_counter() - started
    assert seconds < 20, f"10.000 × 10.000 took {seconds:.1f} s (measured: about 1.6 s)"
    assert len({a.entry for a in result.allocations}) > 5_000  # it really matched
