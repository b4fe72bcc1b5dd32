"""The write folder as a STAC catalogue: valid STAC (vendored schemas, offline), opened by
pystac, loaded as a data cube by odc-stac, written only when something changed, never
through a link; and what the download command leaves (`catalog.json`, `--no-catalogue`, `-x`)."""
from __future__ import annotations

import json
import logging
import os
import shutil
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

import pystac
import pytest
from conftest import submit
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

from emulators.acquisitions import facts_from_name
from emulators.products import (
    cams_status,
    processing_mode,
    product_raster,
    product_version,
    production_date,
    write_product_zip,
)
from full_maja.atomic import NotOwnFile
from full_maja.download.verified import VerifiedRecord
from full_maja.provenance import Provenance
from full_maja.stac import CATALOG_NAME, ITEMS_DIR, series_items, write_catalogue
from full_maja.stac.versions import superseded

SCHEMAS = Path(__file__).parent / "stac-schemas"
CORE = "https://schemas.stacspec.org/v1.1.0"
NAMES = [f"SENTINEL2{'AB'[day % 2]}_201903{day:02d}-083751-{day:03d}_L2A_T31TCJ_C_V2-2.zip"
         for day in (1, 6, 11)]


def _registry() -> Registry:
    """Every vendored schema under the URI it is published at; nothing is ever fetched."""
    resources = {}
    for path in (SCHEMAS / "core").glob("*.json"):
        spec = "catalog-spec" if path.stem == "catalog" else "item-spec"
        resources[f"{CORE}/{spec}/json-schema/{path.name}"] = path
    for path in (SCHEMAS / "geojson").glob("*.json"):
        resources[f"https://geojson.org/schema/{path.name}"] = path
    for path in (SCHEMAS / "extensions").glob("*.json"):
        name, version = path.stem.rsplit("-", 1)
        resources[f"https://stac-extensions.github.io/{name}/{version}/schema.json"] = path

    def refuse(uri: str) -> Resource:
        raise NoSuchResource(ref=uri)

    registry = Registry(retrieve=refuse)  # type: ignore[call-arg]
    return registry.with_resources(
        (uri, Resource.from_contents(json.loads(path.read_text()))) for uri, path in
        resources.items())


REGISTRY = _registry()


def assert_valid(document: dict[str, Any], kind: str) -> None:
    """`document` is valid against the core schema of `kind` and each extension it names."""
    core = f"{CORE}/{kind}-spec/json-schema/{kind}.json"
    for uri in [core, *document.get("stac_extensions", [])]:
        schema = REGISTRY.contents(uri)
        errors = list(Draft7Validator(schema, registry=REGISTRY).iter_errors(document))
        assert not errors, f"{uri}: {errors[0].message} at {list(errors[0].absolute_path)}"


def folder_of(tmp_path: Path, names: list[str] = NAMES, *, extract: bool = False,
              keep_zip: bool = False, all_bands: bool = True) -> Path:
    """A write folder holding `names` as a download would leave them, recorded as verified."""
    folder = tmp_path / "out"
    folder.mkdir(exist_ok=True)
    record = VerifiedRecord(folder)
    for name in names:
        path = folder / name
        write_product_zip(path, name, 16 * 1024, orbit=51, all_bands=all_bands)
        record.remember(name, path)
        if extract:
            with zipfile.ZipFile(path) as archive:
                archive.extractall(folder)
            record.remember(name, path, extracted=[name[:-4]])
            if not keep_zip:
                record.remember_extracted(name, [name[:-4]])
                path.unlink()
    assert record.flush()
    return folder


def documents(folder: Path) -> tuple[dict, list[dict]]:
    catalogue = json.loads((folder / CATALOG_NAME).read_text())
    items = [json.loads((folder / ITEMS_DIR / path.name).read_text())
             for path in sorted((folder / ITEMS_DIR).iterdir())]
    return catalogue, items


@pytest.mark.parametrize("extract, keep_zip", [(False, False), (True, False), (True, True)])
def test_catalogue_and_items_are_valid_stac_with_every_extension(tmp_path: Path, extract: bool,
                                                                 keep_zip: bool) -> None:
    folder = folder_of(tmp_path, extract=extract, keep_zip=keep_zip)
    assert write_catalogue(folder) == folder / CATALOG_NAME
    catalogue, items = documents(folder)
    assert_valid(catalogue, "catalog")
    assert len(items) == 3
    extensions = {uri.split("/")[3] for uri in items[0]["stac_extensions"]}
    assert extensions == {"eo", "projection", "mgrs", "sat", "processing", "file"}
    for item in items:
        assert_valid(item, "item")
    assert ("zip" in items[0]["assets"]) == (keep_zip or not extract)
    assert ("FRE_B8A" in items[0]["assets"]) == extract


def test_an_item_says_what_the_product_says(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, extract=True, keep_zip=True)
    write_catalogue(folder)
    name = NAMES[1]
    item = json.loads((folder / ITEMS_DIR / f"{name[:-4]}.json").read_text())
    facts = facts_from_name(name)
    properties = item["properties"]
    assert item["id"] == name[:-4]
    assert properties["datetime"] == "2019-03-06T08:37:51Z"
    assert properties["platform"] == "sentinel-2" + name[9].lower() == "sentinel-2a"
    assert properties["constellation"] == "sentinel-2" and properties["instruments"] == ["msi"]
    assert properties["proj:code"] == "EPSG:32631"
    assert (properties["mgrs:utm_zone"], properties["mgrs:latitude_band"],
            properties["mgrs:grid_square"]) == (31, "T", "CJ")
    assert properties["sat:relative_orbit"] == 51
    assert properties["processing:level"] == "L2A"
    assert properties["processing:version"] == product_version(name) == "2.2"
    assert properties["processing:datetime"] == \
        production_date(facts).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert properties["maja:cams"] == cams_status(name)
    assert properties["maja:processing_mode"] == processing_mode(name)
    west, south, east, north = item["bbox"]
    assert 0.4 < west < 1.0 < 1.8 < east < 2.0 and 43.0 < south < 43.5 < 44.0 < north < 44.5
    ring = item["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 5
    area = sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:]))
    assert area > 0, "the exterior ring must be counter-clockwise"
    assets = item["assets"]
    assert assets["FRE_B4"]["eo:bands"] == [{"name": "B4", "common_name": "red"}]
    assert assets["SRE_B8A"]["eo:bands"] == [{"name": "B8A", "common_name": "nir08"}]
    assert assets["FRE_B4"]["proj:shape"] == [10980, 10980]
    assert assets["FRE_B4"]["proj:transform"] == [10.0, 0.0, 300000.0, 0.0, -10.0, 4900020.0]
    assert assets["CLM_R2"]["proj:shape"] == [5490, 5490]
    assert assets["thumbnail"]["roles"] == ["thumbnail"]
    assert assets["MTD_ALL"]["roles"] == ["metadata"] == assets["JPI_ALL"]["roles"]
    zipped = folder / name
    assert assets["zip"]["href"] == f"../{name}"
    assert assets["zip"]["file:size"] == zipped.stat().st_size
    import hashlib
    assert assets["zip"]["file:checksum"] == \
        "1220" + hashlib.sha256(zipped.read_bytes()).hexdigest()
    for asset in assets.values():
        assert (folder / ITEMS_DIR / asset["href"]).resolve().is_file()


def test_a_product_without_geoposition_gets_its_grid_from_the_tile(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, NAMES[:1], extract=True)
    stem = NAMES[0][:-4]
    metadata = folder / stem / f"{stem}_MTD_ALL.xml"
    text = metadata.read_text()
    start, end = text.index("<Geoposition_Informations>"), text.index(
        "</Geoposition_Informations>") + len("</Geoposition_Informations>")
    metadata.write_text(text[:start] + text[end:])
    write_catalogue(folder)
    item = json.loads((folder / ITEMS_DIR / f"{stem}.json").read_text())
    assert_valid(item, "item")
    assert item["properties"]["proj:code"] == "EPSG:32631"
    assert item["assets"]["SRE_B11"]["proj:transform"] == \
        [20.0, 0.0, 300000.0, 0.0, -20.0, 4900020.0]
    assert item["assets"]["SRE_B11"]["proj:shape"] == [5490, 5490]
    assert 0.4 < item["bbox"][0] < 1.0


def test_pystac_opens_it_and_odc_stac_loads_it_lazily_without_a_pixel(tmp_path: Path) -> None:
    odc_stac = pytest.importorskip("odc.stac")
    folder = folder_of(tmp_path, extract=True)
    write_catalogue(folder)
    for raster in folder.rglob("*.tif"):
        raster.unlink()  # a load that read one pixel would fail now
    catalog = pystac.Catalog.from_file(str(folder / CATALOG_NAME))
    items = list(catalog.get_items(recursive=True))
    assert sorted(item.id for item in items) == sorted(name[:-4] for name in NAMES)
    cube = odc_stac.load(items, bands=["FRE_B4", "FRE_B8A"], chunks={})
    assert cube.sizes["time"] == 3
    assert cube.odc.crs.epsg == 32631
    assert cube.FRE_B4.shape == (3, 10980, 10980)
    assert float(cube.x[0]) == 300005.0 and float(cube.y[0]) == 4900015.0
    assert [str(day)[:10] for day in cube.time.values] == \
        ["2019-03-01", "2019-03-06", "2019-03-11"]


def test_the_pixels_odc_stac_reads_are_those_of_the_geotiffs(tmp_path: Path) -> None:
    odc_stac = pytest.importorskip("odc.stac")
    folder = folder_of(tmp_path, extract=True)
    write_catalogue(folder)
    items = list(pystac.Catalog.from_file(str(folder / CATALOG_NAME)).get_items(recursive=True))
    # 40 x 40 pixels of 10 m astride the corner of four 1024-pixel tiles of the GeoTIFFs
    left, top = 300000 + 1004 * 10, 4900020 - 1004 * 10
    cube = odc_stac.load(items, bands=["FRE_B4", "SRE_B4"], crs="EPSG:32631", resolution=10,
                         x=(left, left + 400), y=(top - 400, top)).compute()
    assert cube.FRE_B4.shape == (3, 40, 40)
    for index, item in enumerate(sorted(items, key=lambda item: item.datetime)):
        for key in ("FRE_B4", "SRE_B4"):
            raster = product_raster(item.id + ".zip", key)
            values = cube[key].isel(time=index).values
            for row, col in ((0, 0), (0, 39), (39, 0), (39, 39)):
                assert values[row, col] == raster.value_at(1004 + row, 1004 + col)
            assert values[0, 0] != values[0, 39]


def test_series_items_are_the_same_items(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, extract=True, keep_zip=True)
    items = series_items(folder)
    assert [item.id for item in items] == sorted(name[:-4] for name in NAMES)
    assert all(Path(item.assets["FRE_B4"].get_absolute_href() or "").is_file()
               for item in items)
    assert not (folder / CATALOG_NAME).exists()
    write_catalogue(folder)
    on_disk = documents(folder)[1]
    assert [item.to_dict(include_self_link=False, transform_hrefs=False)["properties"]
            for item in items] == [item["properties"] for item in on_disk]


def stats(folder: Path) -> dict[Path, tuple[int, int]]:
    return {path: (path.stat().st_ino, path.stat().st_mtime_ns)
            for path in [folder / CATALOG_NAME, *(folder / ITEMS_DIR).iterdir()]}


def test_nothing_is_rewritten_when_nothing_changed_and_only_what_changed_is(
        tmp_path: Path) -> None:
    folder = folder_of(tmp_path, NAMES[:2], all_bands=False)
    write_catalogue(folder)
    before = stats(folder)
    write_catalogue(folder)
    assert stats(folder) == before
    folder_of(tmp_path, NAMES[2:], all_bands=False)
    write_catalogue(folder)
    after = stats(folder)
    changed = {path.name for path in after if after[path] != before.get(path)}
    assert changed == {CATALOG_NAME, NAMES[2][:-4] + ".json"}
    (folder / NAMES[0]).unlink()
    (folder / ITEMS_DIR / (NAMES[1][:-4] + ".json")).unlink()
    write_catalogue(folder)
    catalogue, items = documents(folder)
    assert [item["id"] for item in items] == [name[:-4] for name in NAMES[1:]]
    assert len([link for link in catalogue["links"] if link["rel"] == "item"]) == 2


def test_a_link_in_place_of_the_items_folder_is_refused_never_followed(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, NAMES[:1], all_bands=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (folder / ITEMS_DIR).symlink_to(elsewhere)
    with pytest.raises(OSError, match="not a folder full-maja made"):
        write_catalogue(folder)
    assert list(elsewhere.iterdir()) == []
    assert not (folder / CATALOG_NAME).exists()


def test_a_link_in_place_of_the_catalogue_is_refused_not_followed(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, NAMES[:1], all_bands=False)
    victim = tmp_path / "victim.json"
    victim.write_text("mine")
    (folder / CATALOG_NAME).symlink_to(victim)
    with pytest.raises(NotOwnFile):
        write_catalogue(folder)
    assert victim.read_text() == "mine"
    assert (folder / CATALOG_NAME).is_symlink()


def test_a_record_without_the_product_on_disk_makes_no_item(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, NAMES, all_bands=False)
    (folder / NAMES[0]).write_bytes(b"changed since it was verified")
    shutil.rmtree(folder / ITEMS_DIR, ignore_errors=True)
    write_catalogue(folder)
    assert [item["id"] for item in documents(folder)[1]] == [name[:-4] for name in NAMES[1:]]



# Versions of one acquisition: one Item, the latest ---------------------------------------

VERSIONS = [NAMES[0], NAMES[0].replace("_V2-2", "_V2-3")]


def test_of_two_versions_of_an_acquisition_only_the_later_is_an_item(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, VERSIONS[:1] + NAMES[1:], all_bands=False)
    write_catalogue(folder)
    older = folder / ITEMS_DIR / (VERSIONS[0][:-4] + ".json")
    assert older.is_file()
    before = (folder / VERSIONS[0]).read_bytes()
    folder_of(tmp_path, VERSIONS[1:], all_bands=False)
    write_catalogue(folder)
    catalogue, items = documents(folder)
    assert_valid(catalogue, "catalog")
    assert sorted(item["id"] for item in items) == sorted(
        name[:-4] for name in VERSIONS[1:] + NAMES[1:])
    assert not older.exists(), "the older version's Item file is removed"
    assert len([link for link in catalogue["links"] if link["rel"] == "item"]) == 3
    assert (folder / VERSIONS[0]).read_bytes() == before
    assert [item.id for item in series_items(folder)] == [item["id"] for item in items]


def test_a_catalogue_an_earlier_full_maja_wrote_with_both_versions_is_rewritten(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = folder_of(tmp_path, VERSIONS, all_bands=False)
    with monkeypatch.context() as earlier:
        earlier.setattr("full_maja.stac.write.CATALOGUE_FORM", 1)
        earlier.setattr("full_maja.stac.write.superseded", lambda products: set())
        write_catalogue(folder)
    assert len(documents(folder)[1]) == 2
    write_catalogue(folder)
    assert [item["id"] for item in documents(folder)[1]] == [VERSIONS[1][:-4]]


def test_two_products_of_one_acquisition_nothing_tells_apart_both_keep_an_item(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    twins = [NAMES[0], NAMES[0].replace("_C_V", "_D_V")]
    folder = folder_of(tmp_path, twins, all_bands=False)
    with caplog.at_level(logging.WARNING):
        write_catalogue(folder)
    assert sorted(item["id"] for item in documents(folder)[1]) == sorted(
        name[:-4] for name in twins)
    assert "nothing telling which is the latest" in caplog.text


MOMENT = datetime(2023, 3, 7, 8, 37, 51, tzinfo=timezone.utc)


def version(name: str, number: Optional[str] = None, day: Optional[int] = None,
            when: datetime = MOMENT, tile: str = "31TCJ") -> tuple[str, Provenance]:
    """A product as `superseded` takes it: its name, and a provenance of the facts given."""
    produced = datetime(2023, 3, day, tzinfo=timezone.utc) if day else None
    return name, Provenance(acquisition_date=when, production_date=produced,
                            product_version=number, tile=tile)


@pytest.mark.parametrize("products, older", [
    ([version("a", "4.0", 9), version("b", "4.1", 8)], {"a"}),
    ([version("a", "4.10", 8), version("b", "4.9", 9)], {"b"}),
    ([version("a", "4.1", 8), version("b", "4.1", 9)], {"a"}),
    ([version("a", "4", 8), version("b", "4.0", 9)], {"a"}),
    ([version("a", "4.1", 8), version("b", None, 9)], {"a"}),
    ([version("a", "4.1", 9), version("b", "4.1", 9)], set()),
    ([version("a", "4.1", 8), version("b", "4.1")], set()),
    ([version("a"), version("b")], set()),
    ([version("a", "4.0", 8), version("b", "4.1", 8), version("c", "4.1", 8)], {"a"}),
    ([version("a", "4.0"), version("b", "4.1", tile="31TCH")], set()),
    ([version("a", "4.0"), version("b", "4.1", when=MOMENT.replace(second=52))], set()),
])
def test_the_latest_version_is_the_highest_then_the_last_produced_else_all_are_kept(
        products: list[tuple[str, Provenance]], older: set[str]) -> None:
    assert superseded(products) == older


def test_an_acquisition_and_tile_are_the_names_when_the_metadata_give_none() -> None:
    names = [NAMES[0], NAMES[0].replace("_V2-2", "_V2-3")]
    products = [(name, Provenance(product_version=product_version(name))) for name in names]
    assert superseded(products) == {names[0]}
    assert superseded([("a", Provenance(product_version="1")),
                       ("b", Provenance(product_version="2"))]) == set()

OLDER, NEWER = NAMES[0], NAMES[0].replace("_V2-2", "_V2-3")
ACQUIRED = datetime(2019, 3, 1, 8, 37, 51, 1000, tzinfo=timezone.utc)


def test_the_metadata_tile_and_the_name_tile_are_one_acquisition() -> None:
    """GEOGRAPHICAL_ZONE gives `T31TCJ`, a name `31TCJ`: one tile, so one acquisition."""
    products = [(OLDER, Provenance(tile="T31TCJ", acquisition_date=ACQUIRED,
                                   product_version="2.2")),
                (NEWER, Provenance(acquisition_date=ACQUIRED, product_version="2.3"))]
    assert superseded(products) == {OLDER}


def test_a_version_without_metadata_beside_one_with_is_warned_about(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Versions nothing tells apart all keep their Item, and the run names them: here the
    older zip has no metadata (no version, no date, the tile from its name alone)."""
    folder = folder_of(tmp_path, [NEWER], all_bands=False)
    path = folder / OLDER
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(OLDER[:-4] + "/README.txt", "no metadata")
    record = VerifiedRecord(folder)
    record.remember(OLDER, path)
    assert record.flush()
    with caplog.at_level(logging.WARNING):
        write_catalogue(folder)
    assert sorted(item["id"] for item in documents(folder)[1]) == sorted([OLDER[:-4],
                                                                          NEWER[:-4]])
    assert "nothing telling which is the latest" in caplog.text


# End to end: the download command ------------------------------------------------------

def download(run, auth_file, *extra):
    return run("download", "-a", auth_file, "-l", "job.log", "-w", "out", *extra)


def test_a_download_run_leaves_the_catalogue_and_a_rerun_leaves_it_alone(run, finished,
                                                                        auth_file):
    emulator = finished()
    submit(run, emulator, auth_file)
    result = download(run, auth_file)
    assert result.returncode == 0, result.stderr
    assert f"STAC catalogue: {Path('out', CATALOG_NAME)}" in result.stdout
    catalogue, items = documents(Path("out"))
    assert_valid(catalogue, "catalog")
    zips = sorted(path.name[:-4] for path in Path("out").glob("*.zip"))
    assert sorted(item["id"] for item in items) == zips and len(zips) == 9
    assert all(item["properties"]["sat:relative_orbit"] == 64 for item in items)
    assert not any("NOVALD" in item["id"] for item in items)
    for item in items:
        assert_valid(item, "item")
    before = stats(Path("out"))
    assert download(run, auth_file, "-q").returncode == 0
    assert stats(Path("out")) == before


def test_no_catalogue_leaves_none(cli, finished, auth_file):
    emulator = finished()
    submit(cli, emulator, auth_file)
    result = download(cli, auth_file, "--no-catalogue")
    assert result.returncode == 0, result.stderr
    assert not Path("out", CATALOG_NAME).exists() and not Path("out", ITEMS_DIR).exists()
    assert "STAC catalogue" not in result.stdout


def test_extracting_adds_the_rasters_that_odc_stac_opens(run, finished, auth_file):
    odc_stac = pytest.importorskip("odc.stac")
    emulator = finished(all_bands=True)
    submit(run, emulator, auth_file)
    assert download(run, auth_file).returncode == 0
    assert "FRE_B4" not in documents(Path("out"))[1][0]["assets"]
    result = download(run, auth_file, "-x")
    assert result.returncode == 0, result.stderr
    items = documents(Path("out"))[1]
    assert all("FRE_B4" in item["assets"] and "zip" not in item["assets"] for item in items)
    catalog = pystac.Catalog.from_file(str(Path("out", CATALOG_NAME)))
    cube = odc_stac.load(catalog.get_items(recursive=True), bands=["FRE_B4"], chunks={})
    assert cube.sizes["time"] == 9 and cube.odc.crs.epsg == 32636


def test_json_and_the_page_tell_each_products_provenance(cli, finished, auth_file):
    emulator = finished()
    submit(cli, emulator, auth_file)
    result = download(cli, auth_file, "--json")
    assert result.returncode == 0, result.stderr
    products = json.loads(result.stdout)["jobs"][0]["products"]
    on_disk = [product for product in products if product["outcome"] == "downloaded"]
    cloudy = [product for product in products if product["outcome"] == "cloudy"]
    assert len(on_disk) == 9 and cloudy
    for product in on_disk:
        facts = facts_from_name(product["name"])
        assert product["product_version"] == "2.2"
        assert product["production_date"] == \
            production_date(facts).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert product["cams"] == cams_status(product["name"])
        assert product["processing_mode"] == processing_mode(product["name"])
        assert isinstance(product["cloud_cover"], float)
        assert isinstance(product["snow_cover"], float)
    assert all("cams" not in product for product in cloudy)
    page = Path("out", "series.html").read_text()
    first = on_disk[0]
    assert f"CAMS {first['cams']}, mode {first['processing_mode']}" in page
    assert f"Version 2.2, produced {first['production_date'][:10]}" in page


def test_a_no_op_rerun_reopens_no_zip(cli, finished, auth_file, monkeypatch):
    emulator = finished()
    submit(cli, emulator, auth_file)
    first = download(cli, auth_file, "--json")
    assert first.returncode == 0, first.stderr

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a product was read again")

    monkeypatch.setattr("full_maja.download.facts.read_provenance", refuse)
    monkeypatch.setattr("full_maja.download.facts._sha256", refuse)
    again = download(cli, auth_file, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["jobs"][0]["products"] == [
        {**product, "outcome": "already present" if product["outcome"] == "downloaded"
         else product["outcome"]} for product in json.loads(first.stdout)["jobs"][0]["products"]]


def test_a_catalogue_that_cannot_be_written_is_a_warning(cli, finished, auth_file):
    emulator = finished()
    submit(cli, emulator, auth_file)
    Path("out").mkdir()
    os.symlink(Path("elsewhere").resolve(), Path("out", ITEMS_DIR))
    result = download(cli, auth_file)
    assert result.returncode == 0
    assert f"could not write {CATALOG_NAME} in out" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def sha256_of(path: Path) -> str:
    import hashlib
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refuse_to_read(*args: object, **kwargs: object) -> None:
    raise AssertionError("a product was read again to be hashed")


def test_a_downloaded_products_checksum_is_hashed_while_it_arrives(cli, finished, auth_file,
                                                                   monkeypatch):
    emulator = finished()
    submit(cli, emulator, auth_file)
    monkeypatch.setattr("full_maja.download.facts._sha256", refuse_to_read)
    result = download(cli, auth_file)
    assert result.returncode == 0, result.stderr
    items = documents(Path("out"))[1]
    assert len(items) == 9
    for item in items:
        zipped = Path("out", item["id"] + ".zip")
        assert item["assets"]["zip"]["file:checksum"] == "1220" + sha256_of(zipped)


def test_a_resumed_products_checksum_covers_the_part_an_earlier_run_kept(cli, finished,
                                                                         auth_file, monkeypatch):
    emulator = finished()
    submit(cli, emulator, auth_file)
    assert download(cli, auth_file, "--no-catalogue").returncode == 0
    name = sorted(path.name for path in Path("out").glob("*.zip"))[0]
    whole = Path("out", name).read_bytes()
    shutil.rmtree("out")
    Path("out").mkdir()
    Path("out", name + ".part").write_bytes(whole[:5000])
    emulator.clear_requests()
    monkeypatch.setattr("full_maja.download.facts._sha256", refuse_to_read)
    result = download(cli, auth_file, "-j", "1")
    assert result.returncode == 0, result.stderr
    assert [record.range for record in emulator.requests
            if record.path.endswith("/" + name)] == ["bytes=5000-"]
    assert Path("out", name).read_bytes() == whole
    item = json.loads(Path("out", ITEMS_DIR, name[:-4] + ".json").read_text())
    assert item["assets"]["zip"]["file:checksum"] == "1220" + sha256_of(Path("out", name))
