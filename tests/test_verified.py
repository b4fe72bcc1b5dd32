"""The verified-product record: trusted when unchanged, shared safely by several runs."""
from __future__ import annotations

import json
from pathlib import Path

from full_maja.download.verified import RECORD_NAME, VerifiedRecord


def test_two_runs_sharing_a_folder_keep_each_others_entries(tmp_path: Path):
    (tmp_path / "a.zip").write_bytes(b"a")
    (tmp_path / "b.zip").write_bytes(b"bb")
    first, second = VerifiedRecord(tmp_path), VerifiedRecord(tmp_path)
    first.remember("a.zip", tmp_path / "a.zip")
    second.remember("b.zip", tmp_path / "b.zip")
    first.flush()
    second.flush()
    products = json.loads((tmp_path / RECORD_NAME).read_text())["products"]
    assert sorted(products) == ["a.zip", "b.zip"]
    assert VerifiedRecord(tmp_path).is_current("a.zip", tmp_path / "a.zip")


def test_a_changed_file_is_no_longer_current(tmp_path: Path):
    path = tmp_path / "a.zip"
    path.write_bytes(b"a")
    record = VerifiedRecord(tmp_path)
    record.remember("a.zip", path)
    record.flush()
    path.write_bytes(b"changed")
    assert not VerifiedRecord(tmp_path).is_current("a.zip", path)
    path.unlink()
    assert not VerifiedRecord(tmp_path).is_current("a.zip", path)


def test_a_damaged_record_is_ignored(tmp_path: Path):
    (tmp_path / RECORD_NAME).write_text("{not json")
    assert VerifiedRecord(tmp_path).entry("a.zip") is None
