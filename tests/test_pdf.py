"""``abrechnen --pdf``: one LibreOffice call for all letters, with its own German profile; a
missing, failing or hanging LibreOffice becomes a German notice, never a traceback.

Real conversions are marked ``libreoffice`` and ``slow``; the rest uses a stand-in
``soffice`` script on ``PATH``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kim_excel.core.model import Severity
from kim_excel.documents.pdf import convert_letters, write_profile
from tests.builders import example_2024, write
from tests.runner import run_kim

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ LibreOffice


@pytest.mark.slow
@pytest.mark.libreoffice
def test_pdf_of_each_letter_is_the_whole_workbook_letter_and_trail(tmp_path):
    """``kim-excel abrechnen --pdf``: one PDF per letter next to its workbook, with both
    sheets: page 1 the letter (6.875,00 €, German notation whatever the machine's locale),
    page 2 the trail „Berechnung“ the letter refers to. The footers count the PDF's pages,
    „Seite 1 von 2“ and „Seite 2 von 2“, and name no xlsx file."""
    write(example_2024(), tmp_path / "input" / "Abrechnung.xlsx")
    done = run_kim("abrechnen", "--pdf", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 PDF-Dateien der Abrechnungen erstellt." in done.stdout
    folder = tmp_path / "output" / "2024"
    letters = sorted(folder.glob("Abrechnung_2024_*.xlsx"))
    pdfs = sorted(folder.glob("Abrechnung_2024_*.pdf"))
    assert [p.stem for p in pdfs] == [p.stem for p in letters] and len(pdfs) == 8
    for pdf in pdfs:
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                              check=True).stdout
        assert "Pages:           2" in info, pdf.name
        assert "(A4)" in info
    bill = folder / "Abrechnung_2024_Billerbeck.pdf"

    def page(number: int) -> str:
        return subprocess.run(["pdftotext", "-layout", "-f", str(number), "-l", str(number),
                               str(bill), "-"], capture_output=True, text=True,
                              check=True).stdout

    letter_page, trail_page = page(1), page(2)
    assert "6.875,00 €" in letter_page and "170.000,00 €" in letter_page
    assert "01.04.2025" in letter_page
    assert "Mit freundlichen Grüßen" in letter_page  # the end of the letter is on the page
    assert "DE26 4015 4530 0000 1234 56" in letter_page
    assert "Berechnung des Eigenanteils 2024" in trail_page
    assert "Seite 1 von 2" in letter_page and "Seite 2 von 2" in trail_page
    assert ".xlsx" not in letter_page + trail_page


# ------------------------------------------------------------------ without LibreOffice


@pytest.mark.slow
def test_pdf_without_libreoffice_gives_a_german_notice_and_still_writes(tmp_path):
    """``kim-excel abrechnen --pdf`` with no soffice on PATH: exit 0, the workbooks, a notice."""
    write(example_2024(), tmp_path / "input" / "Abrechnung.xlsx")
    env = dict(os.environ, PYTHONPATH=str(ROOT), PATH=str(tmp_path / "leer"))
    done = subprocess.run([sys.executable, "-m", "kim_excel", "abrechnen", "--pdf",
                           "--eingang", "input", "--ausgabe", "output"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "LibreOffice (soffice) ist nicht installiert" in done.stdout
    assert "die Arbeitsmappen sind vollständig geschrieben" in done.stdout
    folder = tmp_path / "output" / "2024"
    assert len(list(folder.glob("Abrechnung_2024_*.xlsx"))) == 8
    assert not list(folder.glob("*.pdf"))


def fake_soffice(folder: Path, script: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "soffice"
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)
    return folder


def test_a_hanging_libreoffice_is_stopped_and_reported(tmp_path, monkeypatch):
    """A soffice that never returns is killed after the time limit; the run goes on."""
    from kim_excel.documents import pdf

    monkeypatch.setenv("PATH", str(fake_soffice(tmp_path / "bin", "/bin/sleep 30")))
    monkeypatch.setattr(pdf, "TIMEOUT_SECONDS", 1)
    monkeypatch.setattr(pdf, "SECONDS_PER_FILE", 0)
    start = time.monotonic()
    notices = pdf.convert_letters([tmp_path / "Abrechnung_2024_X.xlsx"], tmp_path)
    assert time.monotonic() - start < 10
    assert len(notices) == 1 and "nicht rechtzeitig" in notices[0].message


def test_a_failing_libreoffice_is_reported_in_german(tmp_path, monkeypatch):
    from kim_excel.documents import pdf

    monkeypatch.setenv("PATH", str(fake_soffice(tmp_path / "bin", "echo kaputt; exit 3")))
    notices = pdf.convert_letters([tmp_path / "Abrechnung_2024_X.xlsx"], tmp_path)
    assert len(notices) == 1
    assert "keine PDF-Datei erstellt (kaputt)" in notices[0].message
    assert "Arbeitsmappen sind vollständig geschrieben" in notices[0].message




def test_a_working_libreoffice_gives_a_count_of_the_pdfs(tmp_path, monkeypatch):
    """The stand-in writes ``<stem>.pdf`` for every file it is given, as soffice does."""
    script = ('out=""; prev=""; for a in "$@"; do [ "$prev" = "--outdir" ] && out="$a"; '
              'prev="$a"; done; for a in "$@"; do case "$a" in *.xlsx) '
              'n="${a##*/}"; echo pdf > "$out/${n%.xlsx}.pdf";; esac; done')
    monkeypatch.setenv("PATH", str(fake_soffice(tmp_path / "bin", script)))
    letters = [tmp_path / "Abrechnung_2024_Olfen.xlsx", tmp_path / "Abrechnung_2024_Senden.xlsx"]
    notices = convert_letters(letters, tmp_path)
    assert [(n.severity, n.message) for n in notices] == [
        (Severity.INFO, "2 PDF-Dateien der Abrechnungen erstellt.")]
    assert (tmp_path / "Abrechnung_2024_Olfen.pdf").is_file()


def test_a_libreoffice_that_writes_only_some_pdfs_names_the_missing_ones(tmp_path,
                                                                          monkeypatch):
    script = 'for a in "$@"; do d="$a"; done; echo pdf > "${d%/*}/Abrechnung_2024_Olfen.pdf"'
    monkeypatch.setenv("PATH", str(fake_soffice(tmp_path / "bin", script)))
    letters = [tmp_path / "Abrechnung_2024_Olfen.xlsx", tmp_path / "Abrechnung_2024_Senden.xlsx"]
    notices = convert_letters(letters, tmp_path)
    assert len(notices) == 1
    assert notices[0].message.startswith("LibreOffice hat für Abrechnung_2024_Senden.xlsx keine "
                                         "PDF-Datei erstellt (Exit-Status 0)")


def test_a_soffice_that_cannot_be_started_is_reported_in_german(tmp_path, monkeypatch):
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "soffice").write_text("kein Programm")
    (folder / "soffice").chmod(0o755)  # executable, but no valid program: exec fails
    monkeypatch.setenv("PATH", str(folder))
    notices = convert_letters([tmp_path / "Abrechnung_2024_X.xlsx"], tmp_path)
    assert len(notices) == 1
    assert notices[0].message.startswith("LibreOffice konnte nicht gestartet werden (")
    assert "Es wurden keine PDF-Dateien erstellt" in notices[0].message


def test_no_letters_no_libreoffice_call(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "leer"))
    assert convert_letters([], tmp_path) == []


def test_without_soffice_the_notice_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "leer"))
    (notice,) = convert_letters([tmp_path / "Abrechnung_2024_X.xlsx"], tmp_path)
    assert notice.severity is Severity.WARNING
    assert notice.message.startswith("LibreOffice (soffice) ist nicht installiert")
    assert "apt-get install libreoffice-calc-nogui" in notice.message


@pytest.mark.parametrize("recalculate, mode", [(False, "1"), (True, "0")])
def test_the_profile_sets_a_german_locale_and_the_recalculation_mode(tmp_path, recalculate,
                                                                     mode):
    """Never recalculate for the PDF (it shows the values written); always for the tests."""
    url = write_profile(tmp_path / "profil", recalculate)
    assert url == (tmp_path / "profil").resolve().as_uri()
    xml = (tmp_path / "profil" / "user" / "registrymodifications.xcu").read_text()
    assert '<prop oor:name="ooSetupSystemLocale" oor:op="fuse"><value>de-DE</value>' in xml
    assert f'<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>{mode}</value>' in xml
    assert f'<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>{mode}</value>' in xml
