"""The command line: parse options, call one library function, turn errors into messages.

No arithmetic and no workbook code here. Exit status: 0 done, 1 bad input or a problem the
user can fix, 2 wrong usage (click's own).
"""

from __future__ import annotations

import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import click

from kim_excel.cli import texts as cli_texts
from kim_excel.cli.terminal import folder_lines, notice_lines, problem_lines, summary_lines
from kim_excel.core.dates import parse_german_date
from kim_excel.core.errors import InputError, KimError
from kim_excel.core.german import count, german_number_text, thousands, yes_no_word
from kim_excel.core.money import money
from kim_excel.core.references import SEND_LOG

cli_texts.install()

EINGANG = click.option("--eingang", type=click.Path(path_type=Path), default=Path("input"),
                       show_default=True,
                       help="Ordner mit den Arbeitsmappen (oder eine einzelne Datei).")
AUSGABE = click.option("--ausgabe", type=click.Path(path_type=Path), default=Path("output"),
                       show_default=True, help="Ordner für die Ergebnisse.")


class CliError(click.ClickException):
    """A German message for a bad option value (click's own messages are English)."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"Fehler: {self.format_message()}", err=True)


class GermanDate(click.ParamType):
    """``TT.MM.JJJJ`` between 2000 and 2100."""

    name = "TT.MM.JJJJ"

    def convert(self, value, param, ctx) -> date:

        if isinstance(value, date):
            return value
        option = param.opts[0] if param else "Datum"
        try:
            result = parse_german_date(str(value))
        except ValueError:
            raise CliError(f"{option}: „{value}“ ist kein gültiges Datum; erwartet: TT.MM.JJJJ, "
                           f"z. B. 30.06.2025.") from None
        if not 2000 <= result.year <= 2100:
            raise CliError(f"{option}: „{value}“ liegt nicht zwischen 2000 und 2100.")
        return result


class Amount(click.ParamType):
    """An amount in euros as people write it: ``12,50``, ``1.234,56``, ``12.5``."""

    name = "BETRAG"

    def convert(self, value, param, ctx) -> Decimal:
        if isinstance(value, Decimal):
            return value
        name = param.human_readable_name if param else "BETRAG"
        try:
            return money(german_number_text(str(value).strip()))
        except (ValueError, ArithmeticError):
            raise CliError(f"{name}: „{value}“ ist kein Betrag; erwartet z. B. 1.234,56.",
                           exit_code=2) from None


class Months(click.ParamType):
    """A notice period: whole months from 0 to 120 (as the ``Einstellungen`` row)."""

    name = "MONATE"

    def convert(self, value, param, ctx) -> int:
        text = str(value).strip()
        if text.isdigit() and int(text) <= 120:
            return int(text)
        option = param.opts[0] if param else "Frist"
        raise CliError(f"{option}: „{value}“ ist ungültig; erwartet: die Kündigungsfrist in "
                       f"Monaten, eine ganze Zahl von 0 bis 120.")


def echo_outcome(summary, notices, last_line: str) -> None:
    """A finished run: its summary, then its warnings, then what was written where."""
    echo_lines(summary)
    if notices:
        click.echo("")
        echo_lines(notices)
    click.echo("")
    click.echo(last_line)


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


def fail(exc: KimError, after: tuple[str, ...] = (), report_written: bool = False) -> None:

    if isinstance(exc, InputError):
        echo_lines(problem_lines(exc.problems, report_written), err=True)
    else:
        click.echo(f"Fehler: {exc}", err=True)
    echo_lines(after, err=True)
    sys.exit(1)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]},
             options_metavar="[OPTIONEN]", subcommand_metavar="BEFEHL [ARGUMENTE]...")
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
@click.option("--prozesse", type=click.IntRange(min=1), default=None, metavar="ANZAHL",
              help="Anzahl Prozesse, die die Abrechnungen schreiben (Standard: alle "
                   "Prozessorkerne, sobald es viele Abrechnungen sind).")
def abrechnen(eingang: Path = Path("input"), ausgabe: Path = Path("output"),
              pdf: bool = False, prozesse: int | None = None) -> None:
    """Abrechnung erstellen: je Partnerkommune eine Arbeitsmappe, Übersicht, Buchungsliste."""
    from kim_excel.commands.settle import run_settlement  # only this command's modules

    progress = ProgressLine()
    try:
        result = run_settlement(eingang, ausgabe, today=date.today(), pdf=pdf,
                                progress=progress, workers=prozesse)
    except KimError as exc:
        progress.finish()
        fail(exc)
    progress.finish()
    echo_outcome([*summary_lines(result.settlement), *folder_lines(result.ledger)],
                 notice_lines(result.notices),
                 f"{count(len(result.files), 'Datei', 'Dateien')} geschrieben nach "
                 f"{result.folder}/ (jede Datei mit ihrem Stand: LIESMICH.txt)")


@main.command()
@EINGANG
@click.option("--ausgabe", type=click.Path(path_type=Path), default=Path("output"),
              show_default=True, help="Ordner, unter dem Fehlerberichte/ liegt.")
@click.option("--fehlerbericht", is_flag=True,
              help="Bei Fehlern je Arbeitsmappe einen Fehlerbericht schreiben (eine Kopie mit "
                   "rot markierten Zellen) nach <ausgabe>/Fehlerberichte/.")
def pruefen(eingang: Path, ausgabe: Path = Path("output"), fehlerbericht: bool = False) -> None:
    """Eingabe nur prüfen: listet jedes Problem, schreibt nichts (außer --fehlerbericht)."""
    from kim_excel.commands.settle import load_settlement  # only this command's modules

    try:
        settlement, notices = load_settlement(eingang, today=date.today())
    except KimError as exc:
        reports, written = (), False
        if fehlerbericht and isinstance(exc, InputError):
            reports, written = write_reports(eingang, exc, ausgabe)
        fail(exc, after=reports, report_written=written)
    echo_lines(notice_lines(notices))
    if fehlerbericht:
        from kim_excel.documents.error_report import (  # only this command's modules
            REPORT_FOLDER,
            clear_error_reports,
        )

        for report in clear_error_reports(eingang, ausgabe / REPORT_FOLDER):
            click.echo(f"Alter Fehlerbericht entfernt: {report}")
    partners = sum(len(r.partner_shares) for r in settlement.regions)
    click.echo(f"Keine Fehler gefunden: Abrechnungsjahr {settlement.year}, "
               f"{count(len(settlement.regions), 'Region', 'Regionen')}, "
               f"{count(partners, 'Partnerkommune', 'Partnerkommunen')}.")


def write_reports(eingang: Path, exc: InputError,
                  ausgabe: Path) -> tuple[tuple[str, ...], bool]:
    """The error reports for ``pruefen --fehlerbericht``: the lines that say where, and
    whether any report was written."""
    from kim_excel.documents.error_report import (  # only this command's modules
        REPORT_FOLDER,
        error_reports_for,
    )

    try:
        reports = error_reports_for(eingang, exc.problems, ausgabe / REPORT_FOLDER)
    except KimError as report_error:
        return (f"Fehler: {report_error}",), False
    return (tuple(f"Fehlerbericht mit rot markierten Zellen: {report}" for report in reports),
            bool(reports))


@main.command()
@click.option("--eingang", type=click.Path(path_type=Path), default=Path("input"),
              show_default=True, help="Eingangsordner, in den die Arbeitsmappen gelegt werden.")
@AUSGABE
@click.option("--intervall", type=click.FloatRange(min=0.05), default=2, show_default=True,
              metavar="SEKUNDEN",
              help="Sekunden zwischen zwei Blicken in den Eingangsordner.")
def beobachten(eingang: Path, ausgabe: Path, intervall: float) -> None:
    """Eingangsordner beobachten: jede neue oder geänderte Arbeitsmappe abrechnen.

    Läuft, bis Strg+C oder SIGTERM es beendet. Protokoll: <ausgabe>/protokoll.log;
    Fehlerberichte: <ausgabe>/Fehlerberichte/.
    """
    from kim_excel.commands.watching import watch  # only this command's modules

    try:
        watch(eingang, ausgabe, intervall)
    except KimError as exc:
        fail(exc)


@main.command()
@click.argument("pfad", type=click.Path(), default="Abrechnung_Vorlage.xlsx")
@click.option("--ueberschreiben", is_flag=True, help="Eine vorhandene Datei ersetzen.")
def vorlage(pfad: str, ueberschreiben: bool) -> None:
    """Leeres Eingabeformular schreiben (mit den Vertragsparteien des Kreises Coesfeld).

    PFAD darf ein Ordner sein (dann heißt die Datei Abrechnung_Vorlage.xlsx); eine
    vorhandene Datei wird nur mit --ueberschreiben ersetzt."""
    from kim_excel.documents.template import form_path, write_form  # only this command's modules

    target, new_folder = form_path(pfad)
    if target.exists() and not ueberschreiben:
        click.echo(f"Fehler: {target} gibt es schon und wird nicht überschrieben. Mit "
                   f"„--ueberschreiben“ ersetzen oder einen anderen Namen angeben.", err=True)
        sys.exit(1)
    try:
        if new_folder:
            target.parent.mkdir(parents=True, exist_ok=True)
        write_form(target)
    except OSError as exc:
        click.echo(f"Fehler: {target} kann nicht geschrieben werden ({exc.strerror}).", err=True)
        sys.exit(1)
    click.echo(f"Vorlage geschrieben: {target}")


@main.command()
@click.option("--jahr", type=int, required=True, metavar="JAHR",
              help="Abrechnungsjahr, das versandt wird.")
@EINGANG
@AUSGABE
@click.option("--senden", is_flag=True,
              help="Wirklich per SMTP senden. Ohne: nur Entwürfe (.eml) in <ausgabe>/<J>/E-Mails/.")
@click.option("--ja", is_flag=True, help="Ohne Rückfrage senden.")
@click.option("--an", "test_address", metavar="ADRESSE", default="",
              help="Probeversand: alle E-Mails an diese eine Adresse statt an die Kommunen.")
@click.option("--erneut", is_flag=True,
              help="Auch bereits versandte Abrechnungen erneut senden (eine Kopie).")
@click.pass_context
def versenden(ctx: click.Context, jahr: int, eingang: Path, ausgabe: Path, senden: bool,
              ja: bool, test_address: str, erneut: bool) -> None:
    """Abrechnungen per E-Mail: erst Entwürfe zum Prüfen, mit --senden über SMTP.

    Versendet wird, was abgerechnet ist (die Verwaltungsdatei des Jahresordners); mit
    --eingang prüft es vorher, dass die Eingabe noch dieselben Zahlen ergibt. Per Post oder
    per E-Mail Versandtes geht nie ein zweites Mal hinaus (außer mit --erneut).

    SMTP-Einstellungen: Umgebungsvariablen KIM_SMTP_HOST, KIM_SMTP_PORT, KIM_SMTP_USER,
    KIM_SMTP_PASSWORD, KIM_SMTP_STARTTLS, KIM_SMTP_FROM, KIM_SMTP_CAFILE oder die Datei
    kim-excel-smtp.ini (siehe docs/Versand.md).
    """
    from kim_excel.commands import send  # only this command's modules
    from kim_excel.commands.smtp import load_smtp_config, require_server  # likewise
    from kim_excel.ledger.transaction import year_folder  # likewise

    if (test_address or erneut) and not senden:
        raise click.UsageError("--an und --erneut gelten nur zusammen mit --senden.")
    if test_address and "@" not in test_address:
        raise click.UsageError(f"--an „{test_address}“ ist keine E-Mail-Adresse.")
    given = {name: ctx.params[name] for name in ("eingang", "ausgabe")
             if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT}
    try:
        config = load_smtp_config()
        if senden:
            require_server(config)
        with year_folder(ausgabe, jahr) as change:
            mailing = send.prepare_mailing(change, date.today(), config.sender,
                                           given.get("eingang"))
            if not senden:
                echo_drafts(send.write_drafts(mailing), jahr, given)
                return
            done = send_mails(mailing, config, test_address, erneut, ja)
    except KimError as exc:
        fail(exc)
    sys.exit(0 if done else 1)


def echo_drafts(report, year: int, given: dict[str, Path]) -> None:
    echo_lines(f"  {path.name}  an {item.recipient or '(keine Adresse)'}"
               for path, item in zip(report.files, report.items, strict=True))
    echo_lines(report.skipped)
    echo_lines((f"Warnung: {w}" for w in report.warnings), err=True)
    options = "".join(f" --{name} {value}" for name, value in given.items())
    where = f"{report.files[0].parent}/" if report.files else "–"
    click.echo(f"{count(len(report.files), 'Entwurf', 'Entwürfe')} geschrieben nach {where} – "
               f"bitte prüfen. Senden mit: kim-excel versenden --jahr {year}{options} --senden")


def confirm(question: str, nothing_done: str) -> bool:
    """A German yes/no question in a terminal (j/ja/n/nein, the form's yes-words); without a
    terminal no answer is possible, and nothing happens."""
    if not sys.stdin.isatty():
        click.echo(f"Keine Bestätigung möglich (keine Eingabe) – {nothing_done}. Ohne Rückfrage: "
                   f"--ja", err=True)
        return False
    while True:
        answer = yes_no_word(click.prompt(f"{question} [j/N]", default="n",
                                          show_default=False))
        if answer is not None:
            break
        click.echo("Bitte „j“ (ja) oder „n“ (nein) eingeben.")
    if not answer:
        click.echo(f"Abgebrochen – {nothing_done}.")
    return answer


def send_mails(mailing, config, test_address: str, again: bool, yes: bool) -> bool:
    """Show the plan, ask, send; True when everything due has gone out."""
    from kim_excel.commands import send  # only this command's modules

    plan = send.plan_sending(mailing, test_address, again)
    mode = f" – PROBEVERSAND an {test_address}" if test_address else ""
    click.echo(f"E-Mail-Versand der Abrechnungen {mailing.ledger.year} über "
               f"{config.host}:{config.port}{mode}:")
    echo_lines(p.line() for p in plan)
    if config.user and not config.starttls:
        click.echo("Warnung: Anmeldung ohne Verschlüsselung (KIM_SMTP_STARTTLS=nein) – das "
                   "Passwort geht unverschlüsselt über das Netz.", err=True)
    due = [p for p in plan if p.action not in (send.Action.DELIVERED, send.Action.CHANGED)]
    to_send = [p for p in due if p.action is send.Action.SEND]
    if not due:
        click.echo("Nichts zu senden: alles ist bereits versandt (eine Kopie sendet --erneut).")
        send.finish_sending(mailing, [], date.today())  # the log and LIESMICH, from the ledger
        return not any(p.action is send.Action.CHANGED for p in plan)
    if to_send and not yes and not confirm(
            f"{count(len(to_send), 'E-Mail', 'E-Mails')} jetzt senden?", "nichts gesendet"):
        return False
    outcomes = send.send_planned(mailing, plan, config,
                                 on_outcome=lambda o: click.echo(o.line(), err=not o.ok))
    echo_lines(send.finish_sending(mailing, outcomes, date.today()))
    failed = [o for o in outcomes if not o.ok]
    changed = [p for p in plan if p.action is send.Action.CHANGED]
    sent = len(outcomes) - len(failed)
    click.echo(f"{sent} von {count(len(due), 'E-Mail', 'E-Mails')} gesendet"
               + (f", {len(failed)} nicht: " + ", ".join(o.planned.item.partner.name
                                                        for o in failed) if failed else "")
               + f". Protokoll: {mailing.folder / SEND_LOG}")
    if changed:
        click.echo(f"Nicht versandt, weil von Hand geändert: "
                   f"{', '.join(p.item.bill.file for p in changed)}", err=True)
    return not failed and not changed


@main.command()
@click.option("--jahr", type=int, required=True, help="Abrechnungsjahr, das festgeschrieben wird.")
@click.option("--region", default=None, metavar="NAME",
              help="Nur diese Region (Standard: alle Regionen).")
@AUSGABE
@click.option("--ja", is_flag=True, help="Ohne Rückfrage festschreiben.")
def festschreiben(jahr: int, region: str | None, ausgabe: Path, ja: bool) -> None:
    """Abrechnungen festschreiben (per Post versandt): danach ändern sie sich nie mehr;
    geänderte Zahlen ergeben eine Korrekturabrechnung."""
    from kim_excel.commands.issue import issue_folder, pending  # only this command's modules

    try:
        lines = pending(ausgabe, jahr, region, date.today())
        if not lines:
            click.echo("Nichts festzuschreiben: alles ist bereits festgeschrieben und versandt.")
            return
        if not ja:
            click.echo("Festzuschreiben (per Post versandt):")
            echo_lines(f"  {line}" for line in lines)
            if not confirm("Jetzt festschreiben? Danach ändern sich diese Abrechnungen nie "
                           "mehr", "nichts festgeschrieben"):
                sys.exit(1 if not sys.stdin.isatty() else 0)
        click.echo("Festgeschrieben (per Post versandt):")
        echo_lines(f"  {line}" for line in issue_folder(ausgabe, jahr, region, date.today()))
    except KimError as exc:
        fail(exc)


@main.command()
@click.option("--jahr", type=int, required=True, metavar="JAHR",
              help="Abrechnungsjahr, dessen Rechnungen bezahlt werden.")
@AUSGABE
@click.option("--erinnern", is_flag=True,
              help="Für Überfälliges eine Zahlungserinnerung schreiben (versenden verschickt sie).")
@click.option("--karenz", type=click.IntRange(min=0, max=365), default=14, show_default=True,
              metavar="TAGE", help="Tage nach der Fälligkeit, bevor erinnert wird.")
@click.option("--mindestbetrag", type=Amount(), default="10", show_default=True,
              metavar="EURO", help="Keine Erinnerung unter diesem offenen Betrag.")
@click.argument("kontoauszug", nargs=-1, required=True,
                type=click.Path(path_type=Path, exists=True))
def zahlungen(jahr: int, ausgabe: Path, erinnern: bool, karenz: int, mindestbetrag,
              kontoauszug: tuple[Path, ...]) -> None:
    """Kontoauszüge lesen (camt.052/.053/.054, ZIP, MT940): was ist bezahlt, was offen?

    KONTOAUSZUG: Dateien oder Ordner. Jede Buchung wird einmal erfasst; derselbe Auszug
    zweimal ändert nichts. Ergebnis: <ausgabe>/<J>/Zahlungen_<J>.xlsx.
    """
    from kim_excel.commands.payments import run_payments  # only this command's modules

    try:
        run = run_payments(ausgabe, jahr, list(kontoauszug), date.today(), erinnern, karenz,
                           mindestbetrag)
    except KimError as exc:
        fail(exc)
    echo_lines(run.lines)
    click.echo("")
    click.echo(f"{count(len(run.written), 'Datei', 'Dateien')} geschrieben nach "
               f"{ausgabe / str(jahr)}/")


@main.command()
@click.option("--jahr", type=int, required=True, metavar="JAHR", help="Abrechnungsjahr.")
@AUSGABE
@click.option("--aufheben", is_flag=True,
              help="Die Zuordnung von Hand der BUCHUNG aufheben (dann gelten die Regeln).")
@click.argument("buchung")
@click.argument("rechnungsnummer", required=False)
@click.argument("betrag", required=False, type=Amount())
def zuordnen(jahr: int, ausgabe: Path, aufheben: bool, buchung: str,
             rechnungsnummer: str | None, betrag) -> None:
    """Eine Buchung von Hand einer Rechnung zuordnen (auch teilweise, mit BETRAG).

    BUCHUNG ist die Nummer aus Zahlungen_<J>.xlsx (z. B. B17). Mehrere Aufrufe teilen eine
    Buchung auf mehrere Rechnungen auf; --aufheben nimmt die Zuordnung zurück.
    """
    from kim_excel.commands.payments import run_assignment  # only this command's modules

    if not aufheben and not rechnungsnummer:
        raise click.UsageError("Bitte die RECHNUNGSNUMMER angeben (oder --aufheben).")
    try:
        lines = run_assignment(ausgabe, jahr, buchung, rechnungsnummer, betrag, date.today(),
                               undo=aufheben)
    except KimError as exc:
        fail(exc)
    echo_lines(lines)


@main.command()
@click.option("--eingang-am", "eingang_am", type=GermanDate(),
              help="Tag, an dem die schriftliche Kündigung eingegangen ist (TT.MM.JJJJ).")
@click.option("--frist", type=Months(), default=None,
              help="Kündigungsfrist in Monaten. Ohne Angabe: die Einstellung "
                   "„Kündigungsfrist (Monate)“ der Arbeitsmappe, sonst 18.")
@EINGANG
@click.option("--kommune", default=None, metavar="NAME",
              help="Die kündigende Kommune: zeigt die neuen Schlüssel ihrer Region.")
@click.pass_context
def kuendigung(ctx: click.Context, eingang_am: date | None, frist: int | None, eingang: Path,
               kommune: str | None) -> None:
    """Wann eine Kündigung wirkt (§ 4 Abs. 2) und wie sich die Schlüssel der Region ändern."""
    from kim_excel.commands.kuendigung import (  # only this command's modules
        notice_lines,
        notice_report,
    )

    if eingang_am is None:
        raise CliError("Bitte den Tag angeben, an dem die Kündigung eingegangen ist: "
                       "kim-excel kuendigung --eingang-am TT.MM.JJJJ", exit_code=2)
    given = ctx.get_parameter_source("eingang") is not click.core.ParameterSource.DEFAULT
    try:
        report = notice_report(eingang_am, frist, eingang, eingang_given=given, kommune=kommune)
    except KimError as exc:
        fail(exc)
    echo_lines(notice_lines(report))


@main.command()
@EINGANG
@AUSGABE
def planen(eingang: Path, ausgabe: Path) -> None:
    """Planzahlen für ein kommendes Jahr (Haushalt, Ratsvorlage): Planung_<J>.xlsx."""
    from kim_excel.commands.planning import (  # only this command's modules
        run_planning,
        summary_lines,
    )

    try:
        result = run_planning(eingang, ausgabe, today=date.today())
    except KimError as exc:
        fail(exc)
    echo_outcome(summary_lines(result.plan), notice_lines(result.notices),
                 f"Planzahlen geschrieben: {result.path}")


for _command in main.commands.values():
    _command.options_metavar = "[OPTIONEN]"
    # The command list shows the whole first line of the help, never a cut sentence
    # (click cuts at 45 characters or at the first ". ", as in „§ 4 Abs. 2“).
    _command.short_help = _command.short_help or " ".join(
        (_command.help or "").strip().split("\n\n")[0].split())
