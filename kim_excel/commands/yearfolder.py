"""The write step: a run's files and the new record into the staging folder (SPEC § 5, § 7).

The region is the unit of a year folder. Only the regions the run writes (``life.plan_run``)
get new letters; corrections get their letters and ``Buchungsliste_<J>_Korrektur_<n>.csv``;
the overview, the Buchungsliste and LIESMICH cover every region of the folder and are rebuilt
from the record. What stays from the old folder is decided when the folders are swapped
(``output.carry_over``), from the hashes the record keeps.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from kim_excel.core.files import write_atomically
from kim_excel.core.model import Notice, RegionResult, Settlement, Severity, Share, Terms
from kim_excel.documents.booking import booking_csv, correction_rows, csv_bytes
from kim_excel.documents.correction import CorrectionLetter, write_correction_workbook
from kim_excel.documents.einvoices import (
    correction_einvoices,
    embed_einvoices,
    has_einvoice,
    letter_stem,
    write_correction_einvoices,
)
from kim_excel.documents.liesmich import write_liesmich
from kim_excel.documents.overview import write_overview
from kim_excel.documents.pool import Progress, worker_count, write_in_pool, write_partner_workbooks
from kim_excel.ledger.folder import Carried, carry_over
from kim_excel.ledger.life import Action, Plan, correction_booking_file
from kim_excel.ledger.record import (
    DRAFT,
    RECORD_NAME,
    FileEntry,
    Record,
    RegionEntry,
    context_data,
    record_bytes,
    region_data,
    region_from_data,
    settlement_of,
    sha256,
)

DRAFT_FOLDER = "E-Mails"  # versenden's drafts: <J>/E-Mails/<stem of the letter>.eml


@dataclass
class Outcome:
    record: Record
    written: list[str]  # relative paths written by this run
    remove: set[str] = field(default_factory=set)  # ours, to go unless changed since
    notices: list[Notice] = field(default_factory=list)


def write_year_folder(settlement: Settlement, plan: Plan, record: Record, names: dict[str, str],
                      staging: Path, pdf: bool, progress: Progress | None,
                      workers: int | None) -> Outcome:
    new = copy.deepcopy(record)
    new.settings = context_data(settlement)
    outcome = Outcome(new, [])
    rewrite = [s.region for s in plan.steps if s.action is Action.WRITE]
    for region in rewrite:
        outcome.remove.update(n for n, f in record.files.items() if f.region == region.region)
        new.regions[region.region] = RegionEntry(
            state=DRAFT, settlement_date=region.terms.settlement_date.isoformat(),
            context=new.settings, result=region_data(region),
            letters={s.party.name: names[s.party.name] for s in region.partner_shares})
    rounds = apply_corrections(plan, new, outcome)
    known = [(region, region_data(region)) for region in settlement.regions]

    def as_region(data: dict):
        """This run's region where the data is its own (no need to read it back)."""
        return next((r for r, d in known if d == data), None) or region_from_data(data)

    folder_settlement = replace(settlement, regions=tuple(
        as_region(e.result) for e in new.regions.values()))

    def write_summaries() -> None:

        write_corrections(plan, new, staging, outcome)
        write_rounds(settlement.year, new, rounds, staging, outcome)
        year = settlement.year
        latest = replace(folder_settlement, regions=tuple(
            as_region(e.latest()) for e in new.regions.values()))
        write_overview(staging / f"Uebersicht_{year}.xlsx", latest)
        write_atomically(staging / f"Buchungsliste_{year}.csv", booking_csv(folder_settlement))
        all_names = {p: f for e in new.regions.values() for p, f in e.letters.items()}
        write_liesmich(staging, folder_settlement, all_names)
        outcome.written += [f"Uebersicht_{year}.xlsx", f"Buchungsliste_{year}.csv",
                            "LIESMICH.txt"]

    letters = write_letters(replace(settlement, regions=tuple(rewrite)), names, staging,
                            progress, workers, write_summaries)
    outcome.written[:0] = letters
    documents = [*letters, *(n for n in outcome.written if n.startswith("Korrektur_")
                             and n.endswith(".xlsx"))]
    if pdf and documents:
        from kim_excel.documents.pdf import convert_letters  # only when asked: needs LibreOffice

        outcome.notices += convert_letters([staging / n for n in documents], staging)
        embed_einvoices(staging)  # a PDF beside an XRechnung becomes ZUGFeRD (SPEC § 8)
        outcome.written += [Path(n).with_suffix(".pdf").name for n in documents
                            if (staging / n).with_suffix(".pdf").is_file()]
    outcome.written += [Path(n).with_suffix(".xml").name for n in letters
                        if (staging / n).with_suffix(".xml").is_file()]
    record_files(record, new, staging, outcome)
    write_atomically(staging / RECORD_NAME, record_bytes(new))
    return outcome


def write_letters(settlement: Settlement, names: dict[str, str], folder: Path,
                  progress: Progress | None, workers: int | None, write_summaries) -> list[str]:
    """The partner letters of ``settlement`` (in a process pool when there are many); the
    summaries meanwhile in this process."""
    jobs = [(r, s) for r, region in enumerate(settlement.regions)
            for s, share in enumerate(region.shares) if not share.is_employer]
    report = progress or (lambda done, total: None)
    report(0, len(jobs))
    count = worker_count(len(jobs), workers)
    if count > 1:
        write_in_pool(settlement, names, folder, jobs, count, report, write_summaries)
    else:
        write_partner_workbooks(settlement, names, folder, jobs, report)
        write_summaries()
    return [names[settlement.regions[r].shares[s].party.name] for r, s in jobs]


def apply_corrections(plan: Plan, record: Record, outcome: Outcome) -> set[int]:
    """Put the plan's corrections into the record; returns the rounds whose list changes."""
    rounds = set()
    for step in plan.steps:
        entry = record.regions.get(step.region.region)
        if step.dropped is not None:
            entry.corrections = [c for c in entry.corrections if c.round != step.dropped.round]
            outcome.remove.update(c["file"] for c in step.dropped.letters.values())
            rounds.add(step.dropped.round)
        if step.correction is not None:
            entry.corrections.append(step.correction)
            rounds.add(step.correction.round)
    return rounds


def write_corrections(plan: Plan, record: Record, staging: Path, outcome: Outcome) -> None:
    for step in plan.steps:
        correction = step.correction
        if correction is None:
            continue
        region = region_from_data(correction.result)
        billed = region_from_data(correction.before)
        before = {s.party.name: s for s in billed.shares}
        settlement = settlement_of(correction.context, [region])
        for share in region.partner_shares:
            letter = correction.letters.get(share.party.name)
            if letter is None:
                continue
            info = CorrectionLetter(
                number=letter["number"], corrects=letter["corrects"],
                corrects_date=date.fromisoformat(letter["corrects_date"]),
                day=date.fromisoformat(correction.day), due=date.fromisoformat(correction.due),
                before=before.get(share.party.name) or replace(share, net=0 * share.net,
                                                               vat=0 * share.vat,
                                                               gross=0 * share.gross))
            write_correction_workbook(staging / letter["file"], settlement, region, share, info)
            outcome.written.append(letter["file"])
            xmls = write_correction_einvoice(staging, settlement, region, billed.terms, share,
                                             info, Path(letter["file"]).stem)
            outcome.written += [xml.name for xml in xmls]


def write_correction_einvoice(staging: Path, settlement: Settlement, region: RegionResult,
                              billed_terms: Terms, share: Share, info: CorrectionLetter,
                              stem: str) -> list[Path]:
    """The XRechnung(s) of a correction (SPEC § 8): an invoice 380 or credit note 381 over the
    difference, or, when the VAT rate changed, a storno ``<stem>_Storno.xml`` and the
    corrected bill ``<stem>.xml``. Advances as billed (SPEC § 7)."""
    if not has_einvoice(share):
        return []
    documents = correction_einvoices(
        settlement.year, region, info.before, billed_terms, share, number=info.number,
        corrects=info.corrects, corrects_date=info.corrects_date, issue_date=info.day,
        due_date=info.due)
    return write_correction_einvoices(staging, stem, documents)


def write_rounds(year: int, record: Record, rounds: set[int], staging: Path,
                 outcome: Outcome) -> None:
    """``Buchungsliste_<J>_Korrektur_<n>.csv`` for every round this run changes."""
    for number in sorted(rounds):
        rows = []
        for entry in record.regions.values():
            for c in entry.corrections:
                if c.round == number:
                    rows += correction_rows(year, region_from_data(c.before),
                                            region_from_data(c.result), set(c.letters),
                                            date.fromisoformat(c.due))
        name = correction_booking_file(year, number)
        if rows:
            write_atomically(staging / name, csv_bytes(rows))
            outcome.written.append(name)
        else:
            outcome.remove.add(name)


def record_files(old: Record, new: Record, staging: Path, outcome: Outcome) -> None:
    """The new record's file list: what this run wrote (fresh hashes) and what stays. Drafts
    of letters whose content changed quote old figures: they go (SPEC § 7)."""
    region_of = {f: e_name for e_name, e in new.regions.items() for f in e.letters.values()}
    for e_name, e in new.regions.items():
        for c in e.corrections:
            region_of.update({x["file"]: e_name for x in c.letters.values()})
    for name in outcome.written:
        if name.endswith((".pdf", ".xml")):  # beside its letter: the letter's region
            region_of[name] = region_of.get(f"{letter_stem(Path(name))}.xlsx", "")
    files = {n: f for n, f in old.files.items() if n not in outcome.remove}
    for name in outcome.written:
        files[name] = FileEntry(sha256(staging / name), region_of.get(name, ""))
    new.files = files
    changed = [n for n in outcome.remove | set(outcome.written)
               if n not in files or n not in old.files or files[n].sha256 != old.files[n].sha256]
    for name in changed:
        draft = f"{DRAFT_FOLDER}/{Path(name).stem}.eml"
        if draft in new.drafts:
            outcome.remove.add(draft)
            del new.drafts[draft]


def carry_with_record(record: Record, had_record: bool, remove: set[str],
                      notices: list[Notice]):
    """The carry step for ``output.staged_folder``: keep everything but our own unchanged
    files that this run replaces or removes; say what happened to the others."""
    def carry(old: Path, new: Path) -> None:
        owned = {n: f.sha256 for n, f in {**record.files, **record.drafts}.items()}
        if (old / RECORD_NAME).is_file():  # replaced by the new one, always
            owned[RECORD_NAME] = sha256(old / RECORD_NAME)
        if not had_record:  # a folder written before the record existed: its files are ours
            from kim_excel.ledger.folder import GENERATED

            owned.update({p.name: sha256(p) for p in old.iterdir()
                          if p.is_file() and GENERATED.match(p.name)})
        notices.extend(carried_notices(carry_over(old, new, owned, remove)))
    return carry


def carried_notices(done: Carried) -> list[Notice]:
    notices = [Notice(f"Veralteter E-Mail-Entwurf entfernt (er nannte die alten Beträge): "
                      f"{name}", Severity.INFO)
               for name in done.removed if name.startswith(f"{DRAFT_FOLDER}/")]
    for name, kept in done.kept:
        if name == kept:
            notices.append(Notice(f"„{name}“ wurde nach dem letzten Lauf geändert und bleibt "
                                  f"unverändert liegen; kim-excel verwaltet sie nicht mehr."))
        else:
            notices.append(Notice(f"„{name}“ wurde nach dem letzten Lauf geändert (oder stammt "
                                  f"nicht von kim-excel) und bleibt als „{kept}“ erhalten; "
                                  f"„{name}“ ist neu geschrieben."))
    return notices
