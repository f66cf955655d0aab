"""Run kim-excel as a real process, the way a clerk does (``python -m kim_excel``), and the
example settled that way in a folder (shared by the tests of corrections and of a settlement's
life)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.builders import D, example_2024, write

ROOT = Path(__file__).resolve().parents[1]


def run_kim(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "kim_excel", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, encoding="utf-8", timeout=120)


def kim(*args: object, cwd: Path, day: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``kim-excel …`` as a real process, on ``day`` (``2025-03-05``) through faketime, without
    the SMTP settings of the developer's shell."""
    base = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    env = {**{k: v for k, v in base.items() if not k.startswith("KIM_SMTP")}, **(env or {})}
    command = [sys.executable, "-m", "kim_excel", *map(str, args)]
    if day is not None:
        command = ["faketime", f"{day} 10:00:00", *command]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=180)


def form(date_given: bool = True, nord_extra: str = "0", **settings):
    """The example; ``nord_extra`` more personnel costs for the first Nord position (4,000.00
    raise each Nord share by 1,000.00); ``date_given=False`` leaves the date empty."""
    content = example_2024()
    if not date_given:
        content.settings["Datum der Abrechnung"] = None
    content.positions[0]["Personalkosten"] = D("65200.00") + D(nord_extra)
    content.settings.update(settings)
    return content


def put(tmp_path: Path, content) -> None:
    """``content`` as the only workbook in ``tmp_path/input``."""
    for old in (tmp_path / "input").glob("*.xlsx"):
        old.unlink()
    write(content, tmp_path / "input" / "Abrechnung_2024.xlsx")


def settled(tmp_path: Path, content=None, day: str | None = None) -> Path:
    """``kim-excel abrechnen`` in ``tmp_path`` (on ``day``); the year folder ``output/2024``."""
    put(tmp_path, content or form())
    done = kim("abrechnen", cwd=tmp_path, day=day)
    assert done.returncode == 0, done.stderr
    return tmp_path / "output" / "2024"
