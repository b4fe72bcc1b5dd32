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


def test_facts_are_kept_with_the_file_they_were_read_from(tmp_path: Path):
    path = tmp_path / "a.zip"
    path.write_bytes(b"a")
    record = VerifiedRecord(tmp_path)
    record.remember("a.zip", path, source="http://example.org/a.zip")
    record.remember_facts("a.zip", provenance="{}", sha256="0" * 64)
    assert record.flush()
    entry = VerifiedRecord(tmp_path).entry("a.zip")
    assert entry is not None and entry["provenance"] == "{}" and entry["sha256"] == "0" * 64
    record.remember("a.zip", path, extracted=["a"])
    assert record.entry("a.zip")["sha256"] == "0" * 64  # same file: the facts stay
    path.write_bytes(b"changed")
    record.remember("a.zip", path)
    assert "sha256" not in record.entry("a.zip")


def test_facts_read_by_one_run_never_overwrite_what_another_run_changed(tmp_path: Path):
    path = tmp_path / "a.zip"
    path.write_bytes(b"a")
    first = VerifiedRecord(tmp_path)
    first.remember("a.zip", path)
    assert first.flush()
    reader, extractor = VerifiedRecord(tmp_path), VerifiedRecord(tmp_path)
    reader.remember_facts("a.zip", provenance="{}")
    extractor.remember_extracted("a.zip", ["a"])
    assert extractor.flush() and reader.flush()
    entry = json.loads((tmp_path / RECORD_NAME).read_text())["products"]["a.zip"]
    assert entry == {"extracted": ["a"], "size": 1}
    again = VerifiedRecord(tmp_path)
    again.remember_facts("a.zip", provenance='{"x":1}')
    assert again.flush()
    entry = json.loads((tmp_path / RECORD_NAME).read_text())["products"]["a.zip"]
    assert entry == {"extracted": ["a"], "size": 1, "provenance": '{"x":1}'}
