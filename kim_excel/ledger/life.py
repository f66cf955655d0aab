"""The life of a settlement (SPEC § 7): draft → issued → correction, decided per region.

A run compares each region it settles with the year folder's record (``record.py``):

- a region not yet in the folder, or a draft whose figures changed, is written anew (WRITE);
- a draft with the same figures and intact files, and an issued region whose figures did not
  change, keep their files (KEEP);
- an issued region whose partners' net amounts changed gets a correction round (CORRECT);
  the originals never change.

An empty ``Datum der Abrechnung`` is the day the region's current figures first appeared: the
region is settled, compared with the record, and settled again with the recorded date while
the figures stay the same. An issued region always keeps its recorded date.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from enum import Enum
from pathlib import Path

from kim_excel.core.calculation import settle
from kim_excel.core.dates import due_date
from kim_excel.core.errors import KimError
from kim_excel.core.files import ascii_name
from kim_excel.core.model import Notice, RegionResult, Settlement, SettlementInput, Severity, Share
from kim_excel.core.money import format_eur
from kim_excel.core.references import invoice_number
from kim_excel.ledger.folder import output_lock, recover
from kim_excel.ledger.record import (
    DRAFT,
    ISSUED,
    RECORD_NAME,
    Correction,
    Record,
    RegionEntry,
    context_data,
    read_record,
    region_data,
    region_from_data,
    sha256,
    write_record,
)


class Action(Enum):
    WRITE = "write"
    KEEP = "keep"
    CORRECT = "correct"


@dataclass
class Step:
    region: RegionResult
    action: Action
    correction: Correction | None = None  # CORRECT: the round written in this run
    dropped: Correction | None = None  # a draft correction no longer needed


@dataclass
class Plan:
    steps: list[Step]
    notices: list[Notice] = field(default_factory=list)


def with_recorded_dates(inp: SettlementInput, settlement: Settlement,
                        record: Record) -> Settlement:
    """The settlement with each region's recorded date where the record fixes it: always for
    an issued region, and for a draft without ``Datum der Abrechnung`` whose figures are the
    same as recorded."""
    changes = {}
    for region in settlement.regions:
        entry = record.regions.get(region.region)
        if entry is None or (entry.state == DRAFT and region.terms.date_given):
            continue
        recorded = date.fromisoformat(entry.settlement_date)
        if region.terms.settlement_date != recorded:
            changes[region.employer.name] = replace(inp.terms[region.employer.name],
                                                    settlement_date=recorded)
    if not changes:
        return settlement
    again = settle(replace(inp, terms={**inp.terms, **changes}))
    regions = []
    for region, redone in zip(settlement.regions, again.regions, strict=True):
        entry = record.regions.get(region.region)
        if region.employer.name in changes and (
                entry.state == ISSUED or region_data(redone) == entry.latest()):
            regions.append(redone)
        else:
            regions.append(region)
    return replace(settlement, regions=tuple(regions))


def plan_run(settlement: Settlement, record: Record, folder: Path, today: date,
             pdf: bool) -> Plan:
    """What to do with each region of ``settlement``, given the folder's record."""

    plan = Plan([])
    context = context_data(settlement)
    next_round = max(record.rounds(), default=0) + 1
    for region in settlement.regions:
        entry = record.regions.get(region.region)
        data = region_data(region)
        if entry is None:
            plan.steps.append(Step(region, Action.WRITE))
            continue
        if entry.state == DRAFT:
            files = [n for n, f in record.files.items() if f.region == region.region]
            intact = all((folder / n).is_file() and sha256(folder / n) == record.files[n].sha256
                         for n in files)
            same_pdf = pdf == any(n.endswith(".pdf") for n in files)
            keep = data == entry.result and context == entry.context and intact and same_pdf
            plan.steps.append(Step(region, Action.KEEP if keep else Action.WRITE))
            continue
        advances = advances_notices(region, region_from_data(entry.latest_issued()))
        plan.notices += advances
        step = correct(region, entry, context, today, next_round)
        plan.steps.append(step)
        if step.correction is not None:
            plan.notices.append(Notice(
                f"Region {region.region} ist festgeschrieben; ihre Zahlen haben sich geändert: "
                f"Korrektur Nr. {step.correction.round} für "
                f"{', '.join(step.correction.letters)}. Die bisherigen Abrechnungen bleiben "
                f"unverändert.", Severity.INFO))
        elif step.dropped is not None:
            plan.notices.append(Notice(
                f"Region {region.region}: die Zahlen entsprechen wieder der festgeschriebenen "
                f"Abrechnung; der Entwurf der Korrektur Nr. {step.dropped.round} wird entfernt.",
                Severity.INFO))
        elif data != entry.latest() and not advances:
            plan.notices.append(Notice(
                f"Region {region.region} ist festgeschrieben; die Eingabe weicht ab, aber kein "
                f"Betrag einer Partnerkommune ändert sich – es gibt nichts zu korrigieren.",
                Severity.INFO))
    return plan


def correct(region: RegionResult, entry: RegionEntry, context: dict, today: date,
            next_round: int) -> Step:
    """An issued region: keep it, or write (or rewrite) its open correction round."""
    data = region_data(region)
    before = region_from_data(entry.latest_issued())
    changed = changed_partners(before, region)
    open_round = entry.open_correction()
    if not changed:
        return Step(region, Action.KEEP, dropped=open_round)
    if open_round is not None and open_round.result == data and open_round.context == context:
        return Step(region, Action.KEEP)
    number = open_round.round if open_round else next_round
    year = int(context["settings"]["year"])
    letters = {}
    for share in changed:
        name = share.party.name
        corrects, corrects_date = entry.last_document(name)
        letters[name] = {"file": correction_file(year, name, number),
                         "number": invoice_number(year, name, number),
                         "corrects": corrects, "corrects_date": corrects_date}
    due = due_date(today, region.terms.payment_days)
    correction = Correction(round=number, state=DRAFT, day=today.isoformat(),
                            due=due.isoformat(), context=context, result=data,
                            before=entry.latest_issued(), letters=letters)
    return Step(region, Action.CORRECT, correction=correction, dropped=open_round)


def changed_partners(before: RegionResult, after: RegionResult) -> list[Share]:
    """Partners of ``after`` whose net amount differs from ``before`` (new partners too)."""
    nets = {s.party.name: s.net for s in before.partner_shares}
    return [s for s in after.partner_shares if nets.get(s.party.name) != s.net]


def advances_notices(region: RegionResult, billed: RegionResult) -> list[Notice]:
    """Advances entered after issue do not change an issued bill (SPEC § 7)."""
    paid = {s.party.name: s.advances for s in billed.partner_shares}
    return [Notice(
        f"{s.party.full_name}: die Abschläge ({format_eur(s.advances)}) weichen von der "
        f"festgeschriebenen Abrechnung ab ({format_eur(paid[s.party.name])}); sie ändern die "
        f"Abrechnung nicht und sind in der Finanzsoftware zu buchen.")
        for s in region.partner_shares
        if s.party.name in paid and s.advances != paid[s.party.name]]


def correction_file(year: int, partner: str, number: int) -> str:

    return f"Korrektur_{year}_{ascii_name(partner)}_{number}.xlsx"


def correction_booking_file(year: int, number: int) -> str:
    return f"Buchungsliste_{year}_Korrektur_{number}.csv"


# ------------------------------------------------------------------ issuing


def drafts_to_issue(ausgabe: Path, year: int, region: str | None) -> list[str]:
    """What ``festschreiben`` would issue, as German lines (nothing changes)."""

    folder = ausgabe / str(year)
    if not (folder / RECORD_NAME).is_file():
        raise KimError(f"Für {year} gibt es noch keine Abrechnung in „{folder}“ – bitte zuerst "
                       f"`kim-excel abrechnen` ausführen.")
    record = read_record(folder, year)
    if region is not None and region not in record.regions:
        raise KimError(f"Region „{region}“ gibt es in „{folder}“ nicht; abgerechnet sind: "
                       f"{', '.join(record.regions)}.")
    return issue(record, region, date.today())


def issue_folder(ausgabe: Path, year: int, region: str | None, today: date) -> list[str]:
    """``festschreiben``: issue under the output lock and replace the record atomically."""

    folder = ausgabe / str(year)
    with output_lock(ausgabe):
        recover(folder)
        record = read_record(folder, year)
        done = issue(record, region, today)
        if done:
            write_record(folder, record)
    return done


def issue(record: Record, region: str | None, today: date) -> list[str]:
    """Mark the draft settlements (and draft corrections) of ``region`` (all when None) as
    issued; returns what was issued, as German lines."""
    done = []
    for name, entry in record.regions.items():
        if region is not None and name != region:
            continue
        if entry.state == DRAFT:
            entry.state = ISSUED
            entry.issued_on = today.isoformat()
            done.append(f"Region {name}: Abrechnungen festgeschrieben "
                        f"({', '.join(entry.letters.values()) or 'ohne Partnerkommune'})")
        for correction in entry.corrections:
            if correction.state == DRAFT:
                correction.state = ISSUED
                done.append(f"Region {name}: Korrektur Nr. {correction.round} festgeschrieben "
                            f"({', '.join(c['file'] for c in correction.letters.values())})")
    return done


def issue_sent(record: Record, sent_files: set[str], today: date) -> list[str]:
    """``versenden --senden``: issue the regions and correction rounds whose letters went out."""
    done = []
    for name, entry in record.regions.items():
        if entry.state == DRAFT and sent_files & set(entry.letters.values()):
            done += issue_one(entry, name, today)
        for correction in entry.corrections:
            files = {c["file"] for c in correction.letters.values()}
            if correction.state == DRAFT and sent_files & files:
                correction.state = ISSUED
                done.append(f"Region {name}: Korrektur Nr. {correction.round} festgeschrieben")
    return done


def issue_one(entry: RegionEntry, name: str, today: date) -> list[str]:
    entry.state = ISSUED
    entry.issued_on = today.isoformat()
    return [f"Region {name}: Abrechnung festgeschrieben"]
