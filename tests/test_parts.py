"""A product's part files: which belong to it, how they fit, how they merge."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

import full_maja.download.parts as parts
from full_maja.download.parts import PartFiles, WriteBehind
from full_maja.errors import Cancelled

NAME = "SENTINEL2A_20190301-083751-427_L2A_T36TWQ_C_V2-2.zip"


@pytest.fixture
def final(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder / NAME


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def layout(files: PartFiles) -> list[tuple[int, int, object]]:
    return [(segment.start, segment.have, segment.end) for segment in files.segments]


def test_no_part_file_means_one_empty_main_part(final):
    assert layout(PartFiles(final)) == [(0, 0, None)]


def test_tails_are_found_in_product_order_and_bound_the_stretch_before_them(final):
    write(final.parent, NAME + ".part", b"a" * 10)
    write(final.parent, f"{NAME}.900.part", b"c" * 5)
    write(final.parent, f"{NAME}.300.part", b"b" * 7)
    assert layout(PartFiles(final)) == [(0, 10, 300), (300, 7, 900), (900, 5, None)]


@pytest.mark.parametrize("stranger", [
    f"{NAME}.0.part", f"{NAME}.012.part", f"{NAME}.x1.part", f"{NAME}.12.part.tmp",
    "SENTINEL2B_20190301-083751-427_L2A_T36TWQ_C_V2-2.zip.300.part", f"{NAME}.300",
])
def test_files_that_are_not_tails_of_this_product_are_left_alone(final, stranger):
    path = write(final.parent, stranger, b"zz")
    files = PartFiles(final)
    assert layout(files) == [(0, 0, None)]
    files.remove_all()
    assert path.read_bytes() == b"zz"


def test_a_part_longer_than_its_stretch_is_clipped_to_it(final):
    write(final.parent, NAME + ".part", bytes(range(100)))
    write(final.parent, f"{NAME}.60.part", b"t" * 10)
    files = PartFiles(final)
    assert layout(files) == [(0, 60, 60), (60, 10, None)]
    assert (final.parent / (NAME + ".part")).read_bytes() == bytes(range(60))


@pytest.mark.parametrize("total, fits", [(1000, True), (71, True), (70, False), (60, False)])
def test_the_parts_fit_a_product_only_if_every_stretch_lies_inside_it(final, total, fits):
    write(final.parent, NAME + ".part", b"a" * 10)
    write(final.parent, f"{NAME}.60.part", b"t" * 11)
    assert PartFiles(final).fits(total) is fits


def test_remove_all_deletes_every_part_and_abandons_the_tails(final):
    write(final.parent, NAME + ".part", b"a" * 10)
    write(final.parent, f"{NAME}.60.part", b"t" * 11)
    files = PartFiles(final)
    tail = files.segments[1]
    files.remove_all()
    assert list(final.parent.iterdir()) == []
    assert tail.abandoned and layout(files) == [(0, 0, None)]


def test_a_tail_name_too_long_for_the_file_system_is_not_offered(tmp_path):
    final = tmp_path / ("S" * 240 + ".zip")
    files = PartFiles(final)
    assert files.side_path(7) is not None
    assert files.side_path(10**12) is None


def test_split_cuts_the_rest_of_a_stretch_in_halves_and_hands_out_the_second(final):
    write(final.parent, NAME + ".part", b"a" * 100)
    files = PartFiles(final)
    tail = files.split(files.head, 1000)
    assert tail is files.segments[1] and tail.busy and not files.head.busy
    assert layout(files) == [(0, 100, 550), (550, 0, None)]
    assert tail.path == final.parent / f"{NAME}.550.part" and not tail.path.exists()
    second = files.split(tail, 1000)
    assert layout(files) == [(0, 100, 550), (550, 0, 775), (775, 0, None)]
    assert second is files.segments[2]


def test_split_offers_nothing_when_the_tail_name_would_be_too_long(tmp_path):
    files = PartFiles(tmp_path / ("S" * 240 + ".zip"))
    assert files.split(files.head, 10**13) is None
    assert layout(files) == [(0, 0, None)]


def test_has_tails_while_a_stretch_is_in_a_file_of_its_own(final):
    write(final.parent, NAME + ".part", b"a" * 10)
    assert not PartFiles(final).has_tails
    write(final.parent, f"{NAME}.60.part", b"t")
    assert PartFiles(final).has_tails


def test_the_leftover_is_the_first_unfinished_tail_nobody_is_fetching(final):
    write(final.parent, NAME + ".part", b"a" * 10)
    write(final.parent, f"{NAME}.60.part", b"t" * 40)
    write(final.parent, f"{NAME}.100.part", b"u" * 5)
    write(final.parent, f"{NAME}.200.part", b"v" * 5)
    files = PartFiles(final)
    done, busy, free = files.segments[1:]
    busy.busy = True
    assert files.leftover(300) is free
    free.busy = True
    assert files.leftover(300) is None
    assert done.remaining(300) == 0


def test_no_leftover_when_only_the_main_part_is_unfinished(final):
    write(final.parent, NAME + ".part", b"a" * 10)
    assert PartFiles(final).leftover(300) is None


@pytest.mark.parametrize("main, busy, absorbable", [
    (60, False, True), (59, False, False), (60, True, False),
])
def test_the_next_tail_is_absorbable_once_the_main_part_reaches_it_and_it_is_free(
        final, main, busy, absorbable):
    write(final.parent, NAME + ".part", b"a" * main)
    write(final.parent, f"{NAME}.60.part", b"t" * 11)
    files = PartFiles(final)
    files.segments[1].busy = busy
    assert (files.next_absorbable() is files.segments[1]) is absorbable


def test_nothing_is_absorbable_without_a_tail(final):
    write(final.parent, NAME + ".part", b"a" * 60)
    assert PartFiles(final).next_absorbable() is None


def test_absorbing_a_tail_appends_its_bytes_in_order_and_deletes_it(final):
    write(final.parent, NAME + ".part", b"0123")
    write(final.parent, f"{NAME}.4.part", b"4567")
    write(final.parent, f"{NAME}.10.part", b"ab")
    files = PartFiles(final)
    fed: list[bytes] = []
    tail = files.segments[1]
    copied = files.append_to_head(tail, fed.append, threading.Event())
    files.merge_into_head(tail, copied)
    assert files.main.read_bytes() == b"01234567" and b"".join(fed) == b"4567"
    assert layout(files) == [(0, 8, 10), (10, 2, None)]
    assert not (final.parent / f"{NAME}.4.part").exists()


def test_a_tail_that_vanished_counts_for_nothing(final):
    write(final.parent, NAME + ".part", b"0123")
    tail_path = write(final.parent, f"{NAME}.4.part", b"4567")
    files = PartFiles(final)
    tail_path.unlink()
    tail = files.segments[1]
    files.merge_into_head(tail, files.append_to_head(tail, lambda piece: None,
                                                     threading.Event()))
    assert layout(files) == [(0, 4, None)] and files.main.read_bytes() == b"0123"


def test_absorbing_stops_on_cancel_and_keeps_the_tail_whole(final):
    write(final.parent, NAME + ".part", b"0123")
    tail_path = write(final.parent, f"{NAME}.4.part", b"4567")
    files = PartFiles(final)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        files.append_to_head(files.segments[1], lambda piece: None, cancel)
    assert tail_path.read_bytes() == b"4567"


def test_write_behind_leaves_the_bytes_written_unchanged(tmp_path, monkeypatch):
    monkeypatch.setattr(WriteBehind, "EVERY", 1000)
    data = bytes(range(256)) * 40
    path = tmp_path / "f"
    with open(path, "wb") as handle:
        behind = WriteBehind(handle)
        for offset in range(0, len(data), 333):
            piece = data[offset:offset + 333]
            handle.write(piece)
            behind.wrote(len(piece))
    assert path.read_bytes() == data


def test_write_behind_asks_the_kernel_for_write_back_in_steps(tmp_path, monkeypatch):
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(WriteBehind, "EVERY", 1000)
    monkeypatch.setattr(parts.os, "posix_fadvise",
                        lambda fd, offset, length, advice: calls.append((offset, length)),
                        raising=False)
    with open(tmp_path / "f", "wb") as handle:
        behind = WriteBehind(handle)
        for _ in range(7):
            handle.write(b"x" * 600)
            behind.wrote(600)
    assert calls == [(0, 1200), (0, 2400), (1200, 2400)]
