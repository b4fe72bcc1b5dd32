"""The verified-product record: trusted when unchanged, shared safely by several runs."""
from __future__ import annotations

import json
from pathlib import Path

import full_maja.download.verified as verified_module
from emulators.products import write_product_zip
from full_maja.download.facts import ProductFacts
from full_maja.download.verified import RECORD_FORMAT, RECORD_NAME, VerifiedRecord
from full_maja.provenance import read_provenance


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


def test_the_record_is_written_one_product_a_line_and_read_back(tmp_path: Path):
    for name in ("a.zip", "b.zip"):
        (tmp_path / name).write_bytes(name.encode())
    record = VerifiedRecord(tmp_path)
    record.remember("a.zip", tmp_path / "a.zip")
    record.remember("b.zip", tmp_path / "b.zip", source="http://example.org/b.zip")
    assert record.flush()
    text = (tmp_path / RECORD_NAME).read_text()
    assert sorted(json.loads(text)["products"]) == ["a.zip", "b.zip"]
    assert [line.split(":")[0] for line in text.splitlines() if line.startswith('"')
            and line.endswith(("},", "}"))] == ['"a.zip"', '"b.zip"']
    again = VerifiedRecord(tmp_path)
    assert again.is_current("a.zip", tmp_path / "a.zip")
    assert again.entry("b.zip")["source"] == "http://example.org/b.zip"


def test_a_record_an_earlier_version_wrote_whole_is_read_and_kept(tmp_path: Path):
    path = tmp_path / "a.zip"
    path.write_bytes(b"a")
    stat = path.stat()
    old = {"format": RECORD_FORMAT, "products": {"a.zip": {
        "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "provenance": '{"tile":"T31TCJ"}'}}}
    (tmp_path / RECORD_NAME).write_text(json.dumps(old, indent=1, sort_keys=True) + "\n")
    record = VerifiedRecord(tmp_path)
    assert record.is_current("a.zip", path)
    assert record.entry("a.zip")["provenance"] == '{"tile":"T31TCJ"}'
    (tmp_path / "b.zip").write_bytes(b"b")
    record.remember("b.zip", tmp_path / "b.zip")
    assert record.flush()
    assert VerifiedRecord(tmp_path).entry("a.zip") == old["products"]["a.zip"]


def test_a_save_reads_the_record_again_only_once_another_run_replaced_it(tmp_path: Path,
                                                                        monkeypatch):
    reads = []
    real = verified_module.own_file_within

    def counted(*args, **kwargs):
        reads.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(verified_module, "own_file_within", counted)
    for name in ("a.zip", "b.zip", "c.zip"):
        (tmp_path / name).write_bytes(name.encode())
    first = VerifiedRecord(tmp_path)
    first.remember("a.zip", tmp_path / "a.zip")
    assert first.flush() and len(reads) == 1
    first.remember("c.zip", tmp_path / "c.zip")
    assert first.flush() and len(reads) == 1  # its own file: nothing to merge
    second = VerifiedRecord(tmp_path)
    second.remember("b.zip", tmp_path / "b.zip")
    assert second.flush() and len(reads) == 2
    (tmp_path / "c.zip").write_bytes(b"changed")
    first.remember("c.zip", tmp_path / "c.zip")
    assert first.flush() and len(reads) == 3  # another run wrote since: read and merged
    products = json.loads((tmp_path / RECORD_NAME).read_text())["products"]
    assert sorted(products) == ["a.zip", "b.zip", "c.zip"]
    assert products["c.zip"]["size"] == len(b"changed")


def test_facts_wait_for_the_next_save_and_what_products_share_is_kept_once(tmp_path: Path,
                                                                          monkeypatch):
    names = [f"SENTINEL2A_201903{day:02d}-083751-{day:03d}_L2A_T31TCJ_C_V2-2.zip"
             for day in range(1, 8)]
    record = VerifiedRecord(tmp_path)
    for name in names:
        write_product_zip(tmp_path / name, name, 16 * 1024, orbit=51)
        record.remember(name, tmp_path / name)
    assert record.flush()
    writes = []
    real = verified_module.atomic_write
    monkeypatch.setattr(verified_module, "SAVE_EVERY", 2)
    monkeypatch.setattr(verified_module, "atomic_write",
                        lambda *args, **kwargs: writes.append(args[0]) or real(*args, **kwargs))
    facts = ProductFacts(record, tmp_path)
    texts = [facts.recorded(name) for name in names]
    assert writes == []  # seven facts, a batch of two: facts are no batch of their own
    assert record.flush() and len(writes) == 1
    document = json.loads((tmp_path / RECORD_NAME).read_text())
    [(key, shared)] = document["shared"].items()
    assert "corners" in shared and "relative_orbit" in shared
    for name, (own, common) in zip(names, texts):
        entry = document["products"][name]
        assert entry["shared"] == key and entry["provenance"] == own and common == shared
        assert "corners" not in own and name[:-4] in own
        assert ProductFacts(VerifiedRecord(tmp_path), tmp_path).provenance(name) == \
            read_provenance(tmp_path / name)
