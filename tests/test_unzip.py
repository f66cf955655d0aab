"""Bounded ZIP unpacking (input/unzip.py): the real bytes under a budget, damaged, encrypted
and bomb archives refused, whatever the archive's directory claims."""

from __future__ import annotations

import time
import zipfile
import zlib
from pathlib import Path

import pytest

from kim_excel.input.unzip import Limits, ZipRefused, unpack
from tests.oddfiles import deflate_repeated, handmade_zip

MB = 1024 * 1024
ROOMY = Limits(member=8 * MB, total=16 * MB, ratio=200)


def archive(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in members.items():
            target.writestr(name, data)
    return path


def reason(path: Path, limits: Limits = ROOMY) -> str:
    with pytest.raises(ZipRefused) as caught:
        list(unpack(path, limits))
    return caught.value.reason


def test_the_wanted_members_come_with_their_bytes(tmp_path):
    path = archive(tmp_path / "a.zip", {"a.xml": b"<a/>", "b/": b"", "c.txt": b"c" * 5000})
    found = [(info.filename, data)
             for info, data in unpack(path, ROOMY, wanted=lambda i: i.filename != "a.xml")]
    assert found == [("c.txt", b"c" * 5000)]  # folders and unwanted members left out


def test_a_member_or_the_total_beyond_its_limit_is_too_large(tmp_path):
    noise = bytes(range(256)) * 400  # 100 KB that hardly compress
    one = archive(tmp_path / "one.zip", {"a": noise})
    assert reason(one, Limits(member=50_000, total=MB, ratio=200)) == "too large"
    three = archive(tmp_path / "three.zip", {"a": noise, "b": noise, "c": noise})
    assert reason(three, Limits(member=MB, total=250_000, ratio=200)) == "too large"
    assert len(list(unpack(three, Limits(member=MB, total=400_000, ratio=200)))) == 3


def test_a_bomb_is_stopped_by_its_ratio_after_about_a_megabyte(tmp_path):
    stream = deflate_repeated(b"\0" * 65536, 20_000)  # 1.3 GB, claiming 1 KB
    bomb = handmade_zip(tmp_path / "bomb.zip", [("a.xml", stream, 0, 1024)])
    started = time.perf_counter()
    assert reason(bomb, Limits(member=2048 * MB, total=2048 * MB, ratio=200)) == "ratio"
    assert time.perf_counter() - started < 0.5


def test_a_wrong_checksum_or_a_lying_size_is_damaged(tmp_path):
    data = b"<Document/>" * 100
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    stream = compressor.compress(data) + compressor.flush()
    crc = zlib.crc32(data)
    assert reason(handmade_zip(tmp_path / "crc.zip", [("a", stream, crc ^ 1, len(data))])) \
        == "damaged"
    assert reason(handmade_zip(tmp_path / "size.zip", [("a", stream, crc, len(data) - 1)])) \
        == "damaged"
    good = handmade_zip(tmp_path / "good.zip", [("a", stream, crc, len(data))])
    assert [d for _, d in unpack(good, ROOMY)] == [data]


def test_an_encrypted_member_is_refused(tmp_path):
    assert reason(encrypted_zip(tmp_path / "secret.zip")) == "encrypted"


def test_what_is_no_zip_is_damaged(tmp_path):
    path = tmp_path / "a.zip"
    path.write_bytes(b"PK\x03\x04 and then nothing a zip needs")
    assert reason(path) == "damaged"


def encrypted_zip(path: Path) -> Path:
    """A ZIP whose member says it is encrypted (bit 0 of its flags), as a password tool
    writes it; the bytes behind it need not be real ciphertext for a reader to stop."""
    archive(path, {"a.xml": b"<a/>"})
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature)
        data[at + offset] |= 0x1
    path.write_bytes(bytes(data))
    return path
