"""Bank statements built from a settled year folder, for the payments tests (SPEC § 9).

The facts come from the folder's ledger (``kim_excel.ledger.store.load_ledger``), never from
the test's own arithmetic: each issued bill's Rechnungsnummer, amount, due date and
Verwendungszweck, the partner's Kassenzeichen and IBAN, and the employer's IBAN, which is the
account its statements are for. So a test reads like the domain:

    billed = Billed.of(folder)
    billerbeck = billed.bill("2024-Billerbeck")
    statement(tmp_path / "auszug.xml", billerbeck.account,
              [billerbeck.paid_by_kassenzeichen(on=MARCH_20)])

:func:`statement` writes one statement in any format a German bank delivers (camt.053, .052,
.054 in versions .001.08 and .001.02, the bank's ZIP, MT940); every camt document is validated
against the ISO 20022 schemas in ``../shared/camt`` before it is written.

:func:`settled_folder` builds the year folders the tests start from (the shipped example with
the partners' IBANs; issued; with a correction round that raises or lowers Nord's shares).

Glossary: Kassenzeichen (the partner's own reference for what it owes; all its bills share it),
Verwendungszweck (the payment's remittance text), Kontoauszug (bank statement).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from lxml import etree

from kim_excel.commands.issue import issue_folder
from kim_excel.commands.payments import run_payments
from kim_excel.commands.settle import run_settlement
from kim_excel.core.references import payment_reference
from kim_excel.ledger.store import RECORD_NAME, load_ledger
from tests.builders import D, example_2024, write
from tests.external_tools import zbarimg
from tests.statements import Account, Options, Payment, camt, mt940, write_zip
from tests.statements import write as write_file
from tests.test_life import kim

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = Path(os.environ.get("KIM_CAMT_SCHEMAS") or REPO.parent / "shared/camt")
YEAR = 2024

# The days of the example: letters dated 02.03.2025, due 01.04.2025 (30 days, R10).
SETTLED_ON = date(2025, 3, 3)
ISSUED_ON = date(2025, 3, 4)
CORRECTED_ON = date(2025, 4, 10)  # the corrections are due 12.05.2025
MARCH_20 = date(2025, 3, 20)  # before the due date
APRIL_20 = date(2025, 4, 20)  # after the due date and the 14 days' karenz

# The partners' own accounts (Vertragsparteien!IBAN): rule 5 proposes by them.
PARTNER_IBANS = {
    "Billerbeck": "DE60401545300009100000", "Havixbeck": "DE33401545300009100001",
    "Rosendahl": "DE06401545300009100002", "Nottuln": "DE76401545300009100003",
    "Lüdinghausen": "DE49401545300009100004", "Nordkirchen": "DE22401545300009100005",
    "Olfen": "DE92401545300009100006", "Senden": "DE65401545300009100007",
}
OTHER_ACCOUNT = Account(iban="DE02120300000000202051", owner="Stadt Coesfeld, Konto Kita")
NORD = ("Billerbeck", "Havixbeck", "Rosendahl")
# An entry that concerns no partner, on the day payments are known up to.
RENT = Payment(D("-1200.00"), APRIL_20, "Hausverwaltung Lamberti", "DE12500105170648489890",
               "Miete April Büro Case-Management")

# The formats of one statement (SPEC § 9: "as German banks deliver them").
CAMT_FORMATS = tuple(f"camt.{kind}.001.{version}" for kind in ("053", "052", "054")
                     for version in ("08", "02"))
FORMATS = (*CAMT_FORMATS, "ZIP", "MT940")


# ------------------------------------------------------------------ what the folder billed


@dataclass(frozen=True)
class BillFacts:
    """One issued bill as the ledger holds it, and the payments a partner makes for it."""

    number: str  # Rechnungsnummer
    partner: str  # Billerbeck
    full_name: str  # Stadt Billerbeck
    region: str
    kind: str  # letter, correction
    amount: Decimal  # + the partner pays, − the employer refunds
    day: date
    due: date
    kassenzeichen: str
    partner_iban: str
    verwendungszweck: str  # as on the letter and in its GiroCode
    account: Account  # the employer's: where the money goes

    def payment(self, on: date, amount: Decimal | None = None, text: str | None = None,
                **details) -> Payment:
        """The partner pays (``amount``, default the bill's) with ``text`` (default the
        letter's Verwendungszweck); ``details`` as :class:`tests.statements.Payment`."""
        details.setdefault("iban", self.partner_iban)
        return Payment(self.amount if amount is None else amount, on, self.full_name,
                       text=self.verwendungszweck if text is None else text, **details)

    def paid_by_kassenzeichen(self, on: date, amount: Decimal | None = None,
                              **details) -> Payment:
        """The Kasse names only its Kassenzeichen, as many do."""
        return self.payment(on, amount, f"{self.kassenzeichen} Eigenanteil KIM", **details)

    def paid_by_number(self, on: date, amount: Decimal | None = None, **details) -> Payment:
        """Only the Rechnungsnummer, no Kassenzeichen."""
        return self.payment(on, amount, f"Rechnung {self.number}", **details)

    def refunded(self, on: date, **details) -> Payment:
        """The employer pays a refund (a bill below zero) out to the partner."""
        assert self.amount < 0, self.number
        details.setdefault("iban", self.partner_iban)
        return Payment(self.amount, on, self.full_name, text=self.verwendungszweck, **details)


@dataclass(frozen=True)
class Billed:
    """Every issued bill of a year folder, and every employer's account, from its ledger."""

    bills: tuple[BillFacts, ...]
    accounts: dict[str, Account]  # region → its employer's account (drafts too)

    @classmethod
    def of(cls, folder: Path, year: int = YEAR) -> Billed:
        ledger = load_ledger(folder, year)
        facts = []
        for region, version, bill in ledger.issued():
            partner = region.party(bill.partner)
            employer = version.result.employer
            facts.append(BillFacts(
                number=bill.number, partner=bill.partner, full_name=partner.full_name,
                region=region.name, kind=bill.kind.value, amount=bill.amount, day=bill.day,
                due=bill.due, kassenzeichen=partner.kassenzeichen, partner_iban=partner.iban,
                verwendungszweck=payment_reference(year, bill.number, partner.kassenzeichen),
                account=employer_account(employer)))
        accounts = {name: employer_account(region.latest.result.employer)
                    for name, region in ledger.regions.items()}
        return cls(tuple(facts), accounts)

    def bill(self, number: str) -> BillFacts:
        found = [b for b in self.bills if b.number == number]
        assert found, f"no issued bill {number}: {[b.number for b in self.bills]}"
        return found[0]

    def of_partner(self, partner: str) -> list[BillFacts]:
        return [b for b in self.bills if b.partner == partner]

    def account(self, region: str) -> Account:
        return self.accounts[region]


def employer_account(employer) -> Account:
    return Account(iban=employer.iban.replace(" ", ""), owner=employer.full_name)


# ------------------------------------------------------------------ statements


@functools.cache
def schema(kind: str, version: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / f"camt.{kind}.001.{version}.xsd")))


def valid_camt(data: bytes, kind: str, version: str) -> bytes:
    """``data``, after checking it against the ISO 20022 schema of its message."""
    checker = schema(kind, version)
    if not checker.validate(etree.fromstring(data)):
        raise AssertionError(f"camt.{kind}.001.{version} not schema-valid: {checker.error_log}")
    return data


def statement(path: Path, account: Account, payments: Sequence[Payment],
              form: str = "camt.053.001.08", statement_id: str = "2025-001",
              **options) -> Path:
    """One statement of ``account`` in ``form`` (one of :data:`FORMATS`) at ``path``.

    ``options`` go to :class:`tests.statements.Options` (camt: ``balances``, ``closing``) or,
    for MT940, to :func:`tests.statements.mt940` (``closing``, ``currency``).
    """
    if form == "MT940":
        return write_file(path, mt940(account, payments, reference=statement_id, **options))
    if form == "ZIP":  # a daily statement and the PDF some banks pack beside it
        xml = statement_xml(account, payments, "camt.053.001.08", statement_id, **options)
        return write_zip(path, {f"{statement_id}.xml": xml,
                                f"{statement_id}.pdf": b"%PDF-1.4 Kontoauszug\n"})
    return write_file(path, statement_xml(account, payments, form, statement_id, **options))


def statement_xml(account: Account, payments: Sequence[Payment], form: str,
                  statement_id: str, **options) -> bytes:
    _, kind, _, version = form.split(".")
    days = [p.booked for p in payments] or [APRIL_20]
    created = datetime.combine(max(days), datetime.min.time()).replace(hour=18)
    data = camt(kind, version, account, payments,
                Options(statement_id=statement_id, created=created, **options))
    return valid_camt(data, kind, version)


# ------------------------------------------------------------------ settled year folders


def example_form(nord_extra: str = "0"):
    """The shipped example, with every partner's own IBAN; ``nord_extra`` added to the
    personnel costs of Nord's first position (4,000 → each Nord share +1,000)."""
    content = example_2024()
    for party in content.parties:
        if party["Kommune"] in PARTNER_IBANS:
            party["IBAN"] = PARTNER_IBANS[party["Kommune"]]
    content.positions[0]["Personalkosten"] = D("65200.00") + D(nord_extra)
    return content


SCENARIOS = {
    # every region issued (letters posted 04.03.2025), due 01.04.2025
    "issued": (None, None),
    # only Nord issued: Mitte's and Süd's letters are drafts, no bills yet
    "nord issued": ("Nord", None),
    # issued, then Nord's costs +4,000: K1 of +1,000.00 per Nord partner, issued 11.04.2025
    "raised": (None, "4000"),
    # issued, then Nord's costs −2,000: K1 of −500.00 (a credit) per Nord partner
    "lowered": (None, "-2000"),
}


def settled_folder(ausgabe: Path, scenario: str) -> Path:
    """``<ausgabe>/2024`` as the clerk has it in ``scenario`` (:data:`SCENARIOS`), built by
    the settlement run and festschreiben themselves (in process: this is the starting point,
    not what the payments tests test)."""
    region, change = SCENARIOS[scenario]
    inbox = ausgabe.parent / f"{ausgabe.name}-input"
    write(example_form(), inbox / "Abrechnung_2024.xlsx")
    run_settlement(inbox, ausgabe, today=SETTLED_ON)
    issue_folder(ausgabe, YEAR, region, ISSUED_ON)
    if change is not None:
        write(example_form(change), inbox / "Abrechnung_2024.xlsx")
        run_settlement(inbox, ausgabe, today=CORRECTED_ON)
        issue_folder(ausgabe, YEAR, None, CORRECTED_ON + (ISSUED_ON - SETTLED_ON))
    shutil.rmtree(inbox)
    return ausgabe / str(YEAR)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones and the record's copies too), byte for byte."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------ the clerk's folder (fixtures)


@pytest.fixture(scope="session", name="built")
def built_fixture(tmp_path_factory):
    """The settled year folders of ``payment_fixtures.SCENARIOS``, each built once."""
    cache: dict[str, Path] = {}

    def get(scenario: str) -> Path:
        if scenario not in cache:
            root = tmp_path_factory.mktemp(scenario.replace(" ", "-"))
            cache[scenario] = settled_folder(root / "output", scenario)
        return cache[scenario]

    return get


class Clerk:
    """A clerk's working folder: ``output/2024`` as settled, statements beside it."""

    def __init__(self, root: Path):
        self.root = root
        self.folder = root / "output" / str(YEAR)
        self.billed = Billed.of(self.folder)

    def bill(self, number: str) -> BillFacts:
        return self.billed.bill(number)

    def statement(self, name: str, payments, region: str = "Nord", **options) -> Path:
        return statement(self.root / "Kontoauszuege" / name, self.billed.account(region),
                         payments, **options)

    def kim(self, *args, day: str = "2025-04-21", env=None):
        return kim(*args, cwd=self.root, day=day, env=env)

    def zahlungen(self, *args, day: str = "2025-04-21"):
        """``zahlungen --jahr 2024`` as a process; must succeed."""
        done = self.kim("zahlungen", "--jahr", YEAR, *args, day=day)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def zuordnen(self, *args, day: str = "2025-04-22"):
        return self.kim("zuordnen", "--jahr", YEAR, *args, day=day)

    def ledger(self) -> dict:
        return json.loads((self.folder / RECORD_NAME).read_text(encoding="utf-8"))

    def payments(self) -> Path:
        return self.folder / "Zahlungen_2024.xlsx"


@pytest.fixture(name="clerk")
def clerk_fixture(tmp_path, built):
    def start(scenario: str = "issued") -> Clerk:
        shutil.copytree(built(scenario).parent, tmp_path / "output")
        return Clerk(tmp_path)

    return start


def quiet_days(me: Clerk, day: date = APRIL_20) -> list[Path]:
    """A statement of Dülmen's and one of Ascheberg's account up to ``day``, with nothing for
    the partners: what those employers know about their partners' payments."""
    return [me.statement(f"{region}.xml", [replace(RENT, booked=day)], region=region,
                         statement_id=f"{region}-{day}") for region in ("Mitte", "Süd")]


# ------------------------------------------------------------------ reading the results


def money(value) -> Decimal | None:
    return None if value is None else D(str(value)).quantize(D("0.01"))


def table(path: Path, sheet: str, header_row: int = 4, formulas: bool = False) -> list[dict]:
    """The rows under the header of ``sheet``, by header text (values, or formulas)."""
    ws = openpyxl.load_workbook(path, data_only=not formulas)[sheet]
    rows = list(ws.iter_rows(min_row=header_row, values_only=True))
    names = rows[0]
    return [dict(zip(names, row, strict=False)) for row in rows[1:] if any(
        v is not None for v in row)]


def bills(path: Path) -> dict[str, dict]:
    """``Zahlungen_2024.xlsx`` sheet ``Rechnungen``, by Rechnungsnummer, amounts exact."""
    rows = {}
    for row in table(path, "Rechnungen"):
        rows[row["Rechnungsnummer"]] = {**row, **{k: money(row[k]) for k in
                                                  ("Betrag", "Bezahlt", "Offen")}}
    return rows


def figures(path: Path) -> dict[str, tuple]:
    """What a bill's row says about payment: (paid, open, state, last payment)."""
    return {n: (r["Bezahlt"], r["Offen"], r["Stand"], r["Letzte Zahlung"])
            for n, r in bills(path).items()}


def allocations(path: Path) -> list[tuple]:
    return [(r["Buchung"], money(r["Betrag"]), r["Rechnungsnummer"], r["Regel"])
            for r in table(path, "Zuordnungen")]


def open_entries(path: Path) -> list[tuple]:
    return [(r["Buchung"], money(r["Betrag"]), r["Vorschlag"])
            for r in table(path, "Buchungen")]


def assert_live_formulas(path: Path) -> None:
    """Paid is the SUMIF over the sheet Zuordnungen, open = amount − paid, on every row;
    their cached values are what the allocations add up to."""
    values = table(path, "Rechnungen")
    formulas = table(path, "Rechnungen", formulas=True)
    paid: dict[str, Decimal] = {}
    for _, amount, number, _ in allocations(path):
        paid[number] = paid.get(number, D("0.00")) + amount
    assert values, "no bills"
    for row, (value, formula) in enumerate(zip(values, formulas, strict=True), start=5):
        assert formula["Bezahlt"].startswith("=SUMIF(Zuordnungen!"), formula["Bezahlt"]
        assert f",$A${row}," in formula["Bezahlt"]
        assert formula["Offen"] == f"=$G${row}-$H${row}"
        number = value["Rechnungsnummer"]
        assert money(value["Bezahlt"]) == paid.get(number, D("0.00")), number
        assert money(value["Offen"]) == money(value["Betrag"]) - money(value["Bezahlt"])


def overview_payments(folder: Path) -> dict[str, tuple]:
    """The overview's ``Rechnungen`` sheet: bill → (paid, open, Zahlungsstand)."""
    rows = table(folder / "Uebersicht_2024.xlsx", "Rechnungen", header_row=3)
    return {r["Rechnungsnummer"]: (money(r.get("Bezahlt")), money(r.get("Offen")),
                                   r.get("Zahlungsstand")) for r in rows}


def overview_partners(folder: Path) -> dict[str, tuple]:
    """The overview's table: partner → (paid, open) over all its bills."""
    rows = table(folder / "Uebersicht_2024.xlsx", "Übersicht")
    return {r["Vertragspartei"]: (money(r["Bezahlt (alle Rechnungen)"]), money(r["Offen"]))
            for r in rows if r["Rolle"] == "Partnerkommune"}


def liesmich(folder: Path) -> str:
    text = (folder / "LIESMICH.txt").read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    return " ".join(text.split())


def girocode_of(workbook: Path, work: Path) -> list[str]:
    """The lines of the GiroCode in ``workbook``, read back by zbarimg."""
    with zipfile.ZipFile(workbook) as archive:
        [image] = [n for n in archive.namelist() if n.startswith("xl/media/")]
        png = work / f"{workbook.stem}.png"
        png.write_bytes(archive.read(image))
    return zbarimg(png).splitlines()


def cells(path: Path, sheet: str) -> list:
    ws = openpyxl.load_workbook(path, data_only=True)[sheet]
    return [c.value for row in ws.iter_rows() for c in row if c.value is not None]


def entries_of(clerk: Clerk) -> list[tuple]:
    return [(e["id"], e["amount"], e["source"]) for e in clerk.ledger()["entries"]]




@pytest.fixture(name="ausgabe")
def ausgabe_fixture(tmp_path, built):
    """A copy of a settled ``output/`` folder, for calling the commands in process."""
    def start(scenario: str = "issued") -> Path:
        shutil.copytree(built(scenario).parent, tmp_path / "output")
        return tmp_path / "output"

    return start


def pay(ausgabe: Path, payments, region: str = "Nord", day: date = date(2025, 4, 21),
        name: str = "auszug.xml", statement_id: str = "2025-001",
        form: str = "camt.053.001.08", **options):
    """``zahlungen`` in process with one statement of ``region``'s account."""
    billed = Billed.of(ausgabe / str(YEAR))
    path = statement(ausgabe.parent / "Kontoauszuege" / name, billed.account(region),
                     payments, form=form, statement_id=statement_id)
    return run_payments(ausgabe, YEAR, [path], day, **options)
