"""Reading the input: which files are inputs, every sheet as a table with cell addresses, and
every file that is no workbook, a damaged one or a bomb refused with a German message.

File-level refusals run ``kim-excel abrechnen`` (``refused`` from test_bad_input: exit 1, the
message, nothing written). Bomb tests run the real command in a fresh process with a time
limit and an address-space limit of 512 MB (a normal run needs under 300 MB): a parser that
expanded the bomb would die with MemoryError or hang, and the test would fail.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from kim_excel.cli.main import main
from kim_excel.core.errors import UnreadableInput
from kim_excel.core.names import normalise
from kim_excel.core.schema import VERTRAGSPARTEIEN
from kim_excel.input.extent import cell_name, column_letter
from kim_excel.input.reading import find_workbooks, read_workbook
from tests.builders import example_2024, write
from tests.oddfiles import (
    deflate_repeated,
    edited_with_openpyxl,
    encrypted,
    handmade_zip,
    members_of,
    ole_container,
    opendocument,
    rezip,
    sheet_member,
)
from tests.test_bad_input import form_folder, refused

REPO = Path(__file__).resolve().parents[1]

# ------------------------------------------------------------------ addresses and names


def test_columns_and_cells_are_named_as_excel_names_them():
    assert [column_letter(c) for c in (0, 25, 26, 51, 701, 702)] == [
        "A", "Z", "AA", "AZ", "ZZ", "AAA"]
    assert cell_name(4, 1) == "B5"


def test_headers_match_ignoring_case_and_spaces():
    assert normalise("  Anstellungskörperschaft ") == normalise("ANSTELLUNGSKÖRPERSCHAFT")
    assert normalise("Förderung   erhalten") == "förderung erhalten"


# ------------------------------------------------------------------ which files are inputs


def test_the_input_folder_lists_workbooks_without_lock_and_hidden_files(tmp_path):
    for name in ("B.xlsx", "A.xlsm", "~$B.xlsx", ".A.xlsx", "Notizen.txt", "alt.xls"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in find_workbooks(tmp_path)] == ["A.xlsm", "B.xlsx", "alt.xls"]


def test_a_single_file_is_its_own_input(tmp_path):
    path = tmp_path / "Abrechnung.xlsx"
    path.write_bytes(b"x")
    assert find_workbooks(path) == [path]


def test_a_missing_input_names_the_folder(tmp_path):
    with pytest.raises(UnreadableInput) as caught:
        find_workbooks(tmp_path / "fehlt")
    assert str(caught.value).startswith(f"Eingang „{tmp_path / 'fehlt'}“ gibt es nicht.")


# ------------------------------------------------------------------ a workbook as tables


def test_a_sheet_becomes_a_table_with_headers_rows_and_cell_addresses(tmp_path):
    path = write(example_2024(), tmp_path / "Abrechnung.xlsx")
    book = read_workbook(path, (VERTRAGSPARTEIEN, "Personalkosten"))
    assert set(book.tables) == {"vertragsparteien", "personalkosten"}
    assert VERTRAGSPARTEIEN in book.sheet_names and "Sachkosten" in book.sheet_names
    table = book.table("  PERSONALKOSTEN ")
    index, values = table.rows[0]
    assert table.value(values, "VZÄ") == 1 and table.value(values, "Stelle") == \
        "Case-Management Nord 1"
    assert table.value(values, "gibt es nicht") == ""
    where = table.ref(index, "Personalkosten")
    assert (where.file, where.sheet, where.cell) == ("Abrechnung.xlsx", "Personalkosten", "E2")
    assert str(table.header_ref()) == "Personalkosten!A1:E1"


def test_a_sheet_that_was_not_asked_for_is_not_read(tmp_path):
    path = write(example_2024(), tmp_path / "Abrechnung.xlsx")
    assert read_workbook(path, ("Sachkosten",)).table("Personalkosten") is None


# ------------------------------------------------------------------ files refused


def test_a_value_far_outside_the_table(tmp_path):
    """Found by hardening: one value in XFD1048576 made calamine allocate 17 billion cells
    and abort the whole process (SIGABRT, no exception to catch). Run in its own process
    so that a regression cannot take the test session down with it."""
    folder = form_folder(tmp_path, example_2024())

    def far(book):
        book["Sachkosten"]["XFD1048576"] = "vergessen"

    edited_with_openpyxl(folder / "Abrechnung.xlsx", far)
    done = subprocess.run([sys.executable, "-m", "kim_excel", "pruefen", "--eingang",
                           str(folder)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Abrechnung.xlsx: Sachkosten!XFD1048576: ein Wert weit außerhalb der Tabelle: das " \
           "Blatt reicht damit bis XFD1048576, so groß ist kein Abrechnungsformular " \
           "(höchstens 2.000.000 Zellen). Bitte den Inhalt löschen (Strg+Ende springt zur " \
           "letzten benutzten Zelle)" in done.stderr


def test_a_legacy_xls_file(tmp_path):
    folder = tmp_path / "input"
    folder.mkdir()
    ole_container(folder / "Abrechnung_2024.xls")
    refused(tmp_path, folder, "Abrechnung_2024.xls: Datei: Das alte Excel-Format .xls wird nicht "
                              "gelesen. Bitte in Excel öffnen und über „Speichern unter“ als "
                              "„Excel-Arbeitsmappe (*.xlsx)“ speichern.")


def test_a_legacy_xls_file_renamed_to_xlsx(tmp_path):
    folder = tmp_path / "input"
    folder.mkdir()
    ole_container(folder / "Abrechnung_2024.xlsx")
    refused(tmp_path, folder, "Abrechnung_2024.xlsx: Datei: Die Datei ist im alten "
                              "Excel-Format .xls gespeichert, auch wenn ihr Name auf .xlsx endet.")


def test_an_opendocument_spreadsheet_is_read_and_its_missing_sheets_named(tmp_path):
    folder = tmp_path / "input"
    folder.mkdir()
    opendocument(folder / "Abrechnung_2024.ods")
    refused(tmp_path, folder, "Abrechnung_2024.ods: Vertragsparteien: Das Blatt "
                              "„Vertragsparteien“ fehlt. Vorhandene Blätter: Einstellungen.")


def test_an_opendocument_spreadsheet_renamed_to_xlsx(tmp_path):
    folder = tmp_path / "input"
    folder.mkdir()
    opendocument(folder / "Abrechnung_2024.xlsx")
    refused(tmp_path, folder, "Abrechnung_2024.xlsx: Datei: Die Datei ist eine "
                              "OpenDocument-Tabelle (.ods), auch wenn ihr Name auf .xlsx endet.")


def test_a_password_protected_workbook(tmp_path):
    plain = write(example_2024(), tmp_path / "plain.xlsx")
    folder = tmp_path / "input"
    folder.mkdir()
    encrypted(plain, folder / "Abrechnung.xlsx", password="Kämmerei2024")
    output = refused(tmp_path, folder,
                     "Abrechnung.xlsx: Datei: Die Arbeitsmappe ist mit einem Kennwort geschützt "
                     "(verschlüsselt) und kann nicht gelesen werden.",
                     "Mit Kennwort verschlüsseln das Kennwort löschen")
    assert "Kämmerei2024" not in output


def test_a_text_file_named_xlsx(tmp_path):
    folder = tmp_path / "input"
    folder.mkdir()
    (folder / "Abrechnung.xlsx").write_text("Jahr;Betrag\n2024;1000\n", encoding="utf-8")
    refused(tmp_path, folder, "Abrechnung.xlsx: Datei: Die Datei ist keine Excel-Arbeitsmappe "
                              "(.xlsx), auch wenn ihr Name so endet.")


def test_a_csv_export_instead_of_the_workbook(tmp_path):
    folder = tmp_path / "input"
    folder.mkdir()
    (folder / "Abrechnung.csv").write_text("Jahr;Betrag\n2024;1000\n", encoding="utf-8")
    refused(tmp_path, folder, "Abrechnung.csv: Datei: Dateien im Format .csv werden nicht "
                              "gelesen. Bitte als Excel-Arbeitsmappe (.xlsx) speichern.")


def test_a_pdf_given_as_the_input_file(tmp_path):
    pdf = tmp_path / "Abrechnung.pdf"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    refused(tmp_path, pdf, "Abrechnung.pdf: Datei: Die Datei ist keine Excel-Arbeitsmappe "
                           "(.xlsx), sondern eine Datei vom Typ „.pdf“.")


def test_an_empty_file_left_by_a_crashed_save(tmp_path):
    folder = tmp_path / "input"
    folder.mkdir()
    (folder / "Abrechnung.xlsx").write_bytes(b"")
    refused(tmp_path, folder, "Abrechnung.xlsx: Datei: Die Datei ist keine Excel-Arbeitsmappe")


def test_a_workbook_cut_off_in_the_middle(tmp_path):
    whole = write(example_2024(), tmp_path / "whole.xlsx").read_bytes()
    folder = tmp_path / "input"
    folder.mkdir()
    (folder / "Abrechnung.xlsx").write_bytes(whole[: len(whole) // 2])
    refused(tmp_path, folder, "Abrechnung.xlsx: Datei: Die Datei ist keine Excel-Arbeitsmappe")


def test_a_workbook_with_a_damaged_part(tmp_path):
    """One byte changed inside a compressed sheet: the checksum no longer matches."""
    good = write(example_2024(), tmp_path / "good.xlsx")
    data = bytearray(good.read_bytes())
    import zipfile

    with zipfile.ZipFile(good) as archive:
        info = archive.getinfo("xl/worksheets/sheet4.xml")
    offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + 40
    data[offset] ^= 0xFF
    folder = tmp_path / "input"
    folder.mkdir()
    (folder / "Abrechnung.xlsx").write_bytes(bytes(data))
    refused(tmp_path, folder, "Abrechnung.xlsx: Datei: Die Arbeitsmappe ist beschädigt")


def test_an_empty_input_folder(tmp_path):
    folder = tmp_path / "input"
    folder.mkdir()
    (folder / "~$Abrechnung.xlsx").write_bytes(b"lock file of Excel")
    (folder / "Notizen.txt").write_text("Anruf Kämmerei Olfen")
    refused(tmp_path, folder, f"Fehler: Im Eingangsordner „{folder}“ liegt keine Arbeitsmappe "
                              f"(.xlsx). Legen Sie die ausgefüllte Vorlage dort ab")


def test_a_missing_input_folder(tmp_path):
    refused(tmp_path, tmp_path / "input", f"Fehler: Eingang „{tmp_path / 'input'}“ gibt es "
                                          f"nicht. Bitte den Ordner anlegen")


# --------------------------------------------------------------- what is accepted


@pytest.mark.slow
def test_a_macro_enabled_workbook_is_read_like_xlsx(tmp_path):
    plain = write(example_2024(), tmp_path / "plain.xlsx")
    folder = tmp_path / "input"
    folder.mkdir()

    def macro_type(content: bytes) -> bytes:
        return content.replace(
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")

    rezip(plain, folder / "Abrechnung.xlsm", {"[Content_Types].xml": macro_type})
    ausgabe = tmp_path / "output"
    result = CliRunner().invoke(main, ["abrechnen", "--eingang", str(folder),
                                       "--ausgabe", str(ausgabe)])
    assert result.exit_code == 0, result.output
    csv = (ausgabe / "2024" / "Buchungsliste_2024.csv").read_text(encoding="utf-8-sig")
    assert "2024;Nord;Coesfeld;Billerbeck;Partnerkommune;0,25;27500,00;6875,00" in csv


MEMORY_LIMIT = 512 * 1024 * 1024


MB = 1024 * 1024


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


LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol;" if i == 1 else f"&lol{i - 1};") * 10}">'
              for i in range(1, 10))
    + "]>"
)


def assert_refused_quickly(tmp_path: Path, workbook: Path, *parts: str) -> None:
    done, seconds = settle_in_process(workbook, tmp_path / "output")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    for part in parts:
        assert part in done.stderr, done.stderr
    assert seconds < 10
    assert not (tmp_path / "output").exists()


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
