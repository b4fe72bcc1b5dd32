"""Extraction: a product unpacks into the write folder and never outside it."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from conftest import submit

from full_maja.download.extract import extract_product
from full_maja.errors import ProductError

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
