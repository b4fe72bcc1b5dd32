"""End to end: job control: several tiles, long periods, status, JSON, resubmission.

Tests of what the scripts do run them (`run`); tests of what they say when a submission
is refused or fails, and of the split periods, run the entry point in this process (`cli`).
"""
from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import assert_one_line_error, product_requests, submit

from emulators import Fault


def log_jobs(path: str = "job.log") -> list[dict]:
    return json.loads(Path(path).read_text())["jobs"]


def process(run, emulator, auth_file, *args):
    return run("process", "-a", auth_file, "-d", "2019-03-01", "-f", "2019-05-01",
               "--url", emulator.url, "-l", "job.log", *args)


def download(run, auth_file, *extra):
    return run("download", "-a", auth_file, "-l", "job.log", "-w", "out", *extra)


def test_several_tiles_make_one_job_each_in_one_log(run, emulator, auth_file, tmp_path):
    (tmp_path / "tiles.txt").write_text("# Crimea\n36TWQ\n36TXQ  # east\n\nT31TCJ\n")
    result = process(run, emulator, auth_file, "-t", "31TCK", "--tiles-file", "tiles.txt")
    assert result.returncode == 0, result.stderr
    assert [job["tile"] for job in log_jobs()] == ["31TCK", "36TWQ", "36TXQ", "31TCJ"]
    assert len(emulator.jobs) == 4 and result.stdout.count("Submitted job") == 4


def test_one_invalid_tile_in_a_list_sends_nothing(cli, emulator, auth_file, tmp_path):
    (tmp_path / "tiles.txt").write_text("36TWQ\n36TWI\n31TCJ\n")
    result = process(cli, emulator, auth_file, "--tiles-file", "tiles.txt")
    assert_one_line_error(result, 2, "--tile", "36TWI")
    assert emulator.requests == [] and not Path("job.log").exists()


def test_a_failure_on_the_second_of_three_tiles_keeps_the_first(cli, emulator, auth_file):
    emulator.add_fault("submit", Fault("none"))
    emulator.add_fault("submit", Fault("status", 500))
    result = process(cli, emulator, auth_file, "-t", "36TWQ", "36TXQ", "31TCJ")
    assert_one_line_error(result, 1, "HTTP 500", "36TXQ")
    assert [job["tile"] for job in log_jobs()] == ["36TWQ"]
    assert "still to submit (use --append -l job.log): 36TXQ 31TCJ" in result.stderr
    assert len([r for r in emulator.requests if r.method == "POST"]) == 2
    again = cli("process", "-a", auth_file, "-d", "2019-03-01", "-f", "2019-05-01",
                "--url", emulator.url, "-l", "job.log", "--append", "-t", "36TXQ", "31TCJ")
    assert again.returncode == 0, again.stderr
    assert [job["tile"] for job in log_jobs()] == ["36TWQ", "36TXQ", "31TCJ"]


@pytest.mark.parametrize("end, pieces", [("2020-04-01", 2), ("2021-03-01", 2),
                                         ("2021-04-01", 3)])
def test_split_cuts_a_long_period_into_consecutive_jobs(cli, emulator, auth_file, end, pieces):
    result = cli("process", "-a", auth_file, "-t", "36TWQ", "-d", "2019-03-01", "-f", end,
                 "--split", "--url", emulator.url, "-l", "job.log")
    assert result.returncode == 0, result.stderr
    jobs = log_jobs()
    assert len(jobs) == pieces
    assert jobs[0]["start"] == "2019-03-01" and jobs[-1]["end"] == end
    for before, after in zip(jobs, jobs[1:]):
        assert date.fromisoformat(after["start"]) == \
            date.fromisoformat(before["end"]) + timedelta(days=1)
    assert sorted((j["start"], j["end"]) for j in log_jobs()) == \
        sorted((job.params["start"], job.params["end"]) for job in emulator.jobs.values())


def test_status_prints_one_row_per_job_and_downloads_nothing(run, make_emulator, auth_file):
    emulator = make_emulator(registration_polls=0, timeline=["FINISHED"])
    result = process(run, emulator, auth_file, "-t", "36TWQ", "31TCJ", "-o", "64")
    assert result.returncode == 0
    result = download(run, auth_file, "--status")
    assert result.returncode == 75, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].split() == ["TILE", "ORBIT", "PERIOD", "JOB", "STATE", "PROGRESS", "READY",
                                "ON", "DISK", "CLOUDY", "MISSING"]
    rows = [line.split() for line in lines[1:]]
    assert [row[0] for row in rows] == ["36TWQ", "31TCJ"]
    assert rows[0][1:] == ["64", "2019-03-01..2019-05-01", log_jobs()[0]["job_id"], "FINISHED",
                           "100%", "9", "0", "3", "1"]
    assert product_requests(emulator) == [] and not Path("out").exists()
    assert download(run, auth_file, "-q").returncode == 0
    done = download(run, auth_file, "--status")
    assert done.returncode == 0
    rows = [line.split() for line in done.stdout.splitlines()]
    assert rows[1][-4:] == ["9", "9", "3", "1"]


def test_json_report_follows_the_documented_schema(run, make_emulator, auth_file):
    emulator = make_emulator(registration_polls=0, timeline=["FINISHED"])
    submit(run, emulator, auth_file)
    result = download(run, auth_file, "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["schema"] == "full-maja series report" and document["complete"] is True
    [job] = document["jobs"]
    assert {key: job[key] for key in ("tile", "orbit", "start", "end", "state", "progress")} == \
        {"tile": "36TWQ", "orbit": 64, "start": "2019-03-01", "end": "2019-05-01",
         "state": "FINISHED", "progress": "100%"}
    assert job["job_id"] == log_jobs()[0]["job_id"]
    outcomes = [product["outcome"] for product in job["products"]]
    assert outcomes.count("downloaded") == 9 and outcomes.count("cloudy") == 3
    assert [p["date"] for p in job["products"]] == sorted(p["date"] for p in job["products"])
    assert job["unprocessed"] == 1
    assert job["missing"] == [{"name": job["missing"][0]["name"], "date": "2019-03-31"}]
    again = json.loads(download(run, auth_file, "--json").stdout)
    assert {p["outcome"] for p in again["jobs"][0]["products"]} == {"already present", "cloudy"}


def test_json_status_of_a_queued_job(run, make_emulator, auth_file):
    emulator = make_emulator(registration_polls=0, timeline=["PENDING"])
    submit(run, emulator, auth_file)
    result = download(run, auth_file, "--status", "--json")
    assert result.returncode == 75
    [job] = json.loads(result.stdout)["jobs"]
    assert (job["state"], job["products"], job["missing"]) == ("PENDING", [], [])


def test_resubmit_revives_a_failed_job_and_follows_the_new_one(run, make_emulator, auth_file):
    emulator = make_emulator(registration_polls=0, timeline=["ERROR"])
    submit(run, emulator, auth_file)
    assert download(run, auth_file).returncode == 1
    emulator.config.timeline = ["FINISHED"]
    result = download(run, auth_file, "--resubmit")
    assert result.returncode == 0, result.stdout + result.stderr
    old, new = log_jobs()
    assert old["replaced_by"] == new["job_id"] and new["replaces"] == old["job_id"]
    assert (new["tile"], new["orbit"], new["start"], new["end"]) == \
        (old["tile"], old["orbit"], old["start"], old["end"])
    assert f"Resubmitted job {old['job_id']} as job {new['job_id']}" in result.stdout
    assert len(list(Path("out").glob("*.zip"))) == 9
    emulator.clear_requests()
    assert download(run, auth_file, "--resubmit", "-q").returncode == 0
    assert not any(old["job_id"] in r.path for r in emulator.requests)
    assert len(log_jobs()) == 2


@pytest.mark.parametrize("keep", [False, True])
def test_extract_unpacks_products_and_a_rerun_knows_them(run, make_emulator, auth_file, keep):
    emulator = make_emulator(registration_polls=0, timeline=["FINISHED"])
    submit(run, emulator, auth_file)
    extra = ["-x", "--keep-zip"] if keep else ["--extract"]
    result = download(run, auth_file, *extra)
    assert result.returncode == 0, result.stderr
    folders = sorted(p for p in Path("out").iterdir()
                     if p.is_dir() and p.name not in ("series-quicklooks", "stac-items"))
    assert len(folders) == 9
    assert all(list(folder.glob("*_QKL_ALL.jpg")) for folder in folders)
    assert len(list(Path("out").glob("*.zip"))) == (9 if keep else 0)
    emulator.clear_requests()
    again = download(run, auth_file, *extra)
    assert again.returncode == 0 and "The series is complete." in again.stdout
    assert product_requests(emulator) == []


def test_resubmit_also_revives_a_process_failed_job(run, make_emulator, auth_file):
    emulator = make_emulator(registration_polls=0, process_failed=True, timeline=["FINISHED"])
    submit(run, emulator, auth_file)
    assert download(run, auth_file).returncode == 1
    emulator.config.process_failed = False
    result = download(run, auth_file, "--resubmit")
    assert result.returncode == 0, result.stdout + result.stderr
    old, new = log_jobs()
    assert old["replaced_by"] == new["job_id"]


def test_a_reader_that_goes_away_gets_no_traceback(make_emulator, auth_file, run):
    import subprocess
    import sys

    from conftest import SCRIPTS
    emulator = make_emulator(registration_polls=0, timeline=["FINISHED"])
    submit(run, emulator, auth_file)
    process = subprocess.Popen([sys.executable, str(SCRIPTS["download"]), "-a", str(auth_file),
                                "-l", "job.log", "-w", "out"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=30) == 1
    assert "Traceback" not in stderr and "unexpected" not in stderr
