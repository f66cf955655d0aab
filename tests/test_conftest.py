"""The test setup itself: LibreOffice tests skip on a developer's machine without it, with the
one line that installs it, and fail instead of skipping in CI.

Each check runs the real LibreOffice test of ``tests/test_planning.py`` in a fresh pytest
process whose PATH holds no ``soffice`` (only a folder with a fake ``pdfinfo``, so that the
missing program is exactly LibreOffice).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import INSTALL_LINE

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # each runs pytest in a fresh process
TEST = "tests/test_planning.py::test_libreoffice_recalculates_every_formula_to_the_written_value"


def run_pytest(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "pdfinfo").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "pdfinfo").chmod(0o755)
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env.update(PATH=str(bin_dir), PYTHONPATH=str(ROOT))
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs",
                           "-q", TEST], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_without_libreoffice_a_developer_sees_a_skip_with_the_install_line(tmp_path):
    done = run_pytest(tmp_path, ci=None)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout
    assert f"soffice fehlt – installieren mit: {INSTALL_LINE}" in done.stdout


def test_in_ci_a_missing_libreoffice_fails_the_run(tmp_path):
    done = run_pytest(tmp_path, ci="true")
    assert done.returncode == 1, done.stdout + done.stderr
    # the skip happens while setting the test up, so pytest counts it as an error
    assert "1 error" in done.stdout and "skipped" not in done.stdout
    assert "In CI darf ein Test mit Markierung libreoffice nicht übersprungen werden" in (
        done.stdout)
    assert INSTALL_LINE in done.stdout


def test_ci_false_is_a_developer_machine(tmp_path):
    done = run_pytest(tmp_path, ci="false")
    assert done.returncode == 0 and "1 skipped" in done.stdout, done.stdout


INNER_SKIP = '''
import pytest


@pytest.mark.einvoice
def test_needs_the_validator():
    pytest.skip("saxonche fehlt")


def test_unmarked_may_skip():
    pytest.skip("nur unter Windows")
'''


def test_a_skip_inside_a_marked_test_also_fails_in_ci(tmp_path):
    """Not only the missing program: any skip of an e-invoice or LibreOffice test, here
    from inside the test, fails in CI; an unmarked test may still skip."""
    (tmp_path / "test_inner.py").write_text(INNER_SKIP)
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider",
               "-q", "-rs", "test_inner.py"]
    here = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert here.returncode == 0 and "2 skipped" in here.stdout, here.stdout
    ci = subprocess.run(command, cwd=tmp_path, env={**env, "CI": "true"}, capture_output=True,
                        text=True, timeout=120)
    assert ci.returncode == 1, ci.stdout
    assert "1 failed, 1 skipped" in ci.stdout
    assert "Markierung einvoice nicht übersprungen werden: saxonche fehlt" in ci.stdout
