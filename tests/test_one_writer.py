"""Issue 12, class 1: one writer per product name, within a run and across runs on one folder."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest
from conftest import PASSWORD, SCRIPTS, USER, product_requests

from emulators.acquisitions import many_products
from emulators.documents import product_location
from full_maja.client import Client
from full_maja.credentials import Credentials
from full_maja.validation import JobRequest

NAMES = many_products("36TWQ", 8)
PERIOD = (date(2019, 3, 1), date(2019, 5, 1))


def submit(cli, emulator, auth_file, log="job.log", *extra):
    result = cli("process", "-a", auth_file, "-t", "36TWQ", "-d", "2019-03-01",
                 "-f", "2019-05-01", "--url", emulator.url, "-l", log, *extra)
    assert result.returncode == 0, result.stderr


def sound_zips(folder="out") -> list[str]:
    names = []
    for path in sorted(Path(folder).glob("*.zip")):
        with zipfile.ZipFile(path) as archive:
            assert archive.testzip() is None
        names.append(path.name)
    return names


@pytest.mark.parametrize("extra", [[], ["-x", "--keep-zip"]])
def test_two_jobs_listing_the_same_products_fetch_each_once(cli, finished, auth_file, extra):
    names = NAMES[:2]
    emulator = finished(products=names, bandwidth=64 * 1024)
    submit(cli, emulator, auth_file)
    submit(cli, emulator, auth_file, "job.log", "--append")
    result = cli("download", "-a", auth_file, "-l", "job.log", "-w", "out", "-j", "4", *extra)
    assert result.returncode == 0, result.stderr
    assert "unexpected" not in result.stderr
    assert sound_zips() == sorted(names)
    started = [record.path.rsplit("/", 1)[1] for record in product_requests(emulator)
               if record.method == "GET" and record.range is None]
    assert sorted(started) == sorted(names)
    assert not list(Path("out").glob("*.part*"))


def two_jobs_one_name_two_sizes(cli, finished, auth_file) -> None:
    """job.log: two jobs listing NAMES; the second job's products are 24 KiB elsewhere."""
    first = finished(products=NAMES)
    other = finished(products=NAMES, product_size=24 * 1024)
    with Client(other.url, credentials=Credentials(USER, PASSWORD)) as client:
        [elsewhere] = client.submit([JobRequest("36TWQ", None, *PERIOD)], "other.log")
    submit(cli, first, auth_file)
    submit(cli, first, auth_file, "job.log", "--append")
    second_id = json.loads(Path("job.log").read_text())["jobs"][1]["job_id"]
    mirror = other.base_url.replace("127.0.0.1", "localhost")

    def moved(job, report):
        if job.id == second_id:
            report["USER_INFO"]["results"] = [
                product_location(mirror, elsewhere.job_id, name) for name in NAMES]
        return report

    first.config.report_override = moved


def download(cli, auth_file, *extra, log="job.log"):
    return cli("download", "-a", auth_file, "-l", log, "-w", "out", *extra)


def test_a_name_two_jobs_give_different_bytes_for_is_a_conflict(cli, finished, auth_file):
    two_jobs_one_name_two_sizes(cli, finished, auth_file)
    result = cli("download", "-a", auth_file, "-l", "job.log", "-w", "out", "-j", "4")
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("conflict") == len(NAMES)
    assert sound_zips() == sorted(NAMES)
    assert {Path("out", name).stat().st_size for name in NAMES} == {16 * 1024}


def test_a_conflict_is_still_a_conflict_on_the_next_run(cli, finished, auth_file):
    two_jobs_one_name_two_sizes(cli, finished, auth_file)
    first = download(cli, auth_file, "-j", "4")
    assert first.returncode == 1 and first.stderr.count("conflict") == len(NAMES)
    again = download(cli, auth_file)
    assert "The series is complete" not in again.stdout
    assert again.returncode == 1, (again.stdout, again.stderr)
    assert "conflict" in again.stderr


@pytest.mark.parametrize("extract", [["-x"], ["-x", "--keep-zip"]])
def test_a_conflict_survives_extraction(cli, finished, auth_file, extract):
    two_jobs_one_name_two_sizes(cli, finished, auth_file)
    runs = [download(cli, auth_file, "-j", "4", *extract), download(cli, auth_file, *extract),
            download(cli, auth_file, *extract, "--refresh")]
    for result in runs:
        assert result.returncode == 1, (result.stdout, result.stderr)
        assert result.stderr.count("conflict") == len(NAMES), result.stderr
        assert "The series is complete" not in result.stdout
    assert all(Path("out", name[:-4]).is_dir() for name in NAMES)
    assert sorted(path.name for path in Path("out").glob("*.zip")) == (
        sorted(NAMES) if "--keep-zip" in extract else [])


def test_a_conflict_found_before_extraction_survives_it(cli, finished, auth_file):
    two_jobs_one_name_two_sizes(cli, finished, auth_file)
    assert download(cli, auth_file).returncode == 1
    for extract in (["-x"], ["-x", "--refresh"]):
        result = download(cli, auth_file, *extract)
        assert result.returncode == 1, (result.stdout, result.stderr)
        assert result.stderr.count("conflict") == len(NAMES)
        assert "The series is complete" not in result.stdout


def test_two_logs_one_folder_different_sizes_is_a_conflict(cli, finished, auth_file):
    first = finished(products=NAMES)
    other = finished(products=NAMES, product_size=24 * 1024)
    submit(cli, first, auth_file, "a.log")
    submit(cli, other, auth_file, "b.log")
    assert download(cli, auth_file, log="a.log").returncode == 0
    second = download(cli, auth_file, log="b.log")
    assert "The series is complete" not in second.stdout
    assert "conflict" in second.stderr


def test_two_runs_on_two_logs_into_one_folder_write_each_product_once(cli, finished,
                                                                    auth_file, tmp_path):
    emulator = finished(products=NAMES, bandwidth=48 * 1024)
    submit(cli, emulator, auth_file, "a.log")
    submit(cli, emulator, auth_file, "b.log")
    emulator.clear_requests()
    runs = [subprocess.Popen([sys.executable, str(SCRIPTS["download"]), "-a", str(auth_file),
                              "-l", log, "-w", "out", "-j", "2", "-q"], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for log in ("a.log", "b.log")]
    outcomes = [(run.wait(timeout=60), run.stderr.read()) for run in runs]
    for code, errors in outcomes:
        assert code in (0, 75) and "unexpected" not in errors and "Traceback" not in errors
    assert sorted(record.path.rsplit("/", 1)[1] for record in product_requests(emulator)
                  if record.method == "GET") == sorted(NAMES)
    assert sound_zips() == sorted(NAMES)
    for log in ("a.log", "b.log"):
        again = cli("download", "-a", auth_file, "-l", log, "-w", "out")
        assert again.returncode == 0, again.stderr
    assert not list(Path("out").glob("*.part.lock")) and not list(Path("out").glob("*.part"))

