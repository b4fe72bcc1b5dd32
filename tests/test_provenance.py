"""The provenance of a MUSCATE product: one reader of `_MTD_ALL.xml` and `_JPI_ALL.xml`."""
from __future__ import annotations

import re
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from emulators.acquisitions import facts_from_name
from emulators.products import (
    cams_status,
    cloud_percent,
    jpi_xml,
    metadata_xml,
    processing_mode,
    snow_percent,
    write_product_zip,
)
from full_maja.provenance import (
    DemStatistics,
    Grid,
    Provenance,
    provenance_from_documents,
    read_provenance,
)

NAME = "SENTINEL2B_20190306-083752-638_L2A_T36TWQ_C_V2-2.zip"
STEM = NAME[:-4]
UTC = timezone.utc


def documents(name: str = NAME, orbit: int = 64) -> tuple[bytes, bytes]:
    facts = facts_from_name(name)
    return metadata_xml(name, facts, orbit), jpi_xml(name, facts)


def test_every_fact_of_the_two_documents_is_read() -> None:
    provenance = provenance_from_documents(*documents())
    assert provenance.product_id == STEM
    assert provenance.acquisition_date == datetime(2019, 3, 6, 8, 37, 52, tzinfo=UTC)
    assert provenance.production_date == datetime(2019, 3, 8, 1, 41, 14, tzinfo=UTC)
    assert (provenance.product_version, provenance.product_level) == ("2.2", "L2A")
    assert (provenance.platform, provenance.tile, provenance.relative_orbit) == \
        ("SENTINEL2B", "T36TWQ", 64)
    assert provenance.cloud_cover == cloud_percent(NAME)
    assert provenance.snow_cover == snow_percent(NAME)
    assert provenance.cams == cams_status(NAME)
    assert provenance.processing_mode == processing_mode(NAME)
    assert (provenance.cirrus_correction, provenance.adjacency_slope_correction,
            provenance.validity) == ("true", "true", "true")
    assert provenance.dem is not None and provenance.dem.minimum is not None
    assert provenance.epsg == 32636
    assert provenance.grid("R1") == Grid("R1", 10980, 10980,
                                         (10.0, 0.0, 499980.0, 0.0, -10.0, 5000040.0))
    assert provenance.grid("R2") == Grid("R2", 5490, 5490,
                                         (20.0, 0.0, 499980.0, 0.0, -20.0, 5000040.0))
    assert len(provenance.corners) == 4
    assert dict(provenance.band_groups)["B8A"] == "R2"


def test_without_the_jpi_its_facts_are_absent_not_guessed() -> None:
    provenance = provenance_from_documents(documents()[0], None)
    assert provenance.product_version == "2.2"
    assert (provenance.cams, provenance.processing_mode, provenance.dem) == (None, None, None)


MINIMAL_JPI = b"""<?xml version="1.0"?>
<JobProcessingInformations xmlns="http://example.org/jpi">
  <Processing_Flags_And_Modes_List>
    <Processing_Flags_And_Modes><Key>CAMS_Processing</Key><Value>Deactivated</Value>
    </Processing_Flags_And_Modes>
  </Processing_Flags_And_Modes_List>
  <MNT_Statistics><Min>12.5</Min><Average>not a number</Average></MNT_Statistics>
</JobProcessingInformations>"""


@pytest.mark.parametrize("mtd, expected", [
    (b"<Muscate_Metadata_Document/>", Provenance(cams="Deactivated",
                                                 dem=DemStatistics(minimum=12.5))),
    (b"not xml at all", Provenance(cams="Deactivated", dem=DemStatistics(minimum=12.5))),
    (b"<M><Product_Characteristics><PRODUCT_VERSION> 3.1 </PRODUCT_VERSION>"
     b"<ORBIT_NUMBER type='Orbit'>23456</ORBIT_NUMBER>"
     b"<PRODUCTION_DATE>yesterday</PRODUCTION_DATE></Product_Characteristics>"
     b"<QUALITY_INDEX name='CloudPercent'>120</QUALITY_INDEX></M>",
     Provenance(product_version="3.1", cams="Deactivated", dem=DemStatistics(minimum=12.5))),
])
def test_any_element_may_be_absent_or_wrong_and_stays_absent(mtd: bytes,
                                                             expected: Provenance) -> None:
    assert provenance_from_documents(mtd, MINIMAL_JPI) == expected


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00"])
def test_a_date_no_utc_time_can_hold_is_absent_not_a_crash(moment: str) -> None:
    mtd = (f"<M><Product_Characteristics><ACQUISITION_DATE>{moment}</ACQUISITION_DATE>"
           f"<PRODUCTION_DATE>{moment}</PRODUCTION_DATE><PRODUCT_VERSION>4.0</PRODUCT_VERSION>"
           "</Product_Characteristics></M>").encode()
    assert provenance_from_documents(mtd) == Provenance(product_version="4.0")
    assert Provenance.from_record({"production_date": moment}) == Provenance()


@pytest.mark.parametrize("element, value", [
    ("NROWS", "-5"), ("NCOLS", "0"), ("XDIM", "0"), ("YDIM", "-0.0")])
def test_a_grid_no_raster_can_have_is_absent(element: str, value: str) -> None:
    mtd = re.sub(rf"<{element}>[^<]*".encode(), f"<{element}>{value}".encode(),
                 documents()[0], count=1)  # R1's
    assert {grid.group for grid in provenance_from_documents(mtd).grids} == {"R2"}


@pytest.mark.parametrize("code", ["-7", "0", "EPSG:32636"])
def test_an_epsg_code_no_projection_has_is_absent(code: str) -> None:
    mtd = re.sub(rb"<HORIZONTAL_CS_CODE>[^<]*", f"<HORIZONTAL_CS_CODE>{code}".encode(),
                 documents()[0])
    assert provenance_from_documents(mtd).epsg is None


def test_entities_are_refused_and_read_as_absent() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa">]>'
            b"<m><Product_Characteristics><PRODUCT_VERSION>&a;</PRODUCT_VERSION>"
            b"</Product_Characteristics></m>")
    assert provenance_from_documents(bomb) == Provenance()


def test_a_zip_and_its_extracted_folder_tell_the_same(tmp_path: Path) -> None:
    archive = tmp_path / NAME
    write_product_zip(archive, NAME, 16 * 1024, orbit=64)
    from_zip = read_provenance(archive)
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(tmp_path / "x")
    assert from_zip == read_provenance(tmp_path / "x" / STEM) == \
        provenance_from_documents(*documents())


@pytest.mark.parametrize("content", [b"not a zip", b""])
def test_a_damaged_or_empty_product_has_no_provenance(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / NAME
    path.write_bytes(content)
    assert read_provenance(path) is None
    assert read_provenance(tmp_path / "missing.zip") is None
    assert read_provenance(tmp_path / "empty-folder") is None


def test_a_zip_without_metadata_has_none(tmp_path: Path) -> None:
    path = tmp_path / NAME
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{STEM}/{STEM}_SRE_B4.tif", b"II*\0")
    assert read_provenance(path) is None


def test_the_record_form_reads_back_the_same() -> None:
    provenance = provenance_from_documents(*documents())
    assert Provenance.from_record(provenance.as_record()) == provenance
    assert Provenance.from_record(Provenance().as_record()) == Provenance()
    assert Provenance.from_record({"grids": [{"group": "R1"}]}) is None
    assert Provenance.from_record("nonsense") is None


def test_the_products_own_metadata_is_read_not_another_products(tmp_path: Path) -> None:
    other = "SENTINEL2A_20170707-105907-758_L2A_T31TCJ_C_V4-0.zip"  # sorts first
    archive = tmp_path / NAME
    write_product_zip(archive, NAME, 16 * 1024, orbit=64)
    with zipfile.ZipFile(archive, "a") as zipped:  # a stray product's, nearer the top
        zipped.writestr(f"{other[:-4]}_MTD_ALL.xml", documents(other)[0])
        zipped.writestr(f"DATA/{other[:-4]}_JPI_ALL.xml", documents(other)[1])
    assert read_provenance(archive) == provenance_from_documents(*documents())
    folder = tmp_path / "x"
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(folder)
    (folder / STEM / f"{other[:-4]}_MTD_ALL.xml").write_bytes(documents(other)[0])
    assert read_provenance(folder / STEM) == provenance_from_documents(*documents())
