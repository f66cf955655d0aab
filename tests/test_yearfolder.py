"""The write step (kim_excel/yearfolder.py): the region is the unit of a year folder. Only the
regions whose figures changed get new letters; the others' files stay untouched; the record
lists every file with its region; what the clerk changed is kept and reported."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from kim_excel.commands.settle import run_settlement
from kim_excel.commands.yearfolder import carried_notices
from kim_excel.core.model import Severity
from kim_excel.ledger.folder import Carried
from kim_excel.ledger.record import RECORD_NAME
from tests.test_life import ALL, NORD, files, form, kim, put, settled, settled_output

TODAY = date(2025, 3, 2)
OTHERS = tuple(n for n in ALL if n not in NORD)


def run(tmp_path: Path, content) -> Path:
    put(tmp_path, content)
    result = run_settlement(tmp_path / "input", tmp_path / "output", TODAY)
    return result.folder


def test_only_the_changed_regions_letters_are_rewritten(tmp_path):
    folder = run(tmp_path, form())
    before = files(folder)
    stat = {n: (folder / n).stat() for n in before}

    run(tmp_path, form(nord_extra="4000"))  # only Nord's costs change
    after = files(folder)

    for name in (f"Abrechnung_2024_{n}.xlsx" for n in OTHERS):
        now = (folder / name).stat()
        assert after[name] == before[name], name
        assert (now.st_ino, now.st_mtime_ns) == (stat[name].st_ino, stat[name].st_mtime_ns), \
            f"{name} was written again"
    for name in (f"Abrechnung_2024_{n}.xlsx" for n in NORD):
        assert after[name] != before[name], name
    assert after["Buchungsliste_2024.csv"] != before["Buchungsliste_2024.csv"]


def test_the_record_gives_every_letter_its_region_and_the_summaries_none(tmp_path):
    folder = run(tmp_path, form())
    record = json.loads((folder / RECORD_NAME).read_text(encoding="utf-8"))

    regions = {name: entry["region"] for name, entry in record["files"].items()}
    assert {regions[f"Abrechnung_2024_{n}.xlsx"] for n in NORD} == {"Nord"}
    assert regions["Abrechnung_2024_Olfen.xlsx"] == "Süd"
    assert regions["Uebersicht_2024.xlsx"] == regions["Buchungsliste_2024.csv"] == \
        regions["LIESMICH.txt"] == ""
    assert record["regions"]["Nord"]["letters"]["Billerbeck"] == "Abrechnung_2024_Billerbeck.xlsx"


def test_a_file_kept_by_its_old_name_and_one_kept_under_a_new_name_are_told_apart():
    notices = carried_notices(Carried(
        removed=["E-Mails/Abrechnung_2024_Olfen.eml", "Abrechnung_2024_Olfen.xlsx"],
        kept=[("Korrektur_2024_Olfen_1.xlsx", "Korrektur_2024_Olfen_1.xlsx"),
              ("Uebersicht_2024.xlsx", "Uebersicht_2024_bearbeitet.xlsx")]))

    assert [(n.message, n.severity) for n in notices] == [
        ("Veralteter E-Mail-Entwurf entfernt (er nannte die alten Beträge): "
         "E-Mails/Abrechnung_2024_Olfen.eml", Severity.INFO),
        ("„Korrektur_2024_Olfen_1.xlsx“ wurde nach dem letzten Lauf geändert und bleibt "
         "unverändert liegen; kim-excel verwaltet sie nicht mehr.", Severity.WARNING),
        ("„Uebersicht_2024.xlsx“ wurde nach dem letzten Lauf geändert (oder stammt nicht von "
         "kim-excel) und bleibt als „Uebersicht_2024_bearbeitet.xlsx“ erhalten; "
         "„Uebersicht_2024.xlsx“ ist neu geschrieben.", Severity.WARNING)]


# ------------------------------------------------------------------ through the real command


@pytest.mark.slow
def test_a_clerks_signed_scan_survives_reruns_byte_for_byte(tmp_path):
    folder = settled(tmp_path)
    scan = folder / "Abrechnung_2025_Nottuln_unterschrieben.pdf"
    scan.write_bytes(b"%PDF-1.4 unterschrieben")
    (folder / "Abrechnung_2024_Nottuln_unterschrieben.pdf").write_bytes(b"%PDF scan 2024")
    settled(tmp_path, form(nord_extra="4000"))
    settled(tmp_path, form(nord_extra="0"))
    assert scan.read_bytes() == b"%PDF-1.4 unterschrieben"
    assert (folder / "Abrechnung_2024_Nottuln_unterschrieben.pdf").read_bytes() == \
        b"%PDF scan 2024"


@pytest.mark.slow
def test_a_letter_edited_by_hand_is_kept_under_a_new_name_and_the_run_says_so(tmp_path):
    folder = settled(tmp_path)
    letter = folder / "Abrechnung_2024_Billerbeck.xlsx"
    edited = letter.read_bytes() + b"edited"
    letter.write_bytes(edited)
    put(tmp_path, form(nord_extra="4000"))
    done = kim("abrechnen", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    kept = folder / "Abrechnung_2024_Billerbeck_bearbeitet.xlsx"
    assert kept.read_bytes() == edited
    assert letter.read_bytes() != edited
    assert "„Abrechnung_2024_Billerbeck.xlsx“ wurde nach dem letzten Lauf geändert" in \
        done.stdout + done.stderr
    assert "bleibt als „Abrechnung_2024_Billerbeck_bearbeitet.xlsx“ erhalten" in \
        done.stdout + done.stderr
    record = json.loads((folder / RECORD_NAME).read_text(encoding="utf-8"))
    assert kept.name not in record["files"]  # no longer ours: never touched again


@pytest.mark.slow
def test_drafts_quoting_old_figures_are_removed_and_the_run_says_so(tmp_path):
    folder = settled(tmp_path)
    assert kim("versenden", "--jahr", 2024, cwd=tmp_path).returncode == 0
    drafts = files(folder / "E-Mails")
    done = settled_output(tmp_path, form(nord_extra="4000"))
    assert sorted(p.name for p in (folder / "E-Mails").iterdir()) == sorted(
        f"Abrechnung_2024_{n}.eml" for n in ALL if n not in NORD)
    for name in NORD:
        assert f"Veralteter E-Mail-Entwurf entfernt (er nannte die alten Beträge): " \
               f"E-Mails/Abrechnung_2024_{name}.eml" in done
    assert (folder / "E-Mails" / "Abrechnung_2024_Olfen.eml").read_bytes() == \
        drafts["Abrechnung_2024_Olfen.eml"]
