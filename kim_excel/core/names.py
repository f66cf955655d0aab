"""Names of Kommunen as people write them: the one place where a written name is matched
to a party of ``Vertragsparteien``.

A party is named by its plain name (``Nottuln``) or by the form's full designation,
Bezeichnung + Kommune as printed on the letters (``Gemeinde Nottuln``, ``Stadt Dülmen``);
case and spaces do not matter. Anything else is not a party; when a party's name is close
(``Duelmen``, ``Dulmen``, ``Nordkirchn``) the message suggests it. For that comparison
umlauts and their transliterations are folded together (ü = ue = u).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Protocol

SUGGESTION_CUTOFF = 0.75  # difflib ratio: "duelmen"/"dulmen" 0.92, "olfen"/"senden" 0.36
FOLD = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"))


def normalise(text: object) -> str:
    """Header and key matching: case-insensitive, surrounding and repeated spaces ignored."""
    return re.sub(r"\s+", " ", str(text)).strip().casefold()



class Named(Protocol):
    name: str
    bezeichnung: str


def designations(party: Named) -> tuple[str, ...]:
    """The normalised ways ``party`` may be written: ``nottuln``, ``gemeinde nottuln``."""
    full = f"{party.bezeichnung} {party.name}".strip()
    return (normalise(party.name), normalise(full))


def resolve(name: str, parties: Iterable[Named]) -> str | None:
    """The party's name (as in ``Vertragsparteien``) that ``name`` designates, else None.

    >>> from kim_excel.core.agreement import COESFELD_PARTIES as P
    >>> from types import SimpleNamespace as N
    >>> parties = [N(name=p[0], bezeichnung=p[1]) for p in P]
    >>> resolve("Gemeinde  nottuln", parties), resolve("STADT Dülmen", parties)
    ('Nottuln', 'Dülmen')
    >>> resolve("Duelmen", parties) is None
    True
    """
    return resolver(parties)(name)


def resolver(parties: Iterable[Named]) -> Callable[[str], str | None]:
    """:func:`resolve` for many names against the same parties (one index, built once)."""
    index: dict[str, str] = {}
    for party in parties:
        for written in designations(party):
            index.setdefault(written, party.name)
    return lambda name: index.get(normalise(name))


def fold(text: str) -> str:
    """For suggestions only: case, spaces, umlauts and transliterations folded together."""
    text = normalise(text)
    for umlaut, spelled in FOLD:
        text = text.replace(umlaut, spelled)
    return re.sub(r"[^a-z0-9]", "", text)


def suggest(name: str, parties: Iterable[Named]) -> str | None:
    """The party name closest to ``name`` (plain or with its Bezeichnung), if one is close.

    >>> from types import SimpleNamespace as N
    >>> suggest("Duelmen", [N(name="Dülmen", bezeichnung="Stadt"), N(name="Olfen", bezeichnung="")])
    'Dülmen'
    """
    choices: dict[str, str] = {}
    for party in parties:
        for written in (party.name, f"{party.bezeichnung} {party.name}"):
            choices.setdefault(fold(written), party.name)
    wanted = fold(name)
    if not wanted:
        return None
    if wanted in choices:  # "Duelmen" for "Dülmen": only the transliteration differs
        return choices[wanted]
    close = difflib.get_close_matches(wanted, list(choices), n=1, cutoff=SUGGESTION_CUTOFF)
    return choices[close[0]] if close else None


def unknown_party(name: str, parties: Iterable[Named], rest: str = "") -> str:
    """``„Duelmen“ ist keine Vertragspartei – meinten Sie „Dülmen“? <Rest>`` (the rest
    starts with a lower-case letter: it follows a semicolon when nothing is suggested)."""
    head = f"„{name}“ ist keine Vertragspartei"
    guess = suggest(name, parties)
    if guess is None:
        return f"{head}; {rest}" if rest else f"{head}."
    head += f" – meinten Sie „{guess}“?"
    return f"{head} {rest[:1].upper()}{rest[1:]}" if rest else head


def with_party_names(item, parties: Iterable[Named],
                     error: Callable[[object, str], None] | None = None):
    """One workbook's costs, subsidies, hours and advances with every name that designates
    a party written as in ``Vertragsparteien`` (``Gemeinde Nottuln`` → ``Nottuln``), so that
    every later check and the calculation see one spelling. Unknown names stay as written
    (the checks report them). Two rows of Förderung or Stunden that name the same party both
    ways (``Olfen``, ``Stadt Olfen``) are an ``error(where, message)`` at the second."""
    known = resolver(parties)

    def fix(name: str) -> str:
        return known(name) or name

    def keyed(amounts: dict) -> dict:
        result: dict = {}
        for key, value in amounts.items():
            name = fix(key)
            if name in result:
                if error is not None:
                    error(value[1], f"„{key}“ steht doppelt (als „{name}“ zuerst in "
                                    f"{result[name][1]}); erlaubt ist eine Zeile je Kommune.")
                continue
            result[name] = value
        return result

    return replace(
        item,
        positions=[replace(p, employer=fix(p.employer)) for p in item.positions],
        material_costs=[replace(c, employer=fix(c.employer)) for c in item.material_costs],
        subsidies=keyed(item.subsidies),
        hours=keyed(item.hours),
        advances=[replace(a, party=fix(a.party)) for a in item.advances],
    )
