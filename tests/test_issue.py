"""``kim-excel festschreiben`` (kim_excel/commands/issue.py): letters signed and sent by post are
issued and recorded as posted; the overview and LIESMICH are written anew. The ledger's own
state changes (``Ledger.issue``): tests/test_book.py."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from kim_excel.cli.main import main
from kim_excel.commands.issue import issue_folder, pending
from kim_excel.commands.settle import run_settlement
from kim_excel.core.errors import KimError
from kim_excel.ledger.transaction import read_ledger
from tests.builders import example_2024, write
from tests.smtp_fixture import smtp_env

TODAY = date(2025, 3, 2)
POSTED = date(2025, 3, 5)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No SMTP settings of the developer's shell, no kim-excel-smtp.ini from elsewhere."""
    for key in [k for k in os.environ if k.startswith("KIM_SMTP")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def ausgabe(tmp_path) -> Path:
    """The example settled (a draft) into ``tmp_path/output``."""
    write(example_2024(), tmp_path / "input" / "Abrechnung_2024.xlsx")
    run_settlement(tmp_path / "input", tmp_path / "output", TODAY)
    return tmp_path / "output"


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_pending_says_what_would_be_issued_and_changes_nothing(ausgabe):
    before = files(ausgabe)

    lines = pending(ausgabe, 2024, "Nord", POSTED)

    assert lines == [
        "Region Nord: Abrechnung",
        "Region Nord: Abrechnung_2024_Billerbeck.xlsx per Post",
        "Region Nord: Abrechnung_2024_Havixbeck.xlsx per Post",
        "Region Nord: Abrechnung_2024_Rosendahl.xlsx per Post"]
    assert files(ausgabe) == before
    assert not read_ledger(ausgabe, 2024).regions["Nord"].is_issued


def test_issuing_a_region_records_it_as_posted_and_writes_the_summaries_anew(ausgabe):
    letter = ausgabe / "2024" / "Abrechnung_2024_Billerbeck.xlsx"
    before = letter.read_bytes()

    done = issue_folder(ausgabe, 2024, "nord", POSTED)  # as a person writes it

    assert done == pending_lines("Nord")
    ledger = read_ledger(ausgabe, 2024)
    nord = ledger.regions["Nord"]
    assert nord.is_issued and nord.settlement.issued_on == POSTED
    assert {b.posted for b in nord.settlement.bills.values()} == {POSTED}
    assert not ledger.regions["Süd"].is_issued
    assert letter.read_bytes() == before  # issuing never changes a letter
    readme = (ausgabe / "2024" / "LIESMICH.txt").read_text(encoding="utf-8-sig")
    assert "Region Nord – Anstellungskörperschaft Stadt Coesfeld (festgeschrieben am " \
           "05.03.2025):" in readme
    assert readme.count("Stand: festgeschrieben, per Post am 05.03.2025") == 3


def pending_lines(region: str) -> list[str]:
    files_of = {"Nord": ("Billerbeck", "Havixbeck", "Rosendahl")}[region]
    letters = [f"Abrechnung_2024_{p}.xlsx" for p in files_of]
    return [f"Region {region}: Abrechnung",
            *(f"Region {region}: {name} per Post" for name in letters)]


def test_the_whole_year_and_then_nothing_more(ausgabe):
    done = issue_folder(ausgabe, 2024, None, POSTED)

    assert len([line for line in done if line.endswith(": Abrechnung")]) == 3
    assert len([line for line in done if line.endswith(" per Post")]) == 8
    before = files(ausgabe)
    assert pending(ausgabe, 2024, None, date(2025, 3, 9)) == []
    assert issue_folder(ausgabe, 2024, None, date(2025, 3, 9)) == []
    assert files(ausgabe) == before  # nothing to do: the folder is not written


def test_a_bill_of_an_issued_region_that_never_went_out_is_posted_too(ausgabe, smtp_server):
    """``versenden --senden`` issued Nord, but Havixbeck's mail was refused: festschreiben
    records it as posted; the two that were e-mailed stay e-mailed."""
    mailbox = smtp_server()
    mailbox.reject.add("kaemmerei@havixbeck.example")
    CliRunner().invoke(main, ["versenden", "--jahr", "2024", "--ausgabe", str(ausgabe),
                              "--senden", "--ja"], env=smtp_env(mailbox))
    assert read_ledger(ausgabe, 2024).regions["Nord"].is_issued

    done = issue_folder(ausgabe, 2024, "Nord", POSTED)

    assert done == ["Region Nord: Abrechnung_2024_Havixbeck.xlsx per Post"]
    bills = read_ledger(ausgabe, 2024).regions["Nord"].settlement.bills
    assert bills["Havixbeck"].posted == POSTED
    assert bills["Billerbeck"].posted is None and bills["Billerbeck"].sent is not None


def test_an_unknown_region_and_an_empty_year_are_german_messages(ausgabe):
    with pytest.raises(KimError) as unknown:
        issue_folder(ausgabe, 2024, "West", POSTED)
    assert str(unknown.value) == (f"Region „West“ gibt es in „{ausgabe / '2024'}“ nicht; "
                                  f"abgerechnet sind: Nord, Mitte, Süd.")

    with pytest.raises(KimError) as empty:
        pending(ausgabe, 2023, None, POSTED)
    assert str(empty.value) == (f"Für 2023 gibt es noch keine Abrechnung in „{ausgabe / '2023'}“"
                                f" – bitte zuerst `kim-excel abrechnen` ausführen.")


def test_the_command_asks_first_and_issues_nothing_without_an_answer(ausgabe):
    asked = CliRunner().invoke(main, ["festschreiben", "--jahr", "2024", "--ausgabe",
                                      str(ausgabe)])

    assert asked.exit_code == 1
    assert "Festzuschreiben (per Post versandt):" in asked.output
    assert "Keine Bestätigung möglich (keine Eingabe) – nichts festgeschrieben." in asked.stderr
    assert not read_ledger(ausgabe, 2024).regions["Nord"].is_issued

    confirmed = CliRunner().invoke(main, ["festschreiben", "--jahr", "2024", "--region", "Süd",
                                          "--ausgabe", str(ausgabe), "--ja"])

    assert confirmed.exit_code == 0, confirmed.output
    assert "Festgeschrieben (per Post versandt):\n  Region Süd: Abrechnung\n" in \
        confirmed.output
    again = CliRunner().invoke(main, ["festschreiben", "--jahr", "2024", "--region", "sued",
                                      "--ausgabe", str(ausgabe), "--ja"])
    assert "Nichts festzuschreiben: alles ist bereits festgeschrieben und versandt." \
        in again.output
