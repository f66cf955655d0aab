"""The ``Abrechnung`` sheet: the one-page A4 letter from the Anstellungskörperschaft to a partner.

Its table refers to the trail (``Berechnung``) of the same workbook: every amount is a formula
into the trail, written with the value of the Settlement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from kim_excel.core.german import day_text, format_eur, german_number, iban_groups, percent_text
from kim_excel.core.model import (
    KOSTENART_PERSONAL,
    KOSTENARTEN,
    KeyBasis,
    Party,
    RegionResult,
    Settlement,
    Share,
)
from kim_excel.core.references import payment_reference
from kim_excel.documents.girocode import epc_png, needs_girocode
from kim_excel.documents.xlsx.sheet import LETTER_FOOTER, Sheet, a1, lines_needed, setup_page, span
from kim_excel.documents.xlsx.trail import Basis, RegionCells
from kim_excel.ledger.book import Bill

LETTER = "Abrechnung"
SUBJECT = "Kommunales Case-Management – Abrechnung des Eigenanteils {year}"
# label | explanation (B:C merged) | amount
LETTER_WIDTHS = (40, 16, 14, 17)
ADDRESS_ROW = 6  # the return line; the recipient's address below it
FROM_IBAN = "aus der IBAN ermittelt"
LETTER_ROW_HEIGHT = 13.5  # points: a little air between the lines of the letter
# 2.75 cm at 96 px per inch (banking apps expect about 3 cm on paper): exactly the six rows
# of the request and the bank details beside it, so the letter grows by no line
GIROCODE_PX = 104
ROW_PX = round(LETTER_ROW_HEIGHT * 96 / 72)  # a letter row: 13.5 pt = 18 px


def address_lines(party: Party) -> list[str]:
    city = f"{party.postcode} {party.city}".strip()
    return [line for line in (party.full_name, party.street, city) if line]



def key_label(region: RegionResult) -> str:
    return {KeyBasis.STUNDENANTEIL: "Ihr Anteil nach dem Stundenanteil",
            KeyBasis.HOURS: "Ihr Anteil nach den tatsächlichen Stunden",
            KeyBasis.EQUAL: "Ihr Anteil zu gleichen Teilen"}[region.key_basis]


def key_text(region: RegionResult, share: Share) -> str:
    """``0,625 von 2,5 VZÄ = 25,00 %``, ``1.250 von 5.000 Stunden = 25,00 %``, ``1 von 4 …``."""
    share_text = f"{german_number(share.key)} von {german_number(region.key_total)}"
    pct = percent_text(share.fraction)
    if region.key_basis is KeyBasis.STUNDENANTEIL:
        return f"{share_text} VZÄ = {pct}"
    if region.key_basis is KeyBasis.HOURS:
        return f"{share_text} Stunden = {pct}"
    return f"{share_text} Vertragsparteien = {pct}"


def personnel_text(region: RegionResult) -> str:
    count = len(region.positions)
    if not count:
        return "keine Stellen"
    noun = "Stelle" if count == 1 else "Stellen"
    return f"{count} {noun}, zusammen {german_number(region.vzae)} VZÄ"


NUMBER_WORDS = ("", "eine", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun",
                "zehn", "elf", "zwölf")


def months_text(months: list[Decimal]) -> str:
    """How long the positions were filled, in plain words: ``7,5 von 12 Monaten``, or with
    positions filled for different times ``eine Stelle 7,5 von 12 Monaten, zwei Stellen
    ganzjährig``."""
    if len(set(months)) == 1:
        return f"{german_number(months[0])} von 12 Monaten"
    counts: dict[Decimal, int] = {}
    for m in sorted(months):
        counts[m] = counts.get(m, 0) + 1
    parts = []
    for m, n in counts.items():
        count = NUMBER_WORDS[n] if n < len(NUMBER_WORDS) else str(n)
        noun = "Stelle" if n == 1 else "Stellen"
        period = "ganzjährig" if m == 12 else f"{german_number(m)} von 12 Monaten"
        parts.append(f"{count} {noun} {period}")
    return ", ".join(parts)


def subsidy_text(settlement: Settlement, region: RegionResult) -> str:
    if settlement.settings.subsidy_lapsed:
        return "entfallen (§ 2)"
    if region.subsidy_received is not None:
        return f"laut Förderbescheid (rechnerisch {format_eur(region.subsidy_computed)})"
    months = [p.position.months for p in region.positions]
    if not months:
        return ""
    rate = format_eur(settlement.subsidy_rate)
    capped = any(p.subsidy < p.subsidy_uncapped for p in region.positions)
    if all(m == 12 for m in months):
        text = f"{german_number(region.vzae)} VZÄ × {rate} je Jahr"
    else:
        text = f"{rate} je VZÄ und Jahr, anteilig: {months_text(months)}"
    return text + ("; höchstens die Personalkosten je Stelle" if capped else "")


def body_text(settlement: Settlement, region: RegionResult, share: Share) -> str:
    covered = "" if settlement.settings.subsidy_lapsed else \
        ", soweit die Landesförderung sie nicht deckt (Eigenanteil),"
    text = (f"nach § 2 der Kooperationsvereinbarung über das Kommunale Case-Management rechnen "
            f"wir als Anstellungskörperschaft der Region {region.region} die Kosten des Jahres "
            f"{settlement.year}{covered} mit Ihnen wie folgt ab.")
    if region.wind_down:
        end = settlement.settings.contract_end
        text += (f" Die Kooperationsvereinbarung ist im gegenseitigen Einvernehmen"
                 f"{f' zum {day_text(end)}' if end else ''} beendet worden; nach § 4 Abs. 3 "
                 f"werden die Personal- und Sachkosten bis zum Ende der Arbeitsverhältnisse, "
                 f"längstens 12 Monate, zu gleichen Teilen auf die bisherigen Vertragsparteien "
                 f"aufgeteilt.")
    elif settlement.settings.subsidy_lapsed:
        text += (" Da die Landesförderung entfallen ist, tragen die Vertragsparteien der Region "
                 "sämtliche Kosten zu gleichen Teilen (§ 2).")
    elif region.key_basis is KeyBasis.HOURS:
        text += (" Aufgeteilt wird nach den tatsächlichen Stunden, in denen das "
                 "Case-Management in den Kommunen tätig war (§ 2).")
    if share.inherited and region.exited:
        names = " und ".join(p.full_name for p in region.exited)
        if len(region.exited) == 1:
            text += (f" Der Stundenanteil der ausgeschiedenen Vertragspartei {names} ist zu "
                     f"gleichen Teilen auf die verbleibenden übergegangen (§ 4 Abs. 2).")
        else:
            text += (f" Die Stundenanteile der ausgeschiedenen Vertragsparteien {names} sind zu "
                     f"gleichen Teilen auf die verbleibenden übergegangen (§ 4 Abs. 2).")
    return text


class Letter:
    """Writes the letter top to bottom; ``row`` is the next free row."""

    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet
        self.row = 0
        self.width = sum(LETTER_WIDTHS)

    def paragraph(self, text: str, style: str = "wrap", size: float = 10) -> None:
        self.sheet.merged(self.row, 0, 3, text, style)
        self.sheet.fit_row(self.row, lines_needed(text, self.width, size), size)
        self.row += 1

    def skip(self, rows: int = 1) -> None:
        self.row += rows

    def amount(self, label: str, detail: str, formula: str | None, value: Decimal | None,
               kind: str = "plain") -> int:
        """One line of the table; ``formula`` None writes ``value`` as a plain number."""
        s = self.sheet
        label_style, detail_style, eur_style = {
            "plain": ("cell_wrap", "cell_wrap", "eur"),
            "bold": ("bold_wrap", "cell_wrap", "eur_bold"),
            "total": ("label_total", "label_total", "eur_total"),
            "result": ("label_result", "label_result", "eur_result"),
        }[kind]
        row = self.row
        s.text(row, 0, label, label_style)
        s.merged(row, 1, 2, detail, detail_style)
        if formula is not None:
            s.formula(row, 3, formula, value, eur_style)
        elif value is not None:
            s.number(row, 3, value, eur_style)
        else:
            s.blank(row, 3, eur_style)
        bold = kind != "plain"
        s.fit_row(row, max(lines_needed(label, LETTER_WIDTHS[0], bold=bold),
                           lines_needed(detail, LETTER_WIDTHS[1] + LETTER_WIDTHS[2])))
        self.row += 1
        return row


def write_info_block(sheet: Sheet, info: list[tuple[str, str | date]]) -> int:
    """The information block beside the address (label | value), empty values left out;
    returns the first free row. Letters and corrections share it."""
    row = 0
    for label, value in info:
        if not value:
            continue
        sheet.text(row, 1, label, "info_label")
        if isinstance(value, date):
            sheet.ws.merge_range(row, 2, row, 3, "", sheet.styles["info_date"])
            sheet.date(row, 2, value, "info_date")
        else:
            sheet.merged(row, 2, 3, value, "info_value")
            sheet.fit_row(row, lines_needed(value, LETTER_WIDTHS[2] + LETTER_WIDTHS[3], 9), 9)
        row += 1
    return row


def setup_letter(ws, last_row: int) -> None:
    # One page, always: a longer text shrinks instead of spilling over.
    setup_page(ws, fit=(1, 1), margins=(0.9, 0.55, 0.6, 0.75), footer=LETTER_FOOTER,
               widths=LETTER_WIDTHS)
    ws.print_area(0, 0, last_row, len(LETTER_WIDTHS) - 1)


def write_head(sheet: Sheet, region: RegionResult, partner: Party,
               info: list[tuple[str, str | date]], subject: str) -> Letter:
    """Sender, information block, return line and recipient where the window of a DIN-lang
    envelope is (45 mm from the top edge: 15 mm margin, the sender's 18 pt row and five rows
    of 13.5 pt), the subject and the salutation. Letters, corrections and reminders share it."""
    employer = region.employer
    letter = Letter(sheet)
    sheet.text(0, 0, employer.full_name, "sender")
    sheet.fit_row(0, 1, 14)
    sheet.text(1, 0, f"Kommunales Case-Management – Region {region.region}", "sender_line")
    sheet.text(ADDRESS_ROW, 0, " · ".join(address_lines(employer)), "return_line")
    for offset, line in enumerate(address_lines(partner)):
        sheet.text(ADDRESS_ROW + 1 + offset, 0, line)
    row = write_info_block(sheet, [("Ansprechpartner", employer.contact),
                                   ("Telefon", employer.phone), ("E-Mail", employer.email),
                                   ("Aktenzeichen", region.terms.aktenzeichen), *info])
    letter.row = max(row, ADDRESS_ROW + 1 + len(address_lines(partner))) + 2
    sheet.text(letter.row, 0, subject, "subject")
    sheet.fit_row(letter.row, 1, 11)
    letter.skip(2)
    sheet.text(letter.row, 0, "Sehr geehrte Damen und Herren,")
    letter.skip(2)
    return letter


def write_closing(letter: Letter, region: RegionResult, notes: list[str]) -> None:
    """The small print (VAT note, where the trail is), greeting and signature line."""
    sheet = letter.sheet
    for note in notes:
        letter.paragraph(note, "small", 9)
        letter.skip()
    sheet.text(letter.row, 0, "Mit freundlichen Grüßen")
    letter.skip()
    sheet.text(letter.row, 0, "Im Auftrag")
    letter.skip(2)  # room to sign; two rows keep the longest letter on one page at 100 %
    employer = region.employer
    sheet.text(letter.row, 0, employer.contact or employer.full_name, "signature_line")
    setup_letter(sheet.ws, letter.row)


def write_letter(sheet: Sheet, settlement: Settlement, region: RegionResult, share: Share,
                 cells: RegionCells, basis: Basis, bill: Bill) -> None:
    s = region.terms
    partner = share.party
    subject = SUBJECT.format(year=settlement.year)
    if region.wind_down:
        subject += " (Abwicklung)"
    letter = write_head(sheet, region, partner, [
        ("Rechnungsnummer", bill.number), ("Kassenzeichen", partner.kassenzeichen),
        ("Datum", bill.day)], subject)
    letter.paragraph(body_text(settlement, region, share))
    letter.skip()

    # The table: region's costs → Eigenanteil → this partner's share → balance.
    head = letter.row
    sheet.text(head, 0, f"Region {region.region}, Jahr {settlement.year}", "th")
    sheet.merged(head, 1, 2, "Erläuterung", "th")
    sheet.text(head, 3, "Betrag", "th_right")
    letter.skip()
    by_kind = region.material_by_kind()
    first = letter.amount(KOSTENART_PERSONAL, personnel_text(region),
                          f"={cells.kinds[KOSTENART_PERSONAL]}", region.personnel_costs)
    for kind in KOSTENARTEN:
        letter.amount(kind, "", f"={cells.kinds[kind]}", by_kind[kind])
    total = letter.amount("Kosten der Region insgesamt", "",
                          f"=SUM({span(first, letter.row - 1, 3)})", region.costs, "total")
    subsidy = letter.amount("abzüglich Landesförderung", subsidy_text(settlement, region),
                            f"=-{cells.subsidy}", -region.subsidy)
    letter.amount("Eigenanteil der Region", "", f"={a1(total, 3)}+{a1(subsidy, 3)}",
                  region.eigenanteil, "total")
    letter.skip()
    letter.amount(key_label(region), key_text(region, share), None, None)
    own = cells.parties[partner.name]
    net = letter.amount(f"Anteil der {partner.full_name}", "auf den Cent gerundet",
                        f"={own.net}", share.net, "bold")
    billed = net
    if s.vat_rate > 0 and cells.vat_rate is not None:
        vat = letter.amount(f"zuzüglich Umsatzsteuer {german_number(s.vat_rate * 100)} %", "",
                            f"=ROUND({a1(net, 3)}*{cells.vat_rate},2)", share.vat)
        billed = letter.amount("Bruttobetrag", "", f"={a1(net, 3)}+{a1(vat, 3)}", share.gross,
                               "total")
    advances = letter.amount("abzüglich geleistete Abschläge",
                             "bereits gezahlt" if share.advances else "keine",
                             None, -share.advances)
    balance = f"{a1(billed, 3)}+{a1(advances, 3)}"
    if share.balance < 0:
        letter.amount("Erstattungsbetrag (zu viel gezahlt)", "wird Ihnen erstattet",
                      f"=-({balance})", -share.balance, "result")
    else:
        letter.amount("Zu zahlender Betrag", "", f"={balance}", share.balance, "result")
    letter.skip()
    reason = "Ihre Abschläge übersteigen Ihren Anteil. " if share.balance < 0 else ""
    write_payment(letter, region.employer, partner, Payment(
        bill.amount, bill.due, payment_reference(settlement.year, bill.number,
                                                 partner.kassenzeichen), reason,
        "Ihr Anteil ist durch die geleisteten Abschläge vollständig beglichen; es ist nichts "
        "zu zahlen."))
    write_closing(letter, region, [n for n in (s.vat_note, TRAIL_NOTE) if n])


TRAIL_NOTE = ("Jede Stelle, alle Sachkosten und die Aufteilung auf alle Vertragsparteien der "
              "Region: Blatt „Berechnung“ dieser Arbeitsmappe.")


@dataclass(frozen=True)
class Payment:
    """What a letter asks for or promises; the one payment block of letters and corrections."""

    amount: Decimal  # > 0 the partner pays the employer, < 0 it is refunded, 0 nothing
    due: date | None
    reference: str  # the Verwendungszweck (core/references.payment_reference)
    refund_reason: str = ""  # why there is a refund, a sentence before the promise
    nothing_text: str = "Es ist nichts zu zahlen."


def write_payment(letter: Letter, employer: Party, partner: Party, payment: Payment) -> None:
    """To pay: the employer's account with a GiroCode beside it. A refund: the partner's
    account it goes to, where known. The account that receives the money is named, as in the
    e-invoice (SPEC § 8)."""
    sheet = letter.sheet
    code = girocode(employer, payment.amount, payment.reference)
    narrow = bool(code)  # beside the GiroCode the details leave column D to it

    def pair(label: str, value: str | date, style: str = "text") -> None:
        last = 2 if narrow else 3
        # B:C is narrow: LibreOffice also breaks at the hyphens of a Rechnungsnummer, so
        # lines_needed gets a margin there
        width = sum(LETTER_WIDTHS[1:last + 1]) - (4 if narrow else 0)
        sheet.text(letter.row, 0, label, "bold" if style != "text" else "text")
        if isinstance(value, date):
            sheet.date(letter.row, 1, value, "date_bold")
        else:
            sheet.merged(letter.row, 1, last, value,
                         "bold_wrap" if style != "text" else "wrap")
            sheet.fit_row(letter.row, lines_needed(value, width))
        letter.skip()

    if payment.amount > 0:
        top = letter.row
        letter.paragraph("Bitte überweisen Sie den Betrag bis zum Fälligkeitstag auf folgendes "
                         "Konto:")
        if code:  # from the request's row (its text ends before column D) down
            insert_girocode(sheet, top, code)
        if payment.due:
            pair("Fällig am", payment.due, "bold")
        pair("Empfänger", employer.full_name)
        if employer.iban:
            pair("IBAN", iban_groups(employer.iban))
        derived = f" ({FROM_IBAN})" if employer.bank_from_iban else ""
        if employer.bic:
            pair("BIC", employer.bic + derived)
        if employer.bank:
            pair("Kreditinstitut", employer.bank + derived)
        # below the code the Verwendungszweck has the full width again (one line less)
        narrow = narrow and (letter.row - top) * ROW_PX < GIROCODE_PX + 4
        pair("Verwendungszweck", payment.reference)
    elif payment.amount < 0:
        account = ("auf Ihr Konto" if partner.iban else "auf Ihr uns bekanntes Konto")
        letter.paragraph(f"{payment.refund_reason}Den Erstattungsbetrag überweisen wir Ihnen "
                         f"bis zum genannten Tag {account}.")
        if payment.due:
            pair("Erstattung bis zum", payment.due, "bold")
        if partner.iban:
            pair("Ihr Konto (IBAN)", iban_groups(partner.iban))
        pair("Verwendungszweck", payment.reference)
    else:
        letter.paragraph(payment.nothing_text)
    letter.skip()


def girocode(employer: Party, balance: Decimal, reference: str) -> bytes | None:
    """The GiroCode PNG of a letter with an amount to pay (SPEC § 5); none for a refund."""

    if not (needs_girocode(balance) and employer.iban):
        return None
    return epc_png(employer.full_name, employer.iban, employer.bic or None, balance, reference)


def insert_girocode(sheet: Sheet, row: int, png: bytes) -> None:
    """The code in column D beside the bank details, about 3 cm wide, centred in the column."""
    import io
    import struct

    width = struct.unpack(">I", png[16:20])[0]  # PNG IHDR: width in pixels
    scale = GIROCODE_PX / width
    column_px = LETTER_WIDTHS[3] * 7 + 5  # Excel's pixels for a column of n characters
    sheet.ws.insert_image(row, 3, "GiroCode.png", {
        "image_data": io.BytesIO(png), "x_scale": scale, "y_scale": scale,
        "x_offset": max(0, (column_px - GIROCODE_PX) // 2), "y_offset": 2,
        "description": "GiroCode (EPC-QR-Code) für die Überweisung",
        "object_position": 3})
