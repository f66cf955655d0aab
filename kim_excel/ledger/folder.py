"""Atomic output: a run's files appear all at once or not at all, and nothing is lost.

A run writes ``<ausgabe>/<J>/`` into a staging folder beside it, then swaps the folders with
two renames. Every file of the old folder is carried over into the new one first, except the
files the run replaces or removes that it wrote itself (the year folder's record says which,
with their hashes) and nobody changed since; a changed one is kept under a new name. A lock
file keeps two runs on the same output folder apart. A run killed between the two renames
leaves the old folder under a hidden name; the next run puts it back before it starts.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kim_excel.core.errors import KimError, OutputLocked
from kim_excel.core.files import link_or_copy

# What a settlement run produces; everything else in <J>/ belongs to other commands.
GENERATED = re.compile(
    r"^(Abrechnung_\d{4}_[A-Za-z0-9_-]+\.(xlsx|pdf|xml)|Uebersicht_\d{4}\.xlsx|"
    r"Korrektur_\d{4}_[A-Za-z0-9_-]+_\d+\.(xlsx|pdf|xml)|"
    r"Buchungsliste_\d{4}(_Korrektur_\d+)?\.csv|LIESMICH\.txt|\.kim-excel-record\.json)$"
)
LOCK_NAME = ".kim-excel.lock"


@contextmanager
def output_lock(ausgabe: Path) -> Iterator[None]:
    from filelock import FileLock, Timeout

    ausgabe.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(ausgabe / LOCK_NAME), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise OutputLocked(
            f"Ein anderer kim-excel-Lauf schreibt gerade in „{ausgabe}“. Bitte warten, bis er "
            f"fertig ist, und dann erneut starten."
        ) from None
    try:
        yield
    finally:
        lock.release()


def recover(target: Path) -> None:
    """Put back a folder that a killed run left renamed aside, and sweep its leftovers.

    Only the two-rename fallback of :func:`publish` can leave ``target`` missing (killed
    between the renames); the old folder then waits under ``.<J>.alt-<pid>``.
    """
    parent = target.parent
    if not parent.exists():
        return
    aside = sorted(parent.glob(f".{target.name}.alt-*"), key=lambda p: p.stat().st_mtime)
    if aside and not target.exists():
        aside[-1].rename(target)
        aside = aside[:-1]
    for leftover in [*aside, *parent.glob(f".{target.name}.neu-*")]:
        shutil.rmtree(leftover, ignore_errors=True)


Carry = Callable[[Path, Path], None]  # (old folder, new folder)


@contextmanager
def staged_folder(target: Path, carry: Carry | None = None) -> Iterator[Path]:
    """Yield an empty staging folder; on success it replaces ``target`` atomically.

    ``carry(old, new)`` brings what is to stay from the old folder into the new one, right
    before the swap. The caller must hold :func:`output_lock` for ``target.parent``.
    """
    recover(target)
    staging = target.parent / f".{target.name}.neu-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        yield staging
        publish(staging, target, carry or carry_everything)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def publish(staging: Path, target: Path, carry: Carry) -> None:
    """Make ``staging`` the new ``target``. Where the system can swap two folders in one
    step (Linux), readers see the old or the new folder and never none; elsewhere two
    renames leave a short gap that :func:`recover` closes if the run dies in it."""
    if target.exists():
        carry(target, staging)
        if exchange(staging, target):
            return  # staging now holds the old folder; staged_folder removes it
    aside = target.parent / f".{target.name}.alt-{os.getpid()}"
    try:
        if target.exists():
            target.rename(aside)
        staging.rename(target)
    except PermissionError:
        if aside.exists() and not target.exists():
            aside.rename(target)
        raise KimError(
            f"„{target}“ kann nicht ersetzt werden: vermutlich ist eine Datei daraus in Excel "
            f"geöffnet. Bitte schließen und erneut starten; die bisherigen Ergebnisse sind "
            f"unverändert."
        ) from None
    shutil.rmtree(aside, ignore_errors=True)


def exchange(a: Path, b: Path) -> bool:
    """Swap two folders atomically (Linux ``renameat2(RENAME_EXCHANGE)``).

    False where that does not exist or the file system refuses it (some network shares):
    the caller falls back to two renames.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EXDEV, errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), str(b))


def carry_everything(old: Path, new: Path) -> None:
    carry_over(old, new, {}, set())


@dataclass
class Carried:
    removed: list[str] = field(default_factory=list)  # ours, unchanged: replaced or removed
    kept: list[tuple[str, str]] = field(default_factory=list)  # changed: (old name, kept as)


def carry_over(old: Path, new: Path, owned: Mapping[str, str], remove: set[str]) -> Carried:
    """Bring every file of ``old`` into ``new`` except those the run replaces (already in
    ``new``) or removes (``remove``) that it wrote itself and nobody changed since
    (``owned``: relative path → the recorded SHA-256). A replaced file that is not ours, or
    changed since, stays under a free name (``…_bearbeitet.xlsx``); one to be removed stays
    where it is. Relative paths use ``/``."""
    import hashlib

    done = Carried()
    for path in sorted(old.rglob("*")):
        rel = path.relative_to(old).as_posix()
        target = new / rel
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        replaced = target.exists()
        if replaced or rel in remove:
            if rel in owned and hashlib.sha256(path.read_bytes()).hexdigest() == owned[rel]:
                done.removed.append(rel)
                continue
            if replaced:
                free = free_name(old, new, rel)
                link_or_copy(path, new / free)
                done.kept.append((rel, free))
                continue
            done.kept.append((rel, rel))
        target.parent.mkdir(parents=True, exist_ok=True)
        link_or_copy(path, target)
    return done


def free_name(old: Path, new: Path, rel: str) -> str:
    """``Abrechnung_2024_Olfen.xlsx`` → ``Abrechnung_2024_Olfen_bearbeitet.xlsx`` (``_2`` …),
    a name taken in neither folder."""
    path = Path(rel)
    for number in range(1, 1000):
        suffix = "_bearbeitet" + (f"_{number}" if number > 1 else "")
        candidate = path.with_name(f"{path.stem}{suffix}{path.suffix}").as_posix()
        if not (old / candidate).exists() and not (new / candidate).exists():
            return candidate
    raise KimError(f"Für „{rel}“ ist kein freier Name zu finden.")
