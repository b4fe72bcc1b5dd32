"""GEODES's STAC documents read as pure functions: body, pages, items, descriptions, choice."""
from __future__ import annotations

from datetime import date
from typing import Any, Optional

import pytest

from full_maja.products import ProductRef
from full_maja.service.stacapi import (
    METADATA_ONLY,
    Page,
    asset_facts,
    is_last_page,
    products_of,
    read_item,
    read_page,
    search_body,
)
from full_maja.validation import JobRequest

SEARCH = "https://geodes.example/api/stac/search"
REQUEST = JobRequest("31TCJ", 51, date(2023, 1, 1), date(2023, 6, 30))
MD5 = "0123456789abcdef0123456789abcdef"


def feature(day: str = "2023-01-06", version: str = "4.0", tile: str = "T31TCJ",
            orbit: Any = 51, cloud: Any = 12, zipped: bool = True, latest: Any = None,
            identifier: Optional[str] = None, platform: str = "A",
            clock: str = "10:59:07.758") -> dict[str, Any]:
    ident = identifier or f"SENTINEL2{platform}_{day.replace('-', '')}-105907-758_L2A_{tile}_C"
    stem = f"{ident}_V{version.replace('.', '-')}"
    assets = {f"{stem}_MTD_ALL.xml": {"href": f"https://geodes.example/d/{day}/mtd",
                                      "title": f"{stem}_MTD_ALL.xml", "type": "application/xml",
                                      "description": "File size: 12 bytes"},
              f"{stem}_JPI_ALL.xml": {"href": f"https://geodes.example/d/{day}/jpi",
                                      "title": f"{stem}_JPI_ALL.xml", "type": "application/xml"}}
    if zipped:
        assets[f"{stem}.zip"] = {
            "href": f"https://geodes.example/api/download/URN:x/files/{MD5}",
            "title": f"{stem}.zip", "type": "application/zip", "roles": ["data"],
            "description": f"File size: 764210185 bytes\n\nIs online: false\n\n"
                           f"Checksum MD5: {MD5.upper()}"}
    props = {"identifier": ident, "version": version, "grid:code": tile,
             "sat:relative_orbit": orbit, "eo:cloud_cover": cloud,
             "start_datetime": f"{day}T{clock}Z", "end_datetime": f"{day}T{clock}Z",
             "datetime": "2026-01-01T00:00:00Z"}
    if latest is not None:
        props["latest"] = latest
    return {"type": "Feature", "id": f"URN:FEATURE:DATA:gdh:{day}-{version}:V1",
            "properties": props, "assets": assets}


def items(*features: dict[str, Any]) -> list:
    read = [read_item(one, SEARCH) for one in features]
    assert all(item is not None for item, _ in read), read
    return [item for item, _ in read]


def test_the_search_body_is_geodes_s_with_the_period_matched_by_overlap():
    body = search_body(REQUEST, 3)
    assert body["collections"] == ["THEIA_REFLECTANCE_SENTINEL2_L2A"]
    assert body["query"] == {"grid:code": {"contains": "T31TCJ"},
                             "sat:relative_orbit": {"eq": 51},
                             "end_datetime": {"gte": "2023-01-01T00:00:00Z"},
                             "start_datetime": {"lte": "2023-06-30T23:59:59Z"}}
    assert (body["page"], body["limit"]) == (3, 80)
    assert body["sortBy"] == [{"field": "start_datetime", "direction": "asc"}]
    no_orbit = search_body(JobRequest("31TCJ", None, date(2023, 1, 1), date(2023, 2, 1)), 1)
    assert "sat:relative_orbit" not in no_orbit["query"]


@pytest.mark.parametrize("listed, returned, matched, last", [
    (80, 80, 182, False), (160, 80, 182, False), (182, 22, 182, True), (80, 80, 80, True),
    (80, 80, None, False), (79, 79, None, True), (0, 0, 500, True), (160, 80, 160, True)])
def test_paging_stops_once_every_item_matched_is_read_or_at_a_short_page(listed, returned,
                                                                          matched, last):
    page = Page([{}] * returned, matched, 80)
    assert is_last_page(listed, 80, page) is last


def test_a_server_page_smaller_than_asked_is_not_taken_for_the_last():
    assert not is_last_page(50, 80, Page([{}] * 50, 182, 50))
    assert is_last_page(182, 80, Page([{}] * 32, 182, 50))
    assert not is_last_page(50, 80, Page([{}] * 50, 182, None)), "capped without saying so"


@pytest.mark.parametrize("listed, returned, last", [(80, 80, False), (159, 79, True)])
def test_a_matched_count_short_of_the_items_listed_is_not_believed(listed, returned, last):
    assert is_last_page(listed, 80, Page([{}] * returned, 1, None)) is last


@pytest.mark.parametrize("document", [[], {}, {"features": {}}, "x", None])
def test_an_answer_without_features_is_a_service_error(document):
    with pytest.raises(Exception, match="not a list of items"):
        read_page(document, "page 1")


def test_context_gives_matched_and_limit_and_numbermatched_is_read_too():
    assert read_page({"features": [], "context": {"matched": 9, "limit": 5}}, "p") == \
        Page([], 9, 5)
    assert read_page({"features": [], "numberMatched": 7}, "p").matched == 7
    assert read_page({"features": [], "context": {"matched": "9"}}, "p").matched is None


@pytest.mark.parametrize("text, facts", [
    ("File size: 764210185 bytes\n\nIs online: false\n\n"
     "Checksum MD5: ABCDEF0123456789abcdef0123456789",
     (764210185, False, "abcdef0123456789abcdef0123456789")),
    ("Is online: true", (None, True, None)),
    ("file size: 12 BYTES", (12, None, None)),
    ("Checksum MD5: 123", (None, None, None)),
    (None, (None, None, None)), (42, (None, None, None))])
def test_asset_descriptions_give_size_tape_and_md5(text, facts):
    assert asset_facts(text) == facts


def test_an_item_gives_a_reference_named_from_the_asset_title():
    [ref] = products_of(items(feature()), REQUEST, None)
    stem = "SENTINEL2A_20230106-105907-758_L2A_T31TCJ_C_V4-0"
    assert ref == ProductRef(f"https://geodes.example/api/download/URN:x/files/{MD5}",
                             name=f"{stem}.zip", size=764210185, md5=MD5, online=False,
                             mtd_url="https://geodes.example/d/2023-01-06/mtd",
                             jpi_url="https://geodes.example/d/2023-01-06/jpi")
    assert ref.file_name() == f"{stem}.zip" and not ref.cloudy


def test_the_tile_is_matched_exactly_and_orbit_and_period_again():
    found = products_of(items(
        feature(day="2023-01-06"), feature(day="2023-01-11", tile="T31TCJX"),
        feature(day="2023-01-16", tile="MGRS-31TCJ"), feature(day="2023-01-21", orbit=8),
        feature(day="2022-12-31"), feature(day="2023-07-01"), feature(day="2023-06-30")),
        REQUEST, None)
    assert [ref.label[11:19] for ref in found] == ["20230106", "20230116", "20230630"]


def test_one_product_per_acquisition_the_latest_version():
    found = products_of(items(feature(version="4.0"), feature(version="3.1"),
                              feature(day="2023-01-11", version="2.2", latest=False),
                              feature(day="2023-01-11", version="10.0", latest=True)),
                        REQUEST, None)
    assert [ref.label for ref in found] == [
        "SENTINEL2A_20230106-105907-758_L2A_T31TCJ_C_V4-0.zip",
        "SENTINEL2A_20230111-105907-758_L2A_T31TCJ_C_V10-0.zip"]


def test_two_platforms_the_same_day_are_two_acquisitions_in_time_order():
    found = products_of(items(feature(platform="B", clock="08:00:00"),
                              feature(platform="A", clock="11:00:00")), REQUEST, None)
    assert [ref.label[:10] for ref in found] == ["SENTINEL2B", "SENTINEL2A"]


def test_cloudy_and_metadata_only_dates_are_skipped_for_clouds():
    found = products_of(items(feature(day="2023-01-06", cloud=85.5),
                              feature(day="2023-01-11", cloud=20),
                              feature(day="2023-01-16", zipped=False, cloud=None)),
                        REQUEST, 80)
    assert [bool(ref.skipped) for ref in found] == [True, False, True]
    assert found[0].skipped == "85.5 % cloudy, over the 80 % asked (--max-cloud)"
    assert found[2].skipped == METADATA_ONLY and found[2].cloudy
    assert found[2].label == "SENTINEL2A_20230116-105907-758_L2A_T31TCJ_C_V4-0"
    assert found[2].url.endswith("/items/URN:FEATURE:DATA:gdh:2023-01-16-4.0:V1")
    assert found[2].mtd_url and not products_of(items(feature(cloud=85)), REQUEST,
                                                None)[0].cloudy


@pytest.mark.parametrize("broken", [
    "x", {"id": "a"}, {"id": "a", "properties": {}},
    {"id": "a", "properties": {"identifier": "S"}},
    {"id": "a", "properties": {"identifier": "S", "start_datetime": "not a date"}}])
def test_an_unusable_item_is_left_out_with_a_reason(broken):
    item, why = read_item(broken, SEARCH)
    assert item is None and why


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00"])
def test_an_acquisition_time_no_utc_date_holds_leaves_the_item_out(moment):
    odd = feature()
    odd["properties"].update(start_datetime=moment, datetime=moment)
    item, why = read_item(odd, SEARCH)
    assert item is None and "acquisition date" in why


def test_odd_values_are_read_tolerantly():
    odd = feature(orbit="51", cloud=True, version="V4-0")
    odd["assets"]["junk"] = "not an asset"
    [item] = items(odd)
    assert (item.orbit, item.cloud, item.version) == (51, None, (4, 0))
