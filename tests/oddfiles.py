"""Odd input files for the hardening tests: what finance staff really drop into ``input/``.

Each helper writes a real file: a legacy ``.xls`` container, a password-protected ``.xlsx``,
an OpenDocument spreadsheet, a workbook re-zipped with one part changed, a workbook edited
and saved by openpyxl (which stores formulas without results).
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

FREE, END, FAT_SECTOR, NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _dir_entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return struct.pack(
        "<64sHBBIII16sIQQIII",
        encoded, len(encoded), kind, 1, NO_STREAM, NO_STREAM, child, b"\0" * 16, 0, 0, 0,
        start, size, 0,
    )


def ole_container(path: Path, stream: str = "Workbook", size: int = 4096) -> Path:
    """A minimal OLE compound file (what .xls and encrypted .xlsx files are) holding one
    stream, e.g. ``Workbook`` as in every legacy Excel file. olefile reads it."""
    sectors = size // 512
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\0" * 16, 0x3E, 3, 0xFFFE, 9, 6, b"\0" * 6,
        0, 1, 1, 0, 4096, END, 0, END, 0,
    )
    header += struct.pack("<109I", 0, *([FREE] * 108))
    fat = [FAT_SECTOR, END] + [3 + i for i in range(sectors - 1)] + [END]
    fat += [FREE] * (128 - len(fat))
    directory = (
        _dir_entry("Root Entry", 5, 1, END, 0)
        + _dir_entry(stream, 2, NO_STREAM, 2, size)
        + _dir_entry("", 0, NO_STREAM, 0, 0) * 2
    )
    body = struct.pack("<128I", *fat) + directory + b"\x09\x08" * (size // 2)
    path.write_bytes(header + body)
    return path


def encrypted(source: Path, target: Path, password: str = "Kämmerei2024") -> Path:
    """The workbook as Excel saves it with 'Encrypt with password' (an OLE container)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    with source.open("rb") as plain, target.open("wb") as out:
        OOXMLFile(plain).encrypt(password, out)
    return target


def opendocument(path: Path) -> Path:
    """A small but real OpenDocument spreadsheet, as LibreOffice writes it."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
            '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
            'manifest:full-path="/" manifest:media-type='
            '"application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>'))
        archive.writestr("content.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office='
            '"urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table='
            '"urn:oasis:names:tc:opendocument:xmlns:table:1.0"><office:body>'
            '<office:spreadsheet><table:table table:name="Einstellungen"/>'
            '</office:spreadsheet></office:body></office:document-content>'))
    return path


Edit = Callable[[bytes], bytes | None]


def rezip(source: Path, target: Path, edits: dict[str, Edit] | None = None,
          extra: dict[str, bytes] | None = None) -> Path:
    """Copy a workbook member by member; ``edits`` change a member's bytes (None deletes
    it), ``extra`` adds members."""
    edits = edits or {}
    data: dict[str, bytes] = {}
    with zipfile.ZipFile(source) as archive:
        for info in archive.infolist():
            content = archive.read(info.filename)
            if info.filename in edits:
                content = edits[info.filename](content)
            if content is not None:
                data[info.filename] = content
    data.update(extra or {})
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in data.items():
            archive.writestr(name, content)
    return target


def sheet_member(path: Path, sheet: str) -> str:
    """The zip member that holds the named sheet (``xl/worksheets/sheetN.xml``)."""
    import re

    with zipfile.ZipFile(path) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
        rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet [^>]*name="{re.escape(sheet)}"[^>]*r:id="(rId\d+)"', workbook)[1]
    target = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*/>', rels)[0]
    target = re.search(r'Target="([^"]+)"', target)[1]
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def edited_with_openpyxl(path: Path, edit: Callable[[object], None]) -> Path:
    """Open with openpyxl, change, save in place: like a script or a non-calculating tool."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    edit(book)
    book.save(path)
    return path


def deflate_repeated(chunk: bytes, times: int) -> bytes:
    """A raw deflate stream of ``chunk`` repeated ``times``, made in milliseconds: one fully
    flushed segment (independent of what came before) is simply repeated."""
    import zlib

    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    return segment * times + zlib.compressobj(9, zlib.DEFLATED, -15).flush()


def handmade_zip(target: Path, members: list[tuple[str, bytes, int, int]]) -> Path:
    """A zip written byte by byte: (name, raw deflate data, CRC-32, declared size) per
    member, so that a test can declare sizes and checksums that do not match the data."""
    out = bytearray()
    central = bytearray()
    for name, data, crc, size in members:
        encoded = name.encode()
        offset = len(out)
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data),
                           size, len(encoded), 0) + encoded + data
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc,
                               len(data), size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members),
                      len(central), len(out), 0)
    target.write_bytes(bytes(out + central + end))
    return target


def members_of(path: Path) -> list[tuple[str, bytes, int, int]]:
    """The members of a real workbook in the form :func:`handmade_zip` takes."""
    import zlib

    result = []
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            content = archive.read(info.filename)
            compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
            data = compressor.compress(content) + compressor.flush()
            result.append((info.filename, data, zlib.crc32(content), len(content)))
    return result
