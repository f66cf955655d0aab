"""Run kim-excel as a real process, the way a clerk does (``python -m kim_excel``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_kim(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "kim_excel", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, encoding="utf-8", timeout=120)
