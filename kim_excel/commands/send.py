"""``kim-excel versenden``: e-mail the bills the ledger holds, drafts first, then SMTP.

It never computes or writes a settlement: the figures it quotes, the numbers and the files it
attaches are the ledger's (``ledger/book.py``), which the settlement run wrote. Given an input
(``--eingang``), it refuses when the input's figures differ from the ledger's (the one answer
``Region.differences``); without one it needs none, so reminders and late corrections go out
whatever lies in ``input/``. What was posted (``festschreiben``) or e-mailed before is never
sent again, and the run says why it skips it; only ``--erneut`` sends a copy, and says so.
What goes out is issued (SPEC § 7), and every attempt is recorded in the ledger at once.

Glossary:

- Entwurf (``draft``): an ``.eml`` file per bill in ``<J>/E-Mails/`` with ``X-Unsent: 1``,
  which Outlook opens as an editable new message and Thunderbird as a message to edit.
- Versandprotokoll (``send log``, ``ledger/sendlog.py``): ``<J>/versand.csv``, written from the
  ledger for people; deleting it changes nothing.
- Testversand (``--an``): every message to one test address instead; never counts as sent.

SMTP settings and the transport: ``smtp.py``.
"""

from __future__ import annotations

import hashlib
import smtplib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from enum import Enum
from pathlib import Path

from kim_excel.commands.smtp import (
    ServerUnavailable,
    SmtpConfig,
    _drop,
    connect,
    send_error,
)
from kim_excel.commands.summaries import write_summaries
from kim_excel.core.errors import MailError
from kim_excel.core.files import os_reason, write_atomically
from kim_excel.core.german import day_text, format_eur, iban_groups
from kim_excel.core.model import Party, RegionResult, Share
from kim_excel.core.references import draft_file, payment_reference
from kim_excel.documents.reminder import NO_FEES
from kim_excel.input.validation import load_input
from kim_excel.ledger.book import (
    Bill,
    FileEntry,
    Kind,
    Ledger,
    Region,
    Reminder,
    Sending,
    SendResult,
    Version,
)
from kim_excel.ledger.life import context_of, settle_dated, zero_share
from kim_excel.ledger.transaction import Transaction, attachment_names

STALE = ("Die Eingabe wurde seit der Abrechnung geändert – bitte zuerst `kim-excel abrechnen` "
         "ausführen")
MIME_TYPES = {".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
              ".pdf": ("application", "pdf"), ".xml": ("application", "xml")}


# ---------------------------------------------------------------------------------------------
# The mails: one per bill of the ledger


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes = field(repr=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class MailItem:
    """One bill's mail, before it has a recipient for this run."""

    bill: Bill
    version: Version | None  # None for a reminder: it is no version of the figures
    region: Region
    partner: Party
    employer: Party
    sender: Address | None  # None: neither the employer's e-mail nor KIM_SMTP_FROM
    reply_to: Address | None
    subject: str
    body: str
    attachments: tuple[Attachment, ...]
    changed: str = ""  # why the files are not what kim-excel wrote (then it is not sent)

    @property
    def recipient(self) -> str:
        return self.partner.email

    @property
    def hashes(self) -> tuple[str, ...]:
        return tuple(a.sha256 for a in self.attachments)

    @property
    def attachment_names(self) -> str:
        return ", ".join(a.name for a in self.attachments)

    @property
    def stem(self) -> str:
        return Path(self.bill.file).stem


@dataclass(frozen=True)
class Mailing:
    """Every bill of the year folder as a mail."""

    change: Transaction
    items: tuple[MailItem, ...]

    @property
    def ledger(self) -> Ledger:
        return self.change.ledger

    @property
    def folder(self) -> Path:
        return self.change.folder


def prepare_mailing(change: Transaction, today: date, sender: str = "",
                    eingang: Path | None = None) -> Mailing:
    """The mails of the ledger's bills; ``eingang`` given: first check that the input still
    gives what the ledger holds."""
    ledger = change.ledger
    if ledger.is_empty:
        raise MailError(f"Für {ledger.year} gibt es noch keine Abrechnung in „{change.folder}“ – "
                        f"bitte zuerst `kim-excel abrechnen` ausführen.")
    if eingang is not None:
        check_input(eingang, ledger, today)
    items = [mail_item(change, region, version, bill, sender)
             for region, version, bill in ledger.bills()]
    items += [reminder_item(change, region, reminder, sender)
              for region, reminder in ledger.reminders()]
    return Mailing(change, tuple(items))


def check_input(eingang: Path, ledger: Ledger, today: date) -> None:
    """The input must give the figures the ledger holds (with its dates)."""
    inp, _ = load_input(eingang, today)
    if inp.settings.year != ledger.year:
        raise MailError(f"Die Eingabe in „{eingang}“ ist für das Abrechnungsjahr "
                        f"{inp.settings.year}, nicht für {ledger.year}. Bitte --jahr "
                        f"{inp.settings.year} angeben oder die Eingabe für {ledger.year} in den "
                        f"Ordner legen.")
    settlement = settle_dated(inp, ledger, today)
    context = context_of(settlement)
    differences = []
    for region in settlement.regions:
        entry = ledger.regions.get(region.region)
        if entry is None:
            differences.append(f"Region {region.region} ist noch nicht abgerechnet")
        else:
            differences += entry.differences(region, context)
    if differences:
        raise MailError(f"{STALE}.\n" + "\n".join(f"  – {d}" for d in differences))


def files_of(change: Transaction, bill: Bill) -> tuple[tuple[Attachment, ...], str]:
    """The attachments of a bill, and why they are not what kim-excel wrote (or "")."""
    folder = change.folder
    names = attachment_names(change.ledger, bill.file)
    missing = [n for n in names if not (folder / n).is_file()]
    edited = [n for n in names if n not in missing and change.changed_by_hand(n)]
    changed = ""
    if missing:
        changed = f"{', '.join(missing)} fehlt im Ordner"
    elif edited:
        changed = (f"{', '.join(edited)} wurde nach dem Schreiben von Hand geändert – "
                   f"kim-excel versendet nur, was es selbst geschrieben hat")
    return tuple(read_attachment(folder / n) for n in names if n not in missing), changed


def reminder_item(change: Transaction, region: Region, reminder: Reminder,
                  sender: str) -> MailItem:
    bill = reminder.bill
    attachments, changed = files_of(change, bill)
    partner = region.party(bill.partner)
    employer = region.latest.result.employer
    sender_address, reply_to = sender_of(employer, sender)
    text = reminder_body(change.ledger, region, reminder, partner, attachments)
    title = (f"Zahlungserinnerung {bill.number} – Kommunales Case-Management "
             f"{change.ledger.year} – {partner.full_name}")
    return MailItem(bill=bill, version=None, region=region, partner=partner, employer=employer,
                    sender=sender_address, reply_to=reply_to, subject=title, body=text,
                    attachments=attachments, changed=changed)


def mail_item(change: Transaction, region: Region, version: Version, bill: Bill,
              sender: str) -> MailItem:
    ledger = change.ledger
    attachments, changed = files_of(change, bill)
    partner = region.party(bill.partner)
    employer = version.result.employer
    sender_address, reply_to = sender_of(employer, sender)
    share = next((s for s in version.result.partner_shares if s.party.name == bill.partner),
                 None)
    if bill.kind is Kind.LETTER:
        text = body(ledger.year, version.result, share, bill, attachments)
        title = subject(ledger.year, partner)
    else:
        was = next(s for s in region.billed_before(version).result.partner_shares
                   if s.party.name == bill.partner)
        text = correction_body(ledger.year, version.result, share or zero_share(was), partner,
                               bill, attachments)
        title = f"Korrektur {bill.number} – " + subject(ledger.year, partner)
    return MailItem(bill=bill, version=version, region=region, partner=partner,
                    employer=employer, sender=sender_address, reply_to=reply_to, subject=title,
                    body=text, attachments=attachments, changed=changed)


def read_attachment(path: Path) -> Attachment:
    try:
        return Attachment(path.name, path.read_bytes())
    except OSError as exc:
        raise MailError(f"„{path}“ kann nicht gelesen werden ({os_reason(exc)}).") from None


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


# ---------------------------------------------------------------------------------------------
# What the mail says


def subject(year: int, partner: Party) -> str:
    return f"Abrechnung Kommunales Case-Management {year} – {partner.full_name}"


def payment_lines(year: int, region: RegionResult, partner: Party, bill: Bill,
                  reference: str = "") -> list[str]:
    """What to pay or what is refunded, with the one Verwendungszweck (references.py); the
    account that receives the money, as the letter and the e-invoice name it."""
    employer, amount = region.employer, bill.amount
    reference = reference or payment_reference(year, bill.number, partner.kassenzeichen)
    if amount > 0:
        return [
            f"Bitte überweisen Sie {format_eur(amount)} bis zum {day_text(bill.due)}",
            "auf folgendes Konto:",
            "",
            f"  Empfänger:       {employer.full_name}",
            f"  IBAN:            {iban_groups(employer.iban)}",
            f"  BIC:             {employer.bic}",
            f"  Kreditinstitut:  {employer.bank}",
            f"  Verwendungszweck: {reference}",
        ]
    if amount < 0:
        account = f" auf Ihr Konto {iban_groups(partner.iban)}" if partner.iban else \
            " auf Ihr uns bekanntes Konto"
        return [
            f"Sie erhalten {format_eur(-amount)} zurück. Wir überweisen den Betrag",
            f"bis zum {day_text(bill.due)}{account}",
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


def body(year: int, region: RegionResult, share: Share, bill: Bill,
         attachments: Iterable[Attachment]) -> str:
    partner = share.party
    lines = [
        "Sehr geehrte Damen und Herren,",
        "",
        f"anbei erhalten Sie die Abrechnung des Eigenanteils {year} am Kommunalen",
        f"Case-Management der Region {region.region} (§ 2 der Kooperationsvereinbarung)",
        f"für die {partner.full_name} (Rechnungsnummer {bill.number}).",
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
    lines += payment_lines(year, region, partner, bill)
    lines += closing(region, attachments)
    return "\n".join(lines) + "\n"


def correction_body(year: int, region: RegionResult, share: Share, partner: Party, bill: Bill,
                    attachments: Iterable[Attachment]) -> str:
    corrects = f"{bill.corrects} vom {day_text(bill.corrects_day)}"
    lines = [
        "Sehr geehrte Damen und Herren,",
        "",
        f"die Kosten der Region {region.region} für {year} haben sich nach unserer",
        f"Abrechnung {corrects} geändert. Anbei erhalten Sie die Korrektur",
        f"{bill.number} für die {partner.full_name}.",
        "",
        f"Ihr Anteil, berichtigt:  {format_eur(share.net)}",
        f"Differenz zur bisherigen Abrechnung:  {format_eur(bill.amount)}",
        "",
    ]
    lines += payment_lines(year, region, partner, bill)
    lines += closing(region, attachments)
    return "\n".join(lines) + "\n"


def reminder_body(ledger: Ledger, region: Region, reminder: Reminder, partner: Party,
                  attachments: Iterable[Attachment]) -> str:
    """The reminder's text: every open bill, the total, the new date to pay (SPEC § 9)."""
    bill = reminder.bill
    result = region.latest.result
    oldest = reminder.covers[0]
    lines = [
        "Sehr geehrte Damen und Herren,",
        "",
        f"nach unseren Unterlagen ist aus der Abrechnung des Eigenanteils {ledger.year} am",
        f"Kommunalen Case-Management der Region {region.name} noch {format_eur(bill.amount)}",
        f"offen (Zahlungseingänge berücksichtigt bis {day_text(reminder.until)}):",
        "",
        *(f"  {number}" for number in reminder.covers),
        "",
    ]
    lines += payment_lines(ledger.year, result, partner, bill,
                           payment_reference(ledger.year, oldest, partner.kassenzeichen))
    lines += ["", NO_FEES]
    lines += closing(result, attachments)
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
# What this run does per bill


class Action(Enum):
    SEND = "senden"
    DELIVERED = "bereits versandt"
    CHANGED = "geändert"
    NO_ADDRESS = "ohne Adresse"
    NO_SENDER = "ohne Absender"


@dataclass(frozen=True)
class Planned:
    item: MailItem
    recipient: str
    action: Action
    test: bool = False
    again: bool = False  # --erneut: a copy of what went out before

    @property
    def reason(self) -> str:
        """Why a bill is skipped (empty when it is sent)."""
        item = self.item
        if self.action is Action.DELIVERED:
            return (f"{item.bill.number} ging bereits {item.bill.delivery_text()} hinaus "
                    f"(eine Kopie sendet nur --erneut)")
        if self.action is Action.CHANGED:
            return item.changed
        if self.action is Action.NO_SENDER:
            return (f"kein Absender – für {item.employer.full_name} fehlt die E-Mail-"
                    f"Adresse in Vertragsparteien und KIM_SMTP_FROM ist nicht gesetzt")
        if self.action is Action.NO_ADDRESS:
            return "keine E-Mail-Adresse in Vertragsparteien (Spalte E-Mail)"
        return ""

    def line(self) -> str:
        partner, bill = self.item.partner, self.item.bill
        amount = f"zahlt {format_eur(bill.amount)}" if bill.amount >= 0 else \
            f"erhält {format_eur(-bill.amount)}"
        what = (f"{partner.full_name}: {bill.number}, {amount}, Anhang "
                f"{self.item.attachment_names}, von "
                f"{self.item.sender.addr_spec if self.item.sender else '?'}")
        if self.action is Action.SEND:
            target = f"TEST an {self.recipient} (statt {partner.email or 'ohne Adresse'})" \
                if self.test else f"an {self.recipient}"
            copy = " – ERNEUT, eine Kopie" if self.again else ""
            return f"  senden        {target}{copy} – {what}"
        return f"  übersprungen  {partner.full_name}: {self.reason}"


def plan_sending(mailing: Mailing, test_address: str = "", again: bool = False,
                 ) -> list[Planned]:
    """What this run will do per bill; nothing is sent yet. A bill that was posted or
    e-mailed before is skipped unless ``again`` (``--erneut``); a test run (``--an``) sends
    everything due to the test address."""
    plan = []
    for item in mailing.items:
        delivered = item.bill.delivered
        if delivered and not again:
            plan.append(Planned(item, item.recipient, Action.DELIVERED))
        elif item.changed:
            plan.append(Planned(item, item.recipient, Action.CHANGED))
        elif item.sender is None:
            plan.append(Planned(item, "", Action.NO_SENDER))
        elif test_address:
            plan.append(Planned(item, test_address, Action.SEND, test=True, again=delivered))
        elif not item.recipient:
            plan.append(Planned(item, "", Action.NO_ADDRESS))
        else:
            plan.append(Planned(item, item.recipient, Action.SEND, again=delivered))
    return plan


# ---------------------------------------------------------------------------------------------
# Drafts


@dataclass(frozen=True)
class DraftReport:
    files: tuple[Path, ...]
    items: tuple[MailItem, ...]
    warnings: tuple[str, ...]
    skipped: tuple[str, ...]  # lines: why a bill got no draft


def write_drafts(mailing: Mailing) -> DraftReport:
    """One ``.eml`` per bill that is due (not posted, not sent, not changed by hand); the
    same ledger gives byte-identical drafts. Date is the bill's date, Message-ID and MIME
    boundary derive from the content."""
    change = mailing.change
    files, items, warnings, skipped = [], [], [], []
    due = []
    for planned in plan_sending(mailing):
        if planned.action in (Action.DELIVERED, Action.CHANGED):
            skipped.append(planned.line())
        else:
            due.append(planned.item)
    with change.writing() as staging:
        for item in due:
            name = draft_file(item.bill.file)
            data = draft_bytes(item)
            (staging / name).parent.mkdir(exist_ok=True)
            write_atomically(staging / name, data)
            change.ledger.drafts[name] = FileEntry(
                hashlib.sha256(data).hexdigest(), item.region.name, item.bill.number,
                item.hashes)
            change.wrote(name)
            files.append(change.folder / name)
            items.append(item)
            warnings += draft_warnings(item)
        change.wrote(*write_summaries(change, staging))
    return DraftReport(tuple(files), tuple(items), tuple(warnings), tuple(skipped))


def draft_bytes(item: MailItem) -> bytes:
    digest = hashlib.sha256("\0".join([item.subject, item.body, item.recipient,
                                       str(item.sender), *item.hashes]).encode()).hexdigest()
    message_id = f"<{digest[:32]}@{mail_domain(item)}>"
    when = datetime.combine(item.bill.day, time(9, 0)).astimezone()
    msg = build_message(item, item.recipient, when, message_id, draft=True)
    msg.set_boundary(f"=_kim_{digest[:24]}")  # '=_' never occurs in base64 or QP text
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def draft_warnings(item: MailItem) -> list[str]:
    warnings = []
    if not item.recipient:
        warnings.append(f"{item.partner.full_name}: keine E-Mail-Adresse in Vertragsparteien "
                        f"– im Entwurf fehlt der Empfänger.")
    if item.sender is None:
        warnings.append(f"{item.partner.full_name}: für {item.employer.full_name} ist keine "
                        f"E-Mail-Adresse eingetragen und KIM_SMTP_FROM nicht gesetzt – im "
                        f"Entwurf fehlt der Absender.")
    return warnings


# ---------------------------------------------------------------------------------------------
# Sending


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
            return f"{name}: {self.planned.item.bill.number} {kind} an {self.planned.recipient}"
        return f"{name}: {self.planned.item.bill.number} NICHT gesendet – {self.detail}"


def send_planned(mailing: Mailing, plan: list[Planned], config: SmtpConfig,
                 on_outcome: Callable[[Outcome], None] = lambda o: None,
                 now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
                 ) -> list[Outcome]:
    """Send what the plan says, one message per bill, and record every attempt in the ledger
    at once (the send log is written from it).

    A failure for one partner (recipient rejected, message refused) does not stop the
    others; a server that cannot be reached or refuses the login fails the rest with that
    reason, without trying again for each of them.
    """
    outcomes: list[Outcome] = []
    connection: smtplib.SMTP | None = None
    unavailable = ""

    def record(planned: Planned, outcome: Outcome, result: SendResult) -> None:
        item = planned.item
        outcomes.append(outcome)
        on_outcome(outcome)
        bill = next(b for _, b in mailing.ledger.documents()
                    if b.number == item.bill.number)  # the ledger's own, not a copy
        bill.sendings.append(Sending(
            now().isoformat(timespec="seconds"), planned.recipient, result,
            tuple(a.name for a in item.attachments), item.hashes, outcome.message_id,
            outcome.detail))
        try:
            mailing.change.save_now()
        except OSError as exc:  # stop: every further send would go unrecorded
            raise MailError(f"Die Verwaltungsdatei in „{mailing.folder}“ konnte nicht "
                            f"geschrieben werden ({os_reason(exc)}). Zuletzt: "
                            f"{outcome.line()}. Der Versand wurde angehalten.") from None

    try:
        for planned in plan:
            if planned.action in (Action.DELIVERED, Action.CHANGED):
                continue
            if planned.action in (Action.NO_ADDRESS, Action.NO_SENDER):
                record(planned, Outcome(planned, False, detail=planned.reason),
                       SendResult.NO_ADDRESS if planned.action is Action.NO_ADDRESS
                       else SendResult.FAILED)
                continue
            item = planned.item
            message_id = f"<{uuid.uuid4().hex}@{mail_domain(item)}>"  # short: no folding
            if unavailable:
                record(planned, Outcome(planned, False, message_id, unavailable),
                       SendResult.FAILED)
                continue
            msg = build_message(item, planned.recipient, now(), message_id)
            try:
                if connection is None:
                    connection = connect(config)
                connection.send_message(msg, from_addr=item.sender.addr_spec,
                                        to_addrs=[planned.recipient])
            except ServerUnavailable as exc:
                unavailable = str(exc)
                record(planned, Outcome(planned, False, message_id, unavailable),
                       SendResult.FAILED)
                continue
            except (smtplib.SMTPException, OSError) as exc:
                if not isinstance(exc, smtplib.SMTPResponseException | smtplib
                                  .SMTPRecipientsRefused):
                    connection = _drop(connection)  # broken link: reconnect for the next one
                record(planned, Outcome(planned, False, message_id,
                                        send_error(exc, planned.recipient, item, config)),
                       SendResult.FAILED)
                continue
            note = f"Probe statt an {item.recipient or '(keine Adresse)'}" if planned.test \
                else ("Kopie (--erneut)" if planned.again else "")
            record(planned, Outcome(planned, True, message_id, note),
                   SendResult.TEST if planned.test else SendResult.SENT)
    finally:
        _drop(connection, polite=True)
    return outcomes


def finish_sending(mailing: Mailing, outcomes: list[Outcome], today: date) -> list[str]:
    """``versenden --senden`` issues what it sent (not test mails, SPEC § 7), and writes the
    overview and LIESMICH anew: they show what went out. Returns what it issued."""
    change = mailing.change
    done = []
    for outcome in outcomes:
        if outcome.ok and not outcome.planned.test and outcome.planned.item.version:
            region = change.ledger.regions[outcome.planned.item.region.name]
            version = next(v for v in region.versions
                           if outcome.planned.item.bill.number in
                           {b.number for b in v.bills.values()})
            done += [f"Festgeschrieben: {line}"
                     for line in change.ledger.issue_version(region, version, today)]
    with change.writing() as staging:
        change.wrote(*write_summaries(change, staging))
    return done

