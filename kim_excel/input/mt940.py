"""MT940 statements with the German ``:86:`` structure, read into bank entries.

The ``mt-940`` package parses the fields and splits the German ``:86:`` subfields: ``?20``–
``?29`` (``EREF+`` end-to-end reference, ``SVWZ+`` Verwendungszweck, continued across
subfields without repeating the tag), ``?31`` IBAN, ``?32``/``?33`` name of the other party.
What we add: decoding (German banks send UTF-8, Windows-1252 or Latin-1), the ``:86:`` joined
before the package sees it (it drops a space at the end of a line, and a bank breaks lines
anywhere, also after a space), line numbers for messages, the account as an IBAN, and the
checks every statement passes.

Glossary: Auszug (one ``:20:`` … ``:62F:`` block), Umsatz (``:61:`` with its ``:86:``),
Bankleitzahl/Kontonummer (the account before IBAN, still in ``:25:`` of older files).
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import mt940

from kim_excel.core.bank import BankEntry, Statement
from kim_excel.core.model import Problem
from kim_excel.core.money import ZERO, NotMoney, money
from kim_excel.input.bankfiles import (
    Refused,
    check_balance,
    check_euro,
    cut_lines,
    line,
    problem,
)

# The package logs every field it cannot parse; we report those ourselves, in German. Without
# a handler of its own, Python would print them to the clerk's terminal.
logging.getLogger("mt940").addHandler(logging.NullHandler())
# Every fix the package offers, among them ?31 as the IBAN, RC signed as the debit it is,
# :86: of any length and a leading byte-order mark dropped.
OPTIONS = mt940.Options.all()
TAG = re.compile(r"^:\n?(?P<tag>(?:[0-9]{2}|NS)[A-Z]?):")
IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
BANK_ACCOUNT = re.compile(r"([0-9]{8})/([0-9]{1,10})(?:EUR)?")
NO_REFERENCE = ("", "NONREF")
NOT_PROVIDED = "NOTPROVIDED"

UNREADABLE_MESSAGE = ("Das Feld :{tag}: ist nicht im MT940-Format und kann nicht gelesen "
                      "werden ({value}).")
NO_ACCOUNT_MESSAGE = "Das Konto (:25:) fehlt."
ACCOUNT_MESSAGE = "„{text}“ ist weder eine IBAN noch Bankleitzahl/Kontonummer."
NO_BALANCE_MESSAGE = "Der {which} (:{tag}:) fehlt; die Datei ist unvollständig."
AMOUNT_MESSAGE = "„{text}“ ist kein Betrag in ganzen Cent."


@dataclass(frozen=True)
class _Block:
    """One statement (from ``:20:`` on) with the line of each field."""

    text: str  # its fields, each ``:86:`` on one line
    first_line: int
    lines: dict[str, list[int]]  # tag → the lines it starts on, in order
    values: dict[str, list[str]]  # tag → its values, in the same order


def decode(data: bytes) -> str:
    """The text of an MT940 file: UTF-8 if it is that, else Windows-1252, else Latin-1."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def looks_like_mt940(text: str) -> bool:
    return re.search(r"(?m)^:20:", text) is not None and re.search(r"(?m)^:25:", text) is not None


def read_mt940(text: str, source: str) -> tuple[list[Statement], list[Problem]]:
    """Every statement of one MT940 file (text as :func:`decode` gives it), and the problems that
    keep them from being used."""
    statements: list[Statement] = []
    problems: list[Problem] = []
    for block in blocks(text):
        try:
            statements.append(statement(block, source))
        except Refused as refusal:
            problems.append(problem(source, refusal))
    return statements, problems


def blocks(text: str) -> list[_Block]:
    """The statements of a file, split at ``:20:``; each ``:86:`` joined onto one line."""
    found: list[_Block] = []
    fields: list[tuple[str, int, str]] = []  # (tag, line, value)
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        match = TAG.match(raw)
        if match and match.group("tag") == "20" and fields:
            found.append(_block(fields))
            fields = []
        if match:
            fields.append((match.group("tag"), number, raw))
        elif fields and raw.strip() not in ("", "-", "-}"):
            tag, start, value = fields[-1]
            # A line break inside :86: only wraps the text; other fields keep their lines.
            fields[-1] = (tag, start, value + raw if tag == "86" else f"{value}\n{raw}")
    if fields:
        found.append(_block(fields))
    return [block for block in found if "20" in block.lines]


def _block(fields: list[tuple[str, int, str]]) -> _Block:
    lines: dict[str, list[int]] = {}
    values: dict[str, list[str]] = {}
    for tag, number, value in fields:
        lines.setdefault(tag, []).append(number)
        values.setdefault(tag, []).append(value[len(tag) + 2:])
    return _Block("\n".join(value for _, _, value in fields), fields[0][1], lines, values)


def statement(block: _Block, source: str) -> Statement:
    parsed = parse_block(block)
    data = parsed.data
    account = account_iban(block, data.get("account_identification"))
    opening = _balance(block, data, ("60F", "60M", "60"), "Anfangssaldo")
    closing = _balance(block, data, ("62F", "62M", "62"), "Endsaldo")
    number = "/".join(filter(None, (data.get("statement_number"),
                                    data.get("sequence_number"))))
    # :20: is often the same in every file ("STARTUMSE") and :28C: starts again each year;
    # the opening balance's date makes the statement's identity unique.
    identity = "/".join(filter(None, (
        (data.get("transaction_reference") or "").strip(), number,
        opening[1].isoformat() if opening[1] else "")))
    entries = tuple(entry(block, index, transaction.data, account, identity, source)
                    for index, transaction in enumerate(parsed, 1))
    result = Statement(
        source=source, kind="MT940", version="", identity=identity, account=account,
        currency="EUR", opening=opening[0], closing=closing[0], opening_date=opening[1],
        closing_date=closing[1], entries=entries,
        booked_total=sum((e.amount for e in entries), ZERO))
    check_balance(result, line(_first(block, ("62F", "62M", "62"))))
    return result


def parse_block(block: _Block) -> mt940.models.Transactions:
    try:
        return mt940.parse(io.StringIO(block.text), options=OPTIONS)
    except RuntimeError as exc:  # the package's "Unable to parse <tag> from <value>"
        tag = getattr(exc.args[1], "id", "") if len(exc.args) > 2 else ""
        value = str(exc.args[2]) if len(exc.args) > 2 else str(exc)
        raise Refused(_line_of(block, str(tag), value), UNREADABLE_MESSAGE.format(
            tag=tag or "?", value=value[:40])) from None
    except (ValueError, ArithmeticError, KeyError, TypeError) as exc:
        raise Refused(line(block.first_line), UNREADABLE_MESSAGE.format(
            tag="20", value=f"{type(exc).__name__}: {exc}"[:80])) from None


def _line_of(block: _Block, tag: str, value: str) -> str:
    for candidate in (tag, *block.lines):
        for number, text in zip(block.lines.get(candidate, []), block.values.get(candidate, []),
                                strict=True):
            if text.strip() == value.strip():
                return line(number)
    return line(block.first_line)


def _first(block: _Block, tags: tuple[str, ...]) -> int:
    return next((block.lines[t][0] for t in tags if t in block.lines), block.first_line)


def _balance(block: _Block, data: dict, tags: tuple[str, ...], which: str
             ) -> tuple[Decimal, date | None]:
    slugs = {"60F": "final_opening_balance", "60M": "intermediate_opening_balance",
             "60": "opening_balance", "62F": "final_closing_balance",
             "62M": "intermediate_closing_balance", "62": "closing_balance"}
    found = next((data[slugs[t]] for t in tags if data.get(slugs[t]) is not None), None)
    if found is None or not hasattr(found.amount, "amount"):
        raise Refused(line(block.first_line),
                      NO_BALANCE_MESSAGE.format(which=which, tag=tags[0]))
    place = line(_first(block, tags))
    check_euro(found.amount.currency, place, account=True)
    return _cents(found.amount.amount, place), _plain(found.date)


def _plain(day) -> date | None:
    """A plain ``date`` for the package's ``Date`` (entries stay picklable without it)."""
    return date(day.year, day.month, day.day) if day else None


def _cents(value: Decimal, place: str) -> Decimal:
    try:
        return money(value)
    except (NotMoney, ValueError, ArithmeticError):
        raise Refused(place, AMOUNT_MESSAGE.format(text=str(value).replace(".", ","))) from None


def account_iban(block: _Block, text: str | None) -> str:
    """The account of ``:25:`` as an IBAN; Bankleitzahl/Kontonummer become a German IBAN."""
    if text is None:
        raise Refused(line(block.first_line), NO_ACCOUNT_MESSAGE)
    compact = "".join(text.split()).upper()
    found = BANK_ACCOUNT.fullmatch(compact)
    if found:
        return german_iban(found.group(1), found.group(2))
    if IBAN.fullmatch(compact):
        return compact
    raise Refused(line(_first(block, ("25",))), ACCOUNT_MESSAGE.format(text=text.strip()))


def german_iban(bank_code: str, account: str) -> str:
    """The IBAN of a German account by the standard rule (ISO 13616, MOD 97-10).

    >>> german_iban("37040044", "532013000")
    'DE89370400440532013000'

    A few banks derive their IBANs by rules of their own (Bundesbank "IBAN-Regeln"); their
    MT940 files give the IBAN in ``:25:`` anyway.
    """
    bban = bank_code + account.zfill(10)
    check = 98 - int(bban + "131400") % 97  # D = 13, E = 14, then "00"
    return f"DE{check:02d}{bban}"


def entry(block: _Block, index: int, data: dict, account: str, statement_id: str,
          source: str) -> BankEntry:
    place = line(block.lines["61"][index - 1]) if len(block.lines.get("61", [])) >= index \
        else line(block.first_line)
    status = (data.get("status") or "").upper()
    amount = _cents(data["amount"].amount, place)
    iban = "".join((data.get("applicant_iban") or "").split()).upper()
    end_to_end = (data.get("end_to_end_reference") or "").strip()
    text = data.get("purpose") or (data.get("transaction_details") or "").replace("\n", "")
    reference = (data.get("bank_reference") or "").strip()
    return BankEntry(
        # MT940 has no reference a bank promises to be unique: statement and position.
        identity=f"{account}/{statement_id}/{index}", account=account, amount=amount,
        booked=_plain(data.get("entry_date") or data.get("date")),
        value_date=_plain(data.get("date")),
        reversal=status.startswith("R"), name=(data.get("applicant_name") or "").strip(),
        iban=iban if IBAN.fullmatch(iban) else "", remittance=cut_lines(text),
        end_to_end="" if end_to_end == NOT_PROVIDED else end_to_end,
        bank_reference="" if reference.upper() in NO_REFERENCE else reference,
        source=source, statement=statement_id, position=index)
