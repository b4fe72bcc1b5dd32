"""Extraction: a product unpacks into the write folder and never outside it."""
from __future__ import annotations

import os
import threading
import zipfile
from pathlib import Path

import pytest
from conftest import submit

from full_maja.download.extract import extract_product, leftover_extractions, remove_leftover
from full_maja.errors import Cancelled, ProductError

FIRST = "SENTINEL2A_20190301-083751-427_L2A_T36TWQ_C_V2-2.zip"


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data)
    return path


def test_a_product_unpacks_into_its_folder(tmp_path: Path):
    folder = tmp_path / "out"
    folder.mkdir()
    archive = make_zip(folder / "P.zip", {"P/a.jpg": b"a", "P/b/c.tif": b"c"})
    assert extract_product(archive, folder) == ["P"]
    assert (folder / "P/b/c.tif").read_bytes() == b"c"
    assert sorted(p.name for p in folder.iterdir()) == ["P", "P.zip"]


@pytest.mark.parametrize("existing", ["folder", "file", "link"])
def test_an_entry_that_exists_already_is_never_replaced(tmp_path: Path, existing):
    folder = tmp_path / "out"
    folder.mkdir()
    archive = make_zip(folder / "P.zip", {"Documents/a.jpg": b"new"})
    target = folder / "Documents"
    if existing == "folder":
        target.mkdir()
        (target / "mine.txt").write_text("mine")
    elif existing == "file":
        target.write_text("mine")
    else:
        target.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ProductError, match="did not make"):
        extract_product(archive, folder)
    if existing == "folder":
        assert [p.name for p in target.iterdir()] == ["mine.txt"]
    elif existing == "file":
        assert target.read_text() == "mine"
    else:
        assert target.is_symlink()
    assert sorted(p.name for p in folder.iterdir()) == ["Documents", "P.zip"]


@pytest.mark.parametrize("member", ["../evil.txt", "/etc/evil", "P/../../evil", "C:/evil",
                                    "P\\..\\..\\evil", "./../evil"])
def test_members_aiming_outside_are_refused_and_nothing_is_written(tmp_path: Path, member):
    folder = tmp_path / "out"
    folder.mkdir()
    archive = make_zip(folder / "P.zip", {"P/ok": b"ok", member: b"evil"})
    with pytest.raises(ProductError, match="outside the write folder"):
        extract_product(archive, folder)
    assert sorted(p.name for p in folder.iterdir()) == ["P.zip"]
    assert not (tmp_path / "evil").exists() and not (tmp_path / "evil.txt").exists()


def test_every_top_level_entry_is_returned(tmp_path: Path):
    folder = tmp_path / "out"
    folder.mkdir()
    archive = make_zip(folder / "P.zip", {"A/a": b"a", "B/b": b"b", "readme.txt": b"r"})
    assert extract_product(archive, folder) == ["A", "B", "readme.txt"]


@pytest.mark.parametrize("member, existing", [
    ("series.html", None), (".full-maja-verified.json", None), ("OTHER.zip", None),
    ("series-quicklooks/x.jpg", None), ("notes.txt", "notes.txt"),
])
def test_an_entry_that_would_replace_a_file_of_the_folder_is_refused(tmp_path: Path, member,
                                                                      existing):
    folder = tmp_path / "out"
    folder.mkdir()
    if existing:
        (folder / existing).write_text("mine")
    archive = make_zip(folder / "P.zip", {"P/ok": b"ok", member: b"evil"})
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(ProductError, match="would replace"):
        extract_product(archive, folder)
    assert sorted(p.name for p in folder.iterdir()) == before
    if existing:
        assert (folder / existing).read_text() == "mine"


def test_a_product_whose_folder_is_taken_fails_alone_and_keeps_its_zip(run, make_emulator,
                                                                        auth_file, tmp_path):
    emulator = make_emulator(registration_polls=0, timeline=["FINISHED"])
    submit(run, emulator, auth_file)
    taken = tmp_path / "out" / FIRST[:-4]
    taken.mkdir(parents=True)
    (taken / "mine.txt").write_text("mine")

    result = run("download", "-a", auth_file, "-l", "job.log", "-w", "out", "-x")

    assert result.returncode == 1, result.stderr
    assert f"{FIRST}: refused to extract it" in result.stderr
    assert [p.name for p in taken.iterdir()] == ["mine.txt"]
    assert [p.name for p in (tmp_path / "out").glob("*.zip")] == [FIRST]
    folders = [p for p in (tmp_path / "out").iterdir()
               if p.is_dir() and p.name not in ("series-quicklooks", "stac-items")]
    assert len(folders) == 9


def test_the_entries_are_told_before_they_take_their_names(tmp_path: Path):
    folder = tmp_path / "out"
    folder.mkdir()
    archive = make_zip(folder / "P.zip", {"P/a.jpg": b"a", "Q/b": b"b"})
    seen = []

    def placing(tops):
        seen.append((tops, [(folder / top).exists() for top in tops]))
        [hidden] = [p for p in folder.iterdir() if p.name.startswith(".P.zip.")]
        assert (hidden / "P" / "a.jpg").read_bytes() == b"a"

    assert extract_product(archive, folder, before_placing=placing) == ["P", "Q"]
    assert seen == [(["P", "Q"], [False, False])]


def test_a_cancelled_extraction_places_nothing_and_leaves_nothing(tmp_path: Path):
    folder = tmp_path / "out"
    folder.mkdir()
    archive = make_zip(folder / "P.zip", {"P/a": b"a", "P/b": b"b"})
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled, match="zip is kept"):
        extract_product(archive, folder, cancel=cancel)
    assert sorted(p.name for p in folder.iterdir()) == ["P.zip"]


def test_an_entry_taken_while_placing_puts_back_those_already_placed(tmp_path: Path):
    folder = tmp_path / "out"
    folder.mkdir()
    archive = make_zip(folder / "P.zip", {"A/a": b"a", "B/b": b"b"})

    def someone_takes_b(tops):
        (folder / "B").mkdir()

    with pytest.raises(ProductError, match="'B' would replace"):
        extract_product(archive, folder, before_placing=someone_takes_b)
    assert sorted(p.name for p in folder.iterdir()) == ["B", "P.zip"]
    assert list((folder / "B").iterdir()) == []


@pytest.mark.parametrize("entry, kind, known, removed", [
    (f".{FIRST}.full-maja-extract-abc_1234", "folder", False, True),
    (f".{FIRST}.x8k2p0qz", "folder", True, True),
    (f".{FIRST}.x8k2p0qz", "folder", False, False),
    (f".{FIRST}.full-maja-extract-abc_1234", "link", True, False),
    (f".{FIRST}.full-maja-extract-abc_1234", "file", True, False),
    (f".{FIRST}.notes", "folder", True, False),
    (f".{FIRST}.full-maja-extract-", "folder", True, False),
    (f"{FIRST}.full-maja-extract-abc_1234", "folder", True, False),
    (".a b.zip.full-maja-extract-abc_1234", "folder", True, False),
])
def test_only_what_an_extraction_left_counts_as_a_leftover(tmp_path: Path, entry, kind,
                                                          known, removed):
    folder = tmp_path / "out"
    folder.mkdir()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine")
    path = folder / entry
    if kind == "folder":
        path.mkdir()
        (path / "inside").write_text("x")
    elif kind == "link":
        path.symlink_to(mine)
    else:
        path.write_text("x")
    found = leftover_extractions(folder, lambda name: known and name == FIRST)
    assert found == ([(FIRST, path)] if removed else [])
    for _, leftover in found:
        remove_leftover(leftover)
    assert os.path.lexists(path) is not removed
    assert (mine / "keep.txt").read_text() == "mine"
