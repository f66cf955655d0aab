"""Plausibility warnings: the run goes on, the clerk is told (terminal, LIESMICH.txt)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from decimal import Decimal

from click.testing import CliRunner

from kim_excel.cli.main import main
from kim_excel.core.model import Settings, Terms
from kim_excel.input.plausibility import says_no_vat, settings_warnings, terms_warnings
from tests.builders import example_2024, write
from tests.runner import ROOT

TODAY = date(2026, 11, 29)


def messages(notices) -> list[str]:
    return [n.message for n in notices]


def test_a_settled_past_year_with_the_programme_rate_is_quiet():
    assert settings_warnings(Settings(year=2024, subsidy_rate=Decimal(57000)), TODAY) == []
    assert settings_warnings(Settings(year=2022, subsidy_rate=Decimal(55000)), TODAY) == []
    assert settings_warnings(Settings(year=2025), TODAY) == []
    assert terms_warnings(2024, Terms(settlement_date=date(2024, 12, 31))) == []


DRAFT_ANYWAY = ("Die Abrechnung wird trotzdem geschrieben, als Entwurf: bitte die Jahreszahl "
                "und die Kosten prüfen, bevor sie festgeschrieben oder versandt wird.")


def test_future_current_and_pre_programme_years_warn_and_say_a_draft_is_written():
    """A message never says one thing while the command does another (SPEC § 7): the run
    settles the year all the same, as a draft, and says so."""
    assert "liegt in der Zukunft" in messages(settings_warnings(Settings(year=2052), TODAY))[0]
    future = messages(settings_warnings(Settings(year=2027), TODAY))
    assert future == [f"Abrechnungsjahr 2027 liegt in der Zukunft (heute ist der 29.11.2026). "
                      f"{DRAFT_ANYWAY}"]
    current = messages(settings_warnings(Settings(year=2026), TODAY))
    assert current == ["Abrechnungsjahr 2026 ist noch nicht abgeschlossen (heute ist der "
                       "29.11.2026); die Kosten des Jahres stehen erst nach dem 31.12.2026 fest. "
                       f"{DRAFT_ANYWAY}"]
    assert "vor Beginn des Programms" in messages(settings_warnings(Settings(year=2021),
                                                                   TODAY))[0]


def test_a_rate_other_than_the_programmes_names_the_programmes_rate():
    [text] = messages(settings_warnings(Settings(year=2022, subsidy_rate=Decimal(57000)), TODAY))
    assert text.startswith("Förderbetrag je VZÄ 57.000,00 € weicht vom Satz des Programms für "
                           "2022 ab: 55.000,00 € (55.000,00 € bis 2022, 57.000,00 € ab 2023)")


def test_a_settlement_date_inside_the_year_and_vat_with_a_no_vat_note_warn():
    early = terms_warnings(2024, Terms(settlement_date=date(2024, 6, 30)))
    assert "30.06.2024 liegt vor dem Ende des Abrechnungsjahres (31.12.2024)" in early[0].message
    assert terms_warnings(2024, Terms(settlement_date=date(2024, 6, 30), date_given=False)) == []
    vat = terms_warnings(2024, Terms(settlement_date=date(2025, 3, 1), vat_rate=Decimal("0.19"),
                                     vat_note="Umsatzsteuer wird nicht erhoben (§ 2b UStG)."))
    assert "Umsatzsteuer wird berechnet (19 %)" in vat[0].message
    assert says_no_vat("Die Leistung ist nicht steuerbar.")
    assert not says_no_vat("Die Leistung unterliegt der Umsatzsteuer (§ 2b UStG).")


def run_on(tmp_path, form, *args):
    write(form, tmp_path / "input" / "Abrechnung.xlsx")
    return CliRunner().invoke(main, ["abrechnen", "--eingang", str(tmp_path / "input"),
                                     "--ausgabe", str(tmp_path / "output"), *args])


def test_2052_settles_with_a_warning_in_the_terminal_and_in_liesmich(tmp_path):
    form = example_2024()
    form.settings["Abrechnungsjahr"] = 2052
    form.settings["Datum der Abrechnung"] = ""
    form.advances = []
    result = run_on(tmp_path, form)
    assert result.exit_code == 0, result.output
    assert "Einstellungen!B2: Abrechnungsjahr 2052 liegt in der Zukunft" in result.output
    readme = (tmp_path / "output" / "2052" / "LIESMICH.txt").read_text(encoding="utf-8")
    assert "Abrechnungsjahr 2052 liegt in der Zukunft" in readme


def test_57000_for_2022_warns_with_the_programmes_rate(tmp_path):
    form = example_2024()
    form.settings["Abrechnungsjahr"] = 2022
    form.settings["Datum der Abrechnung"] = date(2023, 3, 1)
    form.advances = []
    result = run_on(tmp_path, form)
    assert result.exit_code == 0, result.output
    assert ("Einstellungen!B3: Förderbetrag je VZÄ 57.000,00 € weicht vom Satz des Programms "
            "für 2022 ab: 55.000,00 €") in result.output
    readme = (tmp_path / "output" / "2022" / "LIESMICH.txt").read_text(encoding="utf-8")
    assert "weicht vom Satz des Programms für 2022 ab" in readme


def test_the_current_year_warns_through_the_real_command_on_a_faked_day(tmp_path):
    form = example_2024()
    form.settings["Abrechnungsjahr"] = 2026
    form.settings["Datum der Abrechnung"] = ""
    form.advances = []
    write(form, tmp_path / "input" / "Abrechnung.xlsx")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(["faketime", "2026-06-15 10:00:00", sys.executable, "-m", "kim_excel",
                           "pruefen"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=120)
    assert done.returncode == 0, done.stderr + done.stdout
    assert ("Abrechnungsjahr 2026 ist noch nicht abgeschlossen (heute ist der 15.06.2026)"
            in done.stdout + done.stderr)


def test_the_watcher_counts_the_warnings_and_names_the_folder_for_pruefen(tmp_path):
    from kim_excel.commands.watching import STATE_NAME, Journal, Memory, Watcher
    from tests.test_watching import Clock

    eingang, ausgabe = tmp_path / "input", tmp_path / "output"
    write(example_2024(), eingang / "gut.xlsx")
    ausgabe.mkdir()
    lines: list[str] = []
    clock = Clock()
    w = Watcher(eingang, ausgabe, 1.0, Journal(ausgabe / "protokoll.log", lines.append),
                Memory(ausgabe / STATE_NAME), clock=clock, today=lambda: date(2024, 6, 1))
    w.poll()
    clock.now = 1.0
    w.poll()
    [line] = lines
    assert line.endswith(f" Hinweis, „kim-excel pruefen --eingang {eingang}“ zeigt ihn")
    readme = (ausgabe / "2024" / "LIESMICH.txt").read_text(encoding="utf-8")
    assert "Abrechnungsjahr 2024 ist noch nicht abgeschlossen (heute ist der 01.06.2024)" in readme


def test_a_plan_for_the_coming_year_is_not_warned_about_its_year(tmp_path):
    from kim_excel.commands.planning import run_planning

    form = example_2024()
    form.settings["Abrechnungsjahr"] = 2027
    form.settings["Datum der Abrechnung"] = ""
    form.advances = []
    write(form, tmp_path / "input" / "Plan.xlsx")
    result = run_planning(tmp_path / "input", tmp_path / "output", today=TODAY)
    assert not [n for n in result.notices if "Abrechnungsjahr 2027" in n.message]
    settled = settings_warnings(Settings(year=2027), TODAY)  # the same input, settled: warned
    assert "Abrechnungsjahr 2027 liegt in der Zukunft" in settled[0].message
