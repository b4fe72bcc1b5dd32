"""Product references and names: safe names only (from URLs or titles), dates, clouds."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from full_maja.errors import ProductError
from full_maja.masking import forget_secrets, register_secret
from full_maja.products import (
    ProductRef,
    acquisition_date,
    acquisition_time,
    is_cloudy,
    product_name_from_url,
    product_ref_from_json,
    target_path,
    tile_in_name,
    version_key,
    version_numbers,
)

NAME = "SENTINEL2A_20190305-083752-456_L2A_T36TWQ_C_V2-2.zip"


@pytest.mark.parametrize("url, name", [
    (f"https://peps.cnes.fr/cgi-bin/mapcache_results/maja/1/{NAME}", NAME),
    (f"https://h/a/{NAME}?token=x", NAME),
    ("https://h/a/SENTINEL2A%5F20190305-083752-456_L2A_T36TWQ_C_V2-2.zip", NAME),
])
def test_the_name_is_the_decoded_last_segment(url, name):
    assert product_name_from_url(url) == name


@pytest.mark.parametrize("url", [
    "https://h/a/..%2F..%2Fetc%2Fpasswd.zip", "https://h/a/%2Fetc%2Fx.zip",
    "https://h/a/..\\x.zip", "https://h/a/", "https://h/a/x.tar", "https://h/a/.hidden.zip",
    "https://h/a/a%0Ab.zip", "https://h/a/a%00.zip", "https://h/a/a..b.zip",
    "https://h/a/%2E%2E.zip", "https://h/a/C%3A%5Cx.zip",
])
def test_unsafe_names_are_refused(url):
    with pytest.raises(ProductError):
        product_name_from_url(url)


def test_target_stays_inside_the_write_folder(tmp_path: Path):
    assert target_path(tmp_path, NAME) == (tmp_path / NAME).resolve()


@pytest.mark.parametrize("name, day", [
    (NAME, date(2019, 3, 5)),
    ("SENTINEL2B_20190310-083753-123_L2A_T36TWQ_D_V2-2_NOVALD.zip", date(2019, 3, 10)),
    ("S2B_MSIL1C_20190315T083751_N0207_R064_T36TWQ_20190315T104510", date(2019, 3, 15)),
    ("garbage.zip", None),
    ("SENTINEL2A_20191399-083752_L2A.zip", None),
])
def test_acquisition_dates(name, day):
    assert acquisition_date(name) == day


@pytest.mark.parametrize("name, cloudy", [(NAME, False), ("X_20190101_NOVALD.zip", True),
                                          ("x_novald.zip", True)])
def test_cloudy_results_are_marked_novald(name, cloudy):
    assert is_cloudy(name) is cloudy


@pytest.mark.parametrize("url", [
    f"https://h/maja/outputs/JOB/../../{NAME}", f"https://h/maja/./{NAME}",
    f"https://h/maja/outputs/JOB/%2e%2e/%2E%2E/{NAME}", f"https://h/maja/%2e/{NAME}",
    f"https://h/maja/outputs/JOB/.%2e/{NAME}",
])
def test_dot_segments_in_a_product_url_are_refused(url):
    with pytest.raises(ProductError, match="segment"):
        product_name_from_url(url)


MD5 = "0123456789abcdef0123456789abcdef"
RICH = ProductRef("https://geodes.example/api/download/URN:x/files/" + MD5, name=NAME,
                  size=764210185, md5=MD5, online=False, mtd_url="https://g/m.xml",
                  jpi_url="https://g/j.xml")


def test_a_reference_of_a_url_alone_is_kept_as_that_url_and_read_back():
    plain = ProductRef(f"https://h/a/{NAME}")
    assert plain.as_json() == f"https://h/a/{NAME}"
    assert product_ref_from_json(plain.as_json()) == plain
    assert plain.file_name() == NAME and plain.label == NAME


def test_a_catalogue_reference_is_kept_whole_and_named_from_its_title():
    kept = RICH.as_json()
    assert isinstance(kept, dict) and kept["md5"] == MD5 and "skipped" not in kept
    assert product_ref_from_json(json.loads(json.dumps(kept))) == RICH
    assert RICH.file_name() == NAME and not RICH.cloudy


@pytest.mark.parametrize("value", [
    None, "", 3, {"name": NAME}, {"url": 1}, {"url": "u", "size": "12"},
    {"url": "u", "size": True}, {"url": "u", "online": "no"}, {"url": "u", "md5": 5}])
def test_anything_else_is_not_a_reference(value):
    with pytest.raises(ValueError):
        product_ref_from_json(value)


@pytest.mark.parametrize("title", ["../x.zip", "a/b.zip", "x.tar", ".hidden.zip", "a\nb.zip"])
def test_an_unsafe_title_is_refused_like_an_unsafe_url(title):
    with pytest.raises(ProductError, match="not a plain product name"):
        ProductRef("https://g/files/" + MD5, name=title).file_name()


@pytest.mark.parametrize("ref", [
    ProductRef("https://g/files/" + MD5, name="S2_key-0123456789-abc_20230102.zip"),
    ProductRef("https://h/products/S2_key-0123456789-abc_20230102.zip")])
def test_a_name_holding_a_secret_full_maja_sends_is_refused(ref):
    register_secret("key-0123456789-abc")
    with pytest.raises(ProductError, match="holds the API key or password") as refused:
        ref.file_name()
    assert "key-0123456789" not in str(refused.value.product)
    forget_secrets()
    assert ref.file_name() == "S2_key-0123456789-abc_20230102.zip"


@pytest.mark.parametrize("ref, cloudy", [
    (ProductRef(f"https://h/{NAME[:-4]}_NOVALD.zip"), True),
    (ProductRef("https://h/x%5FNOVALD.zip?a=b"), True),
    (ProductRef("https://h/files/" + MD5, name=NAME, skipped="85 % cloudy"), True),
    (RICH, False)])
def test_a_date_is_skipped_for_clouds_by_name_or_by_reason(ref, cloudy):
    assert ref.cloudy is cloudy


L2A = "SENTINEL2B_20230307-105857-123_L2A_T31TCJ_C_V4-1"


@pytest.mark.parametrize("name, tile, moment", [
    (L2A, "31TCJ", datetime(2023, 3, 7, 10, 58, 57, 123000, tzinfo=timezone.utc)),
    (L2A + ".zip", "31TCJ", datetime(2023, 3, 7, 10, 58, 57, 123000, tzinfo=timezone.utc)),
    ("SENTINEL2B_20230230-105857-123_L2A_T31TIJ_C_V4-1", None, None),
    ("S2A_MSIL1C_20230307T105851_N0509_R051_T31TCJ_20230307T144149", "31TCJ", None),
    ("notaproduct", None, None),
])
def test_the_tile_and_acquisition_time_of_a_name(name, tile, moment):
    assert (tile_in_name(name), acquisition_time(name)) == (tile, moment)


@pytest.mark.parametrize("text, numbers, key", [
    ("V4-1", (4, 1), (4, 1)), ("4.0", (4, 0), (4,)), ("4", (4,), (4,)),
    ("4.10", (4, 10), (4, 10)), ("", (), None), (None, (), None), ("0.0", (0, 0), (0,)),
])
def test_a_product_version_as_written_and_as_compared(text, numbers, key):
    assert (version_numbers(text), version_key(text)) == (numbers, key)
    assert version_key("4.10") > version_key("4.9")

