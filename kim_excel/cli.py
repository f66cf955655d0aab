"""The command line: parse options, call one library function, turn errors into messages.

No arithmetic and no workbook code here. Exit status: 0 done, 1 bad input or a problem the
user can fix, 2 wrong usage (click's own).
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

import click

from kim_excel.errors import InputError, KimError

EINGANG = click.option("--eingang", type=click.Path(path_type=Path), default=Path("input"),
                       show_default=True,
                       help="Ordner mit den Arbeitsmappen (oder eine einzelne Datei).")
AUSGABE = click.option("--ausgabe", type=click.Path(path_type=Path), default=Path("output"),
                       show_default=True, help="Ordner für die Ergebnisse.")


def echo_lines(lines, err: bool = False) -> None:
    for line in lines:
        click.echo(line, err=err)


class ProgressLine:
    """„Abrechnungen: 4.000 von 10.000 geschrieben …“ on stderr, only for runs that take
    longer than a moment; on a terminal one line that updates itself."""

    QUIET_FOR = 1.5  # seconds: a county's run finishes before anything is shown

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.last = 0.0
        self.shown = False
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and (now - self.started < self.QUIET_FOR
                             or now - self.last < (0.25 if self.tty else 5.0)):
            return
        if done == total and not self.shown:
            return
        self.last, self.shown = now, True
        text = f"Abrechnungen: {thousands(done)} von {thousands(total)} geschrieben …"
        click.echo(f"\r{text}" if self.tty else text, err=True, nl=not self.tty)

    def finish(self) -> None:
        if self.shown and self.tty:
            click.echo("", err=True)
        self.shown = False


def thousands(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def fail(exc: KimError) -> None:
    from kim_excel.report import problem_lines

    if isinstance(exc, InputError):
        echo_lines(problem_lines(exc.problems), err=True)
    else:
        click.echo(f"Fehler: {exc}", err=True)
    sys.exit(1)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kim-excel", message="kim-excel %(version)s")
@click.pass_context
def main(ctx: click.Context) -> None:
    """kim-excel: Jahresabrechnung des Eigenanteils im Kommunalen Case-Management.

    Ohne Befehl: wie „kim-excel abrechnen“ mit input/ und output/.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(abrechnen)


@main.command()
@EINGANG
@AUSGABE
@click.option("--pdf", is_flag=True, help="Zusätzlich je Abrechnung eine PDF-Datei (LibreOffice).")
@click.option("--prozesse", type=click.IntRange(min=1), default=None,
              help="Anzahl Prozesse, die die Abrechnungen schreiben (Standard: alle "
                   "Prozessorkerne, sobald es viele Abrechnungen sind).")
def abrechnen(eingang: Path = Path("input"), ausgabe: Path = Path("output"),
              pdf: bool = False, prozesse: int | None = None) -> None:
    """Abrechnung erstellen: je Partnerkommune eine Arbeitsmappe, Übersicht, Buchungsliste."""
    from kim_excel.pipeline import run_settlement
    from kim_excel.report import notice_lines, summary_lines

    progress = ProgressLine()
    try:
        result = run_settlement(eingang, ausgabe, today=date.today(), pdf=pdf,
                                progress=progress, workers=prozesse)
    except KimError as exc:
        progress.finish()
        fail(exc)
    progress.finish()
    echo_lines(summary_lines(result.settlement))
    if result.notices:
        click.echo("")
        echo_lines(notice_lines(result.notices))
    click.echo("")
    click.echo(f"{len(result.files)} Dateien geschrieben nach {result.folder}/")


@main.command()
@EINGANG
def pruefen(eingang: Path) -> None:
    """Eingabe nur prüfen: listet jedes Problem, schreibt nichts."""
    from kim_excel.pipeline import load_settlement
    from kim_excel.report import notice_lines

    try:
        settlement, notices = load_settlement(eingang, today=date.today())
    except KimError as exc:
        fail(exc)
    echo_lines(notice_lines(notices))
    partners = sum(len(r.partner_shares) for r in settlement.regions)
    click.echo(f"Keine Fehler gefunden: Abrechnungsjahr {settlement.year}, "
               f"{len(settlement.regions)} Region(en), {partners} Partnerkommune(n).")


@main.command()
@click.argument("pfad", type=click.Path(path_type=Path), default=Path("Abrechnung_Vorlage.xlsx"))
def vorlage(pfad: Path) -> None:
    """Leeres Eingabeformular schreiben (mit den Vertragsparteien des Kreises Coesfeld)."""
    from kim_excel.template import write_form

    if pfad.is_dir():
        pfad = pfad / "Abrechnung_Vorlage.xlsx"
    try:
        write_form(pfad)
    except OSError as exc:
        click.echo(f"Fehler: {pfad} kann nicht geschrieben werden ({exc.strerror}).", err=True)
        sys.exit(1)
    click.echo(f"Vorlage geschrieben: {pfad}")
