"""The floor: the xlsxwriter calls our writers make, replayed by a bare script.

``record`` runs the real settlement once with every ``xlsxwriter.Workbook`` replaced by a
recording proxy: each call on a workbook, worksheet, format or chart (``add_worksheet``,
``add_format``, ``write_*``, ``set_column``, ``merge_range``, ``insert_chart`` …) is
stored with its arguments, one pickled record per file. ``replay`` is the floor: a fresh
process that imports nothing but xlsxwriter and makes exactly those calls again into the
same number of files — the same cells, values, formulas and formats, with none of the
reading, validating, calculating or deciding around them. Loading the records is timed
apart and subtracted, so the floor's time is start-up + xlsxwriter's own work.

The recording needs no knowledge of the sheets' layout, so it stays right when the letter
changes; :func:`same_workbook` proves on every benchmark run that the replay writes the
very files the run wrote (creation timestamps aside).

    python3 benchmarks/floor.py record EINGANG AUSGABE AUFZEICHNUNG
    python3 benchmarks/floor.py replay AUFZEICHNUNG ORDNER [STICHPROBE]
"""

from __future__ import annotations

import copy
import json
import os
import pickle
import re
import sys
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Ref:
    """An xlsxwriter object of the recording (0 is the workbook)."""

    id: int


@dataclass
class Record:
    """Everything one file needs: its name, the Workbook options, the calls in order.

    A call is ``(object, method, args, kwargs, result)``; ``result`` is the Ref under which
    a returned worksheet, format or chart is known to later calls (or None).
    """

    file: str
    options: dict
    calls: list[tuple] = field(default_factory=list)


class Recorder:
    """Hands out proxies for one workbook and keeps its calls."""

    def __init__(self, record: Record, sink) -> None:
        self.record = record
        self.sink = sink
        self.refs: dict[int, Ref] = {}  # id(real object) → Ref
        self.keep: list[object] = []  # the real objects, so that their ids stay unique

    def ref_for(self, real: object) -> Ref:
        ref = self.refs.get(id(real))
        if ref is None:
            ref = self.refs[id(real)] = Ref(len(self.refs))
            self.keep.append(real)
        return ref

    def encode(self, value: object) -> object:
        """Arguments as plain data: proxies (and known real objects) become Refs."""
        if isinstance(value, Proxy):
            return object.__getattribute__(value, "_ref")
        if isinstance(value, (list, tuple)):
            return type(value)(self.encode(v) for v in value)
        if isinstance(value, dict):
            return {k: self.encode(v) for k, v in value.items()}
        if type(value).__module__.startswith("xlsxwriter."):
            if id(value) not in self.refs:
                raise RecordingError(f"unbekanntes xlsxwriter-Objekt als Argument: {value!r}")
            return self.refs[id(value)]
        return value

    def wrap(self, value: object) -> tuple[object, object]:
        """A returned xlsxwriter object as a proxy, and the Ref (or list of Refs) it gets."""
        if isinstance(value, list) and value and all(is_xlsxwriter(v) for v in value):
            pairs = [self.wrap(v) for v in value]
            return [p for p, _ in pairs], [r for _, r in pairs]
        if is_xlsxwriter(value):
            ref = self.ref_for(value)
            return Proxy(value, ref, self), ref
        return value, None

    def finish(self) -> None:
        pickle.dump(self.record, self.sink, protocol=pickle.HIGHEST_PROTOCOL)
        self.refs.clear()
        self.keep.clear()


def is_xlsxwriter(value: object) -> bool:
    """An object of xlsxwriter's, or of a subclass of one (our worksheet class)."""
    return any(cls.__module__.startswith("xlsxwriter.") for cls in type(value).__mro__) \
        and not isinstance(value, (str, int, float))


class RecordingError(RuntimeError):
    """The writers did something the recording cannot replay."""


class Proxy:
    """Stands in for a workbook, worksheet, format or chart; records, then forwards."""

    __slots__ = ("_target", "_ref", "_recorder")

    def __init__(self, target: object, ref: Ref, recorder: Recorder) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_ref", ref)
        object.__setattr__(self, "_recorder", recorder)

    def __getattr__(self, name: str):
        target = object.__getattribute__(self, "_target")
        attr = getattr(target, name)
        if name.startswith("_") or not callable(attr):
            return attr
        ref = object.__getattribute__(self, "_ref")
        recorder: Recorder = object.__getattribute__(self, "_recorder")

        def call(*args, **kwargs):
            # The floor is bare xlsxwriter: it replays with xlsxwriter's own Worksheet, not
            # our subclass that skips the future-function regexes (styles.add_sheet).
            bare = {k: v for k, v in kwargs.items() if k != "worksheet_class"}
            encoded = (recorder.encode(args), recorder.encode(bare))
            result = attr(*unwrap(args), **unwrap(kwargs))
            value, result_ref = recorder.wrap(result)
            recorder.record.calls.append((ref, name, *encoded, result_ref))
            if name == "close" and ref.id == 0:
                recorder.finish()
            return value

        return call

    def __setattr__(self, name: str, value: object) -> None:
        recorder: Recorder = object.__getattribute__(self, "_recorder")
        ref = object.__getattribute__(self, "_ref")
        recorder.record.calls.append((ref, "__setattr__", (name, recorder.encode(value)), {},
                                      None))
        setattr(object.__getattribute__(self, "_target"), name, unwrap(value))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def unwrap(value: object) -> object:
    if isinstance(value, Proxy):
        return object.__getattribute__(value, "_target")
    if isinstance(value, (list, tuple)):
        return type(value)(unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    return value


@contextmanager
def recording(sink):
    """Replace ``xlsxwriter.Workbook`` (and every kim_excel name bound to it) by a factory
    that returns recording proxies; each closed workbook is pickled into ``sink``."""
    import xlsxwriter
    import xlsxwriter.workbook

    original = xlsxwriter.Workbook
    counter = iter(range(1, 10**9))

    def factory(filename=None, options=None):
        given = copy.deepcopy(options or {})  # before xlsxwriter changes nested dicts in it
        real = original(filename, options)
        if isinstance(filename, (str, os.PathLike)):
            name = Path(filename).name
        else:  # a file-like object: the floor writes a file of its own name
            name = f"Arbeitsmappe_{next(counter)}.xlsx"
        recorder = Recorder(Record(name, given), sink)
        return Proxy(real, recorder.ref_for(real), recorder)

    patched = [(xlsxwriter, "Workbook"), (xlsxwriter.workbook, "Workbook")]
    patched += [(module, name) for module_name, module in list(sys.modules.items())
                if module_name.startswith("kim_excel") and module is not None
                for name, value in vars(module).items() if value is original]
    for module, name in patched:
        setattr(module, name, factory)
    try:
        yield
    finally:
        for module, name in patched:
            setattr(module, name, original)


def record(eingang: Path, ausgabe: Path, target: Path) -> int:
    """Run the real settlement in this process, one worker, and record every workbook."""
    from datetime import date

    from kim_excel.commands.settle import run_settlement

    with open(target, "wb") as sink, recording(sink):
        result = run_settlement(eingang, ausgabe, today=date.today(), workers=1)
    return len(result.files)


def load_records(source: Path):
    with open(source, "rb") as handle:
        while True:
            try:
                yield pickle.load(handle)
            except EOFError:
                return


def replay(source: Path, folder: Path, sample: int | None = None) -> dict[str, float]:
    """The floor: the recorded calls into fresh files, xlsxwriter in memory (its fastest
    mode). Returns the seconds spent loading the records (not part of the floor).

    ``sample``: only the first ``sample`` partner letters and every other workbook (for
    the fidelity check); ``records`` still counts them all.
    """
    import xlsxwriter

    folder.mkdir(parents=True, exist_ok=True)
    loading = writing = 0.0
    files = letters = records_seen = 0
    records = load_records(source)
    while True:
        started = time.perf_counter()
        rec = next(records, None)
        skip = False
        if rec is not None:
            records_seen += 1
            if rec.file.startswith("Abrechnung_"):
                letters += 1
                skip = sample is not None and letters > sample
            calls = [] if skip else [plan(call) for call in rec.calls]
        loaded = time.perf_counter()
        loading += loaded - started
        if rec is None:
            break
        if skip:
            continue
        objects = {0: xlsxwriter.Workbook(str(folder / rec.file),
                                          {**rec.options, "in_memory": True})}
        for target, name, args, kwargs, result, refs, nested in calls:
            if nested:
                args, kwargs = resolve(args, objects), resolve(kwargs, objects)
            elif refs:
                args = list(args)
                for i in refs:
                    args[i] = objects[args[i].id]
            if name == "__setattr__":
                setattr(objects[target], *args)
                continue
            value = getattr(objects[target], name)(*args, **kwargs)
            if result is not None:
                if isinstance(result, Ref):
                    objects[result.id] = value
                else:
                    objects.update({r.id: v for r, v in zip(result, value, strict=True)})
        files += 1
        writing += time.perf_counter() - loaded
    return {"files": files, "records": records_seen, "load_seconds": loading,
            "write_seconds": writing}


def plan(call: tuple) -> tuple:
    """A recorded call made ready to replay (while loading, untimed): where its arguments
    hold formats or charts, so that replaying does no more than a hand-written script."""
    target, name, args, kwargs, result = call
    refs = tuple(i for i, a in enumerate(args) if isinstance(a, Ref))
    nested = has_ref(kwargs) or any(has_ref(a) for a in args if not isinstance(a, Ref))
    return target.id, name, args, kwargs, result, refs, nested


def has_ref(value: object) -> bool:
    if isinstance(value, Ref):
        return True
    if isinstance(value, (list, tuple)):
        return any(has_ref(v) for v in value)
    if isinstance(value, dict):
        return any(has_ref(v) for v in value.values())
    return False


def resolve(value: object, objects: dict[int, object]) -> object:
    if isinstance(value, Ref):
        return objects[value.id]
    if isinstance(value, (list, tuple)):
        return type(value)(resolve(v, objects) for v in value)
    if isinstance(value, dict):
        return {k: resolve(v, objects) for k, v in value.items()}
    return value


TIMESTAMPS = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)")


def same_workbook(ours: Path, floor: Path) -> bool:
    """The same zip members with the same bytes; only the creation time may differ
    (xlsxwriter stamps the clock unless the writer sets ``created``)."""
    with zipfile.ZipFile(ours) as a, zipfile.ZipFile(floor) as b:
        if sorted(a.namelist()) != sorted(b.namelist()):
            return False
        for name in a.namelist():
            x, y = a.read(name), b.read(name)
            if name == "docProps/core.xml":
                x, y = TIMESTAMPS.sub(rb"\1\3", x), TIMESTAMPS.sub(rb"\1\3", y)
            if x != y:
                return False
    return True


def main(argv: list[str]) -> None:
    if argv[:1] == ["record"] and len(argv) == 4:
        files = record(Path(argv[1]), Path(argv[2]), Path(argv[3]))
        print(json.dumps({"files": files}))
    elif argv[:1] == ["replay"] and len(argv) in (3, 4):
        sample = int(argv[3]) if len(argv) == 4 else None
        print(json.dumps(replay(Path(argv[1]), Path(argv[2]), sample)))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks import floor  # the records' classes under their importable name

    floor.main(sys.argv[1:])
