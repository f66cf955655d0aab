"""The atomic year folder (kim_excel/ledger/folder.py): the staged folder swapped in whole, what
is carried over and what is kept under a new name, the lock. Which files the ledger lets go:
the folder transaction (tests/test_transaction.py); runs killed or failing while writing:
tests/test_nothing_lost.py; safe names and atomic single files: tests/test_files.py."""

from __future__ import annotations

import errno
import hashlib
from pathlib import Path

import pytest

from kim_excel.core.errors import OutputLocked
from kim_excel.ledger import folder as output
from kim_excel.ledger.folder import (
    GENERATED,
    LOCK_NAME,
    carry_over,
    free_name,
    output_lock,
    recover,
    staged_folder,
)
from kim_excel.ledger.store import HISTORY_FOLDER
from tests.builders import example_2024, write
from tests.test_nothing_lost import finished, settle
from tests.test_reading import settle_in_process


def put(folder: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ carry over


def test_carry_over_replaces_only_recorded_unchanged_files_and_keeps_everything_else(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    put(old, {"Abrechnung_2024_Olfen.xlsx": b"ours",  # recorded, unchanged: replaced
              "Abrechnung_2024_Senden.xlsx": b"edited by hand",  # recorded, changed: kept
              "Uebersicht_2024.xlsx": b"never recorded",  # not ours: kept under a new name
              "Abrechnung_2024_Billerbeck_unterschrieben.pdf": b"scan",  # carried as is
              "E-Mails/Abrechnung_2024_Olfen.eml": b"draft",
              "Korrektur_2024_Olfen_1.xlsx": b"ours, stale",  # recorded, to be removed
              "Korrektur_2024_Senden_1.xlsx": b"stale, edited"})  # to be removed, changed
    put(new, {"Abrechnung_2024_Olfen.xlsx": b"new", "Abrechnung_2024_Senden.xlsx": b"new",
              "Uebersicht_2024.xlsx": b"new"})
    owned = {"Abrechnung_2024_Olfen.xlsx": sha(b"ours"),
             "Abrechnung_2024_Senden.xlsx": sha(b"as written"),
             "Korrektur_2024_Olfen_1.xlsx": sha(b"ours, stale"),
             "Korrektur_2024_Senden_1.xlsx": sha(b"stale")}

    done = carry_over(old, new, owned, {"Korrektur_2024_Olfen_1.xlsx",
                                        "Korrektur_2024_Senden_1.xlsx"})

    assert tree(new) == {
        "Abrechnung_2024_Olfen.xlsx": b"new",
        "Abrechnung_2024_Senden.xlsx": b"new",
        "Abrechnung_2024_Senden_bearbeitet.xlsx": b"edited by hand",
        "Uebersicht_2024.xlsx": b"new",
        "Uebersicht_2024_bearbeitet.xlsx": b"never recorded",
        "Abrechnung_2024_Billerbeck_unterschrieben.pdf": b"scan",
        "E-Mails/Abrechnung_2024_Olfen.eml": b"draft",
        "Korrektur_2024_Senden_1.xlsx": b"stale, edited",
    }
    assert sorted(done.removed) == ["Abrechnung_2024_Olfen.xlsx", "Korrektur_2024_Olfen_1.xlsx"]
    assert sorted(done.kept) == [
        ("Abrechnung_2024_Senden.xlsx", "Abrechnung_2024_Senden_bearbeitet.xlsx"),
        ("Korrektur_2024_Senden_1.xlsx", "Korrektur_2024_Senden_1.xlsx"),
        ("Uebersicht_2024.xlsx", "Uebersicht_2024_bearbeitet.xlsx")]
    assert tree(old)["Abrechnung_2024_Senden.xlsx"] == b"edited by hand"  # old left alone


def test_a_second_edited_copy_gets_the_next_free_name(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    put(old, {"Abrechnung_2024_Olfen.xlsx": b"x", "Abrechnung_2024_Olfen_bearbeitet.xlsx": b"y"})
    new.mkdir()
    assert free_name(old, new, "Abrechnung_2024_Olfen.xlsx") == \
        "Abrechnung_2024_Olfen_bearbeitet_2.xlsx"
    assert free_name(old, new, "E-Mails/a.eml") == "E-Mails/a_bearbeitet.eml"


# ------------------------------------------------------------------ the staged folder


def test_a_staged_folder_replaces_the_target_whole_and_carries_the_clerks_files(tmp_path):
    target = tmp_path / "2024"
    put(target, {"Uebersicht_2024.xlsx": b"old", "Scan.pdf": b"scan"})

    with staged_folder(target) as staging:
        assert staging.parent == tmp_path and staging.name.startswith(".2024.neu-")
        assert tree(target) == {"Uebersicht_2024.xlsx": b"old", "Scan.pdf": b"scan"}
        put(staging, {"Abrechnung_2024_Olfen.xlsx": b"new"})

    assert tree(target) == {"Abrechnung_2024_Olfen.xlsx": b"new", "Scan.pdf": b"scan",
                            "Uebersicht_2024.xlsx": b"old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2024"]


@pytest.mark.parametrize("swap", [True, False], ids=["exchange", "two renames"])
def test_a_run_that_fails_in_its_staged_folder_leaves_the_target_untouched(tmp_path,
                                                                           monkeypatch, swap):
    if not swap:
        monkeypatch.setattr(output, "exchange", lambda a, b: False)
    target = tmp_path / "2024"
    put(target, {"Uebersicht_2024.xlsx": b"old"})

    with pytest.raises(OSError), staged_folder(target) as staging:
        put(staging, {"Uebersicht_2024.xlsx": b"half"})
        raise OSError(errno.ENOSPC, "No space left on device")

    assert tree(target) == {"Uebersicht_2024.xlsx": b"old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2024"]

    with staged_folder(target) as staging:  # and the next run publishes either way
        put(staging, {"Uebersicht_2024.xlsx": b"new"})
    assert tree(target) == {"Uebersicht_2024.xlsx": b"new",
                            "Uebersicht_2024_bearbeitet.xlsx": b"old"}  # not recorded: kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2024"]


def test_recover_puts_back_a_folder_left_aside_and_sweeps_leftovers(tmp_path):
    target = tmp_path / "2024"
    put(tmp_path / ".2024.alt-4711", {"Uebersicht_2024.xlsx": b"old"})
    put(tmp_path / ".2024.neu-4712", {"Uebersicht_2024.xlsx": b"half"})

    recover(target)

    assert tree(target) == {"Uebersicht_2024.xlsx": b"old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2024"]


# ------------------------------------------------------------------ the lock


def test_a_second_lock_on_the_same_output_folder_is_refused_in_german(tmp_path):
    ausgabe = tmp_path / "ausgabe"
    with output_lock(ausgabe), pytest.raises(OutputLocked) as raised, output_lock(ausgabe):
        pass  # pragma: no cover

    assert str(raised.value) == (f"Ein anderer kim-excel-Lauf schreibt gerade in „{ausgabe}“. "
                                 f"Bitte warten, bis er fertig ist, und dann erneut starten.")
    with output_lock(ausgabe):  # released again
        pass


# ------------------------------------------------------------------ through the real run


def test_party_names_with_path_characters_stay_inside_the_output_folder(tmp_path):
    form = example_2024()
    form.parties[1]["Kommune"] = "../../evil"
    form.parties[2]["Kommune"] = "a/b"
    form.parties[3]["Kommune"] = "C:\\x"
    eingang = write(form, tmp_path / "input" / "Abrechnung.xlsx")
    done, _ = settle_in_process(eingang, tmp_path / "output", limit=False)
    assert done.returncode == 0, done.stderr
    written = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    letters = {p for p in written if p.startswith("output/2024/Abrechnung_")}
    assert letters == {f"output/2024/Abrechnung_2024_{name}.xlsx" for name in (
        "evil", "a_b", "C_x", "Nottuln", "Luedinghausen", "Nordkirchen", "Olfen", "Senden")}
    others = written - letters - {"input/Abrechnung.xlsx", f"output/{LOCK_NAME}"}
    copies = {p for p in others if p.startswith(f"output/2024/{HISTORY_FOLDER}/record-")}
    assert copies == {f"output/2024/{HISTORY_FOLDER}/record-0001.json"}
    assert all(p.startswith("output/2024/") and GENERATED.match(p.split("/")[-1])
               for p in others - copies), others
    assert "output/2024/Buchungsliste_2024.csv" in others
    assert not list(tmp_path.parent.glob("evil*"))


@pytest.mark.slow
def test_a_second_run_while_one_is_writing_is_refused_with_a_clear_message(tmp_path):
    from filelock import FileLock

    eingang = write(example_2024(), tmp_path / "input" / "Abrechnung.xlsx")
    ausgabe = tmp_path / "output"
    ausgabe.mkdir()
    with FileLock(str(ausgabe / LOCK_NAME)):
        code, out, err = finished(settle(eingang, ausgabe))
    assert code == 1
    assert err == (f"Fehler: Ein anderer kim-excel-Lauf schreibt gerade in „{ausgabe}“. Bitte "
                   f"warten, bis er fertig ist, und dann erneut starten.\n")
    assert sorted(p.name for p in ausgabe.iterdir()) == [LOCK_NAME]
