"""Files around the workbook: Excel's lock file, and `kim-excel vorlage` never overwriting."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from kim_excel.cli.main import main
from tests.builders import example_2024, write
from tests.runner import run_kim


def test_a_lock_file_beside_the_workbook_warns_and_the_run_goes_on(tmp_path):
    write(example_2024(), tmp_path / "input" / "Abrechnung.xlsx")
    (tmp_path / "input" / "~$Abrechnung.xlsx").write_bytes(b"\x00" * 165)
    done = run_kim(cwd=tmp_path)
    assert done.returncode == 0, done.stderr + done.stdout
    assert ("Abrechnung.xlsx ist gerade in Excel geöffnet (Sperrdatei ~$Abrechnung.xlsx); nicht "
            "gespeicherte Änderungen sind in dieser Abrechnung nicht enthalten."
            in done.stdout + done.stderr)
    assert (tmp_path / "output" / "2024" / "Buchungsliste_2024.csv").is_file()


def test_without_a_lock_file_there_is_no_such_warning(tmp_path):
    write(example_2024(), tmp_path / "input" / "Abrechnung.xlsx")
    done = run_kim(cwd=tmp_path)
    assert done.returncode == 0
    assert "geöffnet" not in done.stdout + done.stderr


def vorlage(*args: str):
    return CliRunner().invoke(main, ["vorlage", *args])


def test_vorlage_refuses_to_overwrite_and_leaves_the_file_untouched(tmp_path):
    target = tmp_path / "Meine.xlsx"
    target.write_bytes(b"ausgefuellt")
    result = vorlage(str(target))
    assert result.exit_code == 1
    assert (f"Fehler: {target} gibt es schon und wird nicht überschrieben. Mit "
            f"„--ueberschreiben“ ersetzen oder einen anderen Namen angeben.") in result.output
    assert target.read_bytes() == b"ausgefuellt"
    result = vorlage(str(target), "--ueberschreiben")
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:2] == b"PK"


def test_vorlage_into_an_existing_folder_and_refusing_there_too(tmp_path):
    (tmp_path / "input").mkdir()
    result = vorlage(str(tmp_path / "input"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "input" / "Abrechnung_Vorlage.xlsx").is_file()
    assert vorlage(str(tmp_path / "input")).exit_code == 1


def test_vorlage_into_a_new_folder_named_with_a_separator(tmp_path):
    done = run_kim("vorlage", "input/", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "input").is_dir()
    assert (tmp_path / "input" / "Abrechnung_Vorlage.xlsx").is_file()
    assert f"Vorlage geschrieben: {Path('input') / 'Abrechnung_Vorlage.xlsx'}" in done.stdout
