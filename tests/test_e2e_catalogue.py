"""End to end: a series from the GEODES-like catalogue, by both commands (`run`: the real
scripts; `cli`: their entry points in this process), downloads and cron runs included."""
from __future__ import annotations

import hashlib
import json
import math
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

import pystac
import pytest
from conftest import API_KEY, PASSWORD, USER, assert_one_line_error

from emulators.geodes import GeodesFault, GeodesServer
from full_maja.download import transfer
from full_maja.download.digest import read_prefix
from full_maja.download.verified import RECORD_NAME
from full_maja.products import acquisition_date

YEAR = ("-t", "31TCJ", "-d", "2023-01-01", "-f", "2023-12-31")
ORBIT_YEAR = ("-t", "31TCJ", "-o", "51", "-d", "2023-01-01", "-f", "2023-12-31")
LOG = "cat.log"


@pytest.fixture
def geodes(make_geodes: Callable[..., GeodesServer]) -> GeodesServer:
    return make_geodes()


def search(cli: Any, server: GeodesServer, *args: object, period: tuple = ORBIT_YEAR) -> Any:
    result = cli("process", "--source", "catalogue", "--catalogue-url", server.url, *period,
                 "-l", LOG, *args)
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result


def zips(folder: str = "out") -> list[str]:
    return sorted(path.name for path in Path(folder).glob("*.zip"))


def published(server: GeodesServer, tile: str, orbit: int, start: date, end: date) -> dict:
    """What the catalogue lists for a tile, orbit and period: the latest version per date."""
    latest: dict = {}
    for plan in server.plans():
        if plan.tile == tile and plan.orbit == orbit and start <= plan.when.date() <= end \
                and plan.latest:
            latest[plan.identifier] = plan
    return latest


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_a_year_searched_downloaded_and_rerun_by_the_real_scripts(run, geodes, key_file,
                                                                  tmp_path):
    searched = run("process", "--source", "catalogue", "--catalogue-url", geodes.url,
                   *ORBIT_YEAR, "-l", LOG)
    assert searched.returncode == 0, searched.stderr
    listed = published(geodes, "31TCJ", 51, date(2023, 1, 1), date(2023, 12, 31))
    clear = [plan for plan in listed.values() if not plan.metadata_only]
    assert f"Found {len(clear)} products over {len(listed)} dates" in searched.stdout
    assert "full_maja_download.py -l cat.log -w 31TCJ" in searched.stdout
    [job] = json.loads(Path(LOG).read_text())["jobs"]
    assert job["protocol"] == "catalogue" and job["endpoint"] == geodes.url
    assert job["job_id"] == "catalogue-31TCJ-o051-20230101-20231231"
    pages = geodes.searches()
    assert [request.body["page"] for request in pages] == [1, 2]  # 73 dates, 91 items
    result = run("download", "-l", LOG, "-w", "out", "-j", "4", "--api-key-file", key_file)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert zips() == sorted(plan.zip_name for plan in clear)
    for name in zips():
        stored = next(f for f in geodes.files.of(listed[name.rsplit("_V", 1)[0]])
                      if f.name == name)
        assert md5(Path("out", name)) == stored.md5
    record = json.loads(Path("out", RECORD_NAME).read_text())["products"]
    assert all(record[name].get("md5") for name in zips())
    api = [r for r in geodes.downloads() if r.server == "api"]
    storage = [r for r in geodes.downloads() if r.server == "storage"]
    assert api and all(r.has_key for r in api) and storage
    assert not any(r.has_key for r in storage) and not any(r.has_key for r in pages)
    assert f"Skipped for clouds ({len(listed) - len(clear)}" in result.stdout
    assert Path("out", "series.html").is_file()
    geodes.clear_requests()
    again = run("download", "-q", "-l", LOG, "-w", "out", "--api-key-file", key_file)
    assert again.returncode == 0 and geodes.requests == [], (again.stderr, geodes.requests)
    for output in (searched, result, again):
        assert API_KEY not in output.stdout + output.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.name != "key.txt":
            assert API_KEY.encode() not in path.read_bytes(), path


def test_every_page_is_read_by_number_and_no_next_link_is_followed(cli, geodes, key_file):
    search(cli, geodes, period=YEAR)
    pages = geodes.searches()
    matched = sum(1 for plan in geodes.plans() if plan.tile == "31TCJ"
                  and date(2023, 1, 1) <= plan.when.date() <= date(2023, 12, 31))
    assert matched > 160
    assert [r.body["page"] for r in pages] == list(range(1, math.ceil(matched / 80) + 1))
    assert all(r.body["limit"] == 80 for r in pages)
    assert not any("/items" in r.path for r in geodes.requests)
    status = cli("download", "-l", LOG, "-w", "out", "--status", "--json")
    [job] = json.loads(status.stdout)["jobs"]
    days = [entry["date"] for entry in job["products"]]
    both = {**published(geodes, "31TCJ", 51, date(2023, 1, 1), date(2023, 12, 31)),
            **published(geodes, "31TCJ", 8, date(2023, 1, 1), date(2023, 12, 31))}
    assert len(days) == len(both) and days == sorted(days)


def test_pystac_client_loses_the_later_pages_so_full_maja_pages_by_number(geodes):
    """The decision recorded in ARCHITECTURE.md: pystac-client follows `next` links only."""
    pystac_client = pytest.importorskip("pystac_client")
    catalogue = pystac_client.Client.open(geodes.url)
    found = catalogue.search(collections=["THEIA_REFLECTANCE_SENTINEL2_L2A"],
                             query={"grid:code": {"contains": "T31TCJ"},
                                    "end_datetime": {"gte": "2023-01-01T00:00:00Z"},
                                    "start_datetime": {"lte": "2023-12-31T23:59:59Z"}},
                             limit=80, method="POST")
    got = [item["properties"] for item in found.items_as_dicts()]
    wanted = [plan for plan in geodes.plans() if plan.tile == "31TCJ"
              and date(2023, 1, 1) <= plan.when.date() <= date(2023, 12, 31)]
    in_period = [p for p in got if p["start_datetime"].startswith("2023")]
    assert len(in_period) == 80 < len(wanted)
    assert any(not p["start_datetime"].startswith("2023") for p in got)


def test_without_a_key_or_with_a_wrong_one_exit_3_saying_how_to_give_one(cli, geodes,
                                                                         tmp_path):
    search(cli, geodes)
    missing = cli("download", "-l", LOG, "-w", "out")
    assert_one_line_error(missing, 3, "without an API key", "--api-key-file",
                          "FULL_MAJA_API_KEY")
    wrong = cli("download", "-l", LOG, "-w", "out", env={"FULL_MAJA_API_KEY": "wrong-key"})
    assert_one_line_error(wrong, 3, "refused the API key", "check the key")
    assert "wrong-key" not in wrong.stderr + wrong.stdout
    assert not zips() and not list(Path("out").glob("*.part"))
    good = cli("download", "-l", LOG, "-w", "out", env={"FULL_MAJA_API_KEY": API_KEY})
    assert good.returncode == 0 and zips()


def test_bytes_that_do_not_match_the_md5_are_fetched_again_never_kept(cli, geodes,
                                                                      key_file, caplog):
    search(cli, geodes)
    listed = published(geodes, "31TCJ", 51, date(2023, 1, 1), date(2023, 12, 31))
    first, second = sorted(plan.zip_name for plan in listed.values()
                           if not plan.metadata_only)[:2]
    geodes.add_fault(first, GeodesFault("wrong-bytes"))
    for _ in range(2):
        geodes.add_fault(second, GeodesFault("wrong-bytes"))
    result = cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file, "-j", "1")
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "do not match the MD5 the catalogue publishes" in result.stderr
    assert first in zips() and second not in zips()
    assert not list(Path("out").glob(second + "*"))
    stored = {f.name: f.md5 for plan in listed.values() for f in geodes.files.of(plan)}
    assert md5(Path("out", first)) == stored[first]
    with zipfile.ZipFile(geodes.files.sibling(second)) as sibling:
        assert sibling.testzip() is None, "the wrong bytes are a sound zip: only the MD5 tells"
    again = cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file)
    assert again.returncode == 0 and md5(Path("out", second)) == stored[second]


def test_a_kept_part_is_hashed_once_when_resumed_and_a_damage_the_zip_check_misses_is_caught(
        cli, geodes, key_file):
    search(cli, geodes)
    listed = published(geodes, "31TCJ", 51, date(2023, 1, 1), date(2023, 12, 31))
    good, damaged = sorted((p for p in listed.values() if not p.metadata_only),
                           key=lambda p: p.zip_name)[:2]
    out = Path("out")
    out.mkdir()
    for plan, spoil in ((good, False), (damaged, True)):
        whole = geodes.files.of(plan)[0]
        assert whole.path is not None
        prefix = bytearray(whole.path.read_bytes()[:9000])
        if spoil:
            prefix[10] ^= 0xFF  # the first member's time: no CRC or name covers it
        (out / f"{plan.zip_name}.part").write_bytes(bytes(prefix))
    result = cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file, "-j", "1")
    assert result.returncode == 0, (result.stdout, result.stderr)
    ranges = {r.path.rsplit("/", 1)[-1].split(".")[0]: r.range
              for r in geodes.requests if r.server == "storage" and r.range}
    assert ranges[good.zip_name[:-4]] == "bytes=9000-"
    assert "do not match the MD5" in result.stderr and damaged.zip_name in result.stderr
    for plan in (good, damaged):
        stored = geodes.files.of(plan)[0]
        assert md5(out / plan.zip_name) == stored.md5


def test_a_product_cut_short_is_resumed_and_still_matches_its_md5(cli, geodes, key_file,
                                                                  monkeypatch):
    search(cli, geodes)
    listed = published(geodes, "31TCJ", 51, date(2023, 1, 1), date(2023, 12, 31))
    plan = sorted((p for p in listed.values() if not p.metadata_only),
                  key=lambda p: p.zip_name)[0]
    geodes.add_fault(plan.zip_name, GeodesFault("truncate", 5000))
    reread: list[int] = []
    monkeypatch.setattr(transfer, "read_prefix",
                        lambda path, count: reread.append(count) or read_prefix(path, count))
    result = cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert reread == [], "resumed within the run: the hash went on, nothing was read again"
    storage = [r for r in geodes.requests if r.server == "storage"
               and plan.zip_name[:-4] in r.path]
    assert [r.range for r in storage] == [None, "bytes=5000-"]
    assert md5(Path("out", plan.zip_name)) == geodes.files.of(plan)[0].md5


def test_products_on_tape_are_for_a_later_run_not_failures(cli, make_geodes, key_file):
    geodes = make_geodes(offline_every=3, tape_refusals=1)
    search(cli, geodes)
    first = cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file, "--json")
    assert first.returncode == 75, (first.stdout, first.stderr)
    [job] = json.loads(first.stdout)["jobs"]
    later = [p for p in job["products"] if p["outcome"] == "ready"]
    assert later and all("on tape" in p["message"] for p in later)
    assert not any(p["outcome"] == "failed" for p in job["products"])
    second = cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file)
    assert second.returncode == 0, (second.stdout, second.stderr)
    assert len(zips()) == len([p for p in job["products"] if p["outcome"] != "cloudy"])


def test_an_open_period_is_searched_again_and_new_products_picked_up(cli, make_geodes,
                                                                     key_file):
    today = date.today()
    geodes = make_geodes(published_until=today - timedelta(days=20), last_date=today)
    start = (today - timedelta(days=60)).isoformat()
    search(cli, geodes, period=("-t", "31TCJ", "-d", start, "-f", today.isoformat()))
    first = cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file)
    assert first.returncode == 0, first.stderr
    assert "may still publish products of this period" in first.stdout
    before = zips()
    geodes.config.published_until = today
    geodes.clear_requests()
    second = cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file)
    assert second.returncode == 0 and geodes.searches()
    assert set(before) < set(zips())
    assert all(acquisition_date(name) > today - timedelta(days=21)
               for name in set(zips()) - set(before))
    geodes.clear_requests()
    assert cli("download", "-l", LOG, "-w", "out", "--api-key-file",
               key_file).returncode == 0
    assert geodes.searches() and not [r for r in geodes.downloads()]
    refreshed = cli("download", "-l", LOG, "-w", "out", "--refresh", "--api-key-file",
                    key_file)
    assert refreshed.returncode == 0


def test_refresh_searches_a_finished_period_again(cli, geodes, key_file):
    search(cli, geodes)
    assert cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file).returncode == 0
    geodes.clear_requests()
    assert cli("download", "-l", LOG, "-w", "out", "--status").returncode == 0
    assert geodes.requests == []
    assert cli("download", "-l", LOG, "-w", "out", "--refresh", "--status").returncode == 0
    assert geodes.searches() and not geodes.downloads()


def test_json_and_text_say_which_dates_were_skipped_for_clouds_and_why(cli, geodes, key_file):
    search(cli, geodes, "--max-cloud", "40")
    result = cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file, "--json")
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    cloudy = [p for p in job["products"] if p["outcome"] == "cloudy"]
    over = [p for p in cloudy if p["name"].endswith(".zip")]
    metadata_only = [p for p in cloudy if not p["name"].endswith(".zip")]
    assert over and all(p["message"].endswith("cloudy, over the 40 % asked (--max-cloud)")
                        for p in over)
    assert metadata_only and all("metadata only" in p["message"] for p in metadata_only)
    assert job["state"] == "FOUND" and job["phase"] == "finished"
    text = cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file)
    assert "Skipped for clouds" in text.stdout and "cloudier than asked" in text.stdout
    page = Path("out", "series.html").read_text()
    assert page.count('data-outcome="cloudy"') >= len(cloudy)
    assert "over the 40 % asked (--max-cloud)" in page and "metadata only" in page


def test_extraction_works_for_catalogue_products(cli, geodes, key_file):
    search(cli, geodes)
    result = cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file, "-x")
    assert result.returncode == 0, (result.stdout, result.stderr)
    folders = [path for path in Path("out").iterdir() if path.is_dir()
               and path.name.startswith("SENTINEL2")]
    assert folders and not zips()


def test_a_dry_run_sends_nothing_and_writes_nothing(cli, geodes):
    result = cli("process", "--source", "catalogue", "--catalogue-url", geodes.url,
                 *ORBIT_YEAR, "-n")
    assert result.returncode == 0, result.stderr
    assert f"Would POST to {geodes.url}/search" in result.stdout
    assert '"grid:code"' in result.stdout and geodes.requests == []
    assert not list(Path(".").glob("*.log"))


@pytest.mark.parametrize("args, words", [
    (("--source", "catalogue", "-t", "31TCJ", "-d", "2023-02-01", "-f", "2023-01-01"),
     ("--end-date", "not after")),
    (("--source", "catalogue", *ORBIT_YEAR, "--max-cloud", "120"), ("--max-cloud",)),
    (("--source", "catalogue", *ORBIT_YEAR, "--max-cloud", "x"), ("--max-cloud",)),
    (("--source", "catalogue", *ORBIT_YEAR, "--url", "https://x.example"), ("--url",)),
    (("--source", "catalogue", *ORBIT_YEAR, "--split"), ("--split",)),
    ((*ORBIT_YEAR, "--max-cloud", "40"), ("--max-cloud", "--source")),
    (("--source", "catalogue", "-t", "31TCI", "-d", "2023-01-01", "-f", "2023-02-01"),
     ("--tile",)),
    (("--source", "catalogue", "-t", "31TCJ", "-o", "144", "-d", "2023-01-01",
      "-f", "2023-02-01"), ("--orbit",)),
    (("--source", "everything", *ORBIT_YEAR), ("--source",)),
])
def test_bad_catalogue_requests_are_one_line_exit_2(cli, args, words):
    assert_one_line_error(cli("process", *args), 2, *words)
    assert not list(Path(".").glob("*.log"))


def test_a_long_period_and_several_tiles_are_one_log(cli, geodes):
    result = search(cli, geodes, period=("-t", "31TCJ", "31TCH", "-o", "8", "-d",
                                         "2019-01-01", "-f", "2023-12-31"))
    assert result.stdout.count("Found ") == 2
    assert len(json.loads(Path(LOG).read_text())["jobs"]) == 2
    again = cli("process", "--source", "catalogue", "--catalogue-url", geodes.url,
                "-t", "31TCJ", "-o", "8", "-d", "2019-01-01", "-f", "2023-12-31", "-l", LOG,
                "--append")
    assert again.returncode == 0 and "not recorded twice" in again.stderr
    assert len(json.loads(Path(LOG).read_text())["jobs"]) == 2


def test_cancel_is_not_supported_for_a_search(cli, geodes):
    search(cli, geodes)
    assert_one_line_error(cli("download", "-l", LOG, "--cancel"), 2, "nothing to cancel")


def test_auto_takes_the_catalogue_where_it_holds_the_tile_else_processing(
        cli, geodes, finished, auth_file, key_file):
    processing = finished()
    result = cli("process", "--source", "auto", "--catalogue-url", geodes.url,
                 "--url", processing.url, "-a", auth_file, "-t", "31TCJ", "36TWK", "-o", "51",
                 "-d", "2023-01-01", "-f", "2023-03-01", "-l", LOG)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Tile 31TCJ: the catalogue holds" in result.stdout
    assert "Tile 36TWK: the catalogue holds no product" in result.stdout
    jobs = json.loads(Path(LOG).read_text())["jobs"]
    assert [job.get("protocol") for job in jobs] == ["catalogue", None]
    assert [job["tile"] for job in jobs] == ["31TCJ", "36TWK"]
    done = cli("download", "-l", LOG, "-w", "out", "-a", auth_file,
               "--api-key-file", key_file)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert any("T31TCJ" in name for name in zips()) and any("T36TWK" in name
                                                            for name in zips())
    assert all(r.has_key for r in geodes.downloads() if r.server == "api")
    assert USER not in done.stdout and PASSWORD not in done.stdout + done.stderr


def test_auto_checks_the_processing_rules_before_recording_anything(cli, geodes, finished,
                                                                    auth_file):
    processing = finished()
    result = cli("process", "--source", "auto", "--catalogue-url", geodes.url, "--url",
                 processing.url, "-a", auth_file, "-t", "31TCJ", "36TWK", "-d", "2021-01-01",
                 "-f", "2023-03-01", "-l", LOG)
    assert_one_line_error(result, 2, "--split")
    assert not Path(LOG).exists() and processing.jobs == {}


def test_a_product_on_disk_that_is_not_the_one_published_is_a_conflict_kept(cli, geodes,
                                                                             key_file):
    from emulators.geodes.items import Files
    search(cli, geodes)
    assert cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file).returncode == 0
    before = {name: md5(Path("out", name)) for name in zips()}
    assert geodes.files is not None
    geodes.files = Files(geodes.files.store, 20 * 1024)  # the catalogue now lists other bytes
    geodes.clear_requests()
    result = cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file, "--refresh")
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "conflict: the product on disk is not the one" in result.stderr
    assert "bytes published" in result.stderr
    assert {name: md5(Path("out", name)) for name in zips()} == before
    assert geodes.searches() and not [r for r in geodes.downloads()], "no HEAD, no GET"


def test_a_product_left_in_a_main_part_and_a_tail_is_assembled_and_matches_its_md5(
        cli, geodes, key_file, monkeypatch):
    search(cli, geodes)
    listed = published(geodes, "31TCJ", 51, date(2023, 1, 1), date(2023, 12, 31))
    plan = sorted((p for p in listed.values() if not p.metadata_only),
                  key=lambda p: p.zip_name)[0]
    whole = geodes.files.of(plan)[0]
    assert whole.path is not None
    data = whole.path.read_bytes()
    out = Path("out")
    out.mkdir()
    (out / f"{plan.zip_name}.part").write_bytes(data[:3000])  # an earlier run's main part
    (out / f"{plan.zip_name}.8000.part").write_bytes(data[8000:12000])  # and a tail of it
    reread: list[int] = []

    def counted(path: Path, count: int) -> Any:
        reread.append(count)
        return read_prefix(path, count)

    monkeypatch.setattr(transfer, "read_prefix", counted)
    result = cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file, "-j", "1")
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert reread == [3000], "the kept part is read once, nothing after it is read again"
    ranges = sorted(r.range for r in geodes.requests if r.server == "storage"
                    and plan.zip_name[:-4] in r.path)
    assert ranges == ["bytes=12000-", "bytes=3000-7999"]
    assert md5(out / plan.zip_name) == whole.md5
    assert not list(out.glob(plan.zip_name + ".*"))


def test_a_period_ending_in_year_9999_is_searched_and_followed_without_a_crash(
        cli, make_geodes, key_file):
    geodes = make_geodes(last_date=date(2023, 1, 20))
    searched = cli("process", "--source", "catalogue", "--catalogue-url", geodes.url,
                   "-t", "31TCJ", "-o", "51", "-d", "2023-01-01", "-f", "9999-12-31",
                   "-l", LOG)
    assert searched.returncode == 0, (searched.stdout, searched.stderr)
    result = cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "runs search again until 9999-12-31" in result.stdout and zips()


def test_processing_jobs_appended_to_a_log_of_searches_go_to_the_service_given(
        cli, geodes, finished, auth_file, key_file, tmp_path):
    search(cli, geodes)
    period = ("-t", "36TWK", "-o", "51", "-d", "2023-01-01", "-f", "2023-03-01")
    before, searched = Path(LOG).read_bytes(), len(geodes.searches())
    nowhere = cli("process", "-a", auth_file, *period, "-l", LOG, "--append")
    assert_one_line_error(nowhere, 2, "no service given", "--url")
    assert Path(LOG).read_bytes() == before and len(geodes.searches()) == searched
    processing = finished()
    auto = ("--source", "auto", "--catalogue-url", geodes.url, "--url", processing.url,
            "-t", "31TCJ", "36TWK", "-o", "51", "-d", "2023-01-01", "-f", "2023-03-01",
            "-l", "auto.log")
    wrong = tmp_path / "wrong.txt"
    wrong.write_text(f"{USER} not-the-password\n")
    wrong.chmod(0o600)
    assert_one_line_error(cli("process", "-a", wrong, *auto), 3, "refused")
    again = cli("process", "-a", auth_file, *auto, "--append")
    assert again.returncode == 0, (again.stdout, again.stderr)
    jobs = json.loads(Path("auto.log").read_text())["jobs"]
    assert [(job["tile"], job.get("protocol")) for job in jobs] == [("31TCJ", "catalogue"),
                                                                      ("36TWK", None)]
    done = cli("download", "-l", "auto.log", "-w", "out", "-a", auth_file,
               "--api-key-file", key_file)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert any("T36TWK" in name for name in zips()) and any("T31TCJ" in name
                                                            for name in zips())


def test_a_product_on_tape_is_not_said_to_be_written_by_another_run(cli, make_geodes,
                                                                     key_file):
    geodes = make_geodes(offline_every=3, tape_refusals=1)
    search(cli, geodes)
    result = cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file)
    assert result.returncode == 75, (result.stdout, result.stderr)
    [summary] = [line for line in result.stdout.splitlines() if line.startswith("Summary")]
    assert "not ready yet at the source (on tape)" in summary
    assert "another run" not in summary and "run again later" in summary


def multihash(text: str) -> tuple[int, bytes]:
    """The hash function code and digest of a hex multihash (varint code, varint length)."""
    data, numbers, position = bytes.fromhex(text), [], 0
    for _ in range(2):
        value = shift = 0
        while True:
            byte = data[position]
            position += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        numbers.append(value)
    code, length = numbers
    assert len(data) - position == length, "the length says how long the digest is"
    return code, data[position:]


def test_the_stac_checksum_of_a_catalogue_product_is_its_md5_as_a_multihash(cli, geodes,
                                                                            key_file):
    search(cli, geodes)
    assert cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file).returncode == 0
    name = zips()[0]
    item = json.loads(Path("out", "stac-items", name[:-4] + ".json").read_text())
    code, digest = multihash(item["assets"]["zip"]["file:checksum"])
    assert (code, digest.hex()) == (0xD5, md5(Path("out", name)))  # 0xd5: MD5



MARCH = ("-t", "31TCJ", "-o", "51", "-d", "2023-03-01", "-f", "2023-03-31")


def test_a_product_published_again_in_a_later_version_is_the_one_item_of_its_date(
        cli, make_geodes, key_file):
    from test_stac import assert_valid

    geodes = make_geodes(two_versions_every=0, versions=("3.1", "4.0"))
    search(cli, geodes, period=MARCH)
    assert cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file).returncode == 0
    first = {name: Path("out", name).read_bytes() for name in zips()}
    assert first and all(name.endswith("_V4-0.zip") for name in first)
    geodes.config.versions = ("4.0", "4.1")
    refreshed = cli("download", "-l", LOG, "-w", "out", "--refresh", "--api-key-file",
                    key_file)
    assert refreshed.returncode == 0, (refreshed.stdout, refreshed.stderr)
    newer = [name for name in zips() if name.endswith("_V4-1.zip")]
    assert len(newer) == len(first) and len(zips()) == 2 * len(first)
    assert all(Path("out", name).read_bytes() == data for name, data in first.items())
    assert_valid(json.loads(Path("out", "catalog.json").read_text()), "catalog")
    items = list(pystac.Catalog.from_file(str(Path("out", "catalog.json")))
                 .get_items(recursive=True))
    for item in items:
        assert_valid(json.loads(Path(item.get_self_href() or "").read_text()), "item")
    assert sorted(item.id + ".zip" for item in items) == sorted(newer)
    assert len({item.datetime for item in items}) == len(items)
    assert all(item.properties["processing:version"] == "4.1" for item in items)
    assert sorted(path.name for path in Path("out", "stac-items").iterdir()) == \
        sorted(name[:-4] + ".json" for name in newer)

# -- Provenance before the zip: the catalogue's metadata files ------------------------------

PROVENANCE_FIELDS = ("product_version", "production_date", "cloud_cover", "snow_cover", "cams",
                     "processing_mode")


def products_of(result: Any) -> list[dict]:
    [job] = json.loads(result.stdout)["jobs"]
    return job["products"]


def test_dates_skipped_for_clouds_carry_the_provenance_of_their_metadata_read_once(
        cli, geodes, key_file):
    search(cli, geodes)
    first = cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file, "--json")
    assert first.returncode == 0, (first.stdout, first.stderr)
    cloudy = [p for p in products_of(first) if p["outcome"] == "cloudy"]
    assert cloudy and all(p["product_version"] and p["cloud_cover"] is not None
                          and set(PROVENANCE_FIELDS) <= set(p) for p in cloudy)
    on_disk = [p for p in products_of(first) if p["outcome"] == "downloaded"]
    assert on_disk and all(p["production_date"] for p in on_disk)
    read = [r for r in geodes.downloads() if not r.path.endswith(tuple(zips("out")))]
    geodes.requests.clear()
    again = cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file, "--json")
    assert again.returncode == 0, again.stderr
    assert not geodes.downloads(), "each metadata file is read once, then remembered"
    assert [p for p in products_of(again) if p["outcome"] == "cloudy"] == cloudy
    assert read, "the metadata were read from the catalogue the first time"
    assert "cloud" in Path("out", "series.html").read_text()


def test_a_product_on_tape_shows_its_provenance_before_its_zip(cli, make_geodes, key_file):
    geodes = make_geodes(offline_every=3, tape_refusals=1)
    search(cli, geodes)
    first = cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file, "--json")
    assert first.returncode == 75, (first.stdout, first.stderr)
    later = [p for p in products_of(first) if p["outcome"] == "ready"]
    assert later and all(p["cams"] and p["production_date"] for p in later)
    assert not any(Path("out", p["name"]).exists() for p in later)


def test_metadata_that_cannot_be_read_leave_the_provenance_absent_and_fail_nothing(
        cli, geodes, key_file):
    search(cli, geodes)
    for plan in geodes.plans():
        if plan.metadata_only:
            geodes.add_fault(f"{plan.zip_name[:-4]}_MTD_ALL.xml", GeodesFault("http404"))
    result = cli("download", "-l", LOG, "-w", "out", "--api-key-file", key_file, "--json")
    assert result.returncode == 0, (result.stdout, result.stderr)
    cloudy = [p for p in products_of(result) if p["outcome"] == "cloudy"]
    assert cloudy and not any(field in p for p in cloudy for field in PROVENANCE_FIELDS)
