"""Safety: bombs, path characters, formula-like text and what the terminal shows.

Bomb tests run the real command in a fresh process with a time limit and an address-space
limit of 512 MB (a normal run needs under 300 MB): a parser that expanded the bomb would
die with MemoryError or hang, and the test would fail.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
import zlib
from pathlib import Path

import openpyxl
import pytest

from kim_excel.output import GENERATED, LOCK_NAME
from tests.builders import BANKS, CONTACTS, example_2024, write
from tests.oddfiles import (
    deflate_repeated,
    handmade_zip,
    members_of,
    rezip,
    sheet_member,
)

REPO = Path(__file__).resolve().parents[1]
MEMORY_LIMIT = 512 * 1024 * 1024
MB = 1024 * 1024

LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol;" if i == 1 else f"&lol{i - 1};") * 10}">'
              for i in range(1, 10))
    + "]>"
)


def limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def settle_in_process(eingang: Path, ausgabe: Path, limit=True) -> tuple[
        subprocess.CompletedProcess, float]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "kim_excel", "abrechnen", "--eingang", str(eingang),
         "--ausgabe", str(ausgabe)],
        capture_output=True, text=True, env=env, timeout=60,
        preexec_fn=limited if limit else None,
    )
    return done, time.monotonic() - start


def assert_refused_quickly(tmp_path: Path, workbook: Path, *parts: str) -> None:
    done, seconds = settle_in_process(workbook, tmp_path / "output")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    for part in parts:
        assert part in done.stderr, done.stderr
    assert seconds < 10
    assert not (tmp_path / "output").exists()


# ------------------------------------------------------------------------ XML bombs


def with_laughs(xml: bytes, where: bytes, padding: str = "") -> bytes:
    """Put the billion-laughs DTD in front of the root element and use it at ``where``."""
    text = xml.decode("utf-8")
    root = text.index("<", text.index("?>") + 2 if text.startswith("<?xml") else 0)
    text = text[:root] + padding + LAUGHS + text[root:]
    return text.encode("utf-8").replace(where, where + b"&lol9;", 1)


def test_billion_laughs_in_a_sheet_is_refused_without_expanding_it(tmp_path):
    source = write(example_2024(), tmp_path / "form.xlsx")
    member = sheet_member(source, "Einstellungen")
    bomb = rezip(source, tmp_path / "Abrechnung.xlsx",
                 {member: lambda xml: with_laughs(xml, b"<sheetData>")})
    assert_refused_quickly(tmp_path, bomb,
                           "Abrechnung.xlsx: Datei: Die Arbeitsmappe enthält XML mit eigenen "
                           "Entitäten (DOCTYPE/ENTITY)", "(Schutz vor XML-Bomben)")


def test_billion_laughs_in_the_workbook_part(tmp_path):
    source = write(example_2024(), tmp_path / "form.xlsx")
    bomb = rezip(source, tmp_path / "Abrechnung.xlsx",
                 {"xl/workbook.xml": lambda xml: with_laughs(xml, b"<sheets>")})
    assert_refused_quickly(tmp_path, bomb, "Schutz vor XML-Bomben")


def test_entities_hidden_behind_a_long_comment_are_found(tmp_path):
    """The DTD may follow a comment in the prolog; 200 KB of comment spans many of the
    64 KB chunks the check reads."""
    source = write(example_2024(), tmp_path / "form.xlsx")
    member = sheet_member(source, "Personalkosten")
    padding = "<!--" + "Kommentar " * 20_000 + "-->"
    bomb = rezip(source, tmp_path / "Abrechnung.xlsx",
                 {member: lambda xml: with_laughs(xml, b"<sheetData>", padding)})
    assert_refused_quickly(tmp_path, bomb, "Schutz vor XML-Bomben")


# ------------------------------------------------------------------------ zip bombs


def test_a_zip_bomb_is_refused_by_the_unpacked_size_cap(tmp_path):
    """A 1 MB file that honestly says it unpacks to 1 GB: refused after at most 64 MB."""
    source = write(example_2024(), tmp_path / "form.xlsx")
    big = deflate_repeated(b"\0" * MB, 1024)
    crc = 0
    for _ in range(1024):
        crc = zlib.crc32(b"\0" * MB, crc)
    bomb = handmade_zip(tmp_path / "Abrechnung.xlsx",
                        [*members_of(source), ("xl/media/image1.bin", big, crc, 1024 * MB)])
    assert bomb.stat().st_size < 2 * MB
    assert_refused_quickly(tmp_path, bomb, "Abrechnung.xlsx: Datei: Die Arbeitsmappe entpackt "
                                           "sich auf mehr als 64 MB; das ist kein "
                                           "Abrechnungsformular (Schutz vor ZIP-Bomben).")


def test_a_zip_that_lies_about_its_sizes_is_refused_without_unpacking_it(tmp_path):
    """The directory claims 5,000 bytes, the data inflates to 1 GB. Before hardening,
    zipfile inflated 300 MB of such a member in one call and then crashed (traceback)."""
    source = write(example_2024(), tmp_path / "form.xlsx")
    members = members_of(source)
    liar = deflate_repeated(b" " * MB, 1024)
    members = [(n, liar, c, s) if n.endswith("sheet2.xml") else (n, d, c, s)
               for n, d, c, s in members]
    bomb = handmade_zip(tmp_path / "Abrechnung.xlsx", members)
    assert_refused_quickly(tmp_path, bomb, "Schutz vor ZIP-Bomben")


def test_a_member_compressed_a_thousandfold_is_refused_by_its_ratio(tmp_path):
    source = write(example_2024(), tmp_path / "form.xlsx")
    bomb = rezip(source, tmp_path / "Abrechnung.xlsx",
                 extra={"xl/media/padding.bin": b"\0" * (8 * MB)})
    assert bomb.stat().st_size < 100_000
    assert_refused_quickly(tmp_path, bomb, "Abrechnung.xlsx: Datei: Die Arbeitsmappe entpackt "
                                           "sich auf 8 MB", "Schutz vor ZIP-Bomben")


# ----------------------------------------------------------------- path characters


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
    assert all(p.startswith("output/2024/") and GENERATED.match(p.split("/")[-1])
               for p in others), others
    assert "output/2024/Buchungsliste_2024.csv" in others
    assert not list(tmp_path.parent.glob("evil*"))


# ------------------------------------------------------------- formula-like text


FORMULA_LIKE = ("=1+1", '=HYPERLINK("http://example.invalid";"Zahlung")', "@SUMME(A1)",
                "+49 2541 939-0", "-Pauschale-")


@pytest.mark.slow
def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    """Names, labels and settings starting with = + - @ are written as text in every
    workbook (openpyxl, data_only=False, sees no formula holding them) and verbatim in the
    Buchungsliste: SPEC § 5 fixes its format, and finance software imports the name as it
    is. (Opening the CSV in Excel would evaluate ``=1+1``; the file is not meant for that.)"""
    form = example_2024()
    form.parties[5]["Kommune"] = "=1+1"  # Nottuln
    form.positions[3]["Stelle"] = FORMULA_LIKE[1]
    form.material[3]["Bezeichnung"] = FORMULA_LIKE[2]
    form.parties[4]["Telefon"] = FORMULA_LIKE[3]
    form.settings["Aktenzeichen"] = FORMULA_LIKE[4]
    eingang = write(form, tmp_path / "input" / "Abrechnung.xlsx")
    done, _ = settle_in_process(eingang, tmp_path / "output", limit=False)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "output" / "2024"
    found_as_text = set()
    for workbook in sorted(folder.glob("*.xlsx")):
        book = openpyxl.load_workbook(workbook, data_only=False)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if not isinstance(cell.value, str):
                        continue
                    for text in FORMULA_LIKE:
                        if text in cell.value:
                            assert cell.data_type == "s", (workbook.name, cell.coordinate)
                            found_as_text.add(text)
                    if cell.data_type == "f":
                        assert not any(t.lstrip("=@+-")[:6] in cell.value for t in FORMULA_LIKE)
    assert "=1+1" in found_as_text  # at least the overview names the partner
    assert (folder / "Abrechnung_2024_1_1.xlsx").exists()
    csv = (folder / "Buchungsliste_2024.csv").read_text(encoding="utf-8-sig")
    assert "2024;Mitte;Dülmen;=1+1;Partnerkommune;0,5;12330,00;6165,00" in csv


# ------------------------------------------------------------------ what is shown


def test_the_terminal_shows_names_and_amounts_but_no_bank_details_or_contacts(tmp_path):
    """The summary is read over shoulders and pasted into e-mails: municipalities and
    amounts are fine; IBAN, BIC, e-mail addresses, contact persons and phone numbers of
    the parties sheet never appear. The run writes no log file of its own."""
    eingang = write(example_2024(), tmp_path / "input" / "Abrechnung.xlsx")
    done, _ = settle_in_process(eingang, tmp_path / "output", limit=False)
    assert done.returncode == 0
    shown = done.stdout + done.stderr
    assert "Stadt Billerbeck    zahlt      6.875,00 €" in shown
    secrets = [iban for iban, _, _ in BANKS.values()]
    secrets += [" ".join(re.findall(".{1,4}", iban)) for iban in secrets]
    secrets += [bic for _, bic, _ in BANKS.values()]
    for contact, phone in CONTACTS.values():
        secrets += [contact.split(",")[0], phone]
    for secret in secrets:
        assert secret not in shown, secret
    assert "@" not in shown
    assert not re.search(r"DE\d{2}\s?\d{4}", shown)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert [p for p in files if p.suffix == ".log"] == []
    assert all(p.parent.name == "input" or p.name == LOCK_NAME or GENERATED.match(p.name)
               for p in files)


def test_a_message_quotes_only_the_offending_cell(tmp_path):
    """Messages quote the offending cell (that is how the clerk finds it), never other
    cells: a bad IBAN is quoted, the good ones of the other employers are not."""
    form = example_2024()
    form.parties[4]["IBAN"] = "DE00 1234"
    eingang = write(form, tmp_path / "input" / "Abrechnung.xlsx")
    done, _ = settle_in_process(eingang, tmp_path / "output", limit=False)
    assert done.returncode == 1
    assert "Abrechnung.xlsx: Vertragsparteien!K6: „DE00 1234“ ist keine gültige IBAN" in \
        done.stderr
    assert BANKS["Coesfeld"][0] not in done.stderr
    assert BANKS["Ascheberg"][0] not in done.stderr
