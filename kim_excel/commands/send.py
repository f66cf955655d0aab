"""E-mail the settlements (``kim-excel versenden``): drafts to review first, then SMTP.

Apart from the settlement run: it never computes or writes a settlement. The figures it quotes
and the files it attaches are those of the year folder's record (``record.py``), which the
last ``kim-excel abrechnen`` wrote. The input is read only to check that it still gives the
recorded figures (with the recorded settlement dates: sending next week does not re-date
anything); otherwise the text could contradict the attachment. Corrections are mailed like
settlements; what goes out is issued (SPEC § 7).

Glossary:

- Entwurf (``draft``): an ``.eml`` file per letter in ``<J>/E-Mails/`` with ``X-Unsent: 1``,
  which Outlook opens as an editable new message and Thunderbird as a message to edit.
- Versandprotokoll (``send log``, ``sendlog.py``): ``<J>/versand.csv``, one line per attempt.
  A letter counts as sent when a line says ``gesendet`` for the same recipient and the same
  attachment hashes; a run after a failure sends only the rest.
- Testversand (``--an``): every message to one test address instead; logged as ``Test``,
  which never counts as sent for the partner.

SMTP settings and the transport: ``smtp.py``.
"""

from __future__ import annotations

import hashlib
import smtplib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from enum import Enum
from pathlib import Path

from kim_excel.commands.smtp import (  # noqa: F401 (re-exported for the CLI and tests)
    CONFIG_NAME,
    ServerUnavailable,
    SmtpConfig,
    _drop,
    _reason,
    connect,
    load_smtp_config,
    require_server,
    send_error,
)
from kim_excel.core.calculation import settle
from kim_excel.core.errors import MailError  # noqa: F401 (re-exported)
from kim_excel.core.files import write_atomically
from kim_excel.core.model import Party, RegionResult, Settlement, Share
from kim_excel.core.money import format_eur
from kim_excel.core.references import invoice_number, payment_reference
from kim_excel.documents.einvoices import einvoice_attachments
from kim_excel.input.validation import load_input
from kim_excel.ledger.life import changed_partners, with_recorded_dates
from kim_excel.ledger.life import issue_sent as issue
from kim_excel.ledger.record import (
    DRAFT,
    RECORD_NAME,
    FileEntry,
    Record,
    read_record,
    region_data,
    region_from_data,
    settlement_of,
    write_record,
)
from kim_excel.ledger.sendlog import (  # noqa: F401 (re-exported for the CLI and tests)
    LOG_COLUMNS,
    LOG_NAME,
    LogEntry,
    Result,
    append_log,
    check_log_writable,
    read_log,
)

DRAFT_FOLDER = "E-Mails"
STALE = ("Die Eingabe wurde seit der Abrechnung geändert – bitte zuerst `kim-excel abrechnen` "
         "ausführen")
MIME_TYPES = {".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
              ".pdf": ("application", "pdf"), ".xml": ("application", "xml")}


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
    amount: Decimal = Decimal("0.00")  # to pay (positive) or refunded (negative)
    day: date | None = None  # the letter's date

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
    record: Record | None = None

    @property
    def log_path(self) -> Path:
        return self.folder / LOG_NAME


def prepare_mails(record: Record, regions: Iterable[str], folder: Path,
                  sender: str = "") -> MailBatch:
    """One :class:`MailItem` per letter and correction letter of ``regions``, with the
    figures of the record and the attachments read from ``folder``."""
    items = []
    settlement = None
    for name in regions:
        entry = record.regions[name]
        region = region_from_data(entry.result)
        settlement = settlement_of(entry.context, [region])
        for share in region.partner_shares:
            file = entry.letters[share.party.name]
            items.append(mail_item(settlement, region, share, folder / file, sender,
                                   invoice(settlement.year, share.party.name),
                                   share.balance, region.terms.settlement_date))
        for correction in entry.corrections:
            corrected = region_from_data(correction.result)
            before = {s.party.name: s for s in region_from_data(correction.before).shares}
            for share in corrected.partner_shares:
                letter = correction.letters.get(share.party.name)
                if letter is None:
                    continue
                was = before.get(share.party.name)
                amount = share.gross - (was.gross if was else Decimal("0.00"))
                items.append(mail_item(
                    settlement_of(correction.context, [corrected]), corrected, share,
                    folder / letter["file"], sender, letter["number"], amount,
                    date.fromisoformat(correction.day), {**letter, "due": correction.due}))
    if settlement is None:
        settlement = settlement_of(record.settings, []) if record.settings else None
    return MailBatch(settlement, folder, tuple(items), record)


def invoice(year: int, partner: str) -> str:

    return invoice_number(year, partner)


def mail_item(settlement: Settlement, region: RegionResult, share: Share, xlsx: Path,
              sender: str, number: str, amount: Decimal, day: date,
              correction: dict | None = None) -> MailItem:
    if not xlsx.is_file():
        raise MailError(f"In „{xlsx.parent}“ fehlt {xlsx.name}. {STALE}.")

    # The letter, then its XRechnung and ZUGFeRD PDF (SPEC § 8), or its plain PDF if any.
    extra = einvoice_attachments(xlsx.parent, xlsx.stem) or [
        p for p in [xlsx.with_suffix(".pdf")] if p.is_file()]
    files = [xlsx, *extra]
    attachments = tuple(read_attachment(p) for p in files)
    sender_address, reply_to = sender_of(region.employer, sender)
    if correction is None:
        text = body(settlement, region, share, attachments, number)
        title = subject(settlement, share.party)
    else:
        text = correction_body(settlement, region, share, attachments, number, amount,
                               correction)
        title = f"Korrektur {number} – " + subject(settlement, share.party)
    return MailItem(partner=share.party, employer=region.employer, region=region, share=share,
                    sender=sender_address, reply_to=reply_to, subject=title, body=text,
                    attachments=attachments, amount=amount, day=day)


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


def check_against_record(settlement: Settlement, record: Record) -> None:
    """Every region of the input must give the figures the record holds (with the recorded
    dates): for a draft exactly, for an issued region the same partner amounts."""

    differences = []
    for region in settlement.regions:
        entry = record.regions.get(region.region)
        if entry is None:
            differences.append(f"Region {region.region} ist noch nicht abgerechnet")
            continue
        latest = region_from_data(entry.latest())
        if entry.state == DRAFT and region_data(region) == entry.latest():
            continue
        if entry.state != DRAFT and not changed_partners(latest, region):
            continue
        was = {s.party.name: s for s in latest.partner_shares}
        for share in region.partner_shares:
            old = was.pop(share.party.name, None)
            if old is None:
                differences.append(f"{share.party.name} fehlt in der Abrechnung")
            elif (old.balance, old.due_date) != (share.balance, share.due_date):
                differences.append(
                    f"{share.party.name}: laut Abrechnung {format_eur(old.balance)} fällig am "
                    f"{day(old.due_date)}, laut Eingabe {format_eur(share.balance)} fällig am "
                    f"{day(share.due_date)}")
        differences += [f"{name} steht in der Abrechnung, ist aber keine Partnerkommune mehr"
                        for name in was]
        if not differences:
            differences.append(f"Region {region.region}: die Eingabe weicht von der "
                               f"Abrechnung ab")
    if differences:
        raise MailError(f"{STALE}.\n" + "\n".join(f"  – {d}" for d in differences))


def day(value: date | None) -> str:
    return f"{value:%d.%m.%Y}" if value else "–"


# ---------------------------------------------------------------------------------------------
# What the mail says


def subject(settlement: Settlement, partner: Party) -> str:
    return (f"Abrechnung Kommunales Case-Management {settlement.year} – "
            f"{partner.full_name}")


def iban_groups(iban: str) -> str:
    """``DE26401545300000123456`` → ``DE26 4015 4530 0000 1234 56``."""
    compact = "".join(iban.split())
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def payment_lines(settlement: Settlement, region: RegionResult, share: Share, amount: Decimal,
                  due: date | None, number: str) -> list[str]:
    """What to pay or what is refunded, with the one Verwendungszweck (references.py)."""
    employer, partner = region.employer, share.party
    reference = payment_reference(settlement.year, number, partner.kassenzeichen)
    if amount > 0:
        return [
            f"Bitte überweisen Sie {format_eur(amount)} bis zum {day(due)}",
            "auf folgendes Konto:",
            "",
            f"  Empfänger:       {employer.full_name}",
            f"  IBAN:            {iban_groups(employer.iban)}",
            f"  BIC:             {employer.bic}",
            f"  Kreditinstitut:  {employer.bank}",
            f"  Verwendungszweck: {reference}",
        ]
    if amount < 0:
        account = f" auf Ihr Konto {iban_groups(partner.iban)}" if partner.iban else ""
        return [
            f"Sie erhalten {format_eur(-amount)} zurück. Wir überweisen den Betrag",
            f"bis zum {day(due)}{account}",
            f"mit dem Verwendungszweck „{reference}“.",
        ]
    return ["Es ergibt sich kein Zahlungsbetrag."]


def closing(region: RegionResult, attachments: Iterable[Attachment]) -> list[str]:
    employer = region.employer
    lines = ["", "Die Einzelheiten finden Sie in der beigefügten Abrechnung:",
             *(f"  {a.name}" for a in attachments), ""]
    contact = ", ".join(x for x in (employer.contact, f"Telefon {employer.phone}"
                                    if employer.phone else "", employer.email) if x)
    if contact:
        lines += ["Für Rückfragen erreichen Sie uns so:", f"  {contact}", ""]
    lines += ["Mit freundlichen Grüßen", "", employer.full_name]
    if employer.contact:
        lines.append(employer.contact)
    return lines


def body(settlement: Settlement, region: RegionResult, share: Share,
         attachments: Iterable[Attachment], number: str = "") -> str:
    partner = share.party
    year = settlement.year
    number = number or invoice(year, partner.name)
    lines = [
        "Sehr geehrte Damen und Herren,",
        "",
        f"anbei erhalten Sie die Abrechnung des Eigenanteils {year} am Kommunalen",
        f"Case-Management der Region {region.region} (§ 2 der Kooperationsvereinbarung)",
        f"für die {partner.full_name} (Rechnungsnummer {number}).",
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
    if share.balance < 0:
        lines.append("Ihre Abschläge übersteigen Ihren Anteil.")
    lines += payment_lines(settlement, region, share, share.balance, share.due_date, number)
    lines += closing(region, attachments)
    return "\n".join(lines) + "\n"


def correction_body(settlement: Settlement, region: RegionResult, share: Share,
                    attachments: Iterable[Attachment], number: str, amount: Decimal,
                    letter: dict) -> str:
    corrects = f"{letter['corrects']} vom {day(date.fromisoformat(letter['corrects_date']))}"
    lines = [
        "Sehr geehrte Damen und Herren,",
        "",
        f"die Kosten der Region {region.region} für {settlement.year} haben sich nach unserer",
        f"Abrechnung {corrects} geändert. Anbei erhalten Sie die Korrektur",
        f"{number} für die {share.party.full_name}.",
        "",
        f"Ihr Anteil, berichtigt:  {format_eur(share.net)}",
        f"Differenz zur bisherigen Abrechnung:  {format_eur(amount)}",
        "",
    ]
    due = date.fromisoformat(letter["due"]) if letter.get("due") else None
    lines += payment_lines(settlement, region, share, amount, due, number)
    lines += closing(region, attachments)
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
    files, warnings = [], []
    for item in batch.items:
        digest = hashlib.sha256(
            "\0".join([item.subject, item.body, item.recipient, str(item.sender),
                       item.hashes]).encode()).hexdigest()
        message_id = f"<{digest[:32]}@{mail_domain(item)}>"
        when = datetime.combine(item.day, time(9, 0)).astimezone()
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
        if batch.record is not None:
            batch.record.drafts[f"{DRAFT_FOLDER}/{path.name}"] = FileEntry(
                hashlib.sha256(path.read_bytes()).hexdigest(), item.region.region)
        if not item.recipient:
            warnings.append(f"{item.partner.full_name}: keine E-Mail-Adresse in "
                            f"Vertragsparteien – im Entwurf fehlt der Empfänger.")
        if item.sender is None:
            warnings.append(f"{item.partner.full_name}: für {item.employer.full_name} ist keine "
                            f"E-Mail-Adresse eingetragen und KIM_SMTP_FROM nicht gesetzt – im "
                            f"Entwurf fehlt der Absender.")
    if batch.record is not None:  # so that a run with new figures removes these drafts
        write_record(batch.folder, batch.record)
    return DraftReport(tuple(files), tuple(warnings))


# ---------------------------------------------------------------------------------------------
# The send log


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
        partner = self.item.partner
        if self.item.amount >= 0:
            amount = f"zahlt {format_eur(self.item.amount)}"
        else:
            amount = f"erhält {format_eur(-self.item.amount)}"
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


# ---------------------------------------------------------------------------------------------
# Entry point for the CLI


def load_batch(eingang: Path, ausgabe: Path, year: int, today: date,
               config: SmtpConfig) -> MailBatch:
    """The mails of the regions of ``eingang`` for ``year``, from the record in ``ausgabe``
    after checking that the input still gives the recorded figures."""

    inp, _ = load_input(eingang, today)
    settlement = settle(inp)
    if settlement.year != year:
        raise MailError(f"Die Eingabe in „{eingang}“ ist für das Abrechnungsjahr "
                        f"{settlement.year}, nicht für {year}. Bitte --jahr {settlement.year} "
                        f"angeben oder die Eingabe für {year} in den Ordner legen.")
    folder = ausgabe / str(year)
    if not (folder / RECORD_NAME).is_file():
        raise MailError(f"Für {year} gibt es noch keine Abrechnung in „{folder}“ – bitte zuerst "
                        f"`kim-excel abrechnen` ausführen.")
    record = read_record(folder, year)
    settlement = with_recorded_dates(inp, settlement, record)
    check_against_record(settlement, record)
    return prepare_mails(record, [r.region for r in settlement.regions], folder, config.sender)


def issue_sent(batch: MailBatch, outcomes: list[Outcome], today: date) -> list[str]:
    """``versenden --senden`` issues what it sent (not test mails): SPEC § 7."""

    sent = {o.planned.item.attachments[0].name for o in outcomes
            if o.ok and not o.planned.test}
    if batch.record is None or not sent:
        return []
    record = read_record(batch.folder, batch.record.year)  # as it is now, under the lock
    done = issue(record, sent, today)
    if done:
        write_record(batch.folder, record)
    return done
