"""One change of a year folder (kim_excel/ledger/transaction.py): the ledger and its files
written together, what stays from the old folder decided from the ledger, what the clerk
changed kept and reported, the record's numbered copies."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from kim_excel.commands.send import prepare_mailing, write_drafts
from kim_excel.commands.settle import run_settlement
from kim_excel.core.model import Severity
from kim_excel.ledger.folder import Carried
from kim_excel.ledger.store import HISTORY_FOLDER, KEEP_COPIES, RECORD_NAME
from kim_excel.ledger.transaction import attachment_names, carried_notices, year_folder
from tests.builders import D, example_2024, write

TODAY = date(2025, 3, 2)
NORD = ("Billerbeck", "Havixbeck", "Rosendahl")
OTHERS = ("Nottuln", "Luedinghausen", "Nordkirchen", "Olfen", "Senden")


def form(nord_extra: str = "0"):
    content = example_2024()
    content.positions[0]["Personalkosten"] = D("65200.00") + D(nord_extra)
    return content


def run(tmp_path: Path, content, day: date = TODAY) -> Path:
    write(content, tmp_path / "input" / "Abrechnung_2024.xlsx")
    return run_settlement(tmp_path / "input", tmp_path / "output", day).folder


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def record(folder: Path) -> dict:
    return json.loads((folder / RECORD_NAME).read_text(encoding="utf-8"))


def drafts(tmp_path: Path) -> None:
    with year_folder(tmp_path / "output", 2024) as change:
        write_drafts(prepare_mailing(change, TODAY))


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


def test_the_record_gives_every_file_its_region_and_its_bill(tmp_path):
    folder = run(tmp_path, form())
    entries = record(folder)["files"]
    assert {entries[f"Abrechnung_2024_{n}.xlsx"]["region"] for n in NORD} == {"Nord"}
    assert entries["Abrechnung_2024_Olfen.xlsx"] == {
        "sha256": entries["Abrechnung_2024_Olfen.xlsx"]["sha256"], "region": "Süd",
        "owner": "2024-Olfen", "attachments": []}
    assert entries["Uebersicht_2024.xlsx"]["region"] == entries["LIESMICH.txt"]["owner"] == ""


def test_a_rerun_with_the_same_input_writes_no_new_version_of_the_record(tmp_path):
    folder = run(tmp_path, form())
    first = (folder / RECORD_NAME).read_bytes()
    run(tmp_path, form())
    assert (folder / RECORD_NAME).read_bytes() == first
    assert [p.name for p in sorted((folder / HISTORY_FOLDER).iterdir())] == ["record-0001.json"]
    run(tmp_path, form(nord_extra="1"))
    assert record(folder)["generation"] == 2
    assert (folder / HISTORY_FOLDER / "record-0002.json").read_bytes() == \
        (folder / RECORD_NAME).read_bytes()


def test_only_the_newest_copies_of_the_record_are_kept(tmp_path):
    folder = run(tmp_path, form())
    for extra in range(1, KEEP_COPIES + 3):
        run(tmp_path, form(nord_extra=str(extra)))
    copies = sorted(p.name for p in (folder / HISTORY_FOLDER).iterdir())
    newest = record(folder)["generation"]
    assert copies == [f"record-{n:04d}.json" for n in range(newest - KEEP_COPIES + 1,
                                                            newest + 1)]


def test_a_clerks_files_survive_reruns_byte_for_byte_and_are_listed_as_theirs(tmp_path):
    folder = run(tmp_path, form())
    scan = folder / "Abrechnung_2024_Nottuln_unterschrieben.pdf"
    scan.write_bytes(b"%PDF scan 2024")
    (folder / "Notizen.txt").write_text("Anruf Olfen 3.3.")
    run(tmp_path, form(nord_extra="4000"))
    run(tmp_path, form())
    assert scan.read_bytes() == b"%PDF scan 2024"
    assert (folder / "Notizen.txt").read_text() == "Anruf Olfen 3.3."
    readme = (folder / "LIESMICH.txt").read_text(encoding="utf-8-sig")
    assert "Eigene Dateien (kim-excel ändert und verwaltet sie nicht):" in readme
    assert "  Abrechnung_2024_Nottuln_unterschrieben.pdf" in readme


def test_a_draft_letter_edited_by_hand_is_kept_under_a_new_name_and_the_run_says_so(
        tmp_path):
    folder = run(tmp_path, form())
    letter = folder / "Abrechnung_2024_Billerbeck.xlsx"
    edited = letter.read_bytes() + b"edited"
    letter.write_bytes(edited)
    write(form(nord_extra="4000"), tmp_path / "input" / "Abrechnung_2024.xlsx")
    result = run_settlement(tmp_path / "input", tmp_path / "output", TODAY)
    kept = folder / "Abrechnung_2024_Billerbeck_bearbeitet.xlsx"
    assert kept.read_bytes() == edited and letter.read_bytes() != edited
    said = [str(n) for n in result.notices]
    assert any("„Abrechnung_2024_Billerbeck.xlsx“ wurde nach dem letzten Lauf geändert" in n
               and "bleibt als „Abrechnung_2024_Billerbeck_bearbeitet.xlsx“ erhalten" in n
               for n in said)
    assert kept.name not in record(folder)["files"]  # not ours: never touched again


def test_drafts_quoting_old_figures_go_and_the_others_stay(tmp_path):
    folder = run(tmp_path, form())
    drafts(tmp_path)
    before = files(folder / "E-Mails")
    write(form(nord_extra="4000"), tmp_path / "input" / "Abrechnung_2024.xlsx")
    result = run_settlement(tmp_path / "input", tmp_path / "output", TODAY)
    assert sorted(p.name for p in (folder / "E-Mails").iterdir()) == sorted(
        f"Abrechnung_2024_{n}.eml" for n in OTHERS)
    said = [(n.message, n.severity) for n in result.notices]
    for name in NORD:
        assert (f"Veralteter E-Mail-Entwurf entfernt (er nannte die alten Beträge): "
                f"E-Mails/Abrechnung_2024_{name}.eml", Severity.INFO) in said
    assert (folder / "E-Mails" / "Abrechnung_2024_Olfen.eml").read_bytes() == \
        before["Abrechnung_2024_Olfen.eml"]
    assert set(record(folder)["drafts"]) == {f"E-Mails/Abrechnung_2024_{n}.eml" for n in OTHERS}


def test_a_partner_leaving_a_draft_region_takes_its_letter_with_it(tmp_path):
    folder = run(tmp_path, form())
    content = form()
    next(p for p in content.parties if p["Kommune"] == "Rosendahl")["Ausgeschieden zum"] = \
        date(2023, 12, 31)
    run(tmp_path, content)
    assert not (folder / "Abrechnung_2024_Rosendahl.xlsx").exists()
    assert "Abrechnung_2024_Rosendahl.xlsx" not in record(folder)["files"]


def test_an_e_invoice_of_a_letter_written_anew_without_one_goes(tmp_path):
    from tests.builders import leitweg_id

    content = form()
    olfen = next(p for p in content.parties if p["Kommune"] == "Olfen")
    olfen["Leitweg-ID"] = leitweg_id("05558036")
    ascheberg = next(p for p in content.parties if p["Kommune"] == "Ascheberg")
    ascheberg.update({"Ansprechpartner": "Frau Probe", "Telefon": "02593 609-0",
                      "Gemeindeschlüssel": "05558004"})
    folder = run(tmp_path, content)
    assert (folder / "Abrechnung_2024_Olfen.xml").is_file()
    olfen["Leitweg-ID"] = None
    run(tmp_path, content)
    assert not (folder / "Abrechnung_2024_Olfen.xml").exists()
    with year_folder(tmp_path / "output", 2024) as change:
        assert attachment_names(change.ledger, "Abrechnung_2024_Olfen.xlsx") == [
            "Abrechnung_2024_Olfen.xlsx"]


def test_a_file_kept_by_its_old_name_and_one_kept_under_a_new_name_are_told_apart():
    notices = carried_notices(Carried(
        removed=["Abrechnung_2024_Olfen.xlsx"],
        kept=[("Korrektur_2024_Olfen_1.xlsx", "Korrektur_2024_Olfen_1.xlsx"),
              ("Uebersicht_2024.xlsx", "Uebersicht_2024_bearbeitet.xlsx")]))

    assert [(n.message, n.severity) for n in notices] == [
        ("„Korrektur_2024_Olfen_1.xlsx“ wurde nach dem letzten Lauf geändert und bleibt "
         "unverändert liegen; kim-excel verwaltet sie nicht mehr.", Severity.WARNING),
        ("„Uebersicht_2024.xlsx“ wurde nach dem letzten Lauf geändert (oder stammt nicht von "
         "kim-excel) und bleibt als „Uebersicht_2024_bearbeitet.xlsx“ erhalten; "
         "„Uebersicht_2024.xlsx“ ist neu geschrieben.", Severity.WARNING)]


def test_a_change_that_fails_leaves_the_folder_and_its_record_as_they_were(tmp_path):
    folder = run(tmp_path, form())
    before = files(folder)
    try:
        with year_folder(tmp_path / "output", 2024) as change:
            change.ledger.regions["Nord"].versions[0].day = date(2030, 1, 1)
            with change.writing() as staging:
                (staging / "halb.xlsx").write_bytes(b"PK")
                raise RuntimeError("mitten im Schreiben")
    except RuntimeError:
        pass
    assert files(folder) == before
