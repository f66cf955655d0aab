"""The life of a settlement (SPEC § 5, § 7): the region as the unit of a year folder, the
record, draft → issued → correction. Real commands in real folders; ``faketime`` moves the
clock for the real process.

Figures of the example (tests/builders.py): Region Nord 27,500.00 Eigenanteil in four parts →
Billerbeck, Havixbeck, Rosendahl pay 6,875.00 each. Raising the personnel costs of the first
Nord position by 4,000.00 raises each share by 1,000.00.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date
from email import policy
from email.parser import BytesParser
from pathlib import Path

import openpyxl
import pytest

from kim_excel.core.references import invoice_number, payment_reference
from kim_excel.ledger.record import RECORD_NAME
from tests.builders import D, example_2024, per_employer, write
from tests.runner import ROOT
from tests.test_mailing import smtp_server  # noqa: F401 (the fixture)

NORD = ("Billerbeck", "Havixbeck", "Rosendahl")
ALL = (*NORD, "Nottuln", "Luedinghausen", "Nordkirchen", "Olfen", "Senden")


def kim(*args: object, cwd: Path, day: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``kim-excel …`` as a real process, on ``day`` (``2025-03-05``) through faketime."""
    base = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    env = {**{k: v for k, v in base.items() if not k.startswith("KIM_SMTP")}, **(env or {})}
    command = [sys.executable, "-m", "kim_excel", *map(str, args)]
    if day is not None:
        command = ["faketime", f"{day} 10:00:00", *command]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=180)


def form(date_given: bool = True, nord_extra: str = "0", **settings):
    content = example_2024()
    if not date_given:
        content.settings["Datum der Abrechnung"] = None
    content.positions[0]["Personalkosten"] = D("65200.00") + D(nord_extra)
    content.settings.update(settings)
    return content


def put(tmp_path: Path, content) -> None:
    for old in (tmp_path / "input").glob("*.xlsx"):
        old.unlink()
    write(content, tmp_path / "input" / "Abrechnung_2024.xlsx")


def settled(tmp_path: Path, content=None, day: str | None = None) -> Path:
    put(tmp_path, content or form())
    done = kim("abrechnen", cwd=tmp_path, day=day)
    assert done.returncode == 0, done.stderr
    return tmp_path / "output" / "2024"


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def booking(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def overview_parties(folder: Path) -> set[str]:
    book = openpyxl.load_workbook(folder / "Uebersicht_2024.xlsx", data_only=True)
    sheet = book.worksheets[0]
    return {str(c.value) for row in sheet.iter_rows() for c in row if isinstance(c.value, str)}


# ------------------------------------------------------------------ the region is the unit


@pytest.mark.slow
def test_employers_settling_one_after_another_into_one_folder_keep_every_region(tmp_path):
    """Coesfeld, then Dülmen, then Ascheberg, each with its own workbook, into one output/:
    afterwards all eight letters, every party in the overview and the Buchungsliste."""
    folder = tmp_path / "output" / "2024"
    for employer in ("Coesfeld", "Dülmen", "Ascheberg"):
        put(tmp_path, per_employer(example_2024(), employer))
        done = kim("abrechnen", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in folder.glob("Abrechnung_*")) == sorted(
        f"Abrechnung_2024_{name}.xlsx" for name in ALL)
    rows = booking(folder / "Buchungsliste_2024.csv")
    assert [r["Region"] for r in rows] == ["Nord"] * 4 + ["Mitte"] * 2 + ["Süd"] * 5
    assert {r["Kommune"]: r["Saldo_EUR"] for r in rows}["Billerbeck"] == "6875,00"
    shown = overview_parties(folder)
    assert {"Stadt Billerbeck", "Gemeinde Nottuln", "Stadt Olfen"} <= shown
    # Dülmen's re-run does not touch Nord's or Süd's letters
    before = files(folder)
    put(tmp_path, per_employer(form(nord_extra="0"), "Dülmen"))
    assert kim("abrechnen", cwd=tmp_path).returncode == 0
    after = files(folder)
    for name in (f"Abrechnung_2024_{n}.xlsx" for n in ALL):
        assert after[name] == before[name], name


# ------------------------------------------------------------------ dates and drafts


@pytest.mark.slow
def test_versenden_three_days_after_abrechnen_with_an_empty_date_works(tmp_path):
    """``Datum der Abrechnung`` empty: the letters carry the day of the run that first
    produced the figures; a re-run and versenden three days later keep it."""
    folder = settled(tmp_path, form(date_given=False), day="2025-03-02")
    letters = files(folder)
    done = kim("versenden", "--jahr", 2024, cwd=tmp_path, day="2025-03-05")
    assert done.returncode == 0, done.stderr
    assert "8 Entwürfe geschrieben" in done.stdout
    draft = BytesParser(policy=policy.default).parsebytes(
        (folder / "E-Mails" / "Abrechnung_2024_Billerbeck.eml").read_bytes())
    assert "bis zum 01.04.2025" in draft.get_body().get_content()  # 02.03. + 30 days
    again = kim("abrechnen", cwd=tmp_path, day="2025-03-05")
    assert again.returncode == 0, again.stderr
    after = files(folder)
    assert {n: after[n] for n in letters if n.startswith("Abrechnung_")} == \
        {n: b for n, b in letters.items() if n.startswith("Abrechnung_")}
    # new figures appear on a new day: they get that day
    settled(tmp_path, form(date_given=False, nord_extra="4000"), day="2025-03-06")
    sheet = openpyxl.load_workbook(folder / "Abrechnung_2024_Billerbeck.xlsx")["Berechnung"]
    dates = [c.value for row in sheet.iter_rows() for c in row
             if getattr(c.value, "year", None) == 2025]
    assert dates[0].date() == date(2025, 3, 6)


def settled_output(tmp_path: Path, content, day: str | None = None) -> str:
    put(tmp_path, content)
    done = kim("abrechnen", cwd=tmp_path, day=day)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


# ------------------------------------------------------------------ issued and corrected


@pytest.mark.slow
def test_festschreiben_asks_and_without_a_terminal_issues_nothing(tmp_path):
    folder = settled(tmp_path)
    refused = kim("festschreiben", "--jahr", 2024, cwd=tmp_path)
    assert refused.returncode == 1
    assert "nichts festgeschrieben" in refused.stderr
    assert json.loads((folder / RECORD_NAME).read_text())["regions"]["Nord"]["state"] == "draft"
    done = kim("festschreiben", "--jahr", 2024, "--region", "Nord", "--ja", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Region Nord: Abrechnungen festgeschrieben" in done.stdout
    record = json.loads((folder / RECORD_NAME).read_text())
    assert record["regions"]["Nord"]["state"] == "issued"
    assert record["regions"]["Mitte"]["state"] == "draft"
    unknown = kim("festschreiben", "--jahr", 2024, "--region", "West", "--ja", cwd=tmp_path)
    assert unknown.returncode == 1 and "Region „West“ gibt es" in unknown.stderr


@pytest.mark.slow
def test_an_issued_settlement_is_frozen_and_a_change_gets_corrections(tmp_path):
    folder = settled(tmp_path, day="2025-03-02")
    assert kim("festschreiben", "--jahr", 2024, "--ja", cwd=tmp_path).returncode == 0
    originals = files(folder)

    done = settled_output(tmp_path, form(nord_extra="4000"), day="2025-04-10")
    after = files(folder)
    for name, data in originals.items():
        if name.startswith("Abrechnung_") or name == "Buchungsliste_2024.csv":
            assert after[name] == data, name
    assert sorted(n for n in after if n.startswith("Korrektur_")) == [
        f"Korrektur_2024_{n}_1.xlsx" for n in NORD]
    assert "Korrektur Nr. 1 für Billerbeck, Havixbeck, Rosendahl" in done
    rows = booking(folder / "Buchungsliste_2024_Korrektur_1.csv")
    assert [(r["Kommune"], r["Rolle"], r["Betrag_netto_EUR"], r["USt_EUR"],
             r["Betrag_brutto_EUR"], r["Abschlaege_EUR"], r["Saldo_EUR"], r["Faellig_am"],
             r["Eigenanteil_Region_EUR"], r["Anteil"]) for r in rows] == [
        ("Coesfeld", "Anstellungskörperschaft", "1000,00", "", "", "", "", "", "31500,00",
         "0,25"),
        *[(n, "Partnerkommune", "1000,00", "0,00", "1000,00", "0,00", "1000,00", "12.05.2025",
           "31500,00", "0,25") for n in NORD]]

    # the same input again: no new round, nothing changes
    settled_output(tmp_path, form(nord_extra="4000"), day="2025-04-12")
    again = files(folder)
    assert {n for n in again} == {n for n in after}
    assert {n: b for n, b in again.items() if n.startswith(("Korrektur_", "Abrechnung_",
                                                            "Buchungsliste_"))} == \
        {n: b for n, b in after.items() if n.startswith(("Korrektur_", "Abrechnung_",
                                                         "Buchungsliste_"))}

    sheet = openpyxl.load_workbook(folder / "Korrektur_2024_Billerbeck_1.xlsx",
                                   data_only=True)["Korrektur"]
    texts = {str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None}
    assert "2024-Billerbeck-K1" in texts
    assert "2024-Billerbeck vom 02.03.2025" in texts
    assert payment_reference(2024, invoice_number(2024, "Billerbeck", 1), "KIM-2024-NORD-01") in \
        texts


@pytest.mark.slow
def test_advances_entered_after_issue_do_not_change_the_bill(tmp_path):
    folder = settled(tmp_path)
    assert kim("festschreiben", "--jahr", 2024, "--ja", cwd=tmp_path).returncode == 0
    before = files(folder)
    content = form()
    content.advances.append({"Kommune": "Billerbeck", "Datum": date(2024, 9, 1),
                             "Betrag": D("1000.00")})
    done = settled_output(tmp_path, content)
    assert "Stadt Billerbeck: die Abschläge (1.000,00 €) weichen von der festgeschriebenen " \
           "Abrechnung ab (0,00 €)" in done
    assert "in der Finanzsoftware zu buchen" in done
    after = files(folder)
    assert not [n for n in after if n.startswith("Korrektur_")]
    assert after["Buchungsliste_2024.csv"] == before["Buchungsliste_2024.csv"]


@pytest.mark.slow
def test_the_letter_and_the_mail_name_the_same_verwendungszweck(tmp_path):
    folder = settled(tmp_path)
    assert kim("versenden", "--jahr", 2024, cwd=tmp_path).returncode == 0
    expected = payment_reference(2024, invoice_number(2024, "Billerbeck"), "KIM-2024-NORD-01")
    sheet = openpyxl.load_workbook(folder / "Abrechnung_2024_Billerbeck.xlsx")["Abrechnung"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    on_letter = next(r[1] for r in rows if r[0] == "Verwendungszweck")
    draft = BytesParser(policy=policy.default).parsebytes(
        (folder / "E-Mails" / "Abrechnung_2024_Billerbeck.eml").read_bytes())
    in_mail = next(line.split(":", 1)[1].strip() for line in
                   draft.get_body().get_content().splitlines() if "Verwendungszweck" in line)
    assert on_letter == in_mail == expected


@pytest.mark.slow
def test_versenden_sends_a_correction_exactly_once_and_issues_what_it_sent(tmp_path,
                                                                          smtp_server):  # noqa: F811
    mailbox = smtp_server()
    env = {"KIM_SMTP_HOST": "127.0.0.1", "KIM_SMTP_PORT": str(mailbox.port),
           "KIM_SMTP_STARTTLS": "nein", "KIM_SMTP_TIMEOUT": "5"}
    folder = settled(tmp_path)
    sent = kim("versenden", "--jahr", 2024, "--senden", "--ja", cwd=tmp_path, env=env)
    assert sent.returncode == 0, sent.stderr
    assert len(mailbox.messages) == 8
    assert "Region Nord: Abrechnung festgeschrieben" in sent.stdout
    record = json.loads((folder / RECORD_NAME).read_text())
    assert {r["state"] for r in record["regions"].values()} == {"issued"}

    settled(tmp_path, form(nord_extra="4000"))
    first = kim("versenden", "--jahr", 2024, "--senden", "--ja", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    corrections = mailbox.messages[8:]
    assert sorted(m["Subject"].split(" – ")[0] for _, _, m in corrections) == [
        f"Korrektur 2024-{n}-K1" for n in NORD]
    _, rcpts, msg = next(m for m in corrections if "Billerbeck" in m[2]["Subject"])
    assert rcpts == ["kaemmerei@billerbeck.example"]
    assert [p.get_filename() for p in msg.iter_attachments()] == [
        "Korrektur_2024_Billerbeck_1.xlsx"]
    text = msg.get_body().get_content()
    assert "Bitte überweisen Sie 1.000,00 € bis zum" in text
    assert payment_reference(2024, "2024-Billerbeck-K1", "KIM-2024-NORD-01") in text
    record = json.loads((folder / RECORD_NAME).read_text())
    assert record["regions"]["Nord"]["corrections"][0]["state"] == "issued"

    again = kim("versenden", "--jahr", 2024, "--senden", "--ja", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert len(mailbox.messages) == 11
    assert "bereits gesendet" in again.stdout
