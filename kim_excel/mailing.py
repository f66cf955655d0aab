"""E-mail the settlements (``kim-excel versenden``): drafts to review first, then SMTP.

Apart from the settlement run: it never computes or writes a settlement. It takes the figures
from :func:`kim_excel.pipeline.load_settlement` and attaches the files the last
``kim-excel abrechnen`` wrote to ``<ausgabe>/<J>/``. Because the mail text quotes the amount
and the due date, it first checks that those figures still equal the ``Buchungsliste`` of
that run; otherwise the text could contradict the attachment.

Glossary:

- Entwurf (``draft``): an ``.eml`` file per partner in ``<J>/E-Mails/`` with ``X-Unsent: 1``,
  which Outlook opens as an editable new message and Thunderbird as a message to edit.
- Versandprotokoll (``send log``): ``<J>/versand.csv``, one line per attempt, appended and
  never rewritten. A partner counts as sent when a line says ``gesendet`` for the same
  recipient and the same attachment hashes; a run after a failure sends only the rest.
- Testversand (``--an``): every message to one test address instead; logged as ``Test``,
  which never counts as sent for the partner.

SMTP settings come from ``kim-excel-smtp.ini`` (or the file named in ``KIM_SMTP_CONFIG``) and
the ``KIM_SMTP_*`` environment variables, which win; never from the workbook. The password
is kept out of every message, log line and ``repr``.
"""

from __future__ import annotations

import configparser
import csv
import hashlib
import io
import os
import smtplib
import socket
import ssl
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from enum import Enum
from pathlib import Path

from kim_excel import booking
from kim_excel.errors import KimError
from kim_excel.german import NO as FALSE
from kim_excel.german import YES as TRUE
from kim_excel.model import PARTNER, Party, RegionResult, Settlement, Share
from kim_excel.money import format_eur
from kim_excel.output import write_atomically

DRAFT_FOLDER = "E-Mails"
LOG_NAME = "versand.csv"
CONFIG_NAME = "kim-excel-smtp.ini"
CONFIG_SECTION = "smtp"
LOG_COLUMNS = ("Zeitpunkt", "Kommune", "Empfaenger", "Anhaenge", "SHA256", "Message_ID",
               "Ergebnis", "Meldung")
STALE = ("Die Eingabe wurde seit der Abrechnung geändert – bitte zuerst `kim-excel abrechnen` "
         "ausführen")
MIME_TYPES = {".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
              ".pdf": ("application", "pdf")}


class MailError(KimError):
    """Mailing cannot start: stale or missing settlement files, bad SMTP settings."""


# ---------------------------------------------------------------------------------------------
# SMTP settings


@dataclass(frozen=True)
class SmtpConfig:
    host: str = ""
    port: int = 587
    user: str = ""
    password: str = field(default="", repr=False)  # never shown anywhere
    starttls: bool = True
    sender: str = ""  # KIM_SMTP_FROM: overrides the employer's address as sender
    cafile: str = ""  # extra CA certificate(s) to trust, e.g. an internal CA
    timeout: float = 30.0
    source: str = ""  # where the settings came from, for messages

    def __repr__(self) -> str:  # belt and braces: no password in any traceback or debug print
        return f"SmtpConfig(host={self.host!r}, port={self.port}, user={self.user!r})"


ENV_KEYS = {"host": "KIM_SMTP_HOST", "port": "KIM_SMTP_PORT", "user": "KIM_SMTP_USER",
            "password": "KIM_SMTP_PASSWORD", "starttls": "KIM_SMTP_STARTTLS",
            "from": "KIM_SMTP_FROM", "cafile": "KIM_SMTP_CAFILE", "timeout": "KIM_SMTP_TIMEOUT"}


def load_smtp_config(environ: Mapping[str, str] | None = None,
                     cwd: Path | None = None) -> SmtpConfig:
    """Settings from the config file, overridden key by key by ``KIM_SMTP_*`` variables.

    The file is ``$KIM_SMTP_CONFIG`` if set (it must exist), else ``kim-excel-smtp.ini`` in
    the working directory if there is one. Its section ``[smtp]`` has the keys of
    :data:`ENV_KEYS` (``host``, ``port``, ``user``, ``password``, ``starttls``, ``from``,
    ``cafile``, ``timeout``).
    """
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    values: dict[str, str] = {}
    sources = []
    path = Path(environ["KIM_SMTP_CONFIG"]) if environ.get("KIM_SMTP_CONFIG") else None
    if path is None and (cwd / CONFIG_NAME).is_file():
        path = cwd / CONFIG_NAME
    if path is not None:
        values.update(read_config_file(path))
        sources.append(str(path))
    for key, env in ENV_KEYS.items():
        if environ.get(env, "").strip():
            values[key] = environ[env].strip()
            sources.append(env)
    return config_from_values(values, ", ".join(dict.fromkeys(sources)))


def read_config_file(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)  # a '%' in a password is literal
    try:
        with open(path, encoding="utf-8-sig") as handle:
            parser.read_file(handle)
    except FileNotFoundError:
        raise MailError(f"Die SMTP-Einstellungsdatei „{path}“ gibt es nicht "
                        f"(KIM_SMTP_CONFIG).") from None
    except (OSError, UnicodeDecodeError, configparser.Error):
        # no detail from the parser: it would quote the offending line, maybe a password
        raise MailError(f"Die SMTP-Einstellungsdatei „{path}“ ist nicht lesbar; erwartet wird "
                        f"ein Abschnitt [{CONFIG_SECTION}] mit Zeilen wie „host = "
                        f"mail.example.de“ (UTF-8).") from None
    if not parser.has_section(CONFIG_SECTION):
        raise MailError(f"In „{path}“ fehlt der Abschnitt [{CONFIG_SECTION}].")
    unknown = sorted(set(parser[CONFIG_SECTION]) - set(ENV_KEYS))
    if unknown:
        raise MailError(f"In „{path}“ sind unbekannte Einträge: {', '.join(unknown)}. "
                        f"Erlaubt sind: {', '.join(ENV_KEYS)}.")
    return {k: v.strip() for k, v in parser[CONFIG_SECTION].items() if v.strip()}


def config_from_values(values: Mapping[str, str], source: str) -> SmtpConfig:
    problems = []
    starttls = True
    if "starttls" in values:
        flag = values["starttls"].lower()
        if flag not in TRUE + FALSE:
            problems.append(f"starttls (KIM_SMTP_STARTTLS) „{values['starttls']}“: erlaubt "
                            f"sind ja oder nein.")
        starttls = flag in TRUE
    port = 587 if starttls else 25
    if "port" in values:
        try:
            port = int(values["port"])
            if not 0 < port < 65536:
                raise ValueError
        except ValueError:
            problems.append(f"port (KIM_SMTP_PORT) „{values['port']}“: erlaubt ist eine Zahl "
                            f"von 1 bis 65535.")
    timeout = 30.0
    if "timeout" in values:
        try:
            timeout = float(values["timeout"].replace(",", "."))
            if not timeout > 0:
                raise ValueError
        except ValueError:
            problems.append(f"timeout (KIM_SMTP_TIMEOUT) „{values['timeout']}“: erlaubt ist "
                            f"eine Zahl von Sekunden über 0.")
    sender = values.get("from", "")
    if sender and "@" not in parseaddr(sender)[1]:
        problems.append(f"from (KIM_SMTP_FROM) „{sender}“ ist keine E-Mail-Adresse.")
    if values.get("cafile") and not Path(values["cafile"]).is_file():
        problems.append(f"cafile (KIM_SMTP_CAFILE) „{values['cafile']}“: Datei nicht gefunden.")
    if problems:
        raise MailError("Die SMTP-Einstellungen sind fehlerhaft:\n" +
                        "\n".join(f"  – {p}" for p in problems))
    return SmtpConfig(host=values.get("host", ""), port=port, user=values.get("user", ""),
                      password=values.get("password", ""), starttls=starttls, sender=sender,
                      cafile=values.get("cafile", ""), timeout=timeout, source=source)


def require_server(config: SmtpConfig) -> None:
    if not config.host:
        raise MailError(f"Kein Mailserver eingestellt: bitte KIM_SMTP_HOST setzen oder die "
                        f"Datei {CONFIG_NAME} anlegen (siehe docs/Versand.md, "
                        f"Abschnitt „Mailserver einstellen“).")
    if config.user and not config.password:
        raise MailError("KIM_SMTP_USER ist gesetzt, aber kein Passwort: bitte KIM_SMTP_PASSWORD "
                        "setzen oder password in der Einstellungsdatei eintragen.")


# ---------------------------------------------------------------------------------------------
# The mails to send, checked against the last settlement run


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes = field(repr=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class MailItem:
    """One partner's settlement mail, before it has a recipient for this run."""

    partner: Party
    employer: Party
    region: RegionResult
    share: Share
    sender: Address | None  # None: neither the employer's e-mail nor KIM_SMTP_FROM
    reply_to: Address | None
    subject: str
    body: str
    attachments: tuple[Attachment, ...]

    @property
    def recipient(self) -> str:
        return self.partner.email

    @property
    def hashes(self) -> str:
        return ", ".join(a.sha256 for a in self.attachments)

    @property
    def attachment_names(self) -> str:
        return ", ".join(a.name for a in self.attachments)

    @property
    def stem(self) -> str:
        return Path(self.attachments[0].name).stem


@dataclass(frozen=True)
class MailBatch:
    settlement: Settlement
    folder: Path  # <ausgabe>/<J>/
    items: tuple[MailItem, ...]

    @property
    def log_path(self) -> Path:
        return self.folder / LOG_NAME


def prepare_mails(settlement: Settlement, file_names: Mapping[str, str], folder: Path,
                  sender: str = "") -> MailBatch:
    """One :class:`MailItem` per partner, with the attachments read from ``folder``.

    Refuses (:class:`MailError`) when the settlement files are missing or the figures differ
    from ``Buchungsliste_<J>.csv``: the mail text must match the attachment.
    """
    check_against_booking(settlement, folder)
    missing = [name for name in file_names.values() if not (folder / name).is_file()]
    if missing:
        raise MailError(f"In „{folder}“ fehlen {', '.join(sorted(missing))}. {STALE}.")
    items = []
    for region in settlement.regions:
        for share in region.partner_shares:
            xlsx = folder / file_names[share.party.name]
            files = [xlsx] + [p for p in [xlsx.with_suffix(".pdf")] if p.is_file()]
            attachments = tuple(read_attachment(p) for p in files)
            sender_address, reply_to = sender_of(region.employer, sender)
            items.append(MailItem(
                partner=share.party, employer=region.employer, region=region, share=share,
                sender=sender_address, reply_to=reply_to,
                subject=subject(settlement, share.party), body=body(settlement, region, share,
                                                                    attachments),
                attachments=attachments))
    return MailBatch(settlement, folder, tuple(items))


def read_attachment(path: Path) -> Attachment:
    try:
        return Attachment(path.name, path.read_bytes())
    except OSError as exc:
        raise MailError(f"„{path}“ kann nicht gelesen werden ({_reason(exc)}).") from None


def sender_of(employer: Party, override: str) -> tuple[Address | None, Address | None]:
    """From: KIM_SMTP_FROM if set (the server may insist on its own account), else the
    employer's address; replies go to the employer's address either way."""
    own = Address(employer.full_name, addr_spec=employer.email) if employer.email else None
    if not override:
        return own, None
    name, addr = parseaddr(override)
    sender = Address(name or employer.full_name, addr_spec=addr)
    reply_to = own if own and own.addr_spec.lower() != addr.lower() else None
    return sender, reply_to


def check_against_booking(settlement: Settlement, folder: Path) -> None:
    """Saldo and due date of every partner must equal the last run's Buchungsliste."""
    path = folder / f"Buchungsliste_{settlement.year}.csv"
    if not path.is_file():
        raise MailError(f"Für {settlement.year} gibt es noch keine Abrechnung in „{folder}“ "
                        f"({path.name} fehlt) – bitte zuerst `kim-excel abrechnen` ausführen.")
    try:
        booked = read_booking(path)
    except (OSError, ValueError, InvalidOperation):  # a damaged or hand-edited file
        raise MailError(f"{path.name} ist nicht lesbar. {STALE}.") from None
    differences = []
    expected = {}
    for region in settlement.regions:
        for share in region.partner_shares:
            expected[share.party.name] = (share.balance, share.due_date)
    for name, (balance, due) in expected.items():
        if name not in booked:
            differences.append(f"{name} fehlt in {path.name}")
        elif booked[name] != (balance, due):
            was_balance, was_due = booked[name]
            differences.append(
                f"{name}: laut {path.name} {format_eur(was_balance)} fällig am "
                f"{day(was_due)}, laut Eingabe {format_eur(balance)} fällig am {day(due)}")
    differences += [f"{name} steht in {path.name}, ist aber keine Partnerkommune mehr"
                    for name in booked if name not in expected]
    if differences:
        raise MailError(f"{STALE}.\n" + "\n".join(f"  – {d}" for d in differences))


def read_booking(path: Path) -> dict[str, tuple[Decimal, date | None]]:
    """Partner → (Saldo, due date) from the Buchungsliste of the last run."""
    return {row.kommune: (row.balance, row.due) for row in booking.read_booking(path)
            if row.role == PARTNER}


def day(value: date | None) -> str:
    return f"{value:%d.%m.%Y}" if value else "–"


# ---------------------------------------------------------------------------------------------
# What the mail says


def subject(settlement: Settlement, partner: Party) -> str:
    return (f"Abrechnung Kommunales Case-Management {settlement.year} – "
            f"{partner.full_name}")


def payment_reference(settlement: Settlement, partner: Party) -> str:
    """The Kassenzeichen where the workbook gives one, else a reference that names both."""
    if partner.kassenzeichen:
        return partner.kassenzeichen
    return f"Eigenanteil KIM {settlement.year} {partner.full_name}"


def iban_groups(iban: str) -> str:
    """``DE26401545300000123456`` → ``DE26 4015 4530 0000 1234 56``."""
    compact = "".join(iban.split())
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def body(settlement: Settlement, region: RegionResult, share: Share,
         attachments: Iterable[Attachment]) -> str:
    employer, partner = region.employer, share.party
    year = settlement.year
    lines = [
        "Sehr geehrte Damen und Herren,",
        "",
        f"anbei erhalten Sie die Abrechnung des Eigenanteils {year} am Kommunalen",
        f"Case-Management der Region {region.region} (§ 2 der Kooperationsvereinbarung)",
        f"für die {partner.full_name}.",
        "",
        f"Ihr Anteil am Eigenanteil der Region:  {format_eur(share.net)}",
    ]
    if region.terms.vat_rate > 0:  # R8: at 0 % no VAT line at all
        rate = f"{region.terms.vat_rate * 100:.2f}".rstrip("0").rstrip(".")
        lines += [f"zuzüglich Umsatzsteuer {rate.replace('.', ',')} %:  {format_eur(share.vat)}",
                  f"Gesamtbetrag:  {format_eur(share.gross)}"]
    if share.advances:
        lines.append(f"abzüglich geleisteter Abschläge:  {format_eur(share.advances)}")
    lines.append("")
    reference = payment_reference(settlement, partner)
    if share.balance > 0:
        lines += [
            f"Bitte überweisen Sie {format_eur(share.balance)} bis zum {day(share.due_date)}",
            "auf folgendes Konto:",
            "",
            f"  Empfänger:       {employer.full_name}",
            f"  IBAN:            {iban_groups(employer.iban)}",
            f"  BIC:             {employer.bic}",
            f"  Kreditinstitut:  {employer.bank}",
            f"  Verwendungszweck: {reference}",
        ]
    elif share.balance < 0:
        account = f" auf Ihr Konto {iban_groups(partner.iban)}" if partner.iban else ""
        lines += [
            f"Ihre Abschläge übersteigen Ihren Anteil: Sie erhalten {format_eur(-share.balance)}",
            f"zurück. Wir überweisen den Betrag bis zum {day(share.due_date)}{account}",
            f"mit dem Verwendungszweck „{reference}“.",
        ]
    else:
        lines.append("Es ergibt sich kein Zahlungsbetrag.")
    lines += ["", "Die Einzelheiten finden Sie in der beigefügten Abrechnung:",
              *(f"  {a.name}" for a in attachments), ""]
    contact = ", ".join(x for x in (employer.contact, f"Telefon {employer.phone}"
                                    if employer.phone else "", employer.email) if x)
    if contact:
        lines += ["Für Rückfragen erreichen Sie uns so:", f"  {contact}", ""]
    lines += ["Mit freundlichen Grüßen", "", employer.full_name]
    if employer.contact:
        lines.append(employer.contact)
    return "\n".join(lines) + "\n"


def build_message(item: MailItem, to: str, when: datetime, message_id: str,
                  draft: bool = False) -> EmailMessage:
    """A standard MIME message: a quoted-printable German text and the files as base64.

    Header and body stay 7-bit; attachment names are ASCII (Outlook ignores RFC 2231 names).
    """
    msg = EmailMessage()
    if item.sender is not None:
        msg["From"] = item.sender
    if to:
        msg["To"] = to
    if item.reply_to is not None:
        msg["Reply-To"] = item.reply_to
    msg["Subject"] = item.subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = message_id
    if draft:
        msg["X-Unsent"] = "1"  # Outlook opens the file as a new, editable message
    msg.set_content(item.body, cte="quoted-printable")
    for attachment in item.attachments:
        maintype, subtype = MIME_TYPES.get(Path(attachment.name).suffix.lower(),
                                           ("application", "octet-stream"))
        msg.add_attachment(attachment.data, maintype=maintype, subtype=subtype,
                           filename=attachment.name)
    return msg


def mail_domain(item: MailItem) -> str:
    return item.sender.domain if item.sender is not None else "kim-excel.invalid"


# ---------------------------------------------------------------------------------------------
# Drafts


@dataclass(frozen=True)
class DraftReport:
    files: tuple[Path, ...]
    warnings: tuple[str, ...]


def write_drafts(batch: MailBatch) -> DraftReport:
    """One ``.eml`` per partner; the same input gives byte-identical drafts.

    Date is the settlement date, Message-ID and MIME boundary derive from the content; each
    file is replaced atomically.
    """
    folder = batch.folder / DRAFT_FOLDER
    folder.mkdir(exist_ok=True)
    when = datetime.combine(batch.settlement.latest_date, time(9, 0)).astimezone()
    files, warnings = [], []
    for item in batch.items:
        digest = hashlib.sha256(
            "\0".join([item.subject, item.body, item.recipient, str(item.sender),
                       item.hashes]).encode()).hexdigest()
        message_id = f"<{digest[:32]}@{mail_domain(item)}>"
        msg = build_message(item, item.recipient, when, message_id, draft=True)
        msg.set_boundary(f"=_kim_{digest[:24]}")  # '=_' never occurs in base64 or QP text
        path = folder / f"{item.stem}.eml"
        try:
            write_atomically(path, msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))
        except OSError as exc:
            raise MailError(f"Der Entwurf „{path}“ kann nicht geschrieben werden "
                            f"({_reason(exc)}) – ist er gerade geöffnet? Bitte schließen und "
                            f"erneut starten.") from None
        files.append(path)
        if not item.recipient:
            warnings.append(f"{item.partner.full_name}: keine E-Mail-Adresse in "
                            f"Vertragsparteien – im Entwurf fehlt der Empfänger.")
        if item.sender is None:
            warnings.append(f"{item.partner.full_name}: für {item.employer.full_name} ist keine "
                            f"E-Mail-Adresse eingetragen und KIM_SMTP_FROM nicht gesetzt – im "
                            f"Entwurf fehlt der Absender.")
    return DraftReport(tuple(files), tuple(warnings))


# ---------------------------------------------------------------------------------------------
# The send log


class Result(Enum):
    SENT = "gesendet"
    TEST = "Test"
    FAILED = "Fehler"
    NO_ADDRESS = "ohne Adresse"


@dataclass(frozen=True)
class LogEntry:
    time: str
    partner: str
    recipient: str
    attachments: str
    hashes: str
    message_id: str
    result: str
    detail: str


def read_log(path: Path) -> list[LogEntry]:
    """The log's lines, by column name; also after Excel saved it as ANSI (cp1252)."""
    if not path.is_file():
        return []
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    entries = []
    for row in csv.DictReader(io.StringIO(text, newline=""), delimiter=";"):
        values = [row.get(column) for column in LOG_COLUMNS]
        if all(isinstance(v, str) for v in values):
            entries.append(LogEntry(*values))
    return entries


def check_log_writable(path: Path) -> None:
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        raise MailError(f"Das Versandprotokoll „{path}“ kann nicht geschrieben werden "
                        f"({_reason(exc)}) – ist es in Excel geöffnet? Bitte schließen; es "
                        f"wurde nichts gesendet.") from None


def append_log(path: Path, entry: LogEntry) -> None:
    """Append one line and force it to disk; earlier lines are never rewritten."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerow(
        [entry.time, entry.partner, entry.recipient, entry.attachments, entry.hashes,
         entry.message_id, entry.result, entry.detail])
    with open(path, "ab") as handle:
        prefix = b""
        if handle.tell() == 0:
            header = io.StringIO()
            csv.writer(header, delimiter=";", lineterminator="\r\n").writerow(LOG_COLUMNS)
            prefix = "\ufeff".encode() + header.getvalue().encode()
        elif not _ends_with_newline(path):  # a line cut off by a crash stays on its own
            prefix = b"\r\n"
        handle.write(prefix + buffer.getvalue().encode())
        handle.flush()
        os.fsync(handle.fileno())


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


# ---------------------------------------------------------------------------------------------
# Sending


class Action(Enum):
    SEND = "senden"
    ALREADY_SENT = "bereits gesendet"
    NO_ADDRESS = "ohne Adresse"
    NO_SENDER = "ohne Absender"


@dataclass(frozen=True)
class Planned:
    item: MailItem
    recipient: str
    action: Action
    test: bool = False
    earlier: str = ""  # when it was sent before

    @property
    def reason(self) -> str:
        """Why a partner is skipped (empty when it is sent)."""
        if self.action is Action.ALREADY_SENT:
            return (f"am {self.earlier} bereits an {self.recipient} gesendet (erneut senden mit "
                    f"--erneut)")
        if self.action is Action.NO_SENDER:
            return (f"kein Absender – für {self.item.employer.full_name} fehlt die E-Mail-"
                    f"Adresse in Vertragsparteien und KIM_SMTP_FROM ist nicht gesetzt")
        if self.action is Action.NO_ADDRESS:
            return "keine E-Mail-Adresse in Vertragsparteien (Spalte E-Mail)"
        return ""

    def line(self) -> str:
        share, partner = self.item.share, self.item.partner
        if share.balance >= 0:
            amount = f"zahlt {format_eur(share.balance)}"
        else:
            amount = f"erhält {format_eur(-share.balance)}"
        what = (f"{partner.full_name}: {amount}, Anhang {self.item.attachment_names}, "
                f"von {self.item.sender.addr_spec if self.item.sender else '?'}")
        if self.action is Action.SEND:
            target = f"TEST an {self.recipient} (statt {partner.email or 'ohne Adresse'})" \
                if self.test else f"an {self.recipient}"
            return f"  senden        {target} – {what}"
        return f"  übersprungen  {partner.full_name}: {self.reason}"


def plan_sending(batch: MailBatch, test_address: str = "", again: bool = False) -> list[Planned]:
    """What this run will do per partner; nothing is sent yet."""
    sent = {}
    for entry in read_log(batch.log_path):
        if entry.result == Result.SENT.value:
            sent[(entry.partner, entry.recipient.lower(), entry.hashes)] = entry.time
    plan = []
    for item in batch.items:
        if item.sender is None:
            plan.append(Planned(item, "", Action.NO_SENDER))
        elif test_address:
            plan.append(Planned(item, test_address, Action.SEND, test=True))
        elif not item.recipient:
            plan.append(Planned(item, "", Action.NO_ADDRESS))
        else:
            earlier = sent.get((item.partner.name, item.recipient.lower(), item.hashes))
            if earlier and not again:
                plan.append(Planned(item, item.recipient, Action.ALREADY_SENT, earlier=earlier))
            else:
                plan.append(Planned(item, item.recipient, Action.SEND))
    return plan


@dataclass(frozen=True)
class Outcome:
    planned: Planned
    ok: bool
    message_id: str = ""
    detail: str = ""

    def line(self) -> str:
        name = self.planned.item.partner.full_name
        if self.ok:
            kind = "Probe gesendet" if self.planned.test else "gesendet"
            return f"{name}: {kind} an {self.planned.recipient}"
        return f"{name}: NICHT gesendet – {self.detail}"


class ServerUnavailable(Exception):
    """No usable connection: every remaining message fails with the same German reason."""


def send_planned(batch: MailBatch, plan: list[Planned], config: SmtpConfig,
                 on_outcome: Callable[[Outcome], None] = lambda o: None,
                 now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
                 ) -> list[Outcome]:
    """Send what the plan says, one message per partner, logging every attempt.

    A failure for one partner (recipient rejected, message refused) does not stop the
    others; a server that cannot be reached or refuses the login fails the rest with that
    reason, without trying again for each of them.
    """
    outcomes: list[Outcome] = []
    connection: smtplib.SMTP | None = None
    unavailable = ""

    def record(planned: Planned, outcome: Outcome, result: Result) -> None:
        item = planned.item
        outcomes.append(outcome)
        on_outcome(outcome)
        try:
            append_log(batch.log_path, LogEntry(
                f"{now():%d.%m.%Y %H:%M:%S}", item.partner.name, planned.recipient,
                item.attachment_names, item.hashes, outcome.message_id, result.value,
                outcome.detail))
        except OSError as exc:  # stop: every further send would go unrecorded
            raise MailError(f"Das Versandprotokoll „{batch.log_path}“ konnte nicht "
                            f"fortgeschrieben werden ({_reason(exc)}). Zuletzt: "
                            f"{outcome.line()}. Der Versand wurde angehalten; bitte das "
                            f"Protokoll prüfen, bevor erneut gesendet wird.") from None

    check_log_writable(batch.log_path)
    try:
        for planned in plan:
            if planned.action is Action.ALREADY_SENT:
                continue
            if planned.action in (Action.NO_ADDRESS, Action.NO_SENDER):
                record(planned, Outcome(planned, False, detail=planned.reason),
                       Result.NO_ADDRESS if planned.action is Action.NO_ADDRESS
                       else Result.FAILED)
                continue
            item = planned.item
            message_id = f"<{uuid.uuid4().hex}@{mail_domain(item)}>"  # short: no folding
            if unavailable:
                record(planned, Outcome(planned, False, message_id, unavailable), Result.FAILED)
                continue
            msg = build_message(item, planned.recipient, now(), message_id)
            try:
                if connection is None:
                    connection = connect(config)
                connection.send_message(msg, from_addr=item.sender.addr_spec,
                                        to_addrs=[planned.recipient])
            except ServerUnavailable as exc:
                unavailable = str(exc)
                record(planned, Outcome(planned, False, message_id, unavailable), Result.FAILED)
                continue
            except (smtplib.SMTPException, OSError) as exc:
                if not isinstance(exc, smtplib.SMTPResponseException | smtplib
                                  .SMTPRecipientsRefused):
                    connection = _drop(connection)  # broken link: reconnect for the next one
                record(planned, Outcome(planned, False, message_id,
                                        send_error(exc, planned.recipient, item, config)),
                       Result.FAILED)
                continue
            note = f"Probe statt an {item.recipient or '(keine Adresse)'}" if planned.test else ""
            record(planned, Outcome(planned, True, message_id, note),
                   Result.TEST if planned.test else Result.SENT)
    finally:
        _drop(connection, polite=True)
    return outcomes


def _drop(connection: smtplib.SMTP | None, polite: bool = False) -> None:
    if connection is None:
        return None
    try:
        if polite:
            connection.quit()
        else:
            connection.close()
    except (smtplib.SMTPException, OSError):
        connection.close()
    return None


def connect(config: SmtpConfig) -> smtplib.SMTP:
    """An open, secured and authenticated connection, or :class:`ServerUnavailable`."""
    server = f"{config.host}:{config.port}"
    try:
        connection = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    except ConnectionRefusedError:
        raise ServerUnavailable(f"Verbindung zum Mailserver {server} abgelehnt – läuft der "
                                f"Server, stimmen Host und Port?") from None
    except socket.gaierror:
        raise ServerUnavailable(f"Mailserver „{config.host}“ nicht gefunden – stimmt der "
                                f"Name (KIM_SMTP_HOST)?") from None
    except (TimeoutError, smtplib.SMTPServerDisconnected) as exc:
        if _timed_out(exc):
            raise ServerUnavailable(f"Zeitüberschreitung: der Mailserver {server} antwortet "
                                    f"nicht (nach {config.timeout:g} s).") from None
        raise ServerUnavailable(f"Der Mailserver {server} hat die Verbindung sofort "
                                f"beendet.") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise ServerUnavailable(f"Keine Verbindung zum Mailserver {server} "
                                f"({_reason(exc)}).") from None
    try:
        secure(connection, config, server)
        if config.user:
            login(connection, config, server)
    except BaseException:
        connection.close()
        raise
    return connection


def secure(connection: smtplib.SMTP, config: SmtpConfig, server: str) -> None:
    if not config.starttls:
        return
    context = ssl.create_default_context()
    try:
        if config.cafile:
            context.load_verify_locations(cafile=config.cafile)
        connection.ehlo()
        if not connection.has_extn("starttls"):
            raise ServerUnavailable(
                f"Der Mailserver {server} bietet keine Verschlüsselung (STARTTLS) an. Nur in "
                f"einem geschützten internen Netz: KIM_SMTP_STARTTLS=nein.")
        connection.starttls(context=context)
        connection.ehlo()
    except ssl.SSLCertVerificationError as exc:
        raise ServerUnavailable(
            f"TLS-Verbindung zum Mailserver {server} fehlgeschlagen: sein Zertifikat ist nicht "
            f"vertrauenswürdig ({exc.verify_message}). Bei einer eigenen Zertifizierungsstelle "
            f"deren Zertifikat mit KIM_SMTP_CAFILE angeben.") from None
    except ssl.SSLError as exc:
        raise ServerUnavailable(f"TLS-Verbindung zum Mailserver {server} fehlgeschlagen "
                                f"({exc.reason or 'SSL-Fehler'}).") from None
    except (smtplib.SMTPException, OSError) as exc:
        if _timed_out(exc):
            raise ServerUnavailable(f"Zeitüberschreitung beim Verschlüsseln der Verbindung zu "
                                    f"{server}.") from None
        raise ServerUnavailable(f"TLS-Verbindung zum Mailserver {server} fehlgeschlagen "
                                f"({_reason(exc)}).") from None


def login(connection: smtplib.SMTP, config: SmtpConfig, server: str) -> None:
    try:
        connection.login(config.user, config.password)
    except smtplib.SMTPAuthenticationError as exc:
        # the server's own text is left out on purpose: some echo what they were sent
        raise ServerUnavailable(
            f"Anmeldung am Mailserver {server} fehlgeschlagen: Benutzername „{config.user}“ "
            f"oder Passwort falsch (Antwort {exc.smtp_code}).") from None
    except smtplib.SMTPNotSupportedError:
        raise ServerUnavailable(
            f"Der Mailserver {server} bietet keine Anmeldung (AUTH) an"
            + ("" if config.starttls else ", jedenfalls nicht ohne Verschlüsselung (STARTTLS)")
            + ". Ohne Anmeldung: KIM_SMTP_USER leer lassen.") from None
    except smtplib.SMTPException as exc:
        raise ServerUnavailable(f"Anmeldung am Mailserver {server} fehlgeschlagen "
                                f"({_reason(exc)}).") from None
    except OSError as exc:
        raise ServerUnavailable(f"Verbindung zum Mailserver {server} bei der Anmeldung "
                                f"unterbrochen ({_reason(exc)}).") from None


def send_error(exc: BaseException, recipient: str, item: MailItem, config: SmtpConfig) -> str:
    """German reason for one failed message."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (0, b""))
        return f"Empfänger {recipient} vom Mailserver abgelehnt ({_reply(code, text)})."
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return (f"Absender {exc.sender} vom Mailserver abgelehnt "
                f"({_reply(exc.smtp_code, exc.smtp_error)}) – ggf. KIM_SMTP_FROM auf die "
                f"Adresse des Postfachs setzen.")
    if isinstance(exc, smtplib.SMTPDataError):
        return f"Nachricht vom Mailserver abgelehnt ({_reply(exc.smtp_code, exc.smtp_error)})."
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"Mailserver-Fehler ({_reply(exc.smtp_code, exc.smtp_error)})."
    if _timed_out(exc):
        return f"Zeitüberschreitung beim Senden (nach {config.timeout:g} s)."
    if isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError):
        return "Der Mailserver hat die Verbindung beim Senden unterbrochen."
    return f"Senden fehlgeschlagen ({_reason(exc)})."


def _timed_out(exc: BaseException) -> bool:
    """smtplib turns a read timeout into SMTPServerDisconnected; the cause tells."""
    while exc is not None:
        if isinstance(exc, TimeoutError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return f"{code} {' '.join(text.split())}".strip()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


# ---------------------------------------------------------------------------------------------
# Entry point for the CLI


def load_batch(eingang: Path, ausgabe: Path, year: int, today: date,
               config: SmtpConfig) -> MailBatch:
    """The settlement of ``eingang`` for ``year`` and its mails, checked against ``ausgabe``."""
    from kim_excel.pipeline import load_settlement, partner_file_names

    settlement, _ = load_settlement(eingang, today)
    if settlement.year != year:
        raise MailError(f"Die Eingabe in „{eingang}“ ist für das Abrechnungsjahr "
                        f"{settlement.year}, nicht für {year}. Bitte --jahr {settlement.year} "
                        f"angeben oder die Eingabe für {year} in den Ordner legen.")
    folder = ausgabe / str(year)
    return prepare_mails(settlement, partner_file_names(settlement), folder, config.sender)
