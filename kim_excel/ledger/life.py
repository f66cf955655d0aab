"""The life of a settlement (SPEC § 7): what a run does with each region, decided by the ledger.

- :func:`settle_dated` is the one place that decides a settlement date: the workbook's
  ``Datum der Abrechnung`` when given; else the region's recorded date while it is issued, or
  while its draft figures stay what the ledger holds (the day the current figures first
  appeared); else the day of the run.
- :func:`plan_settlement` compares each region of a run with the ledger: a new region or a
  draft whose figures or files changed is written (anew); an unchanged draft and an issued
  region whose bills did not change keep their files; an issued region whose bills changed gets
  a correction round for every partner whose amount changed — a partner that left refunds what
  it was billed, a partner that joined gets a first letter. The originals never change.
- :func:`apply_plan` puts the plan into the ledger; the command writes the files it names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import Enum

from kim_excel import __version__
from kim_excel.core.calculation import settle
from kim_excel.core.dates import due_date
from kim_excel.core.german import format_eur
from kim_excel.core.model import (
    Notice,
    RegionResult,
    Settlement,
    SettlementInput,
    Severity,
    Share,
)
from kim_excel.core.references import correction_file, invoice_number, letter_file
from kim_excel.ledger.book import (
    Bill,
    Context,
    Kind,
    Ledger,
    Region,
    State,
    Version,
    changed_partners,
)

ZERO_SHARE_FIELDS = ("net", "vat", "gross", "advances", "balance")


def context_of(settlement: Settlement) -> Context:
    return Context(settlement.settings, settlement.subsidy_rate,
                   settlement.subsidy_rate_is_default, __version__)


# ------------------------------------------------------------------ the settlement date


def settle_dated(inp: SettlementInput, ledger: Ledger | None, today: date) -> Settlement:
    """The calculation with every employer's settlement date decided (see the module)."""
    regions = {p.name: p.region for p in inp.parties if p.is_employer}
    candidates = {}
    for employer, terms in inp.terms.items():
        if terms.settlement_date is not None:
            continue
        entry = ledger.regions.get(regions.get(employer, "")) if ledger else None
        candidates[employer] = entry.settlement.day if entry else today
    settlement = settle(with_dates(inp, candidates))
    if ledger is None:
        return settlement
    context = context_of(settlement)
    redo = {}
    for region in settlement.regions:
        employer = region.employer.name
        entry = ledger.regions.get(region.region)
        if employer in candidates and entry is not None and not entry.is_issued \
                and candidates[employer] != today and entry.differences(region, context):
            redo[employer] = today  # the figures changed: they first appear today
    return settle(with_dates(inp, {**candidates, **redo})) if redo else settlement


def with_dates(inp: SettlementInput, dates: dict[str, date]) -> SettlementInput:
    if not dates:
        return inp
    return replace(inp, terms={name: replace(terms, settlement_date=dates[name])
                               if name in dates else terms for name, terms in inp.terms.items()})


# ------------------------------------------------------------------ the plan of a run


class Step(Enum):
    NEW = "new"  # not yet in the folder
    REWRITE = "rewrite"  # a draft whose figures or files changed
    KEEP = "keep"
    CORRECT = "correct"  # issued, and some partner's bill changed


@dataclass
class RegionStep:
    region: RegionResult
    step: Step
    version: Version | None = None  # NEW, REWRITE: the settlement; CORRECT: the correction
    dropped: Version | None = None  # a draft correction the run removes or replaces


@dataclass
class SettlementPlan:
    steps: list[RegionStep]
    notices: list[Notice] = field(default_factory=list)

    def writes(self) -> list[RegionStep]:
        return [s for s in self.steps if s.version is not None]


Files = Callable[[list[str]], list[str]]  # of these files, the ones changed or gone since


def plan_settlement(settlement: Settlement, ledger: Ledger, today: date, pdf: bool,
                    changed: Files) -> SettlementPlan:
    """What the run does with each region of ``settlement``."""
    plan = SettlementPlan([])
    context = context_of(settlement)
    next_round = ledger.next_round()
    for region in settlement.regions:
        entry = ledger.regions.get(region.region)
        if entry is None:
            plan.steps.append(RegionStep(region, Step.NEW, settlement_version(region, context)))
        elif not entry.is_issued:
            files = [n for n, f in ledger.files.items() if f.region == region.region]
            same_pdf = pdf == any(n.endswith(".pdf") for n in files)
            keep = not entry.differences(region, context) and not changed(files) and same_pdf
            plan.steps.append(RegionStep(region, Step.KEEP) if keep else RegionStep(
                region, Step.REWRITE, settlement_version(region, context)))
        else:
            plan.steps.append(correct(entry, region, context, today, next_round, changed))
            plan.notices += issued_notices(entry, region, plan.steps[-1], changed)
    return plan


def settlement_version(region: RegionResult, context: Context) -> Version:
    year = context.settings.year
    bills = {s.party.name: letter_bill(year, region, s) for s in region.partner_shares}
    return Version(0, State.DRAFT, region.terms.settlement_date, context, region, bills)


def letter_bill(year: int, region: RegionResult, share: Share) -> Bill:
    """A partner's settlement letter as the region's settlement bills it."""
    name = share.party.name
    return Bill(number=invoice_number(year, name, prefix=region.terms.invoice_prefix),
                partner=name, kind=Kind.LETTER, file=letter_file(year, name),
                day=region.terms.settlement_date, due=share.due_date, amount=share.balance)


def correct(entry: Region, region: RegionResult, context: Context, today: date,
            next_round: int, changed: Files) -> RegionStep:
    """An issued region: keep it, or write (or rewrite) its open correction round."""
    open_round = entry.open_correction
    if not entry.differences(region, context):
        return RegionStep(region, Step.KEEP, dropped=open_round)
    if open_round is not None and open_round.result == region \
            and open_round.context == context \
            and not changed([b.file for b in open_round.bills.values()]):
        return RegionStep(region, Step.KEEP)
    number = open_round.round if open_round else next_round
    return RegionStep(region, Step.CORRECT,
                      correction_version(entry, region, context, today, number),
                      dropped=open_round)


def correction_version(entry: Region, region: RegionResult, context: Context, today: date,
                       number: int) -> Version:
    """Round ``number`` for every partner whose bill changed: a correction of its last issued
    bill (a partner that left refunds what it was billed), or a first letter for a partner
    that was never billed in this region. Dated the day of the run, due by R10."""
    year = context.settings.year
    before = entry.billed.result
    due = due_date(today, region.terms.payment_days)
    prefix = region.terms.invoice_prefix
    new = {s.party.name: s for s in region.partner_shares}
    bills = {}
    for partner in changed_partners(before, region):
        last = entry.last_bill(partner)
        after = new.get(partner)
        if last is None:  # joined an issued region: its first letter
            bills[partner] = Bill(number=invoice_number(year, partner, prefix=prefix),
                                  partner=partner, kind=Kind.LETTER,
                                  file=letter_file(year, partner), day=today, due=due,
                                  amount=after.balance)
            continue
        was = next((s for s in before.partner_shares if s.party.name == partner), None)
        bills[partner] = Bill(
            number=invoice_number(year, partner, number, prefix), partner=partner,
            kind=Kind.CORRECTION, file=correction_file(year, partner, number), day=today,
            due=due, amount=gross(after) - gross(was), corrects=last.number,
            corrects_day=last.day)
    return Version(number, State.DRAFT, today, context, region, bills)


def gross(share: Share | None) -> Decimal:
    return share.gross if share is not None else Decimal("0.00")


def zero_share(share: Share) -> Share:
    """``share`` owing nothing: a partner that is no longer billed (its corrected side)."""
    zero = share.net * 0
    return replace(share, **dict.fromkeys(ZERO_SHARE_FIELDS, zero), key=share.key * 0,
                   fraction=share.fraction * 0, advance_items=())


def issued_notices(entry: Region, region: RegionResult, step: RegionStep,
                   changed: Files) -> list[Notice]:
    notices = advances_notices(region, entry.billed.result)
    if step.step is Step.CORRECT:
        bills = list(step.version.bills.values())
        corrections = [b.partner for b in bills if b.kind is Kind.CORRECTION]
        firsts = [b.partner for b in bills if b.kind is Kind.LETTER]
        what = []
        if corrections:
            what.append(f"Korrektur Nr. {step.version.round} für {', '.join(corrections)}")
        if firsts:
            what.append(f"eine erste Abrechnung für {', '.join(firsts)} (neu in der Region)")
        notices.append(Notice(
            f"Region {region.region} ist festgeschrieben; ihre Zahlen haben sich geändert: "
            f"{' und '.join(what)}. Die bisherigen Abrechnungen bleiben unverändert.",
            Severity.INFO))
    elif step.dropped is not None:
        notices.append(Notice(
            f"Region {region.region}: die Zahlen entsprechen wieder der festgeschriebenen "
            f"Abrechnung; der Entwurf der Korrektur Nr. {step.dropped.round} wird entfernt.",
            Severity.INFO))
    elif region != entry.latest.result and not notices and step.step is Step.KEEP \
            and entry.open_correction is None:
        notices.append(Notice(
            f"Region {region.region} ist festgeschrieben; die Eingabe weicht ab, aber keine "
            f"Rechnung einer Partnerkommune ändert sich – es gibt nichts zu korrigieren.",
            Severity.INFO))
    issued_files = [b.file for v in entry.versions if v.is_issued for b in v.bills.values()]
    for name in changed(issued_files):
        notices.append(Notice(
            f"„{name}“ ist festgeschrieben, aber nach dem Schreiben geändert worden oder "
            f"verschwunden. kim-excel überschreibt sie nicht und versendet sie nicht; bitte "
            f"aus der Sicherung zurückholen. Soll sich die Rechnung ändern: die Eingabe "
            f"ändern und erneut abrechnen (das ergibt eine Korrektur)."))
    return notices


def advances_notices(region: RegionResult, billed: RegionResult) -> list[Notice]:
    """Advances entered after issue do not change an issued bill (SPEC § 7)."""
    paid = {s.party.name: s.advances for s in billed.partner_shares}
    return [Notice(
        f"{s.party.full_name}: die Abschläge ({format_eur(s.advances)}) weichen von der "
        f"festgeschriebenen Abrechnung ab ({format_eur(paid[s.party.name])}); sie ändern die "
        f"Abrechnung nicht und sind in der Finanzsoftware zu buchen.")
        for s in region.partner_shares
        if s.party.name in paid and s.advances != paid[s.party.name]]


def apply_plan(plan: SettlementPlan, ledger: Ledger, settlement: Settlement) -> None:
    """Put the plan into the ledger (the command then writes the files it names)."""
    ledger.context = context_of(settlement)
    ledger.notices = [str(n) for n in (*settlement.notices, *plan.notices)]
    for step in plan.steps:
        name = step.region.region
        if step.step in (Step.NEW, Step.REWRITE):
            ledger.regions[name] = Region(name, [step.version])
            continue
        entry = ledger.regions[name]
        if step.dropped is not None:
            entry.versions.remove(step.dropped)
        if step.step is Step.CORRECT:
            entry.versions.append(step.version)

