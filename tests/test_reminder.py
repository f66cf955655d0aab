"""Reminders (SPEC § 9, ``Zahlungserinnerung_<J>_<Kommune>_<n>.xlsx``) through the real
commands: ``zahlungen --erinnern`` writes them for overdue open bills of issued letters and
corrections (a credit netted, none below ``--mindestbetrag``, the next round only after the
last one's date to pay), ``festschreiben`` posts them, ``versenden`` drafts and sends them,
also in the next year. Statements and folders: ``tests/payment_fixtures.py``.

The "lowered" folder adds a correction K1 of −500.00 (a credit) per Nord partner, the
"raised" one K1 of +1,000.00, both dated 10.04.2025 and due 12.05.2025; the letters are
due 01.04.2025, so from 15.04.2025 (14 days' karenz) a reminder is due.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from email import policy
from email.parser import BytesParser

import openpyxl
import pytest

from kim_excel.commands.payments import run_assignment
from kim_excel.core.references import payment_reference
from kim_excel.documents.reminder import NO_FEES
from kim_excel.ledger.store import load_ledger
from tests.builders import example_2024
from tests.builders import write as write_workbook
from tests.payment_fixtures import (  # noqa: F401 (the fixtures built, clerk, ausgabe)
    APRIL_20,
    MARCH_20,
    NORD,
    RENT,
    YEAR,
    Billed,
    Clerk,
    ausgabe_fixture,
    bills,
    built_fixture,
    cells,
    clerk_fixture,
    figures,
    girocode_of,
    liesmich,
    money,
    pay,
    quiet_days,
    snapshot,
    table,
)
from tests.smtp_fixture import smtp_env

D = Decimal


@pytest.mark.slow
def test_reminders_go_to_partners_with_overdue_open_bills_with_a_girocode_of_the_open_total(
        clerk, tmp_path):
    """The lowered folder: each Nord partner owes its letter (6,875.00) and is owed its K1
    (−500.00). Billerbeck paid 1,000.00: reminded of 5,375.00 net. Havixbeck paid all:
    it is owed 500.00, no reminder. Rosendahl paid 6,370.00: 5.00 net, below 10 €.
    Nordkirchen is only owed a refund. Mitte and Süd paid nothing: reminded."""
    me = clerk("lowered")
    k1 = me.bill("2024-Billerbeck-K1")
    assert (k1.amount, k1.due) == (D("-500.00"), date(2025, 5, 12))
    out = me.zahlungen("--erinnern", me.statement("nord.xml", [
        me.bill("2024-Billerbeck").paid_by_kassenzeichen(MARCH_20, D("1000.00")),
        me.bill("2024-Havixbeck").paid_by_kassenzeichen(MARCH_20),
        me.bill("2024-Rosendahl").paid_by_kassenzeichen(APRIL_20, D("6370.00"))]),
        *quiet_days(me))

    reminders = sorted(p.name for p in me.folder.glob("Zahlungserinnerung_*"))
    assert reminders == [f"Zahlungserinnerung_2024_{n}_1.xlsx" for n in (
        "Billerbeck", "Luedinghausen", "Nottuln", "Olfen", "Senden")]
    assert "Zahlungserinnerung 2024-Billerbeck-Z1 an Stadt Billerbeck: 5.375,00 € offen, neu " \
           "zu zahlen bis 05.05.2025 (Zahlungserinnerung_2024_Billerbeck_1.xlsx)" in out

    letter = me.folder / "Zahlungserinnerung_2024_Billerbeck_1.xlsx"
    texts = cells(letter, "Zahlungserinnerung")
    lines = [t for t in texts if isinstance(t, str) and t.startswith(("Rechnung ", "Korrektur "))]
    assert lines == ["Rechnung 2024-Billerbeck vom 02.03.2025, fällig am 01.04.2025",
                     "Korrektur 2024-Billerbeck-K1 vom 10.04.2025, fällig am 12.05.2025"]
    assert NO_FEES in texts
    assert any("Zahlungseingänge bis zum 20.04.2025" in str(t) for t in texts)
    assert not any("Zins" in str(t) and t != NO_FEES for t in texts)
    assert not any("Gebühr" in str(t) and t != NO_FEES for t in texts)
    ws = openpyxl.load_workbook(letter, data_only=True)["Zahlungserinnerung"]
    assert (ws.page_setup.paperSize, ws.page_setup.orientation) == (9, "portrait")  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    total = next(r for r in ws.iter_rows() if r[0].value == "Offen insgesamt")
    assert money(total[3].value) == D("5375.00")
    payload = girocode_of(letter, tmp_path)
    assert payload[7] == "EUR5375.00"
    assert payload[10] == payment_reference(YEAR, "2024-Billerbeck", "KIM-2024-NORD-01")

    reminder = next(r for r in me.ledger()["regions"]["Nord"]["reminders"])
    assert reminder["covers"] == ["2024-Billerbeck", "2024-Billerbeck-K1"]
    assert reminder["bill"]["amount"] == "5375.00" and reminder["until"] == "2025-04-20"
    assert reminder["bill"]["kind"] == "reminder" and reminder["round"] == 1
    readme = liesmich(me.folder)
    assert "Zahlungserinnerung 2024-Billerbeck-Z1 an Stadt Billerbeck: offen 5.375,00 €" in \
        readme
    overview = table(me.folder / "Uebersicht_2024.xlsx", "Rechnungen", header_row=3)
    assert "2024-Billerbeck-Z1" in [r["Rechnungsnummer"] for r in overview]


@pytest.mark.slow
def test_no_reminder_for_bills_not_yet_issued(clerk):
    me = clerk("nord issued")
    assert {b.region for b in me.billed.bills} == {"Nord"}
    out = me.zahlungen("--erinnern", me.statement("nord.xml", [RENT]), *quiet_days(me))
    assert sorted(p.name for p in me.folder.glob("Zahlungserinnerung_*")) == [
        f"Zahlungserinnerung_2024_{n}_1.xlsx" for n in ("Billerbeck", "Havixbeck",
                                                        "Rosendahl")]
    assert "Nottuln" not in out and "Olfen" not in out
    assert set(bills(me.payments())) == {"2024-Billerbeck", "2024-Havixbeck", "2024-Rosendahl"}


@pytest.mark.slow
def test_a_second_erinnern_writes_nothing_new_and_the_next_round_waits_for_the_date_to_pay(
        clerk):
    me = clerk()
    havixbeck = me.bill("2024-Havixbeck")
    nord = me.statement("a.xml", [havixbeck.paid_by_kassenzeichen(MARCH_20), RENT])
    me.zahlungen("--erinnern", nord, day="2025-04-21")
    first = snapshot(me.folder)
    assert "Zahlungserinnerung_2024_Billerbeck_1.xlsx" in first
    assert "Zahlungserinnerung_2024_Havixbeck_1.xlsx" not in first

    again = me.zahlungen("--erinnern", nord, day="2025-04-22")
    assert "Keine neue Zahlungserinnerung fällig." in again
    assert "Noch nicht versandt: Zahlungserinnerung_2024_Billerbeck_1.xlsx" in again
    assert snapshot(me.folder) == first  # the same state: nothing new, nothing rewritten

    assert me.kim("festschreiben", "--jahr", YEAR, "--ja", day="2025-04-23").returncode == 0
    posted = next(r for r in me.ledger()["regions"]["Nord"]["reminders"]
                  if r["bill"]["partner"] == "Billerbeck")
    assert posted["bill"]["posted"] == "2025-04-23" and posted["bill"]["due"] == "2025-05-05"

    # payments known up to the reminder's date to pay: it has not passed, no second round
    on_due = me.statement("b.xml", [replace(RENT, booked=date(2025, 5, 5))],
                          statement_id="2025-05-05")
    out = me.zahlungen("--erinnern", on_due, day="2025-05-06")
    assert "Keine neue Zahlungserinnerung fällig." in out
    assert not list(me.folder.glob("Zahlungserinnerung_*_2.xlsx"))
    # the day after: round 2, for what is still open
    after = me.statement("c.xml", [replace(RENT, booked=date(2025, 5, 6), amount=D("-1.00"))],
                         statement_id="2025-05-06")
    out = me.zahlungen("--erinnern", after, day="2025-05-07")
    assert "Zahlungserinnerung 2024-Billerbeck-Z2 an Stadt Billerbeck: 6.875,00 € offen" in out
    assert (me.folder / "Zahlungserinnerung_2024_Billerbeck_2.xlsx").is_file()
    assert first["Zahlungserinnerung_2024_Billerbeck_1.xlsx"] == (
        me.folder / "Zahlungserinnerung_2024_Billerbeck_1.xlsx").read_bytes()
    assert [r["round"] for r in me.ledger()["regions"]["Nord"]["reminders"]
            if r["bill"]["partner"] == "Billerbeck"] == [1, 2]


@pytest.mark.slow
def test_a_draft_reminder_goes_when_the_partner_pays_before_it_was_sent(clerk):
    me = clerk()
    billerbeck = me.bill("2024-Billerbeck")
    me.zahlungen("--erinnern", me.statement("a.xml", [RENT]))
    assert (me.folder / "Zahlungserinnerung_2024_Billerbeck_1.xlsx").is_file()
    out = me.zahlungen(me.statement("b.xml", [billerbeck.paid_by_kassenzeichen(
        APRIL_20 + timedelta(days=1))], statement_id="2025-002"), day="2025-04-22")
    assert "Zahlungserinnerung 2024-Billerbeck-Z1 an Stadt Billerbeck entfällt (noch nicht " \
           "versandt; Zahlungserinnerung_2024_Billerbeck_1.xlsx wird entfernt): offen ist " \
           "jetzt 0,00 € statt 6.875,00 €." in out
    assert not (me.folder / "Zahlungserinnerung_2024_Billerbeck_1.xlsx").exists()
    assert "Billerbeck" not in {r["bill"]["partner"]
                                for r in me.ledger()["regions"]["Nord"]["reminders"]}
    drafts = me.kim("versenden", "--jahr", YEAR, day="2025-04-22")
    assert drafts.returncode == 0, drafts.stderr
    mails = sorted(p.name for p in (me.folder / "E-Mails").iterdir())
    assert "Zahlungserinnerung_2024_Havixbeck_1.eml" in mails
    assert "Zahlungserinnerung_2024_Billerbeck_1.eml" not in mails


# ------------------------------------------------------------------ versenden


def reminded_in_the_next_year(me: Clerk) -> None:
    """Nord's statement of 20.04.2025: Havixbeck and Rosendahl paid, Billerbeck did not;
    reminders are written; then input/ holds the 2025 workbook, as in January 2026."""
    me.zahlungen("--erinnern", me.statement("a.xml", [
        me.bill(f"2024-{n}").paid_by_kassenzeichen(MARCH_20) for n in (
            "Havixbeck", "Rosendahl")] + [RENT], region="Nord"), *quiet_days(me))
    assert sorted(p.name for p in me.folder.glob("Zahlungserinnerung_*")) == sorted(
        f"Zahlungserinnerung_2024_{n}_1.xlsx" for n in REMINDED)
    next_year = example_2024()
    next_year.settings["Abrechnungsjahr"] = 2025
    next_year.settings["Datum der Abrechnung"] = date(2026, 3, 2)
    write_workbook(next_year, me.root / "input" / "Abrechnung_2025.xlsx")


REMINDED = ("Billerbeck", "Luedinghausen", "Nottuln", "Olfen", "Senden")


@pytest.mark.slow
def test_versenden_drafts_the_reminders_from_the_ledger_in_the_next_year(clerk):
    """The letters went by post; in January 2026 versenden drafts the reminders of 2024
    from the ledger, whatever lies in input/."""
    me = clerk()
    reminded_in_the_next_year(me)
    drafts = me.kim("versenden", "--jahr", YEAR, day="2026-01-12")
    assert drafts.returncode == 0, drafts.stderr
    assert "5 Entwürfe geschrieben" in drafts.stdout
    assert sorted(p.name for p in (me.folder / "E-Mails").iterdir()) == sorted(
        f"Zahlungserinnerung_2024_{n}_1.eml" for n in REMINDED)
    draft = BytesParser(policy=policy.default).parsebytes(
        (me.folder / "E-Mails" / "Zahlungserinnerung_2024_Billerbeck_1.eml").read_bytes())
    assert draft["To"] == "kaemmerei@billerbeck.example"
    assert draft["Subject"].startswith("Zahlungserinnerung 2024-Billerbeck-Z1")
    body = " ".join(draft.get_body().get_content().split())
    assert "noch 6.875,00 € offen (Zahlungseingänge berücksichtigt bis 20.04.2025)" in body
    assert "Bitte überweisen Sie 6.875,00 € bis zum 05.05.2025" in body
    assert payment_reference(YEAR, "2024-Billerbeck", "KIM-2024-NORD-01") in body
    assert " ".join(NO_FEES.split()) in body
    assert [p.get_filename() for p in draft.iter_attachments()] == [
        "Zahlungserinnerung_2024_Billerbeck_1.xlsx"]
    assert all(r["bill"]["sendings"] == [] and r["bill"]["posted"] is None
               for r in me.ledger()["regions"]["Nord"]["reminders"])


@pytest.mark.slow
def test_versenden_sends_a_reminder_once_also_in_the_next_year(clerk, smtp_server):  # noqa: F811
    mailbox = smtp_server()
    me = clerk()
    reminded_in_the_next_year(me)
    sent = me.kim("versenden", "--jahr", YEAR, "--senden", "--ja", day="2026-01-13",
                  env=smtp_env(mailbox))
    assert sent.returncode == 0, sent.stdout + sent.stderr
    subjects = sorted(m["Subject"] for _, _, m in mailbox.messages)
    assert [s.split(" – ")[0] for s in subjects] == [
        f"Zahlungserinnerung 2024-{n}-Z1" for n in REMINDED]
    mail = next(m for _, _, m in mailbox.messages if "Billerbeck" in m["Subject"])
    assert mail["To"] == "kaemmerei@billerbeck.example"
    reminder = next(r for r in me.ledger()["regions"]["Nord"]["reminders"])
    assert [(s["result"], s["recipient"]) for s in reminder["bill"]["sendings"]] == [
        ("gesendet", "kaemmerei@billerbeck.example")]
    assert "per E-Mail am 13.01.2026" in liesmich(me.folder)

    again = me.kim("versenden", "--jahr", YEAR, "--senden", "--ja", day="2026-01-14",
                   env=smtp_env(mailbox))
    assert again.returncode == 0, again.stderr
    assert "Nichts zu senden" in again.stdout
    assert len(mailbox.messages) == 5
    # a sent reminder is history: the same state after its date to pay brings round 2
    out = me.zahlungen("--erinnern", me.statement("b.xml", [replace(
        RENT, booked=date(2026, 1, 31))], statement_id="2026-01-31"), day="2026-02-01")
    assert "Zahlungserinnerung 2024-Olfen-Z2" not in out  # Ascheberg's account: not read
    assert "Zahlungserinnerung 2024-Billerbeck-Z2" in out


# ------------------------------------------------------------------ in process: the developer loop


def test_karenz_and_mindestbetrag_decide_when_a_reminder_goes_out(ausgabe):
    out = ausgabe()
    billed = Billed.of(out / "2024")
    nottuln = billed.bill("2024-Nottuln")  # due 01.04.2025
    late = nottuln.due + timedelta(days=14)
    rest = nottuln.paid_by_kassenzeichen(MARCH_20, nottuln.amount - D("9.99"))
    day_before = pay(out, [rest, replace(RENT, booked=late - timedelta(days=1))],
                     region="Mitte", remind=True)
    assert "Keine neue Zahlungserinnerung fällig." in day_before.lines
    assert "  2024-Nottuln" in "\n".join(day_before.lines)
    on_time = pay(out, [replace(RENT, booked=late, amount=D("-1.00"))], region="Mitte",
                  remind=True, name="b.xml", statement_id="2025-002")
    assert not [line for line in on_time.lines if "an Gemeinde Nottuln" in line]  # 9.99 €
    lower = pay(out, [replace(RENT, booked=late, amount=D("-1.00"))], region="Mitte",
                remind=True, minimum=D("9.99"), name="b.xml", statement_id="2025-002")
    assert "Zahlungserinnerung 2024-Nottuln-Z1 an Gemeinde Nottuln: 9,99 € offen, neu zu " \
           "zahlen bis 05.05.2025 (Zahlungserinnerung_2024_Nottuln_1.xlsx)" in lower.lines
    shorter = pay(out, [], region="Mitte", remind=True, karenz=0, minimum=D("0.01"),
                  name="c.xml", statement_id="2025-003")
    assert not [line for line in shorter.lines if "2024-Nottuln-Z" in line]  # same state


def test_a_credit_older_than_the_debt_is_netted_and_the_debt_names_the_transfer(ausgabe):
    """Billerbeck overpaid its letter by 500.00 and owes its K1 (1,000.00, due 12.05.2025):
    the reminder asks for 500.00 with the K1's Verwendungszweck, never the credit's."""
    out = ausgabe("raised")
    billed = Billed.of(out / "2024")
    letter, k1 = billed.bill("2024-Billerbeck"), billed.bill("2024-Billerbeck-K1")
    done = pay(out, [letter.paid_by_number(MARCH_20, D("7375.00")),
                     replace(RENT, booked=k1.due + timedelta(days=14))],
               day=date(2025, 5, 27), remind=True)
    assert "Zahlungserinnerung 2024-Billerbeck-Z1 an Stadt Billerbeck: 500,00 € offen, neu " \
           "zu zahlen bis 10.06.2025 (Zahlungserinnerung_2024_Billerbeck_1.xlsx)" in done.lines
    reminder = next(m for _, m in load_ledger(out / "2024", YEAR).reminders()
                    if m.bill.partner == "Billerbeck")
    assert reminder.covers == ("2024-Billerbeck-K1", "2024-Billerbeck")
    texts = cells(out / "2024" / "Zahlungserinnerung_2024_Billerbeck_1.xlsx",
                  "Zahlungserinnerung")
    assert k1.verwendungszweck in texts and letter.verwendungszweck not in texts


def test_an_unsent_reminder_is_withdrawn_when_the_clerk_assigns_the_payment(ausgabe):
    out = ausgabe()
    billerbeck = Billed.of(out / "2024").bill("2024-Billerbeck")
    pay(out, [RENT], remind=True)
    assert (out / "2024" / "Zahlungserinnerung_2024_Billerbeck_1.xlsx").is_file()
    pay(out, [billerbeck.payment(APRIL_20, text="Umlage")], name="b.xml",
        statement_id="2025-002")
    entry = next(e.id for e in load_ledger(out / "2024", YEAR).entries if e.amount > 0)
    lines = run_assignment(out, YEAR, entry, "2024-Billerbeck", None, date(2025, 4, 22))
    assert lines[-1] == ("Zahlungserinnerung 2024-Billerbeck-Z1 an Stadt Billerbeck entfällt "
                         "(noch nicht versandt; Zahlungserinnerung_2024_Billerbeck_1.xlsx "
                         "wird entfernt): offen ist jetzt 0,00 € statt 6.875,00 €.")
    assert not (out / "2024" / "Zahlungserinnerung_2024_Billerbeck_1.xlsx").exists()
    assert (out / "2024" / "Zahlungserinnerung_2024_Havixbeck_1.xlsx").is_file()


def test_one_employers_statements_remind_and_overdue_only_its_own_partners(ausgabe):
    """Reproduction of a bug: Coesfeld's clerk read Coesfeld's statements with --erinnern,
    and Dülmen's and Ascheberg's partners were reminded "Zahlungseingänge berücksichtigt bis
    20.04.2025" although nobody had read those employers' accounts."""
    out = ausgabe()
    done = pay(out, [RENT], remind=True)
    reminded = sorted(p.name for p in (out / "2024").glob("Zahlungserinnerung_*"))
    assert reminded == [f"Zahlungserinnerung_2024_{n}_1.xlsx" for n in NORD]
    assert "Stand der Zahlungen – Zahlungseingänge berücksichtigt: Stadt Coesfeld bis " \
           "20.04.2025, Stadt Dülmen noch kein Kontoauszug, Gemeinde Ascheberg noch kein " \
           "Kontoauszug:" in done.lines
    rows = figures(out / "2024" / "Zahlungen_2024.xlsx")
    assert rows["2024-Billerbeck"][2] == "überfällig"
    assert rows["2024-Olfen"][2] == "offen" and rows["2024-Nottuln"][2] == "offen"
    # Ascheberg's statement up to 31.03. (before its due date): still nothing overdue there
    suedlich = pay(out, [replace(RENT, booked=date(2025, 3, 31))], region="Süd", name="s.xml",
                   statement_id="S-1", remind=True)
    assert "Keine neue Zahlungserinnerung fällig." in suedlich.lines
    assert figures(out / "2024" / "Zahlungen_2024.xlsx")["2024-Olfen"][2] == "offen"
    assert table(out / "2024" / "Zahlungen_2024.xlsx", "Rechnungen")  # written
    note = cells(out / "2024" / "Zahlungen_2024.xlsx", "Rechnungen")[1]
    assert note.startswith("Zahlungseingänge berücksichtigt: Stadt Coesfeld bis 20.04.2025, "
                           "Stadt Dülmen noch kein Kontoauszug, Gemeinde Ascheberg bis "
                           "31.03.2025.")
