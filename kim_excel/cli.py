"""The command line: parse options, call one library function, turn errors into messages.

No arithmetic and no workbook code here. Exit status: 0 done, 1 bad input or a problem the
user can fix, 2 wrong usage (click's own).
"""

from __future__ import annotations

import sys
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


def fail(exc: KimError, after: tuple[str, ...] = ()) -> None:
    from kim_excel.report import problem_lines

    if isinstance(exc, InputError):
        echo_lines(problem_lines(exc.problems), err=True)
    else:
        click.echo(f"Fehler: {exc}", err=True)
    echo_lines(after, err=True)
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
def abrechnen(eingang: Path = Path("input"), ausgabe: Path = Path("output"),
              pdf: bool = False) -> None:
    """Abrechnung erstellen: je Partnerkommune eine Arbeitsmappe, Übersicht, Buchungsliste."""
    from kim_excel.pipeline import run_settlement
    from kim_excel.report import notice_lines, summary_lines

    try:
        result = run_settlement(eingang, ausgabe, today=date.today(), pdf=pdf)
    except KimError as exc:
        fail(exc)
    echo_lines(summary_lines(result.settlement))
    if result.notices:
        click.echo("")
        echo_lines(notice_lines(result.notices))
    click.echo("")
    click.echo(f"{len(result.files)} Dateien geschrieben nach {result.folder}/")


@main.command()
@EINGANG
@click.option("--ausgabe", type=click.Path(path_type=Path), default=Path("output"),
              show_default=True, help="Ordner, unter dem Fehlerberichte/ liegt.")
@click.option("--fehlerbericht", is_flag=True,
              help="Bei Fehlern je Arbeitsmappe einen Fehlerbericht schreiben (eine Kopie mit "
                   "rot markierten Zellen) nach <ausgabe>/Fehlerberichte/.")
def pruefen(eingang: Path, ausgabe: Path = Path("output"), fehlerbericht: bool = False) -> None:
    """Eingabe nur prüfen: listet jedes Problem, schreibt nichts (außer --fehlerbericht)."""
    from kim_excel.pipeline import load_settlement
    from kim_excel.report import notice_lines

    try:
        settlement, notices = load_settlement(eingang, today=date.today())
    except KimError as exc:
        reports = ()
        if fehlerbericht and isinstance(exc, InputError):
            reports = write_reports(eingang, exc, ausgabe)
        fail(exc, after=reports)
    echo_lines(notice_lines(notices))
    if fehlerbericht:
        from kim_excel.error_report import REPORT_FOLDER, clear_error_reports

        for report in clear_error_reports(eingang, ausgabe / REPORT_FOLDER):
            click.echo(f"Alter Fehlerbericht entfernt: {report}")
    partners = sum(len(r.partner_shares) for r in settlement.regions)
    click.echo(f"Keine Fehler gefunden: Abrechnungsjahr {settlement.year}, "
               f"{len(settlement.regions)} Region(en), {partners} Partnerkommune(n).")


def write_reports(eingang: Path, exc: InputError, ausgabe: Path) -> tuple[str, ...]:
    """The error reports for ``pruefen --fehlerbericht``; returns the lines that say where."""
    from kim_excel.error_report import REPORT_FOLDER, error_reports_for

    try:
        reports = error_reports_for(eingang, exc.problems, ausgabe / REPORT_FOLDER)
    except KimError as report_error:
        return (f"Fehler: {report_error}",)
    return tuple(f"Fehlerbericht mit rot markierten Zellen: {report}" for report in reports)


@main.command()
@click.option("--eingang", type=click.Path(path_type=Path), default=Path("input"),
              show_default=True, help="Eingangsordner, in den die Arbeitsmappen gelegt werden.")
@AUSGABE
@click.option("--intervall", type=click.FloatRange(min=0.05), default=2.0, show_default=True,
              help="Sekunden zwischen zwei Blicken in den Eingangsordner.")
def beobachten(eingang: Path, ausgabe: Path, intervall: float) -> None:
    """Eingangsordner beobachten: jede neue oder geänderte Arbeitsmappe abrechnen.

    Läuft, bis Strg+C oder SIGTERM es beendet. Protokoll: <ausgabe>/protokoll.log;
    Fehlerberichte: <ausgabe>/Fehlerberichte/.
    """
    from kim_excel.watching import watch

    try:
        watch(eingang, ausgabe, intervall)
    except KimError as exc:
        fail(exc)


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
