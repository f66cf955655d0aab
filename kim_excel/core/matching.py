"""Matching bank entries to bills (SPEC § 9 "Matching"): pure, and linear in entries + bills.

:func:`match` takes the booked entries of the employer's statements (``core/bank.py``), the
bills of the year folder as :class:`OpenItem` and the clerk's own assignments, and decides
for every entry: which bills it pays and by which rule (:class:`Allocation`), a
:class:`Proposal` for the clerk, *unexplained* or *unrelated*. It opens no file and reads no
clock; the ledger records what it decides.

Glossary:

- Rechnungsnummer (``OpenItem.number``): a letter's or correction's number,
  ``2024-Billerbeck``, ``2024-Billerbeck-K1``, perhaps with the employer's prefix.
- Kassenzeichen: the partner's own reference for what it owes; all bills of a partner share it.
- Verwendungszweck (``BankEntry.remittance``): the payer's text, in lines a number may be cut by.
- Überzahlung: more paid than a bill asks; stays on the bill (state *überzahlt*).
- Storno/Rückbuchung (``BankEntry.reversal``): undoes an earlier payment.
- Zuordnung von Hand (:class:`ClerkAssignment`): ``kim-excel zuordnen BUCHUNG NUMMER [BETRAG]``.

How a reference is found (rules 2 and 3): every text is *folded* — Unicode NFC, case folded,
``ä ö ü ß`` → ``ae oe ue ss`` (so ``Lüdinghausen`` and ``Luedinghausen`` are one word), dashes
unified — and its whitespace removed, remembering where it was (a *gap*). A number or
Kassenzeichen is found where its folded form stands in that text as a whole token: gaps *inside*
it are ignored (a line may cut it anywhere), while at both ends it must not be *joined* to more
text. Joined are two letters or digits with no gap between them (``X2024-Billerbeck``), a ``-``
or ``_`` between letters or digits unless it stands free with gaps on both sides
(``2024-Billerbeck-K1``, also cut as ``2024-Billerbeck-|K1``; but ``Eigenanteil - 2024-…`` is
free), and a ``.`` or ``/`` between digits (``5.1234.5678.9``). The longest token wins where two
overlap, so ``2024-Billerbeck-K1`` never counts as ``2024-Billerbeck`` too. The tokens are
looked up in a trie built once from all numbers, Kassenzeichen and partner names, walked from
each token start: the work per entry depends on its text, never on the number of bills.

Direction: incoming money (+) pays receivables (``amount > 0``), outgoing money (−) pays
refunds (``amount < 0``); a reversal goes the other way and undoes what was paid. A bill of the
wrong direction is no candidate of the automatic rules: an entry that names bills of its
account, none of them of its direction, stays *unexplained* for the clerk (never guessed);
named among fitting bills, it is ignored (a partner paying its letter net of a credit names
both, pays the letter, and the reminder nets the credit, SPEC § 9).

An entry is *related* (so *unexplained*, not *unrelated*, when nothing matches) when its other
party's IBAN is a partner's, or its name or texts contain, as a whole token, a partner's name,
a Kassenzeichen or a Rechnungsnummer of any bill (any account's), or something shaped like a
Rechnungsnummer: a year, a hyphen and a letter (``2024-Billerbek``, a typo). An entry of
0,00 € is never allocated (it pays nothing): unexplained or unrelated by the same test.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum

from kim_excel.core.bank import BankEntry
from kim_excel.core.errors import InvariantViolation
from kim_excel.core.german import format_eur, iban_groups
from kim_excel.core.money import CENT, ZERO


@dataclass(frozen=True)
class OpenItem:
    """A bill of the year folder (letter or correction), as matching needs it."""

    number: str  # Rechnungsnummer, unique in the year folder (also after folding)
    partner: str  # the partner municipality
    kassenzeichen: str  # the partner's Kassenzeichen, "" if none
    amount: Decimal  # > 0 the partner pays; < 0 the employer refunds
    paid: Decimal  # recorded before this run, same sign convention
    due: date
    account: str  # IBAN of the billing employer: only entries of that account match it
    partner_ibans: frozenset[str] = frozenset()  # the partner's known IBANs (for proposals)

    @property
    def open(self) -> Decimal:
        return self.amount - self.paid


class Rule(Enum):
    """Why an amount went to a bill; the value is what the workbook shows."""

    CLERK = "von Hand"
    NUMBER = "Rechnungsnummer"
    KASSENZEICHEN = "Kassenzeichen"
    SEVERAL = "mehrere Rechnungen"


@dataclass(frozen=True)
class Allocation:
    """Part (or all) of an entry, recorded against one bill; carries the entry's sign."""

    entry: str  # BankEntry.identity
    number: str
    amount: Decimal
    rule: Rule


@dataclass(frozen=True)
class Proposal:
    """Rule 5: shown to the clerk, never recorded by itself."""

    entry: str
    number: str


@dataclass(frozen=True)
class ClerkAssignment:
    """The clerk's own decision: (part of) an entry goes to a bill.

    ``amount`` is what the clerk types, a positive amount that takes the entry's sign; ``None``
    is the whole entry, or its rest after the other assignments of the same entry.
    """

    entry: str
    number: str
    amount: Decimal | None = None


@dataclass
class Matching:
    """What :func:`match` decided. Every booked entry is in exactly one place: allocated,
    proposed, unexplained or unrelated; pending entries in none (the caller lists them)."""

    allocations: list[Allocation] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)
    unexplained: list[str] = field(default_factory=list)  # concern the partners, match nothing
    unrelated: list[str] = field(default_factory=list)  # salaries, rent, fees …


class ClerkAssignmentError(ValueError):
    """The clerk's assignments cannot be carried out; every problem, in German."""

    def __init__(self, problems: Sequence[str]):
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


# ---------------------------------------------------------------- folding and tokens

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "\u2010": "-", "\u2011": "-",
                       "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-"})
_BINDERS = "-_"  # join letters and digits into one token
_DIGIT_BINDERS = "./"  # join digits only (5.1234.5678)
_SHAPED = re.compile(r"(?:19|20)\d\d-[^\W\d_]")  # a year, a hyphen, a letter
_AFTER_NON_ALNUM = re.compile(r"(?<![^\W_])")  # every position not preceded by a letter/digit
_END = ""  # trie key marking "a key ends here" (never a character)


def fold(text: str) -> str:
    """A text as references are compared: case, umlauts, dashes and spaces do not count.

    >>> fold("Rechnung 2024-Lüdinghausen"), fold("RE 2024–LUEDINGHAUSEN"), fold("Straße")
    ('rechnung2024-luedinghausen', 're2024-luedinghausen', 'strasse')
    """
    return "".join(_fold_spaced(text).split())


def _fold_spaced(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold().translate(_FOLD)


@dataclass(frozen=True)
class _Folded:
    """A folded text without whitespace, and the positions that had whitespace before them."""

    text: str
    gaps: frozenset[int]

    @classmethod
    def of(cls, text: str) -> _Folded:
        pieces = _fold_spaced(text).split()
        gaps, at = set(), 0
        for piece in pieces:
            gaps.add(at)
            at += len(piece)
        return cls("".join(pieces), frozenset(gaps))

    def joined(self, p: int) -> bool:
        """Do the characters left and right of position ``p`` belong to one token?"""
        s, gaps = self.text, self.gaps
        if p <= 0 or p >= len(s):
            return False
        left, right = s[p - 1], s[p]
        if left.isalnum() and right.isalnum():
            return p not in gaps
        if left in _BINDERS and right.isalnum():
            return p >= 2 and s[p - 2].isalnum() and not (p - 1 in gaps and p in gaps)
        if left.isalnum() and right in _BINDERS:
            return p + 1 < len(s) and s[p + 1].isalnum() and not (p in gaps and p + 1 in gaps)
        if left.isdigit() and right in _DIGIT_BINDERS:
            return p + 1 < len(s) and s[p + 1].isdigit() and not gaps & {p, p + 1}
        if left in _DIGIT_BINDERS and right.isdigit():
            return p >= 2 and s[p - 2].isdigit() and not gaps & {p - 1, p}
        return False

    def starts(self) -> set[int]:
        """Where a token may start: after whitespace or after anything but a letter/digit."""
        found = {m.start() for m in _AFTER_NON_ALNUM.finditer(self.text)} | self.gaps
        found.discard(len(self.text))
        return found


def _add_key(trie: dict, key: str) -> None:
    node = trie
    for ch in key:
        node = node.setdefault(ch, {})
    node[_END] = True


def _whole_tokens(folded: _Folded, trie: dict) -> list[tuple[int, int]]:
    """(start, end) of every key of the trie standing as a whole token in the text."""
    s = folded.text
    hits = []
    for b in folded.starts():
        if s[b] not in trie or folded.joined(b):
            continue
        node = trie
        for i in range(b, len(s)):
            node = node.get(s[i])
            if node is None:
                break
            if _END in node and not folded.joined(i + 1):
                hits.append((b, i + 1))
    return hits


def _longest_first(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans that survive when the longer of two overlapping ones wins."""
    kept: list[tuple[int, int]] = []
    for b, e in sorted(spans, key=lambda span: (span[0] - span[1], span[0])):
        if all(e <= kb or ke <= b for kb, ke in kept):
            kept.append((b, e))
    return sorted(kept)


# ---------------------------------------------------------------- the index of the bills


@dataclass
class _References:
    """What an entry's texts name (bills of any account)."""

    numbers: list[OpenItem]  # Rechnungsnummern, in text order, each once
    kassenzeichen: list[str]  # folded Kassenzeichen
    partner_named: bool
    shaped: bool  # something looking like a Rechnungsnummer


class _Index:
    """Every bill by folded number, Kassenzeichen and partner; one trie for all their tokens."""

    def __init__(self, items: Sequence[OpenItem]):
        self.trie: dict = {}
        self.by_number: dict[str, OpenItem] = {}
        self.by_kassenzeichen: dict[str, list[OpenItem]] = defaultdict(list)
        self.partner_keys: set[str] = set()
        self.by_partner: dict[tuple[str, str], list[OpenItem]] = defaultdict(list)
        self.partners_by_iban: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.ibans: set[str] = set()
        for item in items:
            self._add(item)
        for bills in self.by_partner.values():
            bills.sort(key=_oldest_first)

    def _add(self, item: OpenItem) -> None:
        key = fold(item.number)
        if not key:
            raise ValueError(f"Rechnung ohne Rechnungsnummer (Kommune {item.partner})")
        if key in self.by_number:
            raise ValueError(f"Rechnungsnummer doppelt: {self.by_number[key].number}, "
                             f"{item.number}")
        self.by_number[key] = item
        _add_key(self.trie, key)
        if kassenzeichen := fold(item.kassenzeichen):
            self.by_kassenzeichen[kassenzeichen].append(item)
            _add_key(self.trie, kassenzeichen)
        if partner := fold(item.partner):
            self.partner_keys.add(partner)
            _add_key(self.trie, partner)
        self.by_partner[item.account, item.partner].append(item)
        for iban in filter(None, map(_compact_iban, item.partner_ibans)):
            self.partners_by_iban[item.account, iban].add(item.partner)
            self.ibans.add(iban)

    def item(self, number: str) -> OpenItem | None:
        return self.by_number.get(fold(number))

    def references(self, entry: BankEntry) -> _References:
        numbers: dict[str, OpenItem] = {}
        kassenzeichen: list[str] = []
        partner_named = shaped = False
        texts = ("\n".join(entry.remittance), entry.end_to_end, entry.reference, entry.name)
        for field_no, text in enumerate(texts):
            folded = _Folded.of(text)
            spans = _whole_tokens(folded, self.trie)
            keys = [folded.text[b:e] for b, e in spans]
            partner_named = partner_named or any(k in self.partner_keys for k in keys)
            shaped = shaped or bool(_SHAPED.search(folded.text))
            if field_no == len(texts) - 1:  # a payer's name names the payer, not a bill
                continue
            for b, e in _longest_first(s for s, k in zip(spans, keys, strict=True)
                                       if k in self.by_number or k in self.by_kassenzeichen):
                key = folded.text[b:e]
                if key in self.by_number:
                    numbers.setdefault(key, self.by_number[key])
                elif key not in kassenzeichen:
                    kassenzeichen.append(key)
        return _References(list(numbers.values()), kassenzeichen, partner_named, shaped)


def _compact_iban(iban: str) -> str:
    """``DE26 4015 …`` → ``DE264015…``: how IBANs are compared."""
    return "".join(iban.split()).upper()


def _oldest_first(item: OpenItem) -> tuple[date, str]:
    return item.due, item.number


def _sign(amount: Decimal) -> int:
    return (amount > 0) - (amount < 0)


# ---------------------------------------------------------------- the clerk's assignments


def _clerk_plan(clerk: Sequence[ClerkAssignment], entries: dict[str, BankEntry],
                index: _Index) -> dict[str, list[tuple[OpenItem, Decimal]]]:
    """entry → (bill, signed amount) as the clerk decided; every problem at once."""
    wanted: dict[str, list[ClerkAssignment]] = defaultdict(list)
    problems: list[str] = []
    for assignment in clerk:
        entry = entries.get(assignment.entry)
        item = index.item(assignment.number)
        if entry is None:
            problems.append(f"Buchung {assignment.entry}: nicht in den gelesenen Kontoauszügen.")
        if item is None:
            problems.append(f"Buchung {assignment.entry}: eine Rechnung "
                            f"{assignment.number} gibt es im Jahresordner nicht.")
        if entry is not None and item is not None and item.account != entry.account:
            problems.append(
                f"Buchung {entry.identity}: Rechnung {item.number} wurde über das Konto "
                f"{iban_groups(item.account)} abgerechnet, die Buchung steht auf dem Konto "
                f"{iban_groups(entry.account)}.")
        amount_problems = _amount_problems(assignment)
        problems += amount_problems
        if entry is not None and item is not None and not amount_problems:
            wanted[entry.identity].append(assignment)
    plans = {}
    for identity, assignments in wanted.items():
        plan, trouble = _split(entries[identity], assignments, index)
        plans[identity] = plan
        problems += trouble
    if problems:
        raise ClerkAssignmentError(problems)
    return plans


def _amount_problems(assignment: ClerkAssignment) -> list[str]:
    amount = assignment.amount
    if amount is None:
        return []
    if not amount.is_finite() or amount != amount.quantize(CENT):
        return [f"Buchung {assignment.entry}: {amount} ist kein Betrag in ganzen Cent."]
    if amount <= 0:
        return [f"Buchung {assignment.entry}: der Betrag für Rechnung {assignment.number} "
                f"muss größer als 0 sein, nicht {format_eur(amount)} (er bekommt das "
                "Vorzeichen der Buchung)."]
    return []


def _split(entry: BankEntry, assignments: list[ClerkAssignment],
           index: _Index) -> tuple[list[tuple[OpenItem, Decimal]], list[str]]:
    """The clerk's split of one entry: the amounts given, the rest to the one assignment
    without an amount; without one, the rest overpays the last bill named (as in SPEC § 9's
    rules 3 and 4, "the rest is an overpayment of the last")."""
    whole = abs(entry.amount)
    given = sum((a.amount for a in assignments if a.amount is not None), ZERO)
    rests = [a for a in assignments if a.amount is None]
    problems = []
    if whole == 0:
        problems.append(f"Buchung {entry.identity} lautet auf 0,00 €: nichts zuzuordnen.")
    elif given > whole:
        problems.append(f"Buchung {entry.identity}: die Aufteilung ergibt {format_eur(given)}, "
                        f"die Buchung lautet nur auf {format_eur(whole)}.")
    if len(rests) > 1:
        named = ", ".join(a.number for a in rests)
        problems.append(f"Buchung {entry.identity}: der Rest kann nur an eine Rechnung gehen, "
                        f"nicht an {named}.")
    if problems:
        return [], problems
    sign = _sign(entry.amount)
    plan = [[index.item(a.number), a.amount] for a in assignments if a.amount is not None]
    rest = whole - given
    if rests:
        plan.append([index.item(rests[0].number), rest])
    elif rest:
        plan[-1][1] += rest
    return [(item, sign * amount) for item, amount in plan if amount], []


# ---------------------------------------------------------------- the run


class _Run:
    """Entries in booking order against the bills, open amounts moving as money arrives."""

    def __init__(self, index: _Index, items: Sequence[OpenItem]):
        self.index = index
        self.paid = {item.number: item.paid for item in items}
        self.result = Matching()

    def settle(self, entry: BankEntry, plan: list[tuple[OpenItem, Decimal]] | None) -> None:
        if plan is not None:
            self._book(entry, Rule.CLERK, plan)
            return
        refs = self.index.references(entry)
        decided = self._by_number(entry, refs)
        if decided is None:
            decided = self._by_kassenzeichen(entry, refs)
        if decided:
            self._book(entry, *decided)
        elif decided is None and not refs.numbers and (proposal := self._proposal(entry)):
            self.result.proposals.append(Proposal(entry.identity, proposal.number))
        elif decided is not None or self._related(entry, refs):
            self.result.unexplained.append(entry.identity)
        else:
            self.result.unrelated.append(entry.identity)

    # A rule returns None when it does not apply, () when it applies but finds no fitting
    # bill (the entry is then unexplained), else the rule and the shares.

    def _by_number(self, entry: BankEntry, refs: _References):
        named = [item for item in refs.numbers if item.account == entry.account]
        if not named:
            return None
        fitting = [item for item in named if self._fits(entry, item)]
        if len(fitting) == 1:
            return Rule.NUMBER, [(fitting[0], entry.amount)]
        return (Rule.SEVERAL, self._spread(entry, fitting)) if fitting else ()

    def _by_kassenzeichen(self, entry: BankEntry, refs: _References):
        if not refs.kassenzeichen:
            return None
        partners = {item.partner for key in refs.kassenzeichen
                    for item in self.index.by_kassenzeichen[key] if item.account == entry.account}
        if len(partners) != 1:  # none of this account's, or ambiguous: the clerk decides
            return ()
        bills = self.index.by_partner[entry.account, partners.pop()]
        fitting = [item for item in bills if self._fits(entry, item)]
        return (Rule.KASSENZEICHEN, self._spread(entry, fitting)) if fitting else ()

    def _proposal(self, entry: BankEntry) -> OpenItem | None:
        partners = self.index.partners_by_iban.get((entry.account, _compact_iban(entry.iban)))
        if entry.reversal or not partners or len(partners) != 1:
            return None
        (partner,) = partners
        exact = [item for item in self.index.by_partner[entry.account, partner]
                 if self._fits(entry, item) and self._room(entry, item) == abs(entry.amount)]
        return exact[0] if len(exact) == 1 else None

    def _related(self, entry: BankEntry, refs: _References) -> bool:
        return bool(refs.numbers or refs.kassenzeichen or refs.partner_named or refs.shaped
                    or _compact_iban(entry.iban) in self.index.ibans)

    @staticmethod
    def _fits(entry: BankEntry, item: OpenItem) -> bool:
        """Payments pay bills of their direction; reversals undo payments of the other."""
        direction = _sign(entry.amount) * (-1 if entry.reversal else 1)
        return direction != 0 and _sign(item.amount) == direction

    def _room(self, entry: BankEntry, item: OpenItem) -> Decimal:
        """How much of the entry (as a positive amount) the bill takes before it is settled:
        its open amount, or for a reversal what was paid on it."""
        paid = self.paid[item.number]
        left = -paid if entry.reversal else item.amount - paid
        return max(ZERO, _sign(entry.amount) * left)

    def _spread(self, entry: BankEntry, bills: list[OpenItem]) -> list[tuple[OpenItem, Decimal]]:
        """Each bill up to its room, oldest due first (a reversal undoes the newest first);
        the rest is an overpayment of the last bill that took a share (of the last bill of
        all when none was open)."""
        order = sorted(bills, key=_oldest_first, reverse=entry.reversal)
        left, shares = abs(entry.amount), []
        for item in order:
            take = min(self._room(entry, item), left)
            if take:
                shares.append([item, take])
                left -= take
        if left:
            if shares:
                shares[-1][1] += left
            else:
                shares.append([order[-1], left])
        sign = _sign(entry.amount)
        return [(item, sign * take) for item, take in shares]

    def _book(self, entry: BankEntry, rule: Rule,
              shares: list[tuple[OpenItem, Decimal]]) -> None:
        for item, amount in shares:
            self.paid[item.number] += amount
            self.result.allocations.append(Allocation(entry.identity, item.number, amount, rule))


def booking_order(entry: BankEntry) -> tuple[date, str]:
    """Entries are matched by booking date, then identity (an entry without a date first)."""
    return entry.booked or entry.value_date or date.min, entry.identity


def match(entries: Sequence[BankEntry], items: Sequence[OpenItem],
          clerk: Sequence[ClerkAssignment] = ()) -> Matching:
    """Decide, for every booked entry, which bills it pays (SPEC § 9, rules 1–6).

    Only bills of the entry's account are candidates; pending entries are never allocated;
    entries are matched in :func:`booking_order`, so a second payment of a bill overpays it.
    The allocations of an entry add up to its amount exactly.

    Raises :class:`ClerkAssignmentError` (a ``ValueError``, German message) when the clerk's
    assignments cannot be carried out, and ``ValueError`` for two entries with one identity
    or two bills with one Rechnungsnummer (after folding): the caller's data is broken.
    """
    by_identity: dict[str, BankEntry] = {}
    for entry in entries:
        if by_identity.setdefault(entry.identity, entry) is not entry:
            raise ValueError(f"Buchung {entry.identity} doppelt übergeben")
    index = _Index(items)
    plans = _clerk_plan(clerk, by_identity, index)
    run = _Run(index, items)
    for entry in sorted(entries, key=booking_order):
        if entry.is_booked:
            run.settle(entry, plans.get(entry.identity))
    check_matching(run.result, entries, items)
    return run.result


def check_matching(matching: Matching, entries: Sequence[BankEntry],
                   items: Sequence[OpenItem] = ()) -> None:
    """Invariants of every matching, or kim-excel has a bug (:class:`InvariantViolation`).

    - every allocation belongs to a booked entry, is not zero and has the entry's sign; the
      allocations of an entry add up to its amount exactly;
    - every booked entry is in exactly one of: allocated, proposed, unexplained, unrelated;
      no pending entry is in any;
    - with ``items``: every allocated or proposed bill exists and is of the entry's account.
    """
    by_identity = {entry.identity: entry for entry in entries}
    bills = {item.number: item for item in items}
    problems: list[str] = []
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for allocation in matching.allocations:
        entry = by_identity.get(allocation.entry)
        if entry is None or not entry.is_booked:
            problems.append(f"{allocation.entry}: allocated, but not a booked entry")
            continue
        if _sign(allocation.amount) != _sign(entry.amount) or not allocation.amount:
            problems.append(f"{allocation.entry}: allocation {allocation.amount} against "
                            f"entry {entry.amount}")
        totals[allocation.entry] += allocation.amount
        problems += _bill_problems(entry, allocation.number, bills)
    for identity, total in totals.items():
        if total != by_identity[identity].amount:
            problems.append(f"{identity}: allocations add up to {total}, "
                            f"not {by_identity[identity].amount}")
    for proposal in matching.proposals:
        if proposal.entry in by_identity:
            problems += _bill_problems(by_identity[proposal.entry], proposal.number, bills)
    problems += _partition_problems(matching, entries, set(totals))
    if problems:
        raise InvariantViolation("; ".join(problems))


def _bill_problems(entry: BankEntry, number: str, bills: dict[str, OpenItem]) -> list[str]:
    if not bills:
        return []
    if number not in bills:
        return [f"{entry.identity}: no bill {number}"]
    if bills[number].account != entry.account:
        return [f"{entry.identity}: bill {number} is of another account"]
    return []


def _partition_problems(matching: Matching, entries: Sequence[BankEntry],
                        allocated: set[str]) -> list[str]:
    places = [allocated, [p.entry for p in matching.proposals], matching.unexplained,
              matching.unrelated]
    seen: dict[str, int] = defaultdict(int)
    for place in places:
        for identity in place:
            seen[identity] += 1
    booked = {entry.identity for entry in entries if entry.is_booked}
    problems = [f"{identity}: in {count} places" for identity, count in seen.items()
                if count > 1]
    problems += [f"{identity}: not a booked entry" for identity in seen if identity not in booked]
    problems += [f"{identity}: booked, but nowhere" for identity in booked - set(seen)]
    return problems
