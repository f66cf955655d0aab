"""click's own texts in German: no English word in any command's help or usage errors.

Every command of the group is visited, so a command added later is checked too: its
``--help``, an unknown option, a misspelt option (click's „Did you mean“), an option without
its value, a value that is no number, a number out of range, a missing required option and
extra arguments.
"""

from __future__ import annotations

import re
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from kim_excel.cli.main import main

# What click says in English when nobody translates it (click 8).
ENGLISH = re.compile(
    r"\b(Usage|Options|Commands|Arguments|Positional|required|Did you mean|one of|RANGE|"
    r"INTEGER|FLOAT|TEXT|PATH|BOOLEAN|FILENAME|Error|Show this message|Show the version|"
    r"Missing|Invalid|No such|Try|Got unexpected|Aborted|requires|does not|is not|"
    r"not in the range|default|env var|dynamic|exit)\b"
    r"|\bx[<>]=?|[<>]=?x\b")


def commands() -> list[tuple[str, ...]]:
    return [(), *((name,) for name in sorted(main.commands))]


def command_of(path: tuple[str, ...]) -> click.Command:
    return main.commands[path[0]] if path else main


def usage_errors(path: tuple[str, ...]) -> list[list[str]]:
    """Command lines that click refuses before the command runs."""
    command = command_of(path)
    calls = [["--help"], ["--gibt-es-nicht"], ["a", "b", "c"]]
    options = [p for p in command.params if isinstance(p, click.Option)]
    for option in options:
        long = max(option.opts, key=len)
        if long.startswith("--") and len(long) > 4:
            calls.append([long[:-1]])  # misspelt: click suggests the right one
        if not option.is_flag and not option.count:
            calls.append([long])  # the value is missing
        if isinstance(option.type, (click.types.IntParamType, click.types.FloatParamType)):
            calls.append([long, "abc"])
        if isinstance(option.type, click.types._NumberRangeBase):
            calls.append([long, "-1000000"])
        if option.required:
            calls.append([])
    return [[*path, *call] for call in calls]


@pytest.mark.parametrize("path", commands(), ids=lambda p: " ".join(p) or "kim-excel")
def test_help_and_usage_errors_contain_no_english_word(path):
    runner = CliRunner()
    checked = 0
    for args in usage_errors(path):
        result = runner.invoke(main, args, prog_name="kim-excel")
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args, result.exception)
        assert result.exit_code in (0, 2), (args, result.output)
        english = [m.group(0) for m in ENGLISH.finditer(result.output)]
        assert not english, f"kim-excel {' '.join(args)}:\n{result.output}"
        checked += 1
    assert checked >= 3


UNTRANSLATED = """
import click

@click.command()
@click.option("--prozesse", type=click.IntRange(min=1))
@click.option("--intervall", type=click.FloatRange(min=0.05), default=2.0, show_default=True)
@click.option("--jahr", type=int, required=True)
@click.option("--kommune")
@click.option("--ausgabe", type=click.Path())
@click.argument("pfad", type=click.Path(), required=False)
def cmd(**kwargs):
    pass

for args in (["--help"], ["--prozess", "2"], ["--prozesse", "0"], ["--jahr"]):
    try:
        cmd.main(args, prog_name="kim-excel")
    except SystemExit:
        pass
"""


def test_the_english_list_catches_what_click_says_untranslated():
    """The same kinds of call through plain click in a fresh process (without kim_excel's
    German texts): every English text the issue names must be caught, so the check
    above cannot pass by looking at nothing."""
    done = subprocess.run([sys.executable, "-c", UNTRANSLATED], capture_output=True,
                          text=True, timeout=60)
    words = {m.group(0) for m in ENGLISH.finditer(done.stdout + done.stderr)}
    for english in ("Usage", "Options", "required", "Did you mean", "RANGE", "INTEGER",
                    "FLOAT", "TEXT", "PATH", "Error", "Show this message", "requires"):
        assert english in words, (english, done.stdout + done.stderr)
    assert "x>=" in words


def test_misspelt_command_and_option_get_a_german_suggestion():
    runner = CliRunner()
    command = runner.invoke(main, ["abrechne"], prog_name="kim-excel")
    assert "Fehler: Unbekannter Befehl 'abrechne'. Meinten Sie 'abrechnen'?" in command.output
    option = runner.invoke(main, ["abrechnen", "--prozess", "2"], prog_name="kim-excel")
    assert "Unbekannte Option '--prozess'. Meinten Sie '--prozesse'?" in option.output


def test_ranges_and_required_options_read_as_german():
    runner = CliRunner()
    help_text = " ".join(runner.invoke(main, ["beobachten", "--help"]).output.split())
    assert "--intervall SEKUNDEN" in help_text
    assert "[Standard: 2; mindestens 0,05]" in help_text
    assert "[Pflichtangabe]" in runner.invoke(main, ["versenden", "--help"]).output
    too_few = runner.invoke(main, ["abrechnen", "--prozesse", "0"], prog_name="kim-excel")
    assert too_few.exit_code == 2
    assert "Fehler: Ungültiger Wert für '--prozesse': erlaubt ist mindestens 1." in (
        too_few.output)


def test_the_command_list_shows_each_summary_whole():
    """click cuts a summary at 45 characters or at the first ". " („§ 4 Abs. 2“)."""
    listing = " ".join(CliRunner().invoke(main, ["--help"]).output.split())
    for name, command in main.commands.items():
        summary = " ".join((command.help or "").split("\n\n")[0].split())
        assert f"{name} {summary}" in listing, name
    assert "Wann eine Kündigung wirkt (§ 4 Abs. 2) und wie sich die Schlüssel der Region " \
           "ändern." in listing
