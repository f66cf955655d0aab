"""Plain data that flows through the pipeline: what the workbook says, and what we computed.

Glossary (German domain words kept where English would blur them):

- Anstellungskörperschaft (``employer``): the municipality that employs the case managers of a
  region, receives the Landesförderung and bills the others.
- Partnerkommune (``partner``): any other municipality of the region; receives a bill.
- Stundenanteil: a party's nominal share of case-manager time, in VZÄ (full-time equivalents).
- Landesförderung (``subsidy``): state subsidy per VZÄ and year.
- Eigenanteil: the region's costs not covered by the subsidy; split among the parties.
- Schlüssel (``key``): what the Eigenanteil is split by (Stundenanteil, hours, or equal parts).
- Abschlag (``advance``): an advance payment already made by a partner for the year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum
from fractions import Fraction

EMPLOYER = "Anstellungskörperschaft"
PARTNER = "Partnerkommune"
ROLES = (EMPLOYER, PARTNER)

KOSTENART_PERSONAL = "Personalkosten inkl. Arbeitgeberanteil"
KOSTENARTEN = (
    "Technische Ausstattung",
    "Stellenbesetzung und Ausschreibung",
    "Personalverwaltung (Pauschale)",
)


@dataclass(frozen=True)
class CellRef:
    """Where a value came from, for messages people can act on."""

    file: str
    sheet: str
    cell: str = ""

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}" if self.cell else self.sheet


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input. Validation collects all of them, never stops early."""

    message: str
    where: CellRef | None = None

    def __str__(self) -> str:
        if self.where is None:
            return self.message
        return f"{self.where.file}: {self.where}: {self.message}"


class Severity(Enum):
    INFO = "Hinweis"
    WARNING = "Warnung"


@dataclass(frozen=True)
class Notice:
    """Something a careful clerk should read, that does not stop the run."""

    message: str
    severity: Severity = Severity.WARNING
    where: CellRef | None = None

    def __str__(self) -> str:
        prefix = f"{self.where.file}: {self.where}: " if self.where else ""
        return f"{self.severity.value}: {prefix}{self.message}"


@dataclass(frozen=True)
class Party:
    """One row of ``Vertragsparteien``."""

    name: str  # the plain name: "Billerbeck"
    bezeichnung: str  # "Stadt" or "Gemeinde"
    region: str
    role: str  # EMPLOYER or PARTNER
    stundenanteil: Decimal
    exit_date: date | None = None
    street: str = ""
    postcode: str = ""
    city: str = ""
    email: str = ""
    iban: str = ""
    bic: str = ""
    bank: str = ""
    contact: str = ""
    phone: str = ""
    kassenzeichen: str = ""
    leitweg_id: str = ""  # the e-invoice address of a public buyer (SPEC § 8)
    gemeindeschluessel: str = ""  # amtlicher Gemeindeschlüssel, 8 digits
    steuernummer: str = ""
    ust_id: str = ""  # USt-IdNr.
    bank_from_iban: bool = False  # BIC or Kreditinstitut were filled in from the IBAN
    where: CellRef | None = field(default=None, compare=False)  # its row in the sheet

    @property
    def full_name(self) -> str:
        return f"{self.bezeichnung} {self.name}".strip()

    @property
    def is_employer(self) -> bool:
        return self.role == EMPLOYER

    def is_active_in(self, year: int) -> bool:
        """R6: a party that left on 31 Dec of year Y is not a party in any year after Y."""
        return self.exit_date is None or self.exit_date.year >= year


@dataclass(frozen=True)
class Position:
    """One row of ``Personalkosten``: a case-manager position of an employer."""

    employer: str
    label: str
    vzae: Decimal
    months: Decimal
    personnel_costs: Decimal
    where: CellRef | None = field(default=None, compare=False)
    months_where: CellRef | None = field(default=None, compare=False)  # the ``Monate`` cell


@dataclass(frozen=True)
class MaterialCost:
    """One row of ``Sachkosten``."""

    employer: str
    kind: str  # one of KOSTENARTEN
    label: str
    amount: Decimal
    where: CellRef | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Advance:
    """One row of ``Abschläge``: an advance a partner paid for the year."""

    party: str
    paid_on: date | None
    amount: Decimal
    where: CellRef | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Settings:
    """The settings of ``Einstellungen`` that hold for the whole agreement, defaults applied:
    every workbook of a run must agree on them (SPEC § 4)."""

    year: int
    subsidy_rate: Decimal | None = None  # None: the programme's rate for the year
    subsidy_lapsed: bool = False
    notice_months: int = 18
    contract_end: date | None = None  # R12: "Vertrag beendet zum"


@dataclass(frozen=True)
class Terms:
    """An employer's own settings (SPEC § 4), from the workbook that holds its costs.

    They apply to its region only: workbooks of different employers may differ here.
    """

    # None until decided: ``Datum der Abrechnung`` was left empty, and the ledger decides
    # (``ledger/life.settle_dated``: the day the current figures first appeared, SPEC § 7).
    settlement_date: date | None
    date_given: bool = True
    payment_days: int = 30
    vat_rate: Decimal = Decimal(0)  # a fraction: 0.19 for 19 %
    vat_note: str = ""
    aktenzeichen: str = ""
    buchungsstelle: str = ""
    invoice_prefix: str = ""  # ``Präfix Rechnungsnummer``: before every Rechnungsnummer


@dataclass(frozen=True)
class SettlementInput:
    """Everything the calculation needs, merged from one or more workbooks."""

    settings: Settings
    parties: tuple[Party, ...]
    positions: tuple[Position, ...] = ()
    material_costs: tuple[MaterialCost, ...] = ()
    subsidies_received: dict[str, Decimal] = field(default_factory=dict)  # employer → EUR
    hours: dict[str, Decimal] = field(default_factory=dict)  # party → hours
    advances: tuple[Advance, ...] = ()
    sources: tuple[str, ...] = ()  # file names, for the trail
    terms: dict[str, Terms] = field(default_factory=dict)  # employer name → its own settings

    def terms_of(self, employer: str) -> Terms:
        """The employer's own settings; every employer with costs has them (validation)."""
        return self.terms[employer]


class KeyBasis(Enum):
    """What a region's Eigenanteil is split by (R4, R5, R12)."""

    STUNDENANTEIL = "Stundenanteil (VZÄ)"
    HOURS = "tatsächliche Stunden"
    EQUAL = "zu gleichen Teilen"


@dataclass(frozen=True)
class PositionResult:
    position: Position
    subsidy: Decimal  # R2, capped and rounded
    subsidy_uncapped: Decimal


@dataclass(frozen=True)
class Share:
    """One party's part of its region's Eigenanteil (R7–R10)."""

    party: Party
    # Keys are exact (R7): shown through money.display_decimal, never cut before the cent.
    key: Fraction  # Stundenanteil after R6 (0.625 + 0.625/3 = 5/6), hours, or 1 for equal parts
    fraction: Fraction  # key / sum of keys; shown with 6 places
    net: Decimal
    vat: Decimal = Decimal("0.00")
    gross: Decimal = Decimal("0.00")
    advances: Decimal = Decimal("0.00")
    balance: Decimal = Decimal("0.00")  # positive: to pay; negative: refunded
    due_date: date | None = None  # None for the employer, which gets no bill
    inherited: Fraction = Fraction(0)  # Stundenanteil taken over from exited parties (R6)
    # R7 for tiny amounts: cents given back so that the employer's rest keeps the sign of the
    # Eigenanteil (see calculation.split_eigenanteil); 0.00 in every real settlement.
    cent_correction: Decimal = Decimal("0.00")
    advance_items: tuple[Advance, ...] = ()  # the rows of ``Abschläge`` summed in ``advances``

    @property
    def is_employer(self) -> bool:
        return self.party.is_employer


@dataclass(frozen=True)
class RegionResult:
    region: str
    employer: Party
    positions: tuple[PositionResult, ...]
    material_costs: tuple[MaterialCost, ...]
    personnel_costs: Decimal
    material_costs_total: Decimal
    costs: Decimal
    subsidy_computed: Decimal
    subsidy_received: Decimal | None
    subsidy: Decimal  # what R3 deducts: received if stated, else computed; 0 if lapsed
    eigenanteil: Decimal
    key_basis: KeyBasis
    key_total: Fraction  # the sum of the shares' keys, exact
    shares: tuple[Share, ...]  # employer first, then partners in sheet order
    terms: Terms  # the employer's own settings: date, payment term, VAT, Aktenzeichen
    due_date: date  # R10, from the terms
    exited: tuple[Party, ...] = ()  # parties of the region no longer active (R6)
    wind_down: bool = False  # R12

    @property
    def partner_shares(self) -> tuple[Share, ...]:
        return tuple(s for s in self.shares if not s.is_employer)

    @property
    def employer_share(self) -> Share:
        return next(s for s in self.shares if s.is_employer)

    def material_by_kind(self) -> dict[str, Decimal]:
        totals = {kind: Decimal("0.00") for kind in KOSTENARTEN}
        for cost in self.material_costs:
            totals[cost.kind] += cost.amount
        return totals

    @property
    def vzae(self) -> Decimal:
        return sum((p.position.vzae for p in self.positions), Decimal(0))

    def partner_total(self, amount: str) -> Decimal:
        """One amount of the partners' bills summed: ``partner_total("balance")``."""
        return sum((getattr(s, amount) for s in self.partner_shares), Decimal("0.00"))


@dataclass(frozen=True)
class Settlement:
    """The result of a settlement run for one year."""

    settings: Settings
    subsidy_rate: Decimal
    subsidy_rate_is_default: bool
    regions: tuple[RegionResult, ...]
    notices: tuple[Notice, ...] = ()
    skipped_regions: tuple[str, ...] = ()  # regions without any costs, not settled

    @property
    def year(self) -> int:
        return self.settings.year

    @property
    def latest_date(self) -> date:
        """The latest settlement date of the regions: the date of a file that covers them all."""
        return max((r.terms.settlement_date for r in self.regions),
                   default=date(self.year, 12, 31))

    def total(self, amount: str) -> Decimal:
        """One amount of the regions summed: ``total("costs")``, ``total("eigenanteil")``."""
        return sum((getattr(r, amount) for r in self.regions), Decimal("0.00"))

    def partner_total(self, amount: str) -> Decimal:
        """One amount of all partners' bills summed over all regions."""
        return sum((r.partner_total(amount) for r in self.regions), Decimal("0.00"))

    def share_of(self, party_name: str) -> tuple[RegionResult, Share]:
        for region in self.regions:
            for share in region.shares:
                if share.party.name == party_name:
                    return region, share
        raise KeyError(party_name)
