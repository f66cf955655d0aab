"""The year folder's record: the one owner of state between runs (SPEC § 5, § 7).

``<ausgabe>/<J>/.kim-excel-record.json`` says what kim-excel wrote into the folder (file
names and content hashes), the figures of every region settled into it (its serialised
:class:`~kim_excel.core.model.RegionResult`: Decimals as strings, dates ISO), each region's state
and its corrections. The settlement run writes it into its staging folder together with the
files, so a killed run leaves the old record beside the old files. ``festschreiben`` and
``versenden`` replace it atomically. The commands read it instead of re-deriving state from
today's input and clock.

Glossary (after Frappe's ``docstatus``): a region's settlement is a draft (``Entwurf``) until
it is issued (``festgeschrieben``); an issued settlement is never changed, only followed by a
correction (``Korrektur``) round that names the number it corrects.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import types
import typing
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from pathlib import Path
from typing import Any

from kim_excel import __version__
from kim_excel.core.errors import KimError
from kim_excel.core.files import write_atomically
from kim_excel.core.model import RegionResult, Settings, Settlement
from kim_excel.core.references import invoice_number

RECORD_NAME = ".kim-excel-record.json"
VERSION = 1
DRAFT = "draft"
ISSUED = "issued"
STATE_TEXT = {DRAFT: "Entwurf", ISSUED: "festgeschrieben"}


# ------------------------------------------------------------------ serialising plain data


def to_data(value: Any) -> Any:
    """Plain JSON data for a model value: Decimals and Fractions as exact strings, dates
    ISO, enums by value; fields that are not compared (cell addresses) are left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.compare}
    if isinstance(value, Decimal | Fraction):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [to_data(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_data(v) for k, v in value.items()}
    return value


def plain(value: Any) -> Any:
    """``json.dumps`` default: one level of :func:`to_data`, the C encoder does the rest."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.compare}
    if isinstance(value, Decimal | Fraction):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(type(value).__name__)


def from_data(kind: Any, data: Any) -> Any:
    """The inverse of :func:`to_data` for the annotated type ``kind``."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        return from_data(options[0], data)
    if origin in (tuple, list):
        args = typing.get_args(kind)
        items = [from_data(args[0], v) for v in data]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        _, value_type = typing.get_args(kind)
        return {k: from_data(value_type, v) for k, v in data.items()}
    if kind is Any or kind is object:
        return data
    if dataclasses.is_dataclass(kind):
        hints = type_hints(kind)
        values = {f.name: from_data(hints[f.name], data[f.name])
                  for f in dataclasses.fields(kind) if f.compare and f.name in data}
        return kind(**values)
    if kind is Decimal:
        return Decimal(data)
    if kind is Fraction:
        return Fraction(data)
    if kind is date:
        return date.fromisoformat(data)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(data)
    return data


@functools.lru_cache(maxsize=64)
def type_hints(kind: type) -> dict[str, Any]:
    return typing.get_type_hints(kind)


def region_data(region: RegionResult) -> dict:
    """The region as JSON data (what the record stores and what runs compare)."""
    return json.loads(json.dumps(region, default=plain, ensure_ascii=False))


def region_from_data(data: dict) -> RegionResult:
    return from_data(RegionResult, data)


def context_data(settlement: Settlement) -> dict:
    """What a letter depends on besides its region: the agreement-wide settings, the rate and
    the writer's version (a new kim-excel may write other letters)."""
    return {"settings": to_data(settlement.settings),
            "subsidy_rate": str(settlement.subsidy_rate),
            "subsidy_rate_is_default": settlement.subsidy_rate_is_default,
            "writer": __version__}


def settlement_of(context: dict, regions: list[RegionResult]) -> Settlement:
    """A Settlement of ``regions`` in the recorded ``context`` (to rebuild a region's files)."""
    return Settlement(settings=from_data(Settings, context["settings"]),
                      subsidy_rate=Decimal(context["subsidy_rate"]),
                      subsidy_rate_is_default=context["subsidy_rate_is_default"],
                      regions=tuple(regions))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------ the record


@dataclass
class Correction:
    """One correction round of a region: the corrected figures and whom they concern."""

    round: int
    state: str  # DRAFT or ISSUED
    day: str  # ISO date of the run that wrote it: the correction's own date
    due: str  # ISO due date of the difference (R10 from ``day``)
    context: dict
    result: dict  # the corrected region (with the original settlement date)
    before: dict  # the region as billed before (the last issued version)
    # partner → {"file", "number", "corrects", "corrects_date"}
    letters: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class RegionEntry:
    state: str  # DRAFT or ISSUED
    settlement_date: str  # ISO: the date the letters carry
    context: dict
    result: dict  # the region as billed by the letters Abrechnung_<J>_<Kommune>.xlsx
    letters: dict[str, str] = field(default_factory=dict)  # partner → file name
    issued_on: str = ""
    corrections: list[Correction] = field(default_factory=list)

    def latest(self) -> dict:
        """The region's current figures: the last correction's, else the original's."""
        return self.corrections[-1].result if self.corrections else self.result

    def latest_issued(self) -> dict:
        issued = [c for c in self.corrections if c.state == ISSUED]
        return issued[-1].result if issued else self.result

    def open_correction(self) -> Correction | None:
        if self.corrections and self.corrections[-1].state == DRAFT:
            return self.corrections[-1]
        return None

    def last_document(self, partner: str) -> tuple[str, str]:
        """(Rechnungsnummer, ISO date) of the last issued document billing ``partner``."""

        for correction in reversed(self.corrections):
            if correction.state == ISSUED and partner in correction.letters:
                return correction.letters[partner]["number"], correction.day
        return invoice_number(int(self.context["settings"]["year"]), partner), \
            self.settlement_date


@dataclass
class FileEntry:
    sha256: str
    region: str = ""  # "" for the files of the whole folder


@dataclass
class Record:
    year: int
    version: int = VERSION
    files: dict[str, FileEntry] = field(default_factory=dict)  # relative path → entry
    regions: dict[str, RegionEntry] = field(default_factory=dict)  # in the folder's order
    drafts: dict[str, FileEntry] = field(default_factory=dict)  # E-Mails/… written by versenden
    settings: dict = field(default_factory=dict)  # the last run's context

    def rounds(self) -> list[int]:
        return sorted({c.round for e in self.regions.values() for c in e.corrections})


def read_record(folder: Path, year: int) -> Record:
    """The folder's record; an empty one where there is none yet."""
    path = folder / RECORD_NAME
    if not path.is_file():
        return Record(year=year)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError("version")
        return from_data(Record, data)
    except (OSError, ValueError, KeyError, TypeError, ArithmeticError):
        raise KimError(
            f"Die Verwaltungsdatei „{path}“ ist beschädigt oder von einer anderen kim-excel-"
            f"Version. Bitte nicht von Hand ändern; zur Not den Ordner „{folder}“ umbenennen "
            f"und neu abrechnen.") from None


def record_bytes(record: Record) -> bytes:
    return (json.dumps(record, default=plain, ensure_ascii=False, indent=1) + "\n").encode()


def write_record(folder: Path, record: Record) -> Path:
    """Replace the record atomically (festschreiben, versenden)."""

    path = folder / RECORD_NAME
    write_atomically(path, record_bytes(record))
    return path
