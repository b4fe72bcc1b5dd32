"""End to end: both commands against a real PyWPS 4 serving FULL_MAJA (WPS 1.0.0).

The project's own emulator speaks WPS as PEPS (PyWPS 3.2) did; this checks the client
against a third-party WPS 1.0.0 server: PyWPS's own Execute parsing, its status
documents named `<uuid>.xml` under its outputs folder, its wps:Reference outputs and its
synchronous PROCESSING_STATUS answers. Registration lasts about 0.4 s, a job 0.6 s more.
Submissions go through the real script (`submit`): PyWPS forks each asynchronous job
from the server's process, this one, and would carry along a lock an in-process run held.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs

import pytest
from conftest import PASSWORD, USER, assert_one_line_error, wait_until

from emulators.pywps import PyWpsServer
from full_maja import joblog

DEADLINE = 60.0
PERIOD = ("-t", "36TWQ", "-o", "64", "-d", "2019-03-01", "-f", "2019-05-01")


def submit(run: Any, server: PyWpsServer, auth_file: Path, *period: str,
           log: str = "job.log") -> Any:
    """Submit with the real script, in a process of its own: PyWPS forks its job process
    from the server's process, which here is the test's, and a fork made while an
    in-process `cli` held the log's lock would hold that lock as long as the job runs."""
    result = run("process", "-a", auth_file, *(period or PERIOD), "--url", server.url,
                 "-l", log)
    assert result.returncode == 0, result.stderr
    return result


def until_ended(cli: Any, *args: object) -> tuple[Any, set[int]]:
    """Run the download command like cron until the job has ended; all codes seen.

    PyWPS rewrites a status document in place (truncate, then write): a run that reads
    it in between finds it empty or cut short and says the job could not be checked
    (UNREACHABLE, exit 1), as it would on PEPS; cron's next run checks it again.
    """
    codes: set[int] = set()
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        result = cli("download", *args)
        codes.add(result.returncode)
        if result.returncode != 75 and "(UNREACHABLE)" not in result.stdout:
            return result, codes
        time.sleep(0.2)
    raise AssertionError(f"still 75 after {DEADLINE} s: {result.stdout} {result.stderr}")


def status_document_says(server: PyWpsServer, job_id: str, words: str) -> None:
    """Wait until PyWPS's status document says `words`, the last thing it says for a while:
    PyWPS rewrites it in place, and a run reading it meanwhile may find it empty."""
    path = server.outputs_dir / f"{job_id}.xml"
    wait_until(lambda: path.is_file() and words in path.read_text(errors="replace"),
               f"the status document of job {job_id} says {words!r}")


def zips(folder: str = "out") -> list[str]:
    return sorted(path.name for path in Path(folder).glob("*.zip"))


def report_of(server: PyWpsServer, job_id: str) -> dict:
    return json.loads((server.outputs_dir / job_id / "report.json").read_text())["USER_INFO"]


def refreshes(server: PyWpsServer) -> list[dict]:
    """The PROCESSING_STATUS requests PyWPS received, as parsed query parameters."""
    found = []
    for record in server.requests:
        query = {key.lower(): value for key, value in parse_qs(record.query).items()}
        if query.get("identifier") == ["PROCESSING_STATUS"]:
            found.append(query)
    return found


def test_a_series_submitted_followed_downloaded_and_rerun_by_the_real_scripts(
        run, make_pywps: Callable[..., PyWpsServer], auth_file, tmp_path):
    server = make_pywps(queue_seconds=3600)  # PENDING until the test says otherwise
    submitted = run("process", "-a", auth_file, *PERIOD, "--url", server.url, "-l", "job.log")
    assert submitted.returncode == 0, submitted.stderr
    # PyWPS accepted the POSTed XML Execute, asynchronously.
    [post] = [r for r in server.requests if r.method == "POST"]
    assert post.status == 200 and post.content_type.startswith("text/xml")
    # The log records the job from PyWPS's statusLocation, named <uuid>.xml.
    [job] = json.loads(Path(tmp_path, "job.log").read_text())["jobs"]
    assert job.get("protocol", "wps") == "wps"  # WPS logs name no protocol
    assert job["status_url"] == f"{server.url}/outputs/{job['job_id']}.xml"
    assert (server.outputs_dir / f"{job['job_id']}.xml").is_file()
    assert f"Submitted job {job['job_id']}" in submitted.stdout
    # Followed like cron: 75 until done, then the products.
    status_document_says(server, job["job_id"], "ProcessSucceeded")
    waiting = run("download", "-a", auth_file, "-l", "job.log", "-w", "out")
    assert waiting.returncode == 75, (waiting.stdout, waiting.stderr)
    server.configure(queue_seconds=0.0, run_seconds=0.0)
    result, _ = until_ended(run, "-a", auth_file, "-l", "job.log", "-w", "out")
    assert result.returncode == 0, (result.stdout, result.stderr)
    report = report_of(server, job["job_id"])
    assert report["job_status"] == "FINISHED"
    clear = sorted(url.rsplit("/", 1)[1] for url in report["results"] if "NOVALD" not in url)
    assert zips() == clear and clear
    assert any("NOVALD" in url for url in report["results"]) and report["missing"]
    assert "Skipped for clouds" in result.stdout and "Not processed: " in result.stdout
    assert "The series is complete." in result.stdout
    # Every refresh named the job PyWPS knows, and was answered by PyWPS.
    assert refreshes(server) and all(query["datainputs"] == [f"wps_id={job['job_id']}"]
                                     for query in refreshes(server))
    # Re-run: nothing fetched again.
    fetched = len(server.product_requests)
    again = run("download", "-a", auth_file, "-l", "job.log", "-w", "out", "-q")
    assert again.returncode == 0, again.stderr
    assert len(server.product_requests) == fetched
    assert not any(r.has_auth_header for r in server.product_requests)
    assert all(r.has_authorization and r.authorized for r in server.requests)
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.name != "peps.txt":
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_the_report_only_changes_when_processing_status_refreshes_it(
        cli, run, make_pywps: Callable[..., PyWpsServer], auth_file):
    server = make_pywps(queue_seconds=0.0, run_seconds=0.3)
    submit(run, server, auth_file)
    [job] = joblog.read_job_log("job.log").jobs
    deadline = time.monotonic() + DEADLINE
    while not (server.outputs_dir / job.job_id / "report.json").exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    # Registered long ago enough to be finished, but nobody asked: the stored report is old.
    assert report_of(server, job.job_id)["job_status"] in ("PENDING", "STALLED")
    result, _ = until_ended(cli, "-a", auth_file, "-l", "job.log", "-w", "out")
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert report_of(server, job.job_id)["job_status"] == "FINISHED" and zips()


def test_a_job_still_registering_is_followed_from_its_status_document(
        cli, run, make_pywps: Callable[..., PyWpsServer], auth_file):
    server = make_pywps(hold_registration=True)  # registering until released
    submit(run, server, auth_file)
    [job] = joblog.read_job_log("job.log").jobs
    status_document_says(server, job.job_id, "step 2 of 2")
    early = cli("download", "-a", auth_file, "-l", "job.log", "-w", "out")
    assert early.returncode == 75, (early.stdout, early.stderr)
    assert "another full-maja run" not in early.stderr
    assert not refreshes(server) and zips() == []
    server.configure(hold_registration=False)


def test_a_failed_job_exits_1_with_the_servers_message(
        cli, run, make_pywps: Callable[..., PyWpsServer], auth_file):
    server = make_pywps(fail="the tape robot is overloaded")
    submit(run, server, auth_file)
    result, _ = until_ended(cli, "-a", auth_file, "-l", "job.log", "-w", "out")
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "the tape robot is overloaded" in result.stdout + result.stderr
    assert zips() == []


def test_a_wrong_password_exits_3_and_nothing_is_submitted(
        cli, make_pywps: Callable[..., PyWpsServer], tmp_path):
    server = make_pywps()
    Path("peps.txt").write_text(f"{USER} not-{PASSWORD}\n")
    Path("peps.txt").chmod(0o600)
    result = cli("process", "-a", "peps.txt", *PERIOD, "--url", server.url, "-l", "job.log")
    assert_one_line_error(result, 3, "peps.txt")
    assert "HTTP 401" in result.stderr
    assert not Path("job.log").exists()
    assert not any(r.method == "POST" and r.authorized for r in server.requests)


def test_pywps_refuses_an_unknown_process_with_an_exception_report(
        make_pywps: Callable[..., PyWpsServer]):
    import requests
    server = make_pywps()
    answer = requests.get(server.url, auth=(USER, PASSWORD), timeout=10, params={
        "service": "WPS", "version": "1.0.0", "request": "Execute", "identifier": "NOPE"})
    assert answer.status_code == 400 and b"ExceptionReport" in answer.content


@pytest.mark.parametrize("orbit", ["0", "144"])
def test_pywps_fails_a_job_whose_inputs_the_process_refuses(
        make_pywps: Callable[..., PyWpsServer], orbit):
    """The client checks inputs itself; a raw request shows what PyWPS does with bad ones."""
    import requests

    from full_maja.service.wps import execute_document, parse_execute_response
    server = make_pywps()
    document = execute_document("FULL_MAJA", [
        ("startDate", "2019-03-01"), ("completionDate", "2019-05-01"), ("tileid", "36TWQ"),
        ("relativeOrbitNumber", orbit)], asynchronous=True)
    auth = (USER, PASSWORD)
    accepted = requests.post(server.url, data=document, auth=auth, timeout=10,
                             headers={"Content-Type": "text/xml"})
    status = parse_execute_response(accepted.content)
    assert status.state == "accepted" and status.status_location
    deadline = time.monotonic() + DEADLINE
    while status.state != "failed":
        assert time.monotonic() < deadline and status.state != "succeeded", status
        time.sleep(0.1)
        status = parse_execute_response(
            requests.get(status.status_location, auth=auth, timeout=10).content)
    assert "relativeOrbitNumber" in status.message


def test_a_job_pywps_fails_before_registering_exits_1_with_its_message(
        cli, run, make_pywps: Callable[..., PyWpsServer], auth_file):
    server = make_pywps(register_fail="no L1C product in the period")
    submit(run, server, auth_file)
    result, _ = until_ended(cli, "-a", auth_file, "-l", "job.log", "-w", "out")
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "no L1C product in the period" in result.stdout + result.stderr
    assert not refreshes(server) and zips() == []


def test_a_refresh_pywps_refuses_as_busy_is_noted_and_the_report_used(
        cli, run, make_pywps: Callable[..., PyWpsServer], auth_file):
    """PyWPS refuses a synchronous run (400 ServerBusy) while `parallelprocesses` run."""
    server = make_pywps(parallel=1, register_seconds=0.1, register_steps=1, run_seconds=30)
    submit(run, server, auth_file, log="a.log")
    [job] = joblog.read_job_log("a.log").jobs
    status_document_says(server, job.job_id, "ProcessSucceeded")
    stored = (server.outputs_dir / job.job_id / "report.json").read_bytes()
    server.configure(hold_registration=True)  # job b keeps PyWPS's one slot until released
    submit(run, server, auth_file, "-t", "31TCJ", "-d", "2019-03-01", "-f", "2019-05-01",
           log="b.log")
    busy = cli("download", "-a", auth_file, "-l", "a.log", "-w", "out")
    server.configure(hold_registration=False)
    assert busy.returncode == 75, (busy.stdout, busy.stderr)
    assert "could not ask the server to refresh the report" in busy.stderr
    assert "ServerBusy" in busy.stderr
    assert (server.outputs_dir / job.job_id / "report.json").read_bytes() == stored


def test_a_refresh_pywps_runs_and_fails_is_noted_not_taken_for_done(
        cli, run, make_pywps: Callable[..., PyWpsServer], auth_file):
    """PyWPS answers a failed synchronous run with HTTP 200 and ProcessFailed."""
    server = make_pywps(run_seconds=30)
    submit(run, server, auth_file)
    [job] = joblog.read_job_log("job.log").jobs
    status_document_says(server, job.job_id, "ProcessSucceeded")
    (server.work_dir / "jobs" / f"{job.job_id}.json").unlink()  # the centre forgot it
    result = cli("download", "-a", auth_file, "-l", "job.log", "-w", "out")
    assert result.returncode == 75, (result.stdout, result.stderr)
    assert "could not ask the server to refresh the report" in result.stderr
    assert f"no FULL_MAJA job {job.job_id}" in result.stderr
