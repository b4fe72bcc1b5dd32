"""Zip verification: the streaming check agrees with reading the whole file, never less strict."""
from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest
from archives import overlapping_zip
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from full_maja.download.zipcheck import (
    CorruptZip,
    StreamingZipCheck,
    UnsafeZip,
    check_of_prefix,
    check_zip_file,
    zip_is_sound,
)


def build_zip(compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        archive.writestr("P/P_QKL_ALL.jpg", b"\xff\xd8" + bytes(range(256)) * 40)
        archive.writestr("P/P_MTD_ALL.xml", b"<a>" + b"x" * 5000 + b"</a>")
        archive.writestr("P/empty", b"")
    return buffer.getvalue()


def stream(data: bytes, cuts: list[int]) -> StreamingZipCheck:
    check = StreamingZipCheck()
    edges = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    for begin, end in zip(edges, edges[1:]):
        check.feed(data[begin:end])
    return check


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
@given(cuts=st.lists(st.integers(min_value=0), max_size=12))
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_sound_zip_is_confirmed_however_it_is_cut(tmp_path: Path, compression, cuts):
    data = build_zip(compression)
    path = tmp_path / "p.zip"
    path.write_bytes(data)
    assert stream(data, cuts).confirms(path)


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_damaged_member_is_caught_on_the_way_in(compression):
    data = bytearray(build_zip(compression))
    data[200] ^= 0xFF
    with pytest.raises(CorruptZip):
        stream(bytes(data), [100, 4000])


@given(position=st.integers(min_value=0), flip=st.integers(min_value=1, max_value=255),
       cuts=st.lists(st.integers(min_value=0), max_size=6))
@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_stream_never_vouches_for_a_zip_the_full_check_refuses(tmp_path: Path, position,
                                                                   flip, cuts):
    data = bytearray(build_zip(zipfile.ZIP_DEFLATED))
    data[position % len(data)] ^= flip
    path = tmp_path / "p.zip"
    path.write_bytes(bytes(data))
    try:
        confirmed = stream(bytes(data), cuts).confirms(path)
    except CorruptZip:
        return
    if confirmed:
        check_zip_file(path)


def test_zips_it_cannot_follow_make_it_unsure(tmp_path: Path):
    class Unseekable(io.RawIOBase):
        def __init__(self):
            self.data = bytearray()

        def writable(self):
            return True

        def write(self, chunk):
            self.data += chunk
            return len(chunk)

    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("P/a.tif", "w") as member:
        member.write(b"y" * 10000)
    path = tmp_path / "d.zip"
    path.write_bytes(bytes(sink.data))
    check = stream(bytes(sink.data), [50])
    assert check.unsure and not check.confirms(path)
    assert zip_is_sound(path)


def test_the_full_check_reads_every_member(tmp_path: Path):
    data = bytearray(build_zip())
    data[200] ^= 0xFF
    path = tmp_path / "p.zip"
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptZip, match="CRC"):
        check_zip_file(path)
    assert not zip_is_sound(path)


@pytest.mark.parametrize("share", [0.0, 0.001, 0.1, 0.5, 0.99, 1.0])
def test_a_check_resumed_from_a_kept_part_confirms_the_zip_once_fed_the_rest(tmp_path: Path,
                                                                             share):
    data = build_zip(zipfile.ZIP_DEFLATED)
    path = tmp_path / "p.zip"
    path.write_bytes(data)
    kept = int(len(data) * share)
    check = check_of_prefix(path, kept)
    check.feed(data[kept:])
    assert check.confirms(path)


def test_a_kept_part_shorter_than_it_was_is_corrupt(tmp_path: Path):
    path = tmp_path / "p.zip.part"
    path.write_bytes(build_zip()[:100])
    with pytest.raises(CorruptZip, match="shorter than it was"):
        check_of_prefix(path, 200)


# -- zip bombs: verification is bounded whatever the archive claims ----------------------------

def one_member(data: bytes, *, declared: int | None = None) -> bytes:
    """A zip of one deflated member; `declared`: the size its headers claim instead."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("P/a.tif", data)
    raw = buffer.getvalue()
    if declared is None:
        return raw
    size = struct.pack("<I", len(data))
    assert raw.count(size) == 2  # once in the local header, once in the directory
    return raw.replace(size, struct.pack("<I", declared))


@pytest.mark.parametrize("quoted", [True, False], ids=["quoted-overlap", "same-member"])
def test_overlapping_members_are_refused_before_inflating(tmp_path: Path, quoted):
    bomb = overlapping_zip(400, 64 << 20, quoted=quoted)  # 25 GiB to inflate in all
    path = tmp_path / "bomb.zip"
    path.write_bytes(bomb)
    with pytest.raises(UnsafeZip, match="zip bomb: its members overlap"):
        check_zip_file(path)
    assert not zip_is_sound(path)
    check = stream(bomb, [len(bomb) // 3])
    assert not check.confirms(path)


@pytest.mark.parametrize("members", [1, 2, 30])
def test_a_small_overlapping_zip_has_every_crc_right_yet_is_refused(tmp_path: Path, members):
    path = tmp_path / "bomb.zip"
    path.write_bytes(overlapping_zip(members, 5000))
    with zipfile.ZipFile(path) as archive:
        for entry in archive.infolist():
            with archive.open(entry) as member:
                assert zlib.crc32(member.read()) == entry.CRC
    if members == 1:
        check_zip_file(path)
        return
    with pytest.raises(UnsafeZip):
        check_zip_file(path)


def test_a_member_claiming_more_than_deflate_can_give_is_refused(tmp_path: Path):
    data = one_member(b"\0" * 100_000, declared=2_000_000_000)
    path = tmp_path / "claims.zip"
    path.write_bytes(data)
    with pytest.raises(UnsafeZip, match="claims to inflate"):
        stream(data, [])
    with pytest.raises(UnsafeZip, match="claims to inflate"):
        check_zip_file(path)


def test_a_member_inflating_beyond_its_declared_size_is_stopped_there():
    with pytest.raises(CorruptZip, match="more than its header declares"):
        stream(one_member(b"\0" * 3_000_000, declared=1000), [])


def test_a_member_is_inflated_in_bounded_steps_whatever_the_chunk(tmp_path: Path):
    data = one_member(b"\0" * (300 << 20))  # 300 MiB in a 300 KiB zip, fed in one piece
    path = tmp_path / "honest.zip"
    path.write_bytes(data)
    tracemalloc.start()
    try:
        check = stream(data, [])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert check.confirms(path)
    assert peak < 32 << 20, peak
