"""The life of a settlement (SPEC § 5, § 7) through the real commands, off the happy path too:
the region as the unit of a year folder, the ledger as the one owner of state, draft → issued →
correction, posted and sent. Real processes in real folders; ``faketime`` moves their clock.

Figures of the example (tests/builders.py): Region Nord 27,500.00 Eigenanteil in four parts →
Billerbeck, Havixbeck, Rosendahl pay 6,875.00 each. Raising the personnel costs of the first
Nord position by 4,000.00 raises each share by 1,000.00. Rosendahl leaving on 31.12.2023 (an
exit entered after issue) leaves Nord's 27,500.00 to three parties: 9,166.67 for each partner.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import select
import shutil
import subprocess
import sys
import zipfile
from datetime import date
from decimal import Decimal
from email import policy
from email.parser import BytesParser
from pathlib import Path

import openpyxl
import pytest

from kim_excel.core.references import invoice_number, payment_reference
from kim_excel.ledger.store import HISTORY_FOLDER, RECORD_NAME
from tests.builders import D, example_2024, per_employer, write
from tests.runner import ROOT
from tests.smtp_fixture import smtp_env

NORD = ("Billerbeck", "Havixbeck", "Rosendahl")
ALL = (*NORD, "Nottuln", "Luedinghausen", "Nordkirchen", "Olfen", "Senden")
V1_FOLDER = Path(__file__).parent / "fixtures" / "v1_29f5369.zip"

pytestmark = pytest.mark.slow  # every test here runs kim-excel several times as a process


def kim(*args: object, cwd: Path, day: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``kim-excel …`` as a real process, on ``day`` (``2025-03-05``) through faketime."""
    command = [sys.executable, "-m", "kim_excel", *map(str, args)]
    if day is not None:
        command = ["faketime", f"{day} 10:00:00", *command]
    return subprocess.run(command, cwd=cwd, env=environment(env), capture_output=True,
                          text=True, encoding="utf-8", timeout=180)


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    base = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    return {**{k: v for k, v in base.items() if not k.startswith("KIM_SMTP")}, **(extra or {})}


def in_terminal(*args: object, cwd: Path, answers: str) -> tuple[int, str]:
    """``kim-excel …`` with a terminal (a pseudo-terminal) that types ``answers``."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "kim_excel", *map(str, args)], cwd=cwd,
                               env=environment(), stdin=follower, stdout=follower,
                               stderr=follower)
    os.close(follower)
    os.write(leader, answers.encode())
    output = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        try:
            chunk = os.read(leader, 4096) if ready else b""
        except OSError:
            chunk = b""
        if not chunk:
            break
        output += chunk
    os.close(leader)
    return process.wait(timeout=60), output.decode("utf-8", "replace")


def form(date_given: bool = True, nord_extra: str = "0", **settings):
    content = example_2024()
    if not date_given:
        content.settings["Datum der Abrechnung"] = None
    content.positions[0]["Personalkosten"] = D("65200.00") + D(nord_extra)
    content.settings.update(settings)
    return content


def leaving(content, name: str, day: date):
    row = next(p for p in content.parties if p["Kommune"] == name)
    row["Ausgeschieden zum"] = day
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


def ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def booking(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def ledger_json(folder: Path) -> dict:
    return json.loads((folder / RECORD_NAME).read_text(encoding="utf-8"))


def states(folder: Path) -> dict[str, list[str]]:
    return {name: [v["state"] for v in region["versions"]]
            for name, region in ledger_json(folder)["regions"].items()}


def texts_of(path: Path, sheet: str) -> list[str]:
    book = openpyxl.load_workbook(path, data_only=True)[sheet]
    return [str(c.value) for row in book.iter_rows() for c in row if c.value is not None]


def subjects(messages) -> list[str]:
    return sorted(m["Subject"].split(" – ")[0] for _, _, m in messages)


# ------------------------------------------------------------------ the three defects


def test_a_deleted_record_stops_every_command_and_the_named_copy_restores_it(tmp_path):
    """Issued, posted, a hand-edited letter: the record is deleted (a clerk tidying hidden
    files). No command changes the folder; the message names the copy; restoring it (as the
    README shows) lets the next run go on exactly where it was."""
    folder = settled(tmp_path, form(date_given=False), day="2025-03-03")
    ok(kim("festschreiben", "--jahr", 2024, "--region", "Nord", "--ja", cwd=tmp_path,
           day="2025-03-04"))
    edited = folder / "Abrechnung_2024_Olfen.xlsx"
    edited.write_bytes(edited.read_bytes() + b"\0")  # Süd is a draft; someone changed it
    (folder / RECORD_NAME).unlink()
    before = files(folder)
    put(tmp_path, form(date_given=False, nord_extra="1234.56"))

    for command in (("abrechnen",), ("festschreiben", "--jahr", 2024, "--ja"),
                    ("versenden", "--jahr", 2024)):
        refused = kim(*command, cwd=tmp_path, day="2025-04-15")
        assert refused.returncode == 1, command
        assert "fehlt die Verwaltungsdatei" in refused.stderr
        assert "ändert kim-excel in diesem Ordner nichts" in refused.stderr
        assert files(folder) == before, command
    copy = next(line for line in refused.stderr.split("„") if HISTORY_FOLDER in line)
    copy = copy.split("“")[0]
    assert (tmp_path / copy).is_file()

    shutil.copy(tmp_path / copy, folder / RECORD_NAME)  # the README's recovery
    done = ok(kim("abrechnen", cwd=tmp_path, day="2025-04-15"))
    after = files(folder)
    for name in (f"Abrechnung_2024_{n}.xlsx" for n in NORD):  # issued: never rewritten
        assert after[name] == before[name], name
    assert "Korrektur Nr. 1 für Billerbeck, Havixbeck, Rosendahl" in done
    assert after["Abrechnung_2024_Olfen_bearbeitet.xlsx"] == before[
        "Abrechnung_2024_Olfen.xlsx"]  # the hand-edited draft is kept, not lost
    rows = booking(folder / "Buchungsliste_2024.csv")
    assert [r["Region"] for r in rows] == ["Nord"] * 4 + ["Mitte"] * 2 + ["Süd"] * 5
    assert states(folder)["Nord"] == ["issued", "draft"]


def test_a_damaged_record_and_an_older_restored_copy_are_refused_naming_the_newest(tmp_path):
    folder = settled(tmp_path, day="2025-03-03")
    ok(kim("festschreiben", "--jahr", 2024, "--ja", cwd=tmp_path, day="2025-03-04"))
    first, newest = sorted((folder / HISTORY_FOLDER).glob("record-*.json"))[-2:]

    good = (folder / RECORD_NAME).read_bytes()
    (folder / RECORD_NAME).write_bytes(good[:200])
    damaged = kim("abrechnen", cwd=tmp_path)
    assert damaged.returncode == 1
    assert "ist beschädigt (kein gültiges JSON, Zeile" in damaged.stderr
    assert newest.name in damaged.stderr

    shutil.copy(first, folder / RECORD_NAME)  # the copy before festschreiben: stale
    stale = kim("abrechnen", cwd=tmp_path)
    assert stale.returncode == 1
    assert "ist älter als der Ordner: es gibt eine neuere Sicherung" in stale.stderr
    assert newest.name in stale.stderr

    shutil.copy(newest, folder / RECORD_NAME)
    ok(kim("abrechnen", cwd=tmp_path))
    assert states(folder) == {"Nord": ["issued"], "Mitte": ["issued"], "Süd": ["issued"]}


def test_a_restored_record_that_does_not_know_a_sending_is_stale(tmp_path, smtp_server):
    """Even without the copies: ``versand.csv`` shows a mail the record does not know."""
    mailbox = smtp_server()
    folder = settled(tmp_path)
    old = (folder / RECORD_NAME).read_bytes()
    ok(kim("versenden", "--jahr", 2024, "--senden", "--ja", cwd=tmp_path,
           env=smtp_env(mailbox)))
    shutil.rmtree(folder / HISTORY_FOLDER)
    (folder / RECORD_NAME).write_bytes(old)
    refused = kim("versenden", "--jahr", 2024, "--senden", "--ja", cwd=tmp_path,
                  env=smtp_env(mailbox))
    assert refused.returncode == 1
    assert "sie kennt den Versand vom" in refused.stderr
    assert "Es gibt keine Sicherung der Verwaltungsdatei" in refused.stderr
    assert len(mailbox.messages) == 8  # nothing went out twice


def test_an_exit_entered_after_issue_refunds_what_the_partner_was_billed(tmp_path):
    folder = settled(tmp_path, day="2025-03-03")
    ok(kim("festschreiben", "--jahr", 2024, "--ja", cwd=tmp_path))
    put(tmp_path, leaving(form(), "Rosendahl", date(2023, 12, 31)))
    done = ok(kim("abrechnen", cwd=tmp_path, day="2025-04-15"))

    assert "Korrektur Nr. 1 für Billerbeck, Havixbeck, Rosendahl" in done
    rows = {r["Kommune"]: r for r in booking(folder / "Buchungsliste_2024_Korrektur_1.csv")}
    assert rows["Rosendahl"]["Saldo_EUR"] == "-6875,00"
    assert rows["Rosendahl"]["Anteil"] == "0"
    assert rows["Billerbeck"]["Saldo_EUR"] == "2291,67"  # 27,500 / 3 − 6,875
    partners = [Decimal(r["Saldo_EUR"].replace(",", ".")) for r in rows.values()
                if r["Rolle"] == "Partnerkommune"]
    billed_before = Decimal("20625.00")  # 3 × 6,875.00
    billed_now = 2 * Decimal("9166.67")
    assert sum(partners) == billed_now - billed_before  # the region's change, to the cent
    texts = texts_of(folder / "Korrektur_2024_Rosendahl_1.xlsx", "Korrektur")
    assert "Erstattungsbetrag" in texts
    assert any("ausgeschieden" in t and "erstatten wir" in t for t in texts)
    assert "Erstattung bis zum" in texts and "Fällig am" not in texts


def test_letters_posted_by_festschreiben_are_never_mailed_only_the_late_correction(
        tmp_path, smtp_server):
    mailbox = smtp_server()
    env = smtp_env(mailbox)
    folder = settled(tmp_path)
    ok(kim("festschreiben", "--jahr", 2024, "--ja", cwd=tmp_path))
    settled(tmp_path, form(nord_extra="4000"))
    drafts = ok(kim("versenden", "--jahr", 2024, cwd=tmp_path))
    assert sorted(p.name for p in (folder / "E-Mails").iterdir()) == [
        f"Korrektur_2024_{n}_1.eml" for n in NORD]
    assert "per Post am" in drafts

    sent = ok(kim("versenden", "--jahr", 2024, "--senden", "--ja", cwd=tmp_path, env=env))
    assert subjects(mailbox.messages) == [f"Korrektur 2024-{n}-K1" for n in NORD]
    assert "übersprungen  Stadt Billerbeck: 2024-Billerbeck ging bereits per Post am" in sent
    text = next(m for _, _, m in mailbox.messages
                if "Billerbeck" in m["Subject"]).get_body().get_content()
    assert "Bitte überweisen Sie 1.000,00 € bis zum" in text
    assert "6.875,00" not in text

    (folder / "versand.csv").unlink()  # deleting the log sends nothing twice
    again = ok(kim("versenden", "--jahr", 2024, "--senden", "--ja", cwd=tmp_path, env=env))
    assert len(mailbox.messages) == 3
    assert "Nichts zu senden" in again
    assert (folder / "versand.csv").is_file()  # written anew from the ledger

    copy = ok(kim("versenden", "--jahr", 2024, "--senden", "--ja", "--erneut", cwd=tmp_path,
                  env=env))
    assert "ERNEUT, eine Kopie" in copy and len(mailbox.messages) == 3 + 8 + 3


# ------------------------------------------------------------------ kim-excel 1.0's folder


def test_a_folder_written_by_kim_excel_1_0_is_taken_over_and_sends_only_what_is_new(
        tmp_path, smtp_server):
    """Written by commit 29f5369 (tests/fixtures/make_v1_folder.py): Nord posted, corrected
    (K1) and everything e-mailed (Nord's letters too, the old defect), Süd a draft."""
    mailbox = smtp_server()
    with zipfile.ZipFile(V1_FOLDER) as archive:
        archive.extractall(tmp_path)
    folder = tmp_path / "output" / "2024"
    assert ledger_json(folder)["version"] == 1
    content = form(date_given=False, nord_extra="8000")  # Nord: +1,000 on top of K1
    put(tmp_path, content)
    done = ok(kim("abrechnen", cwd=tmp_path, day="2025-05-20"))
    assert "Korrektur Nr. 2 für Billerbeck, Havixbeck, Rosendahl" in done
    record = ledger_json(folder)
    assert record["version"] == 2
    assert states(folder) == {"Nord": ["issued", "issued", "draft"], "Mitte": ["issued"],
                              "Süd": ["draft"]}
    nord = record["regions"]["Nord"]["versions"]
    assert nord[0]["bills"]["Billerbeck"]["number"] == "2024-Billerbeck"
    assert nord[2]["bills"]["Billerbeck"]["corrects"] == "2024-Billerbeck-K1"
    assert [s["result"] for s in nord[0]["bills"]["Billerbeck"]["sendings"]] == ["gesendet"]

    sent = ok(kim("versenden", "--jahr", 2024, "--senden", "--ja", cwd=tmp_path,
                  env=smtp_env(mailbox), day="2025-05-21"))
    assert subjects(mailbox.messages) == sorted(
        [f"Korrektur 2024-{n}-K2" for n in NORD]
        + ["Abrechnung Kommunales Case-Management 2024" for _ in range(4)])
    assert "2024-Nottuln ging bereits per E-Mail am 16.04.2025" in sent


# ------------------------------------------------------------------ the region is the unit


def test_employers_settling_one_after_another_keep_every_region_and_the_overview_says_so(
        tmp_path):
    """Coesfeld, then Dülmen, then Ascheberg, each with its own workbook, into one output/:
    all eight letters, every party in the overview and the Buchungsliste, and the overview
    never calls a region with letters in the folder "nicht abgerechnet"."""
    folder = tmp_path / "output" / "2024"
    for employer in ("Coesfeld", "Dülmen", "Ascheberg"):
        put(tmp_path, per_employer(example_2024(), employer))
        ok(kim("abrechnen", cwd=tmp_path))
    assert sorted(p.name for p in folder.glob("Abrechnung_*")) == sorted(
        f"Abrechnung_2024_{name}.xlsx" for name in ALL)
    rows = booking(folder / "Buchungsliste_2024.csv")
    assert [r["Region"] for r in rows] == ["Nord"] * 4 + ["Mitte"] * 2 + ["Süd"] * 5
    shown = texts_of(folder / "Uebersicht_2024.xlsx", "Übersicht")
    assert not [t for t in shown if "Nicht abgerechnet" in t]
    bills = texts_of(folder / "Uebersicht_2024.xlsx", "Rechnungen")
    assert {f"2024-{n}" for n in ALL} <= set(bills)
    # Dülmen's re-run does not touch Nord's or Süd's letters
    before = files(folder)
    put(tmp_path, per_employer(form(nord_extra="0"), "Dülmen"))
    ok(kim("abrechnen", cwd=tmp_path))
    after = files(folder)
    for name in (f"Abrechnung_2024_{n}.xlsx" for n in ALL):
        assert after[name] == before[name], name


def test_a_partner_joining_an_issued_region_gets_a_first_letter_not_a_correction(tmp_path):
    content = leaving(form(), "Rosendahl", date(2023, 12, 31))
    folder = settled(tmp_path, content, day="2025-03-03")
    assert not (folder / "Abrechnung_2024_Rosendahl.xlsx").exists()
    ok(kim("festschreiben", "--jahr", 2024, "--ja", cwd=tmp_path))
    put(tmp_path, form())
    done = ok(kim("abrechnen", cwd=tmp_path, day="2025-04-15"))
    assert "eine erste Abrechnung für Rosendahl" in done
    assert (folder / "Abrechnung_2024_Rosendahl.xlsx").is_file()
    assert not (folder / "Korrektur_2024_Rosendahl_1.xlsx").exists()
    info = texts_of(folder / "Abrechnung_2024_Rosendahl.xlsx", "Abrechnung")
    assert "2024-Rosendahl" in info
    rows = {r["Kommune"]: r for r in booking(folder / "Buchungsliste_2024_Korrektur_1.csv")}
    assert rows["Rosendahl"]["Saldo_EUR"] == "6875,00"
    assert rows["Billerbeck"]["Saldo_EUR"] == "-2291,67"


# ------------------------------------------------------------------ dates and drafts


def test_versenden_three_days_after_abrechnen_with_an_empty_date_works(tmp_path):
    """``Datum der Abrechnung`` empty: the letters carry the day of the run that first
    produced the figures; a re-run and versenden three days later keep it."""
    folder = settled(tmp_path, form(date_given=False), day="2025-03-02")
    letters = files(folder)
    done = ok(kim("versenden", "--jahr", 2024, "--eingang", "input", cwd=tmp_path,
                  day="2025-03-05"))
    assert "8 Entwürfe geschrieben" in done
    assert "Senden mit: kim-excel versenden --jahr 2024 --eingang input --senden" in done
    draft = BytesParser(policy=policy.default).parsebytes(
        (folder / "E-Mails" / "Abrechnung_2024_Billerbeck.eml").read_bytes())
    assert "bis zum 01.04.2025" in draft.get_body().get_content()  # 02.03. + 30 days
    ok(kim("abrechnen", cwd=tmp_path, day="2025-03-05"))
    after = files(folder)
    assert {n: after[n] for n in letters if n.startswith("Abrechnung_")} == \
        {n: b for n, b in letters.items() if n.startswith("Abrechnung_")}
    # new figures appear on a new day: they get that day, and the drafts quoting old
    # figures go, saying why
    put(tmp_path, form(date_given=False, nord_extra="4000"))
    changed = ok(kim("abrechnen", cwd=tmp_path, day="2025-03-06"))
    assert "Veralteter E-Mail-Entwurf entfernt (er nannte die alten Beträge): " \
           "E-Mails/Abrechnung_2024_Billerbeck.eml" in changed
    assert (folder / "E-Mails" / "Abrechnung_2024_Nottuln.eml").is_file()
    sheet = openpyxl.load_workbook(folder / "Abrechnung_2024_Billerbeck.xlsx")["Berechnung"]
    dates = [c.value for row in sheet.iter_rows() for c in row
             if getattr(c.value, "year", None) == 2025]
    assert dates[0].date() == date(2025, 3, 6)
    # versenden with the old input refuses: the ledger holds other figures
    put(tmp_path, form(date_given=False))
    stale = kim("versenden", "--jahr", 2024, "--eingang", "input", cwd=tmp_path,
                day="2025-03-07")
    assert stale.returncode == 1 and "bitte zuerst `kim-excel abrechnen`" in stale.stderr
    # without --eingang it needs no input: it sends what the ledger holds
    ok(kim("versenden", "--jahr", 2024, cwd=tmp_path, day="2025-03-07"))


@pytest.mark.libreoffice
def test_a_pdf_run_with_unchanged_figures_removes_drafts_for_their_new_attachments(tmp_path):
    folder = settled(tmp_path)
    ok(kim("versenden", "--jahr", 2024, cwd=tmp_path))
    done = ok(kim("abrechnen", "--pdf", cwd=tmp_path))
    assert "nannte die alten Beträge" not in done
    assert "(seine Anhänge haben sich geändert): E-Mails/Abrechnung_2024_Olfen.eml" in done
    assert (folder / "Abrechnung_2024_Olfen.pdf").is_file()


# ------------------------------------------------------------------ issued and corrected


def test_festschreiben_asks_in_german_in_a_terminal_and_never_pretends_without_one(tmp_path):
    folder = settled(tmp_path)
    refused = kim("festschreiben", "--jahr", 2024, cwd=tmp_path)
    assert refused.returncode == 1
    assert "nichts festgeschrieben" in refused.stderr
    assert "Festgeschrieben" not in refused.stdout
    assert states(folder) == {"Nord": ["draft"], "Mitte": ["draft"], "Süd": ["draft"]}

    code, screen = in_terminal("festschreiben", "--jahr", 2024, "--region", "sued",
                               cwd=tmp_path, answers="vielleicht\nj\n")
    assert code == 0, screen
    assert "[j/N]" in screen and "Bitte „j“ (ja) oder „n“ (nein) eingeben." in screen
    assert "Error" not in screen
    assert states(folder)["Süd"] == ["issued"]
    code, screen = in_terminal("festschreiben", "--jahr", 2024, "--region", "Nord",
                               cwd=tmp_path, answers="nein\n")
    assert code == 0 and "Abgebrochen – nichts festgeschrieben." in screen
    assert states(folder)["Nord"] == ["draft"]

    done = ok(kim("festschreiben", "--jahr", 2024, "--region", "NORD", "--ja", cwd=tmp_path))
    assert "Region Nord: Abrechnung" in done
    unknown = kim("festschreiben", "--jahr", 2024, "--region", "West", "--ja", cwd=tmp_path)
    assert unknown.returncode == 1 and "Region „West“ gibt es" in unknown.stderr


def test_an_issued_settlement_is_frozen_and_a_change_gets_corrections(tmp_path):
    folder = settled(tmp_path, day="2025-03-02")
    ok(kim("festschreiben", "--jahr", 2024, "--ja", cwd=tmp_path))
    originals = files(folder)

    put(tmp_path, form(nord_extra="4000"))
    done = ok(kim("abrechnen", cwd=tmp_path, day="2025-04-10"))
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
    ok(kim("abrechnen", cwd=tmp_path, day="2025-04-12"))
    again = files(folder)
    assert {n: b for n, b in again.items() if n.startswith(("Korrektur_", "Abrechnung_",
                                                            "Buchungsliste_"))} == \
        {n: b for n, b in after.items() if n.startswith(("Korrektur_", "Abrechnung_",
                                                         "Buchungsliste_"))}
    texts = texts_of(folder / "Korrektur_2024_Billerbeck_1.xlsx", "Korrektur")
    assert "2024-Billerbeck-K1" in texts
    assert "2024-Billerbeck vom 02.03.2025" in texts
    assert payment_reference(2024, invoice_number(2024, "Billerbeck", 1),
                             "KIM-2024-NORD-01") in texts
    # the overview and LIESMICH show the bill and its correction with their states
    bills = texts_of(folder / "Uebersicht_2024.xlsx", "Rechnungen")
    assert "2024-Billerbeck-K1" in bills and "festgeschrieben, per Post am " + \
        date.today().strftime("%d.%m.%Y") in bills
    readme = (folder / "LIESMICH.txt").read_text(encoding="utf-8-sig")
    assert "Korrektur 2024-Billerbeck-K1 an Stadt Billerbeck: zu zahlen 1.000,00 €, fällig " \
           "am 12.05.2025." in readme.replace("\r\n", "\n").replace("\n      ", " ")


def test_a_correction_is_a_letter_with_its_girocode_bank_and_own_dates(tmp_path):
    from tests.external_tools import zbarimg

    folder = settled(tmp_path, day="2025-03-02")
    ok(kim("festschreiben", "--jahr", 2024, "--ja", cwd=tmp_path))
    settled(tmp_path, form(nord_extra="4000"), day="2025-04-10")
    path = folder / "Korrektur_2024_Billerbeck_1.xlsx"
    texts = texts_of(path, "Korrektur")
    assert "Kreditinstitut" in texts and "Sparkasse Westmünsterland" in texts
    with zipfile.ZipFile(path) as archive:
        images = [n for n in archive.namelist() if n.startswith("xl/media/")]
        (tmp_path / "code.png").write_bytes(archive.read(images[0]))
    payload = zbarimg(tmp_path / "code.png").splitlines()
    assert payload[7] == "EUR1000.00"
    assert payload[10] == payment_reference(2024, "2024-Billerbeck-K1", "KIM-2024-NORD-01")
    trail = openpyxl.load_workbook(path)["Berechnung"]
    cells = {row[0].value: row[6].value for row in trail.iter_rows() if row[0].value}
    assert cells["Datum der Korrektur"].date() == date(2025, 4, 10)
    assert cells["Fällig am"].date() == date(2025, 5, 12)
    sheet = openpyxl.load_workbook(path)["Korrektur"]
    row = next(r for r in sheet.iter_rows() if r[0].value == "Verwendungszweck")
    assert sheet.row_dimensions[row[0].row].height >= 2 * 12  # room for its two lines


def test_advances_entered_after_issue_do_not_change_the_bill(tmp_path):
    folder = settled(tmp_path)
    ok(kim("festschreiben", "--jahr", 2024, "--ja", cwd=tmp_path))
    before = files(folder)
    content = form()
    content.advances.append({"Kommune": "Billerbeck", "Datum": date(2024, 9, 1),
                             "Betrag": D("1000.00")})
    put(tmp_path, content)
    done = ok(kim("abrechnen", cwd=tmp_path))
    assert "Stadt Billerbeck: die Abschläge (1.000,00 €) weichen von der festgeschriebenen " \
           "Abrechnung ab (0,00 €)" in done
    after = files(folder)
    assert not [n for n in after if n.startswith("Korrektur_")]
    assert after["Buchungsliste_2024.csv"] == before["Buchungsliste_2024.csv"]


def test_an_issued_letter_edited_by_hand_is_reported_and_never_sent(tmp_path, smtp_server):
    mailbox = smtp_server()
    folder = settled(tmp_path)
    ok(kim("festschreiben", "--jahr", 2024, "--region", "Mitte", "--ja", cwd=tmp_path))
    letter = folder / "Abrechnung_2024_Nottuln.xlsx"
    edited = letter.read_bytes() + b"\0"
    letter.write_bytes(edited)
    done = ok(kim("abrechnen", cwd=tmp_path))
    assert "„Abrechnung_2024_Nottuln.xlsx“ ist festgeschrieben, aber nach dem Schreiben " \
           "geändert worden" in done
    assert letter.read_bytes() == edited
    sent = kim("versenden", "--jahr", 2024, "--senden", "--ja", "--erneut", cwd=tmp_path,
               env=smtp_env(mailbox))
    assert "Abrechnung_2024_Nottuln.xlsx wurde nach dem Schreiben von Hand geändert" in \
        sent.stdout
    assert "Nottuln" not in " ".join(m["Subject"] for _, _, m in mailbox.messages)


def test_the_letter_and_the_mail_name_the_same_verwendungszweck(tmp_path):
    folder = settled(tmp_path)
    ok(kim("versenden", "--jahr", 2024, cwd=tmp_path))
    expected = payment_reference(2024, invoice_number(2024, "Billerbeck"), "KIM-2024-NORD-01")
    sheet = openpyxl.load_workbook(folder / "Abrechnung_2024_Billerbeck.xlsx")["Abrechnung"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    on_letter = next(r[1] for r in rows if r[0] == "Verwendungszweck")
    draft = BytesParser(policy=policy.default).parsebytes(
        (folder / "E-Mails" / "Abrechnung_2024_Billerbeck.eml").read_bytes())
    in_mail = next(line.split(":", 1)[1].strip() for line in
                   draft.get_body().get_content().splitlines() if "Verwendungszweck" in line)
    assert on_letter == in_mail == expected


def test_a_year_not_yet_over_is_settled_as_a_draft_and_the_warning_says_so(tmp_path):
    put(tmp_path, form(date_given=False))
    out = ok(kim("abrechnen", cwd=tmp_path, day="2024-11-20"))
    assert "Abrechnungsjahr 2024 ist noch nicht abgeschlossen" in out
    assert "Die Abrechnung wird trotzdem geschrieben, als Entwurf" in out
    assert "abgerechnet wird nur ein abgeschlossenes Jahr" not in out
    assert (tmp_path / "output" / "2024" / "Abrechnung_2024_Olfen.xlsx").is_file()
