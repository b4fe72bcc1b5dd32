"""Quick-looks and cloud cover read out of product zips and extracted folders."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from archives import JPEG, product_zip

from emulators.products import cloud_percent as emulator_cloud_percent
from emulators.products import write_product_zip
from full_maja.download.verified import VerifiedRecord
from full_maja.products import product_stem
from full_maja.quicklooks import QUICKLOOK_DIR, Preview, Previews, cloud_percent, quicklook_name

NAMES = [f"SENTINEL2{unit}_201903{day:02d}-083751-427_L2A_T36TWQ_C_V2-2.zip"
         for unit, day in (("A", 1), ("B", 6), ("A", 11))]
HOSTILE_ZIP = 'SENTINEL2A_20190306"><svg onload=alert(1)>.zip'


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """A write folder holding three product zips as the emulator serves them."""
    folder = tmp_path / "out"
    folder.mkdir()
    for name in NAMES:
        write_product_zip(folder / name, name, 200_000)
    return folder


def test_a_zip_gives_its_quicklook_cloud_cover_and_link(out: Path):
    for name in NAMES:
        stem = product_stem(name)
        preview = Previews(out).of(name)
        assert preview == Preview(f"{QUICKLOOK_DIR}/{stem}.jpg",
                                  emulator_cloud_percent(name), name)
        image = out / preview.image
        with zipfile.ZipFile(out / name) as archive:
            assert image.read_bytes() == archive.read(f"{stem}/{stem}_QKL_ALL.jpg")
        assert image.read_bytes()[:2] == b"\xff\xd8"


def test_only_the_quicklook_and_metadata_members_are_read(out: Path, monkeypatch):
    opened: list[str] = []
    original = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(name.filename if isinstance(name, zipfile.ZipInfo) else name)
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    previews = Previews(out)
    for name in NAMES:
        previews.of(name)
    assert opened and all(name.endswith(("_QKL_ALL.jpg", "_MTD_ALL.xml")) for name in opened)
    assert sorted(path.name for path in out.iterdir() if path.is_dir()) == [QUICKLOOK_DIR]


def test_a_quicklook_of_another_size_is_replaced(out: Path):
    Previews(out).of(NAMES[0])
    image = out / QUICKLOOK_DIR / quicklook_name(NAMES[0])
    image.write_bytes(b"\xff\xd8 damaged")
    Previews(out).of(NAMES[0])
    assert image.stat().st_size > 20 and image.read_bytes()[:2] == b"\xff\xd8"


def test_corrupt_zips_and_zips_without_quicklook_give_no_image(tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    (out / NAMES[0]).write_bytes(b"PK\x03\x04 not really a zip")
    product_zip(out / NAMES[1], quicklook=None, metadata=(
        b'<?xml version="1.0"?><Muscate_Metadata_Document><Quality_Informations>'
        b'<Current_Product><QUALITY_INDEX name="CloudPercent">42</QUALITY_INDEX>'
        b"</Current_Product></Quality_Informations></Muscate_Metadata_Document>"))
    product_zip(out / NAMES[2], quicklook=b"GIF89a not a jpeg", metadata=(
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'))
    empty = "SENTINEL2B_20190316-083751-427_L2A_T36TWQ_C_V2-2.zip"
    (out / empty).write_bytes(b"")
    previews = Previews(out)
    assert [previews.of(name) for name in [*NAMES, empty]] == [
        Preview(link=NAMES[0]), Preview(cloud=42.0, link=NAMES[1]), Preview(link=NAMES[2]),
        Preview(link=empty)]
    assert not (out / QUICKLOOK_DIR).exists()


def test_an_extracted_product_gives_its_quicklook_and_links_its_folder(tmp_path: Path):
    out = tmp_path / "out"
    name = "SENTINEL2B_20190306-083752-638_L2A_T36TWQ_C_V2-2.zip"
    stem = product_stem(name)
    (out / stem / stem).mkdir(parents=True)
    (out / stem / stem / f"{stem}_QKL_ALL.jpg").write_bytes(JPEG)
    record = VerifiedRecord(out)
    record.remember_extracted(name, stem)
    record.flush()
    assert Previews(out).of(name) == Preview(f"{QUICKLOOK_DIR}/{stem}.jpg", None, f"{stem}/")
    assert (out / QUICKLOOK_DIR / f"{stem}.jpg").read_bytes() == JPEG


def test_a_product_neither_zipped_nor_extracted_has_no_preview(tmp_path: Path):
    assert Previews(tmp_path).of(NAMES[0]) == Preview()
    assert Previews(tmp_path).of("../outside.zip") == Preview()


def test_quicklook_names_are_safe_file_names():
    assert quicklook_name(NAMES[0]) == f"{product_stem(NAMES[0])}.jpg"
    assert re.fullmatch(r"SENTINEL2A_20190306___svg_onload_alert_1__-[0-9a-f]{8}\.jpg",
                        quicklook_name(HOSTILE_ZIP))


def test_the_current_products_cloud_cover_comes_first():
    metadata = (b"<M><Context><QUALITY_INDEX name='CloudPercent'>80</QUALITY_INDEX></Context>"
                b"<Current_Product><QUALITY_INDEX name='cloudpercent'>7.5</QUALITY_INDEX>"
                b"</Current_Product></M>")
    assert cloud_percent(metadata) == 7.5
    assert cloud_percent(b"<M><QUALITY_INDEX name='CloudPercent'>101</QUALITY_INDEX></M>") \
        is None
