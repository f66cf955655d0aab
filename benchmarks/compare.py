"""Interleaved comparison with another commit: ``python3 benchmarks/run.py --gegen REV``.

The commit is checked out into a temporary ``git worktree`` (removed afterwards, also on
Ctrl+C or SIGTERM). Each scenario's input is written once, by this tree's ``scenarios.py``,
and both trees read the very same file. Every run is a fresh process
``python -m kim_excel abrechnen --eingang … --ausgabe <fresh folder>`` started in its tree's
folder with ``PYTHONPATH`` set to it, so ``python -m`` imports that tree's ``kim_excel``
(checked once per tree); both use this interpreter and its installed packages.

Order: per scenario one untimed warm-up run of each tree (the new worktree has no ``.pyc``
files yet, and the first run reads the packages from disk), then for the default number of
processes and for ``--prozesse 1`` rounds of A B, B A, A B, … (ABBA; A = the other commit,
B = this tree). A drift of the machine's load during the measurement then falls on both
sides alike, and neither side always runs first; with an even ``--repeat`` each side leads
equally often. Printed: each side's median wall time and median CPU time (user + system of
the run and the processes it waited for, which other load disturbs less than the wall
clock), the ratio this ÷ REV of both, and the spread (min–max) of each side.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from benchmarks.common import de, load_average

ROOT = Path(__file__).resolve().parent.parent
WORKTREE_PREFIX = "kim-gegen-"
STANDARD, SINGLE = "Standard", "1 Prozess"  # default number of processes, `--prozesse 1`
OURS = "aktuell"
# Issue 20: the last commit before the record, e-invoices and GiroCode, and the goals
# against it (scenario, mode, highest ratio this ÷ that commit).
ISSUE_20_BASE = "e3e74bb"
ISSUE_20_GOALS = (("Beispiel", STANDARD, 0.75, "Beispiel als frischer Prozess"),
                  ("NRW", SINGLE, 1.15, "NRW (alle Anschreiben in einem Prozess)"))
MISSING_MODULE = re.compile(r"ModuleNotFoundError: No module named '([^']+)'")
REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

Log = Callable[[str], None]


class CompareError(Exception):
    """The comparison cannot go on; the message (German) says why."""


class RunFailed(Exception):
    def __init__(self, code: int, stderr: str) -> None:
        super().__init__(code, stderr)
        self.code, self.stderr = code, stderr


@dataclass(frozen=True)
class Tree:
    label: str  # what the table calls it: "aktuell" or the commit's short hash
    folder: Path  # where `python -m kim_excel` starts (and so what it imports)


@dataclass(frozen=True)
class Timing:
    seconds: float  # wall clock of the fresh process
    cpu_seconds: float  # user + system of the run and the processes it waited for


@dataclass
class Comparison:
    """One scenario in one mode: the timed runs of both trees."""

    scenario: str
    mode: str
    letters: int  # Abrechnung_*.xlsx that this tree wrote
    ours: list[Timing] = field(default_factory=list)
    theirs: list[Timing] = field(default_factory=list)

    @staticmethod
    def median(runs: list[Timing], attr: str = "seconds") -> float:
        return statistics.median(getattr(t, attr) for t in runs)

    def ratio(self, attr: str = "seconds") -> float:
        """This tree ÷ the other commit: below 1 means faster now."""
        return self.median(self.ours, attr) / self.median(self.theirs, attr)


def order(repeat: int) -> str:
    """The timed runs of one mode, A = the other commit, B = this tree: ABBA ABBA …"""
    return "".join("AB" if i % 2 == 0 else "BA" for i in range(repeat))


def git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise CompareError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def resolve(rev: str) -> str:
    """The full hash of ``rev``; a German error if this repository has no such commit."""
    try:
        return git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except CompareError:
        raise CompareError(f"„{rev}“ ist kein Commit dieses Repositorys.") from None


@contextmanager
def temporary_worktree(commit: str) -> Iterator[Path]:
    """``commit`` checked out (detached) in a temporary folder; gone afterwards, whatever
    happened inside (an error, Ctrl+C), from the disk and from ``git worktree list``."""
    parent = Path(tempfile.mkdtemp(prefix=WORKTREE_PREFIX))
    folder = parent / "baum"
    try:
        git("worktree", "add", "--detach", "--quiet", str(folder), commit)
        yield folder
    finally:
        try:
            git("worktree", "remove", "--force", str(folder))
        except CompareError:  # not added, or its folder already gone: forget it in git too
            shutil.rmtree(folder, ignore_errors=True)
            subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], capture_output=True)
        shutil.rmtree(parent, ignore_errors=True)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """A ``kill`` cleans up like Ctrl+C does (the worktree's ``finally``)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def tree_env(tree: Tree) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree.folder)}


def check_imports(tree: Tree) -> None:
    """Make sure a process started in ``tree.folder`` imports that tree's kim_excel (and not
    the editable install of another tree)."""
    done = subprocess.run([sys.executable, "-c", "import kim_excel; print(kim_excel.__file__)"],
                          cwd=tree.folder, env=tree_env(tree), capture_output=True, text=True)
    imported = Path(done.stdout.strip()).resolve()
    if done.returncode != 0 or not imported.is_relative_to(tree.folder.resolve()):
        raise CompareError(f"{tree.label}: ein Prozess in {tree.folder} importiert kim_excel "
                           f"nicht von dort, sondern „{imported}“ {done.stderr.strip()}")


def settle(tree: Tree, source: Path, target: Path, mode: str) -> Timing:
    """One fresh ``python -m kim_excel abrechnen`` in ``tree``; raises RunFailed."""
    command = [sys.executable, "-m", "kim_excel", "abrechnen", "--eingang", str(source),
               "--ausgabe", str(target)]
    if mode == SINGLE:
        command += ["--prozesse", "1"]
    with tempfile.TemporaryFile() as err:  # a file, not a pipe: a full pipe stalls the run
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=tree.folder, env=tree_env(tree),
                                stdout=subprocess.DEVNULL, stderr=err)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # Ctrl+C: take the run down with us
            proc.kill()
            proc.wait()
            raise
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise RunFailed(proc.returncode, err.read().decode(errors="replace"))
    return Timing(seconds, usage.ru_utime + usage.ru_stime)


def missing_requirements(pyproject: Path) -> list[str]:
    """The runtime requirements ``pyproject`` declares that this interpreter lacks."""
    try:
        declared = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return []
    missing = []
    for requirement in declared:
        try:
            metadata.version(REQUIREMENT_NAME.match(requirement).group())
        except metadata.PackageNotFoundError:
            missing.append(requirement)
    return missing


def diagnose(tree: Tree, failed: RunFailed) -> str:
    """Why ``tree`` could not run: a missing package (with the pip command that installs
    what the tree declares and this interpreter lacks) or input it cannot read."""
    module = MISSING_MODULE.search(failed.stderr)
    if module:
        packages = (missing_requirements(tree.folder / "pyproject.toml")
                    or [module.group(1).split(".")[0]])
        pip = shlex.join([sys.executable, "-m", "pip", "install", *packages])
        return (f"{tree.label} startet nicht: das Modul „{module.group(1)}“ fehlt. "
                f"Installieren mit:\n    {pip}")
    tail = [line for line in failed.stderr.strip().splitlines() if line.strip()][-6:]
    return (f"{tree.label} kann die Eingabe (geschrieben von diesem Stand) nicht verarbeiten, "
            f"Exit-Status {failed.code}:\n" + "\n".join(f"    {line}" for line in tail))


def count_letters(target: Path) -> int:
    return len(list(target.glob("*/Abrechnung_*.xlsx")))


def timed(tree: Tree, source: Path, target: Path, mode: str) -> tuple[Timing, int]:
    """``settle`` into a fresh folder that is removed afterwards; with the number of letters
    written. A failure of this tree ends the comparison (CompareError); one of the other
    commit is the caller's to explain."""
    try:
        timing = settle(tree, source, target, mode)
        return timing, count_letters(target)
    except RunFailed as failed:
        if tree.label != OURS:
            raise
        raise CompareError(f"Der aktuelle Stand scheitert selbst:\n{failed.stderr}") from None
    finally:
        shutil.rmtree(target, ignore_errors=True)


def warm_up(trees: tuple[Tree, Tree], source: Path, work: Path) -> int:
    """One untimed run of each tree; the number of letters this tree writes."""
    theirs, ours = trees
    timed(theirs, source, work / "warm-A", STANDARD)
    return timed(ours, source, work / "warm-B", STANDARD)[1]


def compare_scenario(name: str, source: Path, trees: tuple[Tree, Tree], repeat: int,
                     work: Path, log: Log) -> tuple[list[Comparison], list[str]]:
    """Both modes of one scenario, interleaved; failures of the other commit as text."""
    theirs, ours = trees
    work.mkdir(parents=True, exist_ok=True)
    try:
        letters = warm_up(trees, source, work)
    except RunFailed as failed:
        return [], [f"{name}: {diagnose(theirs, failed)}"]
    comparisons = []
    for mode in (STANDARD, SINGLE):
        comparison = Comparison(name, mode, letters)
        try:
            for index, side in enumerate(order(repeat)):
                tree, runs = (theirs, comparison.theirs) if side == "A" else \
                    (ours, comparison.ours)
                runs.append(timed(tree, source, work / f"lauf-{index}", mode)[0])
        except RunFailed as failed:
            return comparisons, [f"{name} ({mode}): {diagnose(theirs, failed)}"]
        log(f"  {name} {mode}: {ours.label} {de(comparison.median(comparison.ours))} s, "
            f"{theirs.label} {de(comparison.median(comparison.theirs))} s, Verhältnis "
            f"{de(comparison.ratio())}")
        comparisons.append(comparison)
    return comparisons, []


def spread(runs: list[Timing]) -> str:
    seconds = [t.seconds for t in runs]
    return f"{de(min(seconds))}–{de(max(seconds))}"


def table(comparisons: list[Comparison], theirs: str) -> list[str]:
    lines = [f"| Szenario | Modus | Abrechnungen | {OURS} (s) | {theirs} (s) | "
             f"{OURS} ÷ {theirs} | CPU {OURS} (s) | CPU {theirs} (s) | CPU {OURS} ÷ {theirs} | "
             f"Streuung {OURS} (s) | Streuung {theirs} (s) |",
             "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for c in comparisons:
        lines.append(
            f"| {c.scenario} | {c.mode} | {de(c.letters, 0)} | {de(c.median(c.ours))} | "
            f"{de(c.median(c.theirs))} | {de(c.ratio())} | "
            f"{de(c.median(c.ours, 'cpu_seconds'))} | {de(c.median(c.theirs, 'cpu_seconds'))} | "
            f"{de(c.ratio('cpu_seconds'))} | {spread(c.ours)} | {spread(c.theirs)} |")
    return lines


def goals(comparisons: list[Comparison], commit: str) -> list[str]:
    """Issue 20's goals, when the other commit is the one they are set against."""
    if not commit.startswith(ISSUE_20_BASE):
        return []
    lines = []
    for scenario, mode, limit, label in ISSUE_20_GOALS:
        for c in comparisons:
            if (c.scenario, c.mode) == (scenario, mode):
                verdict = "erfüllt" if c.ratio() <= limit else "VERFEHLT"
                lines.append(f"- {verdict}: {label} höchstens {de(limit)} × {ISSUE_20_BASE} — "
                             f"gemessen {de(c.ratio())} × (CPU-Zeit "
                             f"{de(c.ratio('cpu_seconds'))} ×)")
    return ["", "Ziele (Issue 20):", "", *lines] if lines else []


def header(commit: str, theirs: Tree, repeat: int) -> list[str]:
    described = git("log", "-1", "--format=%cs „%s“", commit)
    head = git("rev-parse", "--short", "HEAD")
    changed = git("status", "--porcelain", "--untracked-files=no", "--", "kim_excel")
    lines = [f"Vergleich mit {theirs.label} ({described}), ausgecheckt in einen temporären "
             f"Arbeitsbaum; {OURS} = dieser Ordner ({head}"
             f"{', mit nicht eingecheckten Änderungen' if changed else ''}).",
             f"Reihenfolge ABBA (A = {theirs.label}, B = {OURS}): je Szenario erst ein "
             f"ungemessener Lauf je Seite, dann {repeat} Läufe je Seite und Modus im Wechsel "
             f"{order(min(repeat, 2))}…; jeder Lauf ein frischer Prozess `python -m kim_excel "
             f"abrechnen` im Ordner seines Stands, beide mit {sys.executable}."]
    lacking = missing_requirements(theirs.folder / "pyproject.toml")
    if lacking:
        lines.append(f"{theirs.label} erklärt außerdem, hier nicht installiert: "
                     f"{', '.join(lacking)}.")
    return lines


def compare(rev: str, inputs: dict[str, Path], repeat: int, work: Path, log: Log) -> list[str]:
    """Run every scenario in ``inputs`` on this tree and on commit ``rev``, interleaved;
    the German report (header, table, failures, goals) as lines."""
    commit = resolve(rev)
    ours = Tree(OURS, ROOT)
    with sigterm_as_interrupt(), temporary_worktree(commit) as folder:
        theirs = Tree(git("rev-parse", "--short", commit), folder)
        log(f"Arbeitsbaum für {theirs.label}: {folder} (wird danach entfernt)")
        for tree in (theirs, ours):
            check_imports(tree)
        lines = header(commit, theirs, repeat)
        comparisons, failures = [], []
        for name, source in inputs.items():
            log(f"{name} …")
            done, failed = compare_scenario(name, source, (theirs, ours), repeat,
                                            work / f"gegen-{name}", log)
            comparisons += done
            failures += failed
    lines += ["", *table(comparisons, theirs.label)] if comparisons else []
    lines += ["", "Nicht verglichen:", *failures] if failures else []
    lines += goals(comparisons, commit)
    lines += ["", f"Last danach (1/5/15 min): {load_average()}"]
    return lines
