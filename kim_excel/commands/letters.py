"""The write step of a settlement run: the files the plan names, into the staging folder.

- the letters of the regions written (anew) and the first letters of partners that joined an
  issued region — in a process pool when there are many (``documents/pool.py``), while this
  process writes the rest;
- the correction letters of each correction round with their XRechnung, and
  ``Buchungsliste_<J>_Korrektur_<n>.csv`` of every round the run changes;
- the summaries of the whole folder, from the ledger (``summaries.py``);
- with ``--pdf`` a PDF of each letter written, ZUGFeRD where an XRechnung lies beside it.

The ledger (already changed by ``life.apply_plan``) says what each file is; the folder
transaction records their hashes and decides what stays from the old folder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from kim_excel.commands.summaries import write_summaries
from kim_excel.core.files import write_atomically
from kim_excel.core.german import day_text
from kim_excel.core.model import Notice, RegionResult, Settlement, Share
from kim_excel.core.money import ZERO
from kim_excel.core.references import companion, correction_booking_file
from kim_excel.documents.booking import correction_rows, csv_bytes
from kim_excel.documents.correction import (
    CorrectionLetter,
    difference,
    write_correction_workbook,
)
from kim_excel.documents.einvoices import Amounts, embed_einvoices, write_einvoice
from kim_excel.documents.pool import worker_count, write_in_pool, write_partner_workbooks
from kim_excel.ledger.book import Bill, Kind, Ledger, Region, Version
from kim_excel.ledger.life import SettlementPlan, Step, zero_share

Progress = Callable[[int, int], None]  # (partner workbooks written, of how many)


@dataclass
class Written:
    written: list[str] = field(default_factory=list)  # relative paths, in writing order
    notices: list[Notice] = field(default_factory=list)


def write_settlement(ledger: Ledger, plan: SettlementPlan, settlement: Settlement,
                     staging: Path, pdf: bool, progress: Progress | None,
                     workers: int | None, folder: Path | None = None) -> Written:
    """``folder``: the year folder as it was (its other files are the clerk's)."""
    out = Written()
    letters, bills = letters_to_write(plan)
    corrections = [(ledger.regions[s.region.region], s.version) for s in plan.writes()
                   if s.step is Step.CORRECT]
    rounds = {s.version.round for s in plan.writes() if s.step is Step.CORRECT} | {
        s.dropped.round for s in plan.steps if s.dropped is not None}

    def write_rest() -> None:
        for region, version in corrections:
            out.written += write_corrections(settlement, region, version, staging)
        out.written += write_rounds(ledger, rounds, staging)
        out.written += write_summaries(ledger, staging, folder)

    written = write_letters(replace(settlement, regions=tuple(letters)), bills, staging,
                            progress, workers, write_rest)
    out.written[:0] = written
    documents = [*written, *(n for n in out.written
                             if n.startswith("Korrektur_") and n.endswith(".xlsx"))]
    if pdf and documents:
        from kim_excel.documents.pdf import convert_letters  # needs LibreOffice: only on --pdf

        out.notices += convert_letters([staging / n for n in documents], staging)
        embed_einvoices(staging)  # a PDF beside an XRechnung becomes ZUGFeRD (SPEC § 8)
        out.written += [companion(n, ".pdf") for n in documents
                        if (staging / companion(n, ".pdf")).is_file()]
    out.written += [companion(n, ".xml") for n in written
                    if (staging / companion(n, ".xml")).is_file()]
    return out


def letters_to_write(plan: SettlementPlan) -> tuple[list[RegionResult], dict[str, Bill]]:
    """The regions whose letters the run writes (each with only the shares to write) and the
    bills they carry: every letter of a new or rewritten region, the first letter of a partner
    that joined an issued region."""
    regions, bills = [], {}
    for step in plan.writes():
        wanted = {b.partner: b for b in step.version.bills.values() if b.kind is Kind.LETTER}
        if not wanted:
            continue
        shares = tuple(s for s in step.region.shares if s.is_employer or s.party.name in wanted)
        regions.append(replace(step.region, shares=shares) if step.step is Step.CORRECT
                       else step.region)
        bills.update(wanted)
    return regions, bills


def write_letters(settlement: Settlement, bills: dict[str, Bill], folder: Path,
                  progress: Progress | None, workers: int | None,
                  write_rest: Callable[[], None]) -> list[str]:
    """The partner letters of ``settlement`` (in a process pool when there are many); the
    rest meanwhile in this process."""
    jobs = [(r, s) for r, region in enumerate(settlement.regions)
            for s, share in enumerate(region.shares) if not share.is_employer]
    report = progress or (lambda done, total: None)
    report(0, len(jobs))
    count = worker_count(len(jobs), workers)
    if count > 1:
        write_in_pool(settlement, bills, folder, jobs, count, report, write_rest)
    else:
        write_partner_workbooks(settlement, bills, folder, jobs, report)
        write_rest()
    return [bills[settlement.regions[r].shares[s].party.name].file for r, s in jobs]


def write_corrections(settlement: Settlement, region: Region, version: Version,
                      staging: Path) -> list[str]:
    """The correction letters of ``version`` with their XRechnung."""
    written = []
    corrected = replace(settlement, settings=version.context.settings,
                        subsidy_rate=version.context.subsidy_rate, regions=(version.result,))
    before = {s.party.name: s for s in region.billed_before(version).result.partner_shares}
    after = {s.party.name: s for s in version.result.partner_shares}
    for bill in version.bills.values():
        if bill.kind is not Kind.CORRECTION:
            continue
        was = before[bill.partner]
        share = after.get(bill.partner) or zero_share(was)
        info = CorrectionLetter(number=bill.number, corrects=bill.corrects,
                                corrects_date=bill.corrects_day, day=bill.day, due=bill.due,
                                before=was, billed_by=billed_by(region, version, bill.partner))
        write_correction_workbook(staging / bill.file, corrected, version.result, share, info)
        written.append(bill.file)
        xml = write_correction_einvoice(staging, corrected, version.result, share, info, bill)
        if xml is not None:
            written.append(xml.name)
    return written


def billed_by(region: Region, version: Version, partner: str) -> str:
    """The documents whose total a correction corrects: ``Rechnung 2024-Billerbeck vom
    03.03.2025`` and, after an earlier correction, ``und Korrektur … vom …``."""
    parts = []
    for earlier in region.versions:
        if earlier is version:
            break
        bill = earlier.bills.get(partner)
        if earlier.is_issued and bill is not None:
            kind = "Rechnung" if bill.kind is Kind.LETTER else "Korrektur"
            parts.append(f"{kind} {bill.number} vom {day_text(bill.day)}")
    return " und ".join(parts)


def write_correction_einvoice(staging: Path, settlement: Settlement, region: RegionResult,
                              share: Share, info: CorrectionLetter, bill: Bill) -> Path | None:
    """The XRechnung of a correction: the differences, naming the corrected bill. Advances
    entered after issue change no issued bill (SPEC § 7), so none are deducted."""
    net, vat, gross = difference(info.before, share)
    return write_einvoice(staging, settlement, region, share, Path(bill.file).stem,
                          correction=1, amounts=Amounts(net, vat, gross, ZERO, gross),
                          preceding=(info.corrects, info.corrects_date), issue_date=info.day,
                          due_date=info.due, number=bill.number)


def write_rounds(ledger: Ledger, rounds: set[int], staging: Path) -> list[str]:
    """``Buchungsliste_<J>_Korrektur_<n>.csv`` for every round this run changes: per region
    of the round its employer and every partner whose bill changed (SPEC § 7)."""
    written = []
    for number in sorted(rounds):
        rows = []
        for region in ledger.regions.values():
            for version in region.versions:
                if version.round == number:
                    due = next((b.due for b in version.bills.values()), None)
                    rows += correction_rows(ledger.year, region.billed_before(version).result,
                                            version.result, set(version.bills), due)
        if rows:
            name = correction_booking_file(ledger.year, number)
            write_atomically(staging / name, csv_bytes(rows))
            written.append(name)
    return written
