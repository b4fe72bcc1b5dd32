"""Jobs that ended on the server's side, end to end: dismissed by the server of its own,
gone from it (404), or merely unreadable, which has not ended at all.

A job the server dismissed or no longer knows has ended, and says so the same way
everywhere: the run, `--wait`, `--status`, `--json`, the page, and `--resubmit`, which
submits it again. A job that could not be checked is never taken for one that ended.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import requests
from conftest import API_KEY, submit

from emulators import Emulator
from emulators.ogcapi import OgcApiServer
from full_maja import joblog

PERIOD = ("-t", "36TWQ", "-o", "64", "-d", "2019-03-01", "-f", "2019-05-01")
DEADLINE = 90.0
GONE_WORDS = "the server no longer knows this job"


def submit_ogcapi(cli, server: OgcApiServer, auth_file: Path) -> str:
    result = cli("process", "-a", auth_file, *PERIOD, "--url", server.url, "-l", "job.log")
    assert result.returncode == 0, result.stderr
    return job_ids()[-1]


def job_ids(log: str = "job.log") -> list[str]:
    return [job.job_id for job in joblog.read_job_log(log).jobs]


def download(cli, auth_file: Path, *extra: object) -> Any:
    return cli("download", "-a", auth_file, "-l", "job.log", "-w", "out", *extra)


def until_ended(cli, auth_file: Path) -> Any:
    """Run the download command like cron until it stops answering 75."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        result = download(cli, auth_file)
        if result.returncode != 75:
            return result
        time.sleep(0.2)
    raise AssertionError(f"still 75 after {DEADLINE} s: {result.stdout} {result.stderr}")


def zips() -> list[str]:
    return sorted(path.name for path in Path("out").glob("*.zip"))


def posts(server: OgcApiServer) -> list:
    return [record for record in server.requests if record.method == "POST"]


def dismiss_elsewhere(server: OgcApiServer, job_id: str) -> None:
    """Dismiss a job from outside this log (a web page, another machine): pygeoapi then
    answers 404 for it."""
    answer = requests.delete(f"{server.url}/jobs/{job_id}", headers={"X-API-Key": API_KEY},
                             timeout=30)
    assert answer.status_code == 200, answer.text
    gone = requests.get(f"{server.url}/jobs/{job_id}", headers={"X-API-Key": API_KEY},
                        timeout=30)
    assert gone.status_code == 404


def the_job_in_json(result: Any) -> dict:
    document = json.loads(result.stdout)
    assert document["complete"] is False
    [job] = document["jobs"]
    return job


def test_a_job_the_server_dismissed_of_its_own_is_cancelled_and_resubmitted(
        cli, make_ogcapi: Callable[..., OgcApiServer], auth_file):
    server = make_ogcapi(queue_seconds=3600)  # queued until the server dismisses it
    job_id = submit_ogcapi(cli, server, auth_file)
    server.set_job_status(job_id, "dismissed", "dismissed by the operator")
    result = download(cli, auth_file)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert f"Job {job_id}" in result.stdout and "failed (dismissed)" in result.stdout
    assert "The series is complete" not in result.stdout and zips() == []
    status = download(cli, auth_file, "--status", "--json")
    assert status.returncode == 1
    assert (the_job_in_json(status)["state"], the_job_in_json(status)["phase"]) == \
        ("dismissed", "failed")
    server.configure(queue_seconds=0.0)
    revived = download(cli, auth_file, "--resubmit")
    assert f"Resubmitted job {job_id} as job" in revived.stdout, revived.stderr
    assert len(posts(server)) == 2 and joblog.read_job_log("job.log").jobs[0].replaced_by
    finished = until_ended(cli, auth_file)
    assert finished.returncode == 0, (finished.stdout, finished.stderr)
    assert zips() and "The series is complete" in finished.stdout


def test_a_job_gone_from_the_server_has_ended_everywhere(
        cli, run, make_ogcapi: Callable[..., OgcApiServer], auth_file):
    server = make_ogcapi(queue_seconds=3600)
    job_id = submit_ogcapi(cli, server, auth_file)
    dismiss_elsewhere(server, job_id)
    waited = run("download", "-a", auth_file, "-l", "job.log", "-w", "out", "--wait",
                 "--poll-interval", "0.1", timeout=120)
    assert waited.returncode == 1, (waited.stdout, waited.stderr)
    assert f"Job {job_id}" in waited.stdout and "failed (GONE)" in waited.stdout
    assert GONE_WORDS in waited.stdout and "--resubmit" in waited.stdout
    assert ": error: " not in waited.stderr  # an ended job, not a failure to check it
    status = download(cli, auth_file, "--status")
    assert status.returncode == 1 and "GONE" in status.stdout.splitlines()[1]
    as_json = the_job_in_json(download(cli, auth_file, "--json"))
    assert (as_json["state"], as_json["phase"]) == ("GONE", "failed")
    assert GONE_WORDS in as_json["message"]
    assert GONE_WORDS in Path("out", "series.html").read_text()
    deletes = [r for r in server.requests if r.method == "DELETE"]
    cancelled = cli("download", "-a", auth_file, "-l", "job.log", "--cancel")
    assert cancelled.returncode == 0 and "nothing to cancel" in cancelled.stdout
    assert [r for r in server.requests if r.method == "DELETE"] == deletes  # it has ended
    server.configure(queue_seconds=0.0)
    revived = download(cli, auth_file, "--resubmit")
    assert f"Resubmitted job {job_id} as job" in revived.stdout, revived.stderr
    assert "nothing resubmitted" not in revived.stdout
    assert len(posts(server)) == 2 and job_ids()[0] == job_id
    finished = until_ended(cli, auth_file)
    assert finished.returncode == 0, (finished.stdout, finished.stderr)
    assert zips()


def test_a_finished_series_whose_job_the_server_purged_stays_complete(
        cli, make_ogcapi: Callable[..., OgcApiServer], auth_file):
    server = make_ogcapi()
    job_id = submit_ogcapi(cli, server, auth_file)
    assert until_ended(cli, auth_file).returncode == 0
    on_disk = zips()
    dismiss_elsewhere(server, job_id)
    refreshed = download(cli, auth_file, "--refresh")
    assert refreshed.returncode == 0, (refreshed.stdout, refreshed.stderr)
    assert GONE_WORDS in refreshed.stdout and "The series is complete" in refreshed.stdout
    again = download(cli, auth_file, "--resubmit", "--refresh")
    assert again.returncode == 0, (again.stdout, again.stderr)
    assert "nothing resubmitted" in again.stdout and len(posts(server)) == 1
    assert zips() == on_disk and job_ids() == [job_id]


@pytest.fixture
def wps_job(run, finished: Callable[..., Emulator], auth_file) -> Emulator:
    emulator = finished()
    submit(run, emulator, auth_file)
    return emulator


def test_a_wps_job_purged_by_the_centre_ends_and_is_resubmitted(run, cli, wps_job, auth_file):
    [job_id] = list(wps_job.jobs)
    wps_job.forget_job(job_id)
    log_before = Path("job.log").read_bytes()
    waited = run("download", "-a", auth_file, "-l", "job.log", "-w", "out", "--wait",
                 "--poll-interval", "0.1", timeout=120)
    assert waited.returncode == 1, (waited.stdout, waited.stderr)
    assert "failed (GONE)" in waited.stdout and GONE_WORDS in waited.stdout
    assert ": error: " not in waited.stderr and Path("job.log").read_bytes() == log_before
    revived = download(cli, auth_file, "--resubmit")
    assert f"Resubmitted job {job_id} as job" in revived.stdout, revived.stderr
    assert revived.returncode == 0 and len(wps_job.jobs) == 1 and zips()


@pytest.mark.parametrize("answer", [lambda job, xml: "<not-xml", lambda job, xml: b"\0" * 64],
                         ids=["not-xml", "binary"])
def test_resubmit_never_resubmits_a_job_it_could_not_check(cli, wps_job, auth_file, answer):
    [job_id] = list(wps_job.jobs)
    log_before = Path("job.log").read_bytes()
    wps_job.config.status_override = answer
    result = download(cli, auth_file, "--resubmit")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert errors and all(job_id in line and "status document" in line for line in errors)
    assert "Resubmitted" not in result.stdout and "nothing resubmitted" in result.stdout
    assert list(wps_job.jobs) == [job_id]  # no new job on the server
    assert Path("job.log").read_bytes() == log_before  # the entry is not replaced
    assert f"Job {job_id}" in result.stdout and "failed (UNREACHABLE)" in result.stdout
