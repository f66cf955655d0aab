"""Files on disk (kim_excel/core/files.py): safe ASCII names, German reasons for system errors,
one file written atomically."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from kim_excel.core.files import ascii_name, link_or_copy, os_reason, write_atomically


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name, expected", [
    ("Lüdinghausen", "Luedinghausen"), ("Straß", "Strass"), ("Groß Ort", "Gross_Ort"),
    ("../../evil", "evil"), ("C:\\x", "C_x"), ("Café", "Cafe"), ("///", "Kommune"),
    ("A" * 80, "A" * 60), ("Ä" * 40, "Ae" * 30), ("A" * 59 + " Ort", "A" * 59),
])
def test_ascii_name_is_a_safe_short_file_name_part(name, expected):
    assert ascii_name(name) == expected


def test_os_errors_read_in_german_and_unknown_ones_keep_their_text():
    assert os_reason(OSError(errno.ENOSPC, "No space left on device")) == \
        "kein Speicherplatz mehr frei"
    assert os_reason(OSError(errno.EROFS, "Read-only")) == "das Laufwerk ist schreibgeschützt"
    assert os_reason(OSError(errno.EIO, "Input/output error")) == "Input/output error"


# ------------------------------------------------------------------ one file


def test_write_atomically_replaces_the_content_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "versand.csv"
    path.write_bytes(b"old")

    write_atomically(path, b"new")

    assert tree(tmp_path) == {"versand.csv": b"new"}


def test_a_failed_atomic_write_keeps_the_old_file_and_leaves_nothing_else(tmp_path,
                                                                          monkeypatch):
    path = tmp_path / ".kim-excel-record.json"
    path.write_bytes(b"old")

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        write_atomically(path, b"new")

    assert tree(tmp_path) == {".kim-excel-record.json": b"old"}


def test_os_reason_also_reads_an_error_wrapped_by_a_library():
    """xlsxwriter's FileCreateError carries the OSError as its first argument."""
    wrapped = Exception(OSError(errno.EACCES, "Permission denied"))
    assert os_reason(wrapped) == "keine Schreib- oder Leserechte"
    assert os_reason(ValueError("kaputt")) == "kaputt"


def test_link_or_copy_gives_the_same_bytes_and_leaves_the_source(tmp_path):
    source = tmp_path / "a.xlsx"
    source.write_bytes(b"letter")

    link_or_copy(source, tmp_path / "b.xlsx")

    assert tree(tmp_path) == {"a.xlsx": b"letter", "b.xlsx": b"letter"}
