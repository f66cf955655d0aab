"""Payments (SPEC § 9) through the real command: ``kim-excel zahlungen`` and ``zuordnen`` in
real year folders, with statements built from what the folder billed
(``tests/payment_fixtures.py``): matching by Kassenzeichen and Rechnungsnummer, partial, over
and several bills, proposals, pending entries, reversals, the same and overlapping
statements, every format and version, batches, the clerk's own assignments, bad statements
and killed runs. Reminders: ``tests/test_reminder.py``.

Figures of the example (tests/builders.py): the letters are dated 02.03.2025 and due
01.04.2025. Nord: Billerbeck, Havixbeck, Rosendahl 6,875.00 each (Kassenzeichen
KIM-2024-NORD-01 … 03); Mitte: Nottuln 6,165.00; Süd: Lüdinghausen and Senden 4,582.85,
Olfen 2,082.85, Nordkirchen −417.15 (its advances exceed its share: the employer refunds).
The "raised" folder adds a correction K1 of +1,000.00 per Nord partner, dated 10.04.2025
and due 12.05.2025.

Process tests are ``slow``; the in-process ones at the end (``run_payments`` called directly)
are the developer loop.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from kim_excel.commands import payments as payments_command
from kim_excel.commands.payments import run_assignment, run_payments
from kim_excel.core.errors import KimError
from kim_excel.ledger.store import load_ledger
from tests.libreoffice import formula_mismatches, recalculate, tamper_cached_value
from tests.oddfiles import deflate_repeated, handmade_zip
from tests.payment_fixtures import (  # noqa: F401 (the fixtures built, clerk, ausgabe)
    APRIL_20,
    CAMT_FORMATS,
    FORMATS,
    MARCH_20,
    OTHER_ACCOUNT,
    RENT,
    YEAR,
    Billed,
    Clerk,
    allocations,
    assert_live_formulas,
    ausgabe_fixture,
    built_fixture,
    clerk_fixture,
    entries_of,
    figures,
    liesmich,
    money,
    open_entries,
    overview_partners,
    overview_payments,
    pay,
    snapshot,
    statement,
    statement_xml,
    table,
)
from tests.statements import Batch, camt, mt940, write_zip
from tests.statements import write as write_file
from tests.test_life import environment

D = Decimal


@pytest.mark.slow
def test_billerbeck_pays_its_bill_by_kassenzeichen(clerk):
    me = clerk()
    billerbeck = me.bill("2024-Billerbeck")
    before = set(snapshot(me.folder))
    out = me.zahlungen(me.statement("2025-03-20.xml",
                                    [billerbeck.paid_by_kassenzeichen(MARCH_20)]))

    assert "1 neue Buchung erfasst." in out
    assert "Stand der Zahlungen – Zahlungseingänge berücksichtigt: Stadt Coesfeld bis " \
           "20.03.2025, Stadt Dülmen noch kein Kontoauszug, Gemeinde Ascheberg noch kein " \
           "Kontoauszug:" in out
    line = next(x for x in out.splitlines() if x.strip().startswith("2024-Billerbeck "))
    assert line.split() == ["2024-Billerbeck", "Stadt", "Billerbeck", "6.875,00", "€",
                            "bezahlt", "6.875,00", "€", "bezahlt"]
    assert "Zuzuordnen" not in out
    assert set(snapshot(me.folder)) - before == {"Zahlungen_2024.xlsx",
                                                 ".kim-excel-sicherung/record-0003.json"}

    rows = figures(me.payments())
    assert rows["2024-Billerbeck"] == (D("6875.00"), D("0.00"), "bezahlt",
                                       rows["2024-Billerbeck"][3])
    assert rows["2024-Billerbeck"][3].date() == MARCH_20
    assert rows["2024-Havixbeck"] == (D("0.00"), D("6875.00"), "offen", None)
    assert rows["2024-Nordkirchen"] == (D("0.00"), D("-417.15"), "offen", None)
    assert allocations(me.payments()) == [("B1", D("6875.00"), "2024-Billerbeck",
                                           "Kassenzeichen")]
    assert_live_formulas(me.payments())
    [read] = table(me.payments(), "Kontoauszüge")
    assert read["Datei"] == "2025-03-20.xml" and read["Art"] == "camt.053"
    assert read["Konto"] == billerbeck.account.iban
    assert money(read["Prüfung (muss 0,00 € sein)"]) == D("0.00")

    record = me.ledger()
    [entry] = record["entries"]
    assert (entry["id"], entry["amount"], entry["name"]) == ("B1", "6875.00", "Stadt Billerbeck")
    assert record["assignments"] == []  # who paid what is derived, never stored
    assert [s["source"] for s in record["statements"]] == ["2025-03-20.xml"]

    shown = overview_payments(me.folder)
    assert shown["2024-Billerbeck"] == (D("6875.00"), D("0.00"), "bezahlt")
    partners = overview_partners(me.folder)
    assert partners["Stadt Billerbeck"] == (D("6875.00"), D("0.00"))
    assert partners["Gemeinde Nordkirchen"] == (D("0.00"), D("-417.15"))
    assert shown["2024-Rosendahl"] == (D("0.00"), D("6875.00"), "offen")
    readme = liesmich(me.folder)
    assert "Zahlung: bezahlt (eingegangen 6.875,00 €, offen 0,00 €)" in readme
    assert "Zahlungen_2024.xlsx Was bezahlt und was offen ist" in readme


@pytest.mark.slow
def test_a_rechnungsnummer_alone_is_found_transliterated_and_cut_between_two_lines(clerk):
    """Lüdinghausen's Kasse writes the number with its umlaut; the bank cuts the camt line
    after 140 characters inside it. Senden's MT940 transliterates and cuts it after 27."""
    me = clerk()
    luedinghausen, senden = me.bill("2024-Luedinghausen"), me.bill("2024-Senden")
    cut = "2024-Lüding"
    head = ("Eigenanteil Kommunales Case-Management Baustein 2, Kooperationsvereinbarung vom "
            "01.01.2023, Abrechnung vom 02.03.2025, Zahlung zu Rechnung ")
    head = head[len(head) - (140 - len(cut)):]
    text = head + "2024-Lüdinghausen, vielen Dank"
    pays = luedinghausen.payment(MARCH_20, text=text, iban="")
    assert pays.lines[0].endswith(cut) and pays.lines[1].startswith("hausen")
    assert luedinghausen.kassenzeichen not in text
    mt940_pays = senden.payment(MARCH_20, text="Zahlung Rechnung 2024-Senden Eigenanteil",
                                iban="")
    me.statement("camt.xml", [pays], region="Süd")
    me.statement("mt940.sta", [mt940_pays], region="Süd", form="MT940")
    sta = (me.root / "Kontoauszuege" / "mt940.sta").read_text().replace("\n", "")
    assert "?21SVWZ+Zahlung Rechnung 2024-?22Senden" in sta  # cut after 27 characters

    out = me.zahlungen(me.root / "Kontoauszuege")
    assert "2 neue Buchungen erfasst." in out
    rows = figures(me.payments())
    assert rows["2024-Luedinghausen"][:3] == (D("4582.85"), D("0.00"), "bezahlt")
    assert rows["2024-Senden"][:3] == (D("4582.85"), D("0.00"), "bezahlt")
    assert sorted(allocations(me.payments())) == [
        ("B1", D("4582.85"), "2024-Luedinghausen", "Rechnungsnummer"),
        ("B2", D("4582.85"), "2024-Senden", "Rechnungsnummer")]


@pytest.mark.slow
def test_a_partial_payment_leaves_the_rest_open_and_an_overpayment_is_shown(clerk):
    me = clerk()
    havixbeck, rosendahl = me.bill("2024-Havixbeck"), me.bill("2024-Rosendahl")
    me.zahlungen(me.statement("a.xml", [havixbeck.paid_by_kassenzeichen(MARCH_20, D("5000")),
                                        rosendahl.paid_by_number(MARCH_20, D("7000.01"))]))
    rows = figures(me.payments())
    assert rows["2024-Havixbeck"][:3] == (D("5000.00"), D("1875.00"), "teilweise bezahlt")
    assert rows["2024-Rosendahl"][:3] == (D("7000.01"), D("-125.01"), "überzahlt")
    assert_live_formulas(me.payments())
    assert overview_payments(me.folder)["2024-Havixbeck"] == (
        D("5000.00"), D("1875.00"), "teilweise bezahlt")
    # after the due date the rest is overdue (the state, not yet a reminder)
    me.zahlungen(me.statement("b.xml", [RENT], statement_id="2025-002"))
    rows = figures(me.payments())
    assert rows["2024-Havixbeck"][2] == "überfällig"
    assert rows["2024-Rosendahl"][2] == "überzahlt"
    assert not list(me.folder.glob("Zahlungserinnerung_*"))


@pytest.mark.slow
def test_one_payment_for_a_bill_and_its_correction_and_the_k1_payment_alone(clerk):
    """Billerbeck pays letter and K1 in one transfer naming both; Havixbeck pays only its
    K1 (``2024-Havixbeck-K1`` is not ``2024-Havixbeck``); Rosendahl pays too much for both."""
    me = clerk("raised")
    billerbeck, k1 = me.bill("2024-Billerbeck"), me.bill("2024-Billerbeck-K1")
    assert (billerbeck.amount, k1.amount, k1.due) == (D("6875.00"), D("1000.00"),
                                                      date(2025, 5, 12))
    both = billerbeck.payment(MARCH_20, D("7875.00"),
                              "Rechnungen 2024-Billerbeck-K1 und 2024-Billerbeck")
    only_k1 = me.bill("2024-Havixbeck-K1").paid_by_number(MARCH_20)
    too_much = me.bill("2024-Rosendahl").payment(
        MARCH_20, D("8000.00"), "2024-Rosendahl, 2024-Rosendahl-K1")
    me.zahlungen(me.statement("a.xml", [both, only_k1, too_much]))

    rows = figures(me.payments())
    assert rows["2024-Billerbeck"][:3] == (D("6875.00"), D("0.00"), "bezahlt")
    assert rows["2024-Billerbeck-K1"][:3] == (D("1000.00"), D("0.00"), "bezahlt")
    assert rows["2024-Havixbeck-K1"][:3] == (D("1000.00"), D("0.00"), "bezahlt")
    assert rows["2024-Havixbeck"][:3] == (D("0.00"), D("6875.00"), "offen")
    assert rows["2024-Rosendahl"][:3] == (D("6875.00"), D("0.00"), "bezahlt")
    assert rows["2024-Rosendahl-K1"][:3] == (D("1125.00"), D("-125.00"), "überzahlt")
    assert allocations(me.payments()) == [
        ("B1", D("6875.00"), "2024-Billerbeck", "mehrere Rechnungen"),
        ("B1", D("1000.00"), "2024-Billerbeck-K1", "mehrere Rechnungen"),
        ("B2", D("1000.00"), "2024-Havixbeck-K1", "Rechnungsnummer"),
        ("B3", D("6875.00"), "2024-Rosendahl", "mehrere Rechnungen"),
        ("B3", D("1125.00"), "2024-Rosendahl-K1", "mehrere Rechnungen")]
    assert_live_formulas(me.payments())
    assert overview_payments(me.folder)["2024-Havixbeck-K1"] == (D("1000.00"), D("0.00"),
                                                                 "bezahlt")
    assert overview_partners(me.folder) == {
        "Stadt Billerbeck": (D("7875.00"), D("0.00")),
        "Gemeinde Havixbeck": (D("1000.00"), D("6875.00")),
        "Gemeinde Rosendahl": (D("8000.00"), D("-125.00")),
        "Gemeinde Nottuln": (D("0.00"), D("6165.00")),
        "Stadt Lüdinghausen": (D("0.00"), D("4582.85")),
        "Gemeinde Nordkirchen": (D("0.00"), D("-417.15")),
        "Stadt Olfen": (D("0.00"), D("2082.85")),
        "Gemeinde Senden": (D("0.00"), D("4582.85"))}


@pytest.mark.slow
def test_a_proposal_is_not_recorded_until_the_clerk_assigns_it_and_the_undo(clerk):
    """Nottuln pays its exact amount from its own account without any reference: a
    proposal only. ``zuordnen`` confirms it; ``--aufheben`` makes it a proposal again."""
    me = clerk()
    nottuln = me.bill("2024-Nottuln")
    pays = nottuln.payment(MARCH_20, text="Eigenanteil Kooperation")
    out = me.zahlungen(me.statement("mitte.xml", [pays], region="Mitte"))
    assert "B1: 6.165,00 € von Gemeinde Nottuln – Vorschlag 2024-Nottuln" in out
    assert "kim-excel zuordnen --jahr 2024 BUCHUNG RECHNUNGSNUMMER [BETRAG]" in out
    assert figures(me.payments())["2024-Nottuln"][:3] == (D("0.00"), D("6165.00"), "offen")
    assert allocations(me.payments()) == []
    assert open_entries(me.payments()) == [("B1", D("6165.00"), "2024-Nottuln")]
    assert me.ledger()["assignments"] == []

    done = me.zuordnen("B1", "2024-Nottuln")
    assert done.returncode == 0, done.stderr
    assert "Buchung B1 (6.165,00 € vom 20.03.2025) → 2024-Nottuln: 6.165,00 € (von Hand)" in \
        done.stdout
    assert figures(me.payments())["2024-Nottuln"][:3] == (D("6165.00"), D("0.00"), "bezahlt")
    assert allocations(me.payments()) == [("B1", D("6165.00"), "2024-Nottuln", "von Hand")]
    assert open_entries(me.payments()) == []
    assert [(a["entry"], a["number"], a["amount"]) for a in me.ledger()["assignments"]] == [
        ("B1", "2024-Nottuln", None)]
    assert overview_payments(me.folder)["2024-Nottuln"][2] == "bezahlt"

    undone = me.zuordnen("--aufheben", "B1")
    assert undone.returncode == 0, undone.stderr
    assert "Zuordnung aufgehoben: Buchung B1 → 2024-Nottuln" in undone.stdout
    assert me.ledger()["assignments"] == []
    assert figures(me.payments())["2024-Nottuln"][:3] == (D("0.00"), D("6165.00"), "offen")
    assert open_entries(me.payments()) == [("B1", D("6165.00"), "2024-Nottuln")]


@pytest.mark.slow
def test_zuordnen_splits_an_entry_between_two_bills(clerk):
    """One unexplained transfer of 8,000.00 from Rosendahl's account: 6,875.00 to its
    letter, the rest to its correction."""
    me = clerk("raised")
    rosendahl = me.bill("2024-Rosendahl")
    me.zahlungen(me.statement("a.xml", [rosendahl.payment(MARCH_20, D("8000.00"),
                                                          "Umlage KIM")]))
    assert open_entries(me.payments()) == [("B1", D("8000.00"), "")]
    first = me.zuordnen("B1", "2024-Rosendahl", "6.875,00")
    assert first.returncode == 0, first.stderr
    assert "→ 2024-Rosendahl: 8.000,00 € (von Hand)\n  (angegeben 6.875,00 €; der Rest der " \
           "Buchung, 1.125,00 €, zählt vorerst ebenfalls für 2024-Rosendahl, bis er mit " \
           "„kim-excel zuordnen --jahr 2024 B1 RECHNUNGSNUMMER“ einer anderen Rechnung " \
           "zugeordnet ist)" in first.stdout
    rest = me.zuordnen("B1", "2024-Rosendahl-K1")
    assert rest.returncode == 0, rest.stderr
    assert "→ 2024-Rosendahl-K1: 1.125,00 € (von Hand)" in rest.stdout
    assert sorted(allocations(me.payments())) == [
        ("B1", D("1125.00"), "2024-Rosendahl-K1", "von Hand"),
        ("B1", D("6875.00"), "2024-Rosendahl", "von Hand")]
    rows = figures(me.payments())
    assert rows["2024-Rosendahl-K1"][:3] == (D("1125.00"), D("-125.00"), "überzahlt")
    assert [(a["number"], a["amount"]) for a in me.ledger()["assignments"]] == [
        ("2024-Rosendahl", "6875.00"), ("2024-Rosendahl-K1", None)]


@pytest.mark.slow
def test_zuordnen_refuses_in_german_and_records_nothing(clerk):
    me = clerk()
    me.zahlungen(me.statement("a.xml", [me.bill("2024-Billerbeck").payment(
        MARCH_20, D("100.00"), "Umlage")]))
    before = snapshot(me.folder)
    cases = [
        (("B9", "2024-Billerbeck"), "Eine Buchung „B9“ gibt es in 2024 nicht; die Nummern "
                                    "stehen in Zahlungen_2024.xlsx (Blatt „Buchungen“)."),
        (("B1", "2024-Coesfeld"), "Eine Rechnung „2024-Coesfeld“ gibt es in 2024 nicht (z. B. "
                                  "2024-Billerbeck, 2024-Havixbeck"),
        (("B1", "2024-Billerbeck", "100,01"), "Buchung B1: die Aufteilung ergibt 100,01 €, "
                                              "die Buchung lautet nur auf 100,00 €."),
        (("B1", "2024-Billerbeck", "0"), "Der Betrag 0,00 € ist nicht möglich"),
        (("B1", "2024-Billerbeck", "zehn"), "„zehn“ ist kein Betrag"),
        (("--aufheben", "B1"), "Buchung B1 ist nicht von Hand zugeordnet; es gibt nichts "
                               "aufzuheben."),
    ]
    for args, message in cases:
        refused = me.zuordnen(*args)
        assert refused.returncode != 0, args
        assert message in refused.stderr, (args, refused.stderr)
        assert "Traceback" not in refused.stderr
        assert snapshot(me.folder) == before, args


@pytest.mark.slow
def test_pending_entries_are_listed_and_never_recorded(clerk):
    me = clerk()
    olfen = me.bill("2024-Olfen")
    noon = me.statement("mittag.xml", [olfen.paid_by_kassenzeichen(MARCH_20, status="PDNG")],
                        region="Süd", form="camt.052.001.08")
    out = me.zahlungen(noon)
    assert "0 neue Buchungen erfasst." in out
    assert "Vorgemerkt, nicht gebucht (wird nicht erfasst): 2.082,85 € Stadt Olfen" in out
    assert me.ledger()["entries"] == []
    assert figures(me.payments())["2024-Olfen"][:3] == (D("0.00"), D("2082.85"), "offen")


@pytest.mark.slow
def test_a_reversal_takes_the_payment_back(clerk):
    me = clerk()
    senden = me.bill("2024-Senden")
    paid = senden.paid_by_kassenzeichen(MARCH_20, bank_reference="R-1")
    back = replace(paid, amount=-paid.amount, booked=MARCH_20 + timedelta(days=1),
                   reversal=True, bank_reference="R-2", text="Rueckueberweisung "
                   + senden.kassenzeichen)
    me.zahlungen(me.statement("a.xml", [paid, back], region="Süd"))
    assert figures(me.payments())["2024-Senden"][:3] == (D("0.00"), D("4582.85"), "offen")
    assert sorted(allocations(me.payments())) == [
        ("B1", D("4582.85"), "2024-Senden", "Kassenzeichen"),
        ("B2", D("-4582.85"), "2024-Senden", "Kassenzeichen")]
    assert_live_formulas(me.payments())


@pytest.mark.slow
def test_the_same_statement_twice_and_overlapping_statements_count_each_entry_once(clerk):
    """The same file again, a day later; then the intraday camt.052 of the 20th and the
    camt.053 of that day, which repeats its entry and adds one."""
    me = clerk()
    billerbeck, havixbeck = me.bill("2024-Billerbeck"), me.bill("2024-Havixbeck")
    first = billerbeck.paid_by_kassenzeichen(MARCH_20, bank_reference="2025032000001")
    day = me.statement("tag.xml", [first])
    me.zahlungen(day, day="2025-03-21")
    after_first = (figures(me.payments()), me.ledger()["entries"], me.ledger()["statements"])
    out = me.zahlungen(day, day="2025-03-22")
    assert "0 neue Buchungen erfasst, 1 schon bekannt (nicht doppelt gezählt)." in out
    assert (figures(me.payments()), me.ledger()["entries"], me.ledger()["statements"]) == \
        after_first

    second = havixbeck.paid_by_kassenzeichen(APRIL_20, bank_reference="2025042000001")
    third = havixbeck.paid_by_number(APRIL_20, D("0.01"), bank_reference="2025042000002")
    noon = me.statement("mittag.xml", [second], form="camt.052.001.08",
                        statement_id="2025-04-20-1")
    evening = me.statement("abend.xml", [second, third], statement_id="2025-04-20")
    out = me.zahlungen(noon, evening)
    assert "2 neue Buchungen erfasst, 1 schon bekannt (nicht doppelt gezählt)." in out
    assert figures(me.payments())["2024-Havixbeck"][:3] == (D("6875.01"), D("-0.01"),
                                                            "überzahlt")
    assert [e[0] for e in entries_of(me)] == ["B1", "B2", "B3"]


@pytest.mark.slow
def test_a_statement_of_another_account_is_skipped_and_named(clerk):
    me = clerk()
    billerbeck = me.bill("2024-Billerbeck")
    ours = me.statement("nord.xml", [billerbeck.paid_by_kassenzeichen(MARCH_20)])
    theirs = statement(me.root / "Kontoauszuege" / "kita.xml", OTHER_ACCOUNT,
                       [billerbeck.paid_by_kassenzeichen(MARCH_20, D("12.00"))],
                       statement_id="KITA-1")
    out = me.zahlungen(ours, theirs)
    assert f"Übersprungen: kita.xml ist ein Auszug des Kontos {OTHER_ACCOUNT.iban}, das " \
           f"keiner abrechnenden Anstellungskörperschaft gehört." in out
    assert [e[1:] for e in entries_of(me)] == [("6875.00", "nord.xml")]
    assert [r["Datei"] for r in table(me.payments(), "Kontoauszüge")] == ["nord.xml"]


@pytest.mark.slow
def test_every_format_and_version_gives_the_same_figures(clerk, tmp_path):
    """Süd's day as camt.053/.052/.054 in .001.08 and .001.02, as the bank's ZIP and as
    MT940: the same Zahlungen_2024.xlsx figures, entries and assignments."""
    seen = {}
    start = clerk().folder.parent
    for form in FORMATS:
        root = tmp_path / form
        shutil.copytree(start, root / "output")
        me = Clerk(root)
        luedinghausen, olfen = me.bill("2024-Luedinghausen"), me.bill("2024-Olfen")
        nordkirchen, senden = me.bill("2024-Nordkirchen"), me.bill("2024-Senden")
        day = [luedinghausen.paid_by_number(APRIL_20),
               olfen.paid_by_kassenzeichen(APRIL_20, D("1000.00")),
               nordkirchen.refunded(APRIL_20),
               senden.payment(APRIL_20, D("4600.00")),
               RENT]
        name = {"ZIP": "auszug.zip", "MT940": "auszug.sta"}.get(form, "auszug.xml")
        me.statement(name, day, region="Süd", form=form)
        me.zahlungen(me.root / "Kontoauszuege")
        seen[form] = (figures(me.payments()), allocations(me.payments()),
                      open_entries(me.payments()), [e[1] for e in entries_of(me)])
    expected = seen["camt.053.001.08"]
    for form, result in seen.items():
        assert result == expected, form
    rows = expected[0]
    assert rows["2024-Luedinghausen"][:3] == (D("4582.85"), D("0.00"), "bezahlt")
    assert rows["2024-Olfen"][:3] == (D("1000.00"), D("1082.85"), "überfällig")
    assert rows["2024-Nordkirchen"][:3] == (D("-417.15"), D("0.00"), "erstattet")
    assert rows["2024-Senden"][:3] == (D("4600.00"), D("-17.15"), "überzahlt")
    assert expected[3] == ["4582.85", "1000.00", "-417.15", "4600.00", "-1200.00"]
    assert expected[2] == []  # the rent concerns no partner: neither proposed nor unexplained


@pytest.mark.slow
def test_a_camt054_detailing_a_batch_counts_its_payments_once_in_any_order(clerk, tmp_path):
    """The daily statement books two partners' payments as one batch entry; the camt.054
    details it. Read together, 054 first, or a day apart: each payment once, the batch
    never beside them."""
    me = clerk()
    billerbeck, havixbeck = me.bill("2024-Billerbeck"), me.bill("2024-Havixbeck")
    batch = Batch((billerbeck.paid_by_kassenzeichen(MARCH_20, bank_reference="T1"),
                   havixbeck.paid_by_kassenzeichen(MARCH_20, bank_reference="T2")),
                  bank_reference="SAMMLER-1")
    account = me.billed.account("Nord")
    xml053 = camt("053", "08", account, [batch])
    xml054 = camt("054", "08", account, [batch])
    for order in (("053", "054"), ("054", "053"), ("both",)):
        root = tmp_path / "-".join(order)
        shutil.copytree(me.folder.parent, root / "output")
        other = Clerk(root)
        files = {"053": write_file(root / "053.xml", xml053),
                 "054": write_file(root / "054.xml", xml054)}
        if order == ("both",):
            other.zahlungen(files["053"], files["054"])
        else:
            for n, kind in enumerate(order):
                other.zahlungen(files[kind], day=f"2025-03-2{n + 1}")
        rows = figures(other.payments())
        assert rows["2024-Billerbeck"][:3] == (D("6875.00"), D("0.00"), "bezahlt"), order
        assert rows["2024-Havixbeck"][:3] == (D("6875.00"), D("0.00"), "bezahlt"), order
        assert sum(a[1] for a in allocations(other.payments())) == D("13750.00"), order
        assert open_entries(other.payments()) == [], order


# ------------------------------------------------------------------ bad statements


def bad_statements(me: Clerk) -> dict[str, tuple[Path, str]]:
    """Each bad file a bank or a clerk might hand over, and what the refusal must name."""
    folder = me.root / "schlecht"
    account = me.billed.account("Nord")
    good = statement_xml(account, [me.bill("2024-Havixbeck").paid_by_kassenzeichen(MARCH_20)],
                         "camt.053.001.08", "2025-077")
    stream = deflate_repeated(b"<Ntry/>" * 9000, 10_000)
    return {
        "not a statement": (write_file(folder / "notiz.xml", b"<?xml version='1.0'?><Notiz/>"),
                            "notiz.xml: Datei: Die Datei ist eine XML-Datei, aber kein "
                            "Kontoauszug im camt-Format"),
        "unknown version": (write_file(folder / "neu.xml", good.replace(
            b"camt.053.001.08", b"camt.053.001.13")), "neu.xml: Datei: Die camt-Version "
                                                      "camt.053.001.13"),
        "currency": (write_file(folder / "usd.xml", good.replace(b"<Ccy>EUR</Ccy>",
                                                                 b"<Ccy>USD</Ccy>")),
                     "usd.xml: Element Stmt/Acct/Ccy: Das Konto wird in USD geführt"),
        "balances": (statement(folder / "salden.xml", account, [
            me.bill("2024-Havixbeck").paid_by_kassenzeichen(MARCH_20)],
            closing=D("1.00")), "salden.xml: Element Stmt/Bal[2]: Die Salden passen nicht zu "
                                "den Umsätzen"),
        "mt940 balances": (statement(folder / "salden.sta", account, [
            me.bill("2024-Havixbeck").paid_by_kassenzeichen(MARCH_20)], form="MT940",
            closing=D("1.00")), "salden.sta: Zeile "),
        "damaged zip": (write_file(folder / "kaputt.zip", write_zip(
            me.root / "gut.zip", {"a.xml": good}).read_bytes()[:-40]),
            "kaputt.zip: Datei: Das ZIP-Archiv ist beschädigt"),
        "zip bomb": (handmade_zip(folder / "bombe.zip", [("a.xml", stream, 0, 1024)]),
                     "bombe.zip: Datei: Das ZIP-Archiv ist ungewöhnlich stark gepackt"),
    }


@pytest.mark.slow
def test_a_bad_statement_refuses_the_whole_run_and_the_folder_stays_byte_identical(clerk):
    me = clerk()
    billerbeck = me.bill("2024-Billerbeck")
    me.zahlungen(me.statement("erster.xml", [billerbeck.paid_by_kassenzeichen(MARCH_20)]))
    good = me.statement("gut.xml", [me.bill("2024-Rosendahl").paid_by_kassenzeichen(
        APRIL_20)], statement_id="2025-099")
    before = snapshot(me.root / "output")
    for case, (path, message) in bad_statements(me).items():
        refused = me.kim("zahlungen", "--jahr", YEAR, "--erinnern", good, path)
        assert refused.returncode == 1, case
        assert message in refused.stderr, (case, refused.stderr)
        assert "Traceback" not in refused.stderr
        assert "nichts erfasst" in refused.stderr, case
        assert snapshot(me.root / "output") == before, case
    # all of them at once: every file named, once each
    refused = me.kim("zahlungen", "--jahr", YEAR, good, me.root / "schlecht")
    assert refused.returncode == 1
    for case, (path, _) in bad_statements(me).items():
        assert f"{path.name}:" in refused.stderr, case
    assert snapshot(me.root / "output") == before


@pytest.mark.slow
def test_zahlungen_before_any_settlement_is_refused_in_german(tmp_path, clerk):
    me = clerk()
    path = me.statement("a.xml", [me.bill("2024-Billerbeck").paid_by_kassenzeichen(MARCH_20)])
    before = snapshot(me.root / "output")
    refused = me.kim("zahlungen", "--jahr", 2023, path)
    assert refused.returncode == 1
    assert "Für 2023 gibt es noch keine Abrechnung" in refused.stderr
    assert "bitte zuerst `kim-excel abrechnen` ausführen" in refused.stderr
    assert snapshot(me.root / "output") == before


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_recalculates_the_payments_workbook_and_a_reminder_to_the_values_written(
        clerk, tmp_path):
    me = clerk("raised")
    me.zahlungen("--erinnern", me.statement("a.xml", [
        me.bill("2024-Billerbeck").payment(APRIL_20, D("7000.00"),
                                           "2024-Billerbeck 2024-Billerbeck-K1"),
        me.bill("2024-Havixbeck").paid_by_kassenzeichen(APRIL_20, D("1234.56")),
        RENT]))
    workbook = me.payments()
    reminder = me.folder / "Zahlungserinnerung_2024_Havixbeck_1.xlsx"
    assert reminder.is_file()
    wrong = tmp_path / "falsch.xlsx"  # proves the check: a cache that lies is caught
    tamper_cached_value(workbook, wrong, "xl/worksheets/sheet1.xml", "I5", "1")
    fresh = recalculate([workbook, reminder, wrong], tmp_path / "neu")
    for path, formulas in ((workbook, 2 * 11 + 1), (reminder, 3)):
        count, mismatches = formula_mismatches(path, fresh[path])
        assert count == formulas and not mismatches, (path.name, count,
                                                      [str(m) for m in mismatches])
    _, caught = formula_mismatches(wrong, fresh[wrong])
    assert [m.cell for m in caught] == ["I5"]


# ------------------------------------------------------------------ a killed run


@pytest.mark.slow
def test_a_killed_run_records_nothing_or_everything(clerk):
    """SIGKILL while ``zahlungen`` reads 1,500 entries, and at moments while it writes:
    the ledger holds none of them or all of them, Zahlungen_2024.xlsx agrees with it, and
    the next run completes the work."""
    me = clerk()
    billerbeck = me.bill("2024-Billerbeck")
    many = [billerbeck.payment(APRIL_20, D("1.00"), f"Teilzahlung {n} KIM-2024-NORD-01",
                               bank_reference=f"T{n:05d}") for n in range(1500)]
    path = me.statement("gross.xml", many)
    ausgabe = me.root / "output"
    command = [sys.executable, "-m", "kim_excel", "zahlungen", "--jahr", str(YEAR), str(path)]

    def start() -> subprocess.Popen:
        return subprocess.Popen(command, cwd=me.root, env=environment(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def staged(process: subprocess.Popen) -> float:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if list(ausgabe.glob(f".{YEAR}.neu-{process.pid}")):
                return time.monotonic()
            assert process.poll() is None, "the run ended before it wrote anything"
            time.sleep(0.002)
        raise AssertionError("no staging folder within 120 s")

    def state() -> int:
        """How many entries the folder holds, after checking that it is whole."""
        visible = sorted(p.name for p in ausgabe.iterdir() if not p.name.startswith("."))
        if visible == []:  # killed between the two renames: the next run puts it back
            assert list(ausgabe.glob(f".{YEAR}.alt-*"))
            return -1
        assert visible == [str(YEAR)]
        recorded = len(me.ledger()["entries"])
        assert recorded in (0, len(many)), recorded
        workbook = me.payments()
        assert workbook.is_file() == bool(recorded)
        if recorded:
            assert figures(workbook)["2024-Billerbeck"][:2] == (D("1500.00"), D("5375.00"))
        return recorded

    pristine = me.root / "vorher"
    shutil.copytree(ausgabe, pristine)
    probe = start()  # how long the writing takes, from the staging folder to the end
    began = staged(probe)
    assert probe.wait(timeout=120) == 0
    window = time.monotonic() - began
    shutil.rmtree(ausgabe)
    shutil.copytree(pristine, ausgabe)

    outcomes = []
    process = start()
    time.sleep(0.3)  # while it reads the statement
    process.kill()
    process.wait(timeout=30)
    outcomes.append(state())
    killed_while_writing = 0
    for fraction in (0.0, 0.3, 0.6, 1.2):
        process = start()
        staged(process)
        time.sleep(window * fraction)
        killed_while_writing += process.poll() is None
        process.kill()
        process.wait(timeout=30)
        outcomes.append(state())
        if outcomes[-1] == len(many):
            break
    assert outcomes[0] == 0 and killed_while_writing >= 2, (outcomes, window)
    done = subprocess.run(command, cwd=me.root, env=environment(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert state() == len(many)
    assert sorted(p.name for p in ausgabe.iterdir()) == [".kim-excel.lock", str(YEAR)]


# ------------------------------------------------------------------ in process: the developer loop


def test_reading_the_same_statement_on_another_day_changes_nothing(ausgabe):
    """Reproduction of a bug: the statement was listed again in the ledger and in
    Zahlungen_2024.xlsx (its read date made it look new)."""
    out = ausgabe()
    bill = Billed.of(out / "2024").bill("2024-Billerbeck")
    first = pay(out, [bill.paid_by_kassenzeichen(MARCH_20)], day=date(2025, 3, 21))
    assert first.lines[0] == "1 neue Buchung erfasst."
    before = snapshot(out)
    again = pay(out, [bill.paid_by_kassenzeichen(MARCH_20)], day=date(2025, 6, 30))
    assert again.lines[0] == "0 neue Buchungen erfasst, 1 schon bekannt (nicht doppelt gezählt)."
    assert snapshot(out) == before
    assert len(load_ledger(out / "2024", YEAR).statements) == 1


def test_overlapping_mt940_exports_count_each_daily_statement_once(ausgabe):
    """March, then March and April in one export: the daily statement of 20.03. (same
    ``:20:`` and ``:28C:``) is the same statement, its entry the same entry."""
    out = ausgabe()
    billed = Billed.of(out / "2024")
    billerbeck, havixbeck = billed.bill("2024-Billerbeck"), billed.bill("2024-Havixbeck")
    march = mt940(billerbeck.account, [billerbeck.paid_by_kassenzeichen(MARCH_20)],
                  reference="STMT0320", number="00055/001")
    april = mt940(billerbeck.account, [havixbeck.paid_by_kassenzeichen(APRIL_20)],
                  reference="STMT0420", number="00056/001")
    first = run_payments(out, YEAR, [write_file(out.parent / "maerz.sta", march)],
                         date(2025, 4, 21))
    assert first.lines[0] == "1 neue Buchung erfasst."
    both = run_payments(out, YEAR, [write_file(out.parent / "maerz-april.sta", march + april)],
                        date(2025, 4, 22))
    assert both.lines[0] == "1 neue Buchung erfasst, 1 schon bekannt (nicht doppelt gezählt)."
    ledger = load_ledger(out / "2024", YEAR)
    assert [e.amount for e in ledger.entries] == [D("6875.00"), D("6875.00")]
    assert [s.source for s in ledger.statements] == ["maerz.sta", "maerz-april.sta"]
    rows = figures(out / "2024" / "Zahlungen_2024.xlsx")
    assert rows["2024-Billerbeck"][:3] == rows["2024-Havixbeck"][:3] == (
        D("6875.00"), D("0.00"), "bezahlt")


def test_zuordnen_takes_the_number_as_written_replaces_its_own_and_refuses_drafts(ausgabe):
    out = ausgabe("nord issued")
    havixbeck = Billed.of(out / "2024").bill("2024-Havixbeck")
    pay(out, [havixbeck.payment(MARCH_20, D("7000.00"), text="Umlage")])
    first = run_assignment(out, YEAR, "b1", "2024-HAVIXBECK", D("6000"), date(2025, 4, 1))
    assert first[0] == "Buchung B1 (7.000,00 € vom 20.03.2025) → 2024-Havixbeck: 7.000,00 € " \
                       "(von Hand)"
    second = run_assignment(out, YEAR, "B1", "2024-havixbeck", None, date(2025, 4, 2))
    assert second == ["Buchung B1 (7.000,00 € vom 20.03.2025) → 2024-Havixbeck: 7.000,00 € "
                      "(von Hand)", "  (ersetzt die Zuordnung von Hand vom 01.04.2025 über "
                      "6.000,00 €)"]
    ledger = load_ledger(out / "2024", YEAR)
    assert [(a.entry, a.number, a.amount) for a in ledger.assignments] == [
        ("B1", "2024-Havixbeck", None)]
    before = snapshot(out)
    with pytest.raises(KimError, match="Die Rechnung 2024-Nottuln ist noch ein Entwurf"):
        run_assignment(out, YEAR, "B1", "2024-Nottuln", None, date(2025, 4, 3))
    assert snapshot(out) == before


def test_a_run_that_fails_while_writing_records_nothing(ausgabe, monkeypatch):
    out = ausgabe()
    before = snapshot(out)
    written = []

    def second_fails(path, *args):
        written.append(path.name)
        if len(written) == 2:
            raise RuntimeError("bug in the reminder")
        real(path, *args)

    real = payments_command.write_reminder
    monkeypatch.setattr(payments_command, "write_reminder", second_fails)
    billerbeck = Billed.of(out / "2024").bill("2024-Billerbeck")
    with pytest.raises(RuntimeError, match="bug in the reminder"):
        pay(out, [billerbeck.paid_by_kassenzeichen(MARCH_20), RENT], remind=True)
    assert len(written) == 2
    assert snapshot(out) == before
    assert sorted(p.name for p in out.iterdir()) == [".kim-excel.lock", "2024"]


def test_a_bad_statement_beside_good_ones_records_nothing(ausgabe):
    out = ausgabe()
    billed = Billed.of(out / "2024")
    account = billed.account("Nord")
    good = statement(out.parent / "gut.xml", account,
                     [billed.bill("2024-Billerbeck").paid_by_kassenzeichen(MARCH_20)])
    bad = statement(out.parent / "salden.xml", account, [RENT], closing=D("0.00"),
                    statement_id="2025-002")
    before = snapshot(out)
    with pytest.raises(KimError) as refused:
        run_payments(out, YEAR, [good, bad], date(2025, 4, 21))
    message = str(refused.value)
    assert message.startswith("Die Kontoauszüge werden nicht übernommen – nichts erfasst, "
                              "auch nicht aus den übrigen Auszügen dieses Laufs:\n  salden.xml: "
                              "Element Stmt/Bal[2]: Die Salden passen nicht zu den Umsätzen")
    assert "gut.xml" not in message
    assert snapshot(out) == before


@pytest.mark.parametrize("form", CAMT_FORMATS)
def test_each_camt_format_pays_by_kassenzeichen(ausgabe, form):
    out = ausgabe()
    bill = Billed.of(out / "2024").bill("2024-Rosendahl")
    done = pay(out, [bill.paid_by_kassenzeichen(MARCH_20, D("6000.00"))], form=form)
    assert done.lines[0] == "1 neue Buchung erfasst."
    assert figures(out / "2024" / "Zahlungen_2024.xlsx")["2024-Rosendahl"][:3] == (
        D("6000.00"), D("875.00"), "teilweise bezahlt")


def test_a_refused_split_names_the_entry_the_clerk_typed(ausgabe):
    """Reproduction of a bug: the matching names entries by identity (``…/2025-002/10``),
    and translating them to the clerk's ids replaced ``…/2025-002/1`` inside it: the
    message named B40 for B13."""
    out = ausgabe()
    billerbeck = Billed.of(out / "2024").bill("2024-Billerbeck")
    pay(out, [billerbeck.payment(MARCH_20, D("1.00"), f"Spende {n}") for n in range(3)])
    pay(out, [billerbeck.payment(MARCH_20, D(f"{n}.00"), f"Umlage {n}") for n in range(1, 11)],
        name="b.xml", statement_id="2025-002")
    ledger = load_ledger(out / "2024", YEAR)
    tenth = next(e for e in ledger.entries if e.identity.endswith("/2025-002/10"))
    assert (tenth.id, tenth.amount) == ("B13", D("10.00"))
    before = snapshot(out)
    with pytest.raises(KimError) as refused:
        run_assignment(out, YEAR, "B13", "2024-Billerbeck", D("10.01"), date(2025, 4, 22))
    assert str(refused.value) == (
        "Die Zuordnung von Hand ist so nicht möglich:\n  – Buchung B13: die Aufteilung ergibt "
        "10,01 €, die Buchung lautet nur auf 10,00 €.")
    assert snapshot(out) == before
