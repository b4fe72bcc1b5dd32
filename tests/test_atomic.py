"""Files full-maja keeps for itself: never opened through a link, never a FIFO or a folder."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from full_maja.atomic import (
    NotOwnFile,
    atomic_write,
    open_own,
    refuse_unless_own,
    refuse_unless_own_folder,
)
from full_maja.errors import JobLogError
from full_maja.lock import hold_file_lock, hold_lock, remove_stale_locks

MINE = b"the user's own file\n"


def plant(folder: Path, kind: str) -> tuple[Path, Path]:
    """`folder/own` as `kind`; and the user's file a link there would reach."""
    own, mine = folder / "own", folder / "mine.txt"
    if kind == "link to a file":
        mine.write_bytes(MINE)
        own.symlink_to(mine)
    elif kind == "dangling link":
        own.symlink_to(mine)
    elif kind == "fifo":
        os.mkfifo(own)
    else:
        own.mkdir()
    return own, mine


def assert_untouched(own: Path, mine: Path, kind: str) -> None:
    if kind == "link to a file":
        assert own.is_symlink() and mine.read_bytes() == MINE
    elif kind == "dangling link":
        assert own.is_symlink() and not mine.exists()
    elif kind == "fifo":
        assert own.is_fifo()
    else:
        assert own.is_dir() and not list(own.iterdir())


KINDS = ["link to a file", "dangling link", "fifo", "folder"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", ["rb", "r+b", "ab", "xb"])
def test_open_own_refuses_anything_but_a_regular_file(tmp_path: Path, kind, mode):
    own, mine = plant(tmp_path, kind)
    with pytest.raises(OSError) as caught:
        open_own(own, mode).close()
    if mode != "xb":
        assert isinstance(caught.value, NotOwnFile)
        assert "refused" in str(caught.value.strerror) and str(own) in caught.value.strerror
    assert_untouched(own, mine, kind)


def test_open_own_creates_and_appends_a_regular_file(tmp_path: Path):
    path = tmp_path / "part"
    with open_own(path, "ab") as handle:
        handle.write(b"ab")
    with open_own(path, "ab") as handle:
        handle.write(b"cd")
    assert path.read_bytes() == b"abcd"
    with pytest.raises(FileExistsError):
        open_own(path, "xb")
    assert refuse_unless_own(path) and not refuse_unless_own(tmp_path / "absent")


@pytest.mark.parametrize("kind", KINDS)
def test_atomic_write_of_an_own_file_refuses_what_is_planted_there(tmp_path: Path, kind):
    folder = tmp_path / "out"
    folder.mkdir()
    own, mine = plant(folder, kind)
    with pytest.raises(NotOwnFile):
        atomic_write(own, b"record", follow_symlinks=False)
    assert_untouched(own, mine, kind)
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        {own.name} | ({mine.name} if mine.exists() else set()))


@pytest.mark.parametrize("kind", KINDS)
def test_a_lock_file_is_never_opened_through_what_is_planted_there(tmp_path: Path, kind):
    own, mine = plant(tmp_path, kind)
    with pytest.raises(NotOwnFile), hold_file_lock(own):
        pass
    assert_untouched(own, mine, kind)


@pytest.mark.parametrize("follow", [True, False])
@pytest.mark.parametrize("kind", KINDS)
def test_the_lock_of_a_file_refuses_what_is_planted_where_it_goes(tmp_path: Path, kind,
                                                                  follow):
    own, mine = plant(tmp_path, kind)
    own.rename(tmp_path / "record.json.lock")
    with pytest.raises(JobLogError, match="refused"), \
            hold_lock(tmp_path / "record.json", wait=True, follow_symlinks=follow):
        pass
    assert_untouched(tmp_path / "record.json.lock", mine, kind)


def test_the_lock_of_an_own_file_stays_beside_its_name(tmp_path: Path):
    record = tmp_path / "record.json"
    record.symlink_to(tmp_path / "elsewhere.json")
    with hold_lock(record, wait=True, follow_symlinks=False):
        assert (tmp_path / "record.json.lock").is_file()
    assert not (tmp_path / "elsewhere.json.lock").exists()


def test_stale_locks_skip_what_is_not_a_lock_of_ours(tmp_path: Path):
    own, mine = plant(tmp_path, "link to a file")
    own.rename(tmp_path / "p.zip.part.lock")
    (tmp_path / "q.zip.part.lock").write_bytes(b"")
    remove_stale_locks(tmp_path, ".part.lock")
    assert (tmp_path / "p.zip.part.lock").is_symlink() and mine.read_bytes() == MINE
    assert not (tmp_path / "q.zip.part.lock").exists()


def test_a_file_under_a_file_counts_as_absent(tmp_path: Path):
    (tmp_path / "out").write_text("a file where a folder was expected")
    assert not refuse_unless_own(tmp_path / "out" / "record.json")
    assert not refuse_unless_own_folder(tmp_path / "out" / "quicklooks")
