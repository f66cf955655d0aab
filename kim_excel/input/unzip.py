"""ZIP members unpacked in bounded chunks: the real bytes, under a budget, checksum verified.

A ZIP can lie about its sizes in its directory, so nothing here trusts them: a member's
stream is inflated chunk by chunk until it ends or the budget is spent, and its CRC is checked
afterwards. A bomb therefore costs at most the budget. ``reading.py`` checks workbook
containers with :func:`inflate`; ``statements.py`` reads the bank's ZIP of statement files
with :func:`unpack`.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK = 64 * 1024
# Below this many unpacked bytes the compression ratio says nothing (tiny files compress well).
RATIO_FLOOR = 1024 * 1024


class ZipRefused(Exception):
    """A ZIP that is not read: ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str):
        assert reason in REASONS, reason
        self.reason = reason
        super().__init__(reason)


REASONS = ("damaged", "encrypted", "too large", "ratio")


@dataclass(frozen=True)
class Limits:
    member: int  # unpacked bytes of one member
    total: int  # unpacked bytes of all members together
    ratio: int  # unpacked / packed, above RATIO_FLOOR


def unpack(path: Path, limits: Limits,
           wanted: Callable[[zipfile.ZipInfo], bool] = lambda info: True,
           ) -> Iterator[tuple[zipfile.ZipInfo, bytes]]:
    """The wanted members of the ZIP at ``path``, one at a time, with their unpacked bytes.

    Raises :class:`ZipRefused` for a damaged or encrypted archive, a member or a total
    beyond ``limits``, or a compression ratio no real file has (a ZIP bomb).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, NotImplementedError, RuntimeError, EOFError):
        raise ZipRefused("damaged") from None
    total = 0
    with path.open("rb") as handle:
        for info in infos:
            if info.is_dir() or not wanted(info):
                continue
            if info.flag_bits & 0x1:
                raise ZipRefused("encrypted")
            data = _member(handle, info, min(limits.member, limits.total - total), limits.ratio)
            total += len(data)
            yield info, data


def _member(handle, info: zipfile.ZipInfo, budget: int, ratio: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    crc = 0
    try:
        for chunk, packed in _inflate(handle, info, budget):
            size += len(chunk)
            if size > budget:
                raise ZipRefused("too large")
            # Against the packed bytes read so far: a bomb is caught after a megabyte, not
            # after the hundreds its directory may admit to.
            if size > RATIO_FLOOR and size > ratio * max(1, packed):
                raise ZipRefused("ratio")
            crc = zlib.crc32(chunk, crc)
            parts.append(chunk)
    except ZipRefused:
        raise
    except Exception:  # noqa: BLE001 - zlib.error, struct.error, truncation: all "damaged"
        raise ZipRefused("damaged") from None
    if crc != info.CRC or size != info.file_size:
        raise ZipRefused("damaged")
    return b"".join(parts)


def inflate(handle, info: zipfile.ZipInfo, budget: int) -> Iterator[bytes]:
    """The real unpacked bytes of one member, read from its local header on, in chunks.

    The sizes in the zip directory are not trusted: a deflate stream is inflated until it
    ends (or the budget is exceeded), which is what any other reader would do too.
    """
    for chunk, _ in _inflate(handle, info, budget):
        yield chunk


def _inflate(handle, info: zipfile.ZipInfo, budget: int) -> Iterator[tuple[bytes, int]]:
    """:func:`inflate`, each chunk with the number of packed bytes read so far."""
    handle.seek(info.header_offset)
    header = handle.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise ValueError("bad local header")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    handle.seek(info.header_offset + 30 + name_len + extra_len)
    remaining = info.compress_size
    if info.compress_type == zipfile.ZIP_STORED:
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                raise ValueError("truncated")
            remaining -= len(chunk)
            yield chunk, info.compress_size - remaining
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise ValueError("unsupported compression")
    inflater = zlib.decompressobj(-15)
    produced = 0
    pending = b""
    while not inflater.eof:
        if not pending and remaining > 0:
            pending = handle.read(min(CHUNK, remaining))
            if not pending:
                raise ValueError("truncated")
            remaining -= len(pending)
        out = inflater.decompress(pending, CHUNK)
        pending = inflater.unconsumed_tail
        if not out and not pending and remaining <= 0 and not inflater.eof:
            raise ValueError("truncated deflate stream")
        if out:
            produced += len(out)
            yield out, info.compress_size - remaining - len(pending)
            if produced > budget:
                return
