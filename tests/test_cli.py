"""The command line as a clerk meets it: exit codes and the exact German messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kim_excel.cli.main import main
from tests.builders import example_2024, write

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_plain_kim_excel_settles_input_into_output(tmp_path, monkeypatch):
    write(example_2024(), tmp_path / "input" / "Abrechnung.xlsx")
    monkeypatch.chdir(tmp_path)
    result = run()
    assert result.exit_code == 0, result.output
    assert "Region Nord – Stadt Coesfeld" in result.output
    assert "Stadt Billerbeck    zahlt      6.875,00 €   fällig am 01.04.2025" in result.output
    assert "Gemeinde Nordkirchen  erhält       417,15 €" in result.output
    files = sorted(p.name for p in (tmp_path / "output" / "2024").iterdir())
    assert "Abrechnung_2024_Luedinghausen.xlsx" in files
    assert "Uebersicht_2024.xlsx" in files and "Buchungsliste_2024.csv" in files
    assert len([f for f in files if f.startswith("Abrechnung_")]) == 8  # partners only


def test_abrechnen_with_explicit_folders_and_a_single_file(tmp_path):
    src = write(example_2024(), tmp_path / "x" / "Nord.xlsx")
    result = run("abrechnen", "--eingang", str(src), "--ausgabe", str(tmp_path / "erg"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "erg" / "2024" / "Abrechnung_2024_Billerbeck.xlsx").is_file()


def test_pruefen_reports_success_and_writes_nothing(tmp_path, monkeypatch):
    write(example_2024(), tmp_path / "input" / "a.xlsx")
    monkeypatch.chdir(tmp_path)
    result = run("pruefen")
    assert result.exit_code == 0
    assert ("Keine Fehler gefunden: Abrechnungsjahr 2024, 3 Regionen, 8 Partnerkommunen."
            in result.output)
    assert not (tmp_path / "output").exists()


def test_bad_input_lists_every_problem_with_sheet_and_cell_and_writes_nothing(tmp_path):
    form = example_2024()
    form.positions[0]["Personalkosten"] = "abc"
    form.positions[1]["Monate"] = 13
    form.material[0]["Kostenart"] = "Bewirtung"
    write(form, tmp_path / "in" / "Fehler.xlsx")
    result = run("abrechnen", "--eingang", str(tmp_path / "in"), "--ausgabe",
                 str(tmp_path / "out"))
    assert result.exit_code == 1
    out = result.output
    assert "Die Eingabe enthält 3 Fehler:" in out
    assert "Fehler.xlsx: Personalkosten!E2: „abc“ ist kein Betrag" in out
    assert ("Fehler.xlsx: Personalkosten!D3: „13“ ist ungültig; erlaubt sind 0 bis 12 Monate"
            in out)
    assert "Fehler.xlsx: Sachkosten!B2: „Bewirtung“: abrechenbar sind nach § 2" in out
    assert "Technische Ausstattung, Stellenbesetzung und Ausschreibung" in out
    assert "Es wurde nichts geschrieben." in out
    assert not (tmp_path / "out" / "2024").exists()


def test_pruefen_fails_with_status_1_on_bad_input(tmp_path):
    form = example_2024()
    form.settings["Abrechnungsjahr"] = "zweitausend"
    write(form, tmp_path / "in" / "a.xlsx")
    result = run("pruefen", "--eingang", str(tmp_path / "in"))
    assert result.exit_code == 1
    assert "a.xlsx: Einstellungen!B2: „zweitausend“ ist keine Zahl" in result.output


def test_missing_input_folder_is_a_clear_message(tmp_path):
    result = run("abrechnen", "--eingang", str(tmp_path / "fehlt"), "--ausgabe",
                 str(tmp_path / "out"))
    assert result.exit_code == 1
    assert f"Fehler: Eingang „{tmp_path / 'fehlt'}“ gibt es nicht." in result.output


def test_failed_run_keeps_the_earlier_results(tmp_path):
    write(example_2024(), tmp_path / "in" / "a.xlsx")
    assert run("abrechnen", "--eingang", str(tmp_path / "in"), "--ausgabe",
               str(tmp_path / "out")).exit_code == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "out" / "2024").rglob("*") if p.is_file()}
    bad = example_2024()
    bad.positions[0]["VZÄ"] = 2
    write(bad, tmp_path / "in" / "a.xlsx")
    assert run("abrechnen", "--eingang", str(tmp_path / "in"), "--ausgabe",
               str(tmp_path / "out")).exit_code == 1
    after = {p.name: p.read_bytes() for p in (tmp_path / "out" / "2024").rglob("*") if p.is_file()}
    assert after == before


@pytest.mark.slow
def test_python_dash_m_runs_as_a_fresh_process(tmp_path):
    write(example_2024(), tmp_path / "input" / "a.xlsx")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "kim_excel", "abrechnen"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Dateien geschrieben nach output/2024/" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_help_and_usage_errors_are_german():
    help_text = run("--help").output
    assert help_text.startswith("Aufruf: main [OPTIONEN] BEFEHL [ARGUMENTE]...")
    assert "Befehle:" in help_text and "Diese Hilfe anzeigen und beenden." in help_text
    unknown = run("abrechnen", "--bla")
    assert unknown.exit_code == 2
    assert "Fehler: Unbekannte Option '--bla'." in unknown.output
