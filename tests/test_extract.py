"""Extraction: a product unpacks into the write folder and never outside it."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from full_maja.download.extract import extract_product
from full_maja.errors import ProductError


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


def test_extracting_again_replaces_the_old_folder(tmp_path: Path):
    archive = make_zip(tmp_path / "P.zip", {"P/a.jpg": b"new"})
    (tmp_path / "P").mkdir()
    (tmp_path / "P/stale").write_text("x")
    extract_product(archive, tmp_path)
    assert sorted(p.name for p in (tmp_path / "P").iterdir()) == ["a.jpg"]


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
