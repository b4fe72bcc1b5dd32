"""Product names from URLs: safe names only, their dates, cloudy results."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from full_maja.errors import ProductError
from full_maja.products import acquisition_date, is_cloudy, product_name_from_url, target_path

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
