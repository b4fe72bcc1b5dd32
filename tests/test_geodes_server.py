"""The GEODES-like catalogue as a client other than full-maja sees it (plain requests)."""
from __future__ import annotations

import zipfile
from io import BytesIO
from typing import Any, Callable

import pytest
import requests
from conftest import API_KEY

from emulators.geodes import COLLECTION, GeodesFault, GeodesServer
from emulators.geodes.query import BadSearch, matches, parse_search


def body(**query: Any) -> dict[str, Any]:
    return {"collections": [COLLECTION], "limit": 80, "page": 1,
            "query": {"grid:code": {"eq": "T31TCJ"},
                      "start_datetime": {"gte": "2023-01-01", "lte": "2023-12-31T23:59:59Z"},
                      **query}}


@pytest.fixture
def geodes(make_geodes: Callable[..., GeodesServer]) -> GeodesServer:
    return make_geodes()


def post(server: GeodesServer, document: Any) -> requests.Response:
    return requests.post(server.url + "/search", json=document, timeout=30)


@pytest.mark.parametrize("operator, value, props, passes", [
    ("eq", 51, {"o": 51}, True), ("eq", 51, {"o": 8}, False), ("neq", 51, {"o": 8}, True),
    ("in", [8, 51], {"o": 51}, True), ("in", [8], {"o": 51}, False),
    ("contains", "T31TCJ", {"o": "T31TCJX"}, True), ("contains", "T31TCK", {"o": "T31TCJ"}, False),
    ("lte", "2023-02", {"o": "2023-01-31T10:00Z"}, True), ("gte", 5, {"o": 4}, False),
    ("gte", 5, {"o": "x"}, False), ("eq", 1, {}, False)])
def test_the_query_operators(operator, value, props, passes):
    assert matches(props, {"o": {operator: value}}) is passes


@pytest.mark.parametrize("document", [[], {"query": {"a": {"like": 1}}}, {"page": 0},
                                      {"limit": "80"}, {"sortBy": "start_datetime"}])
def test_a_bad_search_body_is_refused(document):
    with pytest.raises(BadSearch):
        parse_search(document, 20, 80)


def test_pages_are_capped_at_80_and_the_next_link_leads_to_unfiltered_items(geodes):
    first = post(geodes, {**body(), "limit": 500}).json()
    assert first["context"]["limit"] == 80 and len(first["features"]) == 80
    matched = first["context"]["matched"]
    assert matched > 160
    last = post(geodes, {**body(), "page": 3}).json()
    assert len(last["features"]) == matched - 160 and not any(
        link["rel"] == "next" for link in last["links"])
    [following] = [link["href"] for link in first["links"] if link["rel"] == "next"]
    wrong = requests.get(following, timeout=30).json()["features"]
    assert len(wrong) == 10
    assert any(not f["properties"]["start_datetime"].startswith("2023") for f in wrong)


def test_items_name_products_only_in_titles_and_say_size_and_md5_in_descriptions(geodes):
    features = post(geodes, body()).json()["features"]
    assert all(f["id"].startswith("URN:FEATURE:DATA:gdh:") for f in features)
    zipped = [a for f in features for a in f["assets"].values() if a["type"] == "application/zip"]
    assert zipped and all(not a["href"].endswith(".zip") for a in zipped)
    assert all("File size: " in a["description"] and "Checksum MD5: " in a["description"]
               for a in zipped)
    identifiers = [f["properties"]["identifier"] for f in features]
    assert len(identifiers) > len(set(identifiers)), "some acquisitions in two versions"
    assert any(not any(a["type"] == "application/zip" for a in f["assets"].values())
               for f in features), "some dates with metadata only"


def test_downloads_need_the_key_and_redirect_to_storage_with_ranges(geodes):
    feature = next(f for f in post(geodes, body()).json()["features"]
                   if any(a["type"] == "application/zip" for a in f["assets"].values()))
    asset = next(a for a in feature["assets"].values() if a["type"] == "application/zip")
    assert requests.get(asset["href"], timeout=30).status_code == 401
    assert requests.get(asset["href"], headers={"X-API-Key": "wrong"},
                        timeout=30).status_code == 403
    whole = requests.get(asset["href"], headers={"X-API-Key": API_KEY}, timeout=30)
    assert whole.status_code == 200 and whole.url.startswith(geodes.storage_url)
    assert zipfile.ZipFile(BytesIO(whole.content)).testzip() is None
    part = requests.get(whole.url, headers={"Range": "bytes=100-"}, timeout=30)
    assert part.status_code == 206 and part.content == whole.content[100:]
    storage = [r for r in geodes.requests if r.server == "storage"]
    # plain requests carries a header it was given across the redirect to another origin:
    # the storage records it, which is how the e2e tests see that full-maja never does so
    assert storage[0].has_key and not storage[1].has_key


def test_a_500_to_the_search_is_used_up_by_one_request(geodes):
    geodes.add_fault("search", GeodesFault("http500"))
    assert post(geodes, body()).status_code == 500
    assert post(geodes, body()).status_code == 200


def test_products_on_tape_are_refused_as_many_times_as_told(make_geodes):
    geodes = make_geodes(offline_every=1, tape_refusals=2)
    features = post(geodes, body()).json()["features"]
    asset = next(a for f in features for a in f["assets"].values()
                 if a["type"] == "application/zip")
    assert "Is online: false" in asset["description"]
    codes = [requests.get(asset["href"], headers={"X-API-Key": API_KEY}, timeout=30).status_code
             for _ in range(3)]
    assert codes == [202, 202, 200]
