"""End to end: both commands against the real pygeoapi FULL_MAJA server (OGC API - Processes).

Most tests run the entry points in this process (`cli`); the whole cron flow runs the
real scripts (`run`). Jobs last about a second; every wait polls with a deadline.
"""
from __future__ import annotations

import errno
import json
import os
import shlex
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from conftest import API_KEY, PASSWORD, USER, assert_one_line_error, special_file
from conftest import submit as submit_wps

from emulators.ogcapi import REPORT_FORMS, OgcApiServer
from full_maja import joblog
from full_maja.cli.download import CONFLICTS, NEEDS
from full_maja.journal import find_job
from full_maja.service.peps import NO_CANCEL, NO_LISTING

DEADLINE = 90.0
PERIOD = ("-t", "36TWQ", "-o", "64", "-d", "2019-03-01", "-f", "2019-05-01")


@pytest.fixture
def server(make_ogcapi: Callable[..., OgcApiServer]) -> OgcApiServer:
    return make_ogcapi()


def submit(cli, server: OgcApiServer, *account: object, log: str = "job.log",
           extra: tuple = ()) -> Any:
    result = cli("process", *account, *PERIOD, "--url", server.url, "-l", log, *extra)
    assert result.returncode == 0, result.stderr
    return result


def until_ended(cli, *args: object, env: dict | None = None) -> tuple[Any, set[int]]:
    """Run the download command like cron until it stops answering 75; all codes seen."""
    codes: set[int] = set()
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        result = cli("download", *args, env=env)
        codes.add(result.returncode)
        if result.returncode != 75:
            return result, codes
        time.sleep(0.2)
    raise AssertionError(f"still 75 after {DEADLINE} s: {result.stdout} {result.stderr}")


def job_ids(log: str = "job.log") -> list[str]:
    return [job.job_id for job in joblog.read_job_log(log).jobs]


def zips(folder: str = "out") -> list[str]:
    return sorted(path.name for path in Path(folder).glob("*.zip"))


def no_secret_anywhere(tmp_path: Path, *results: Any, secrets=(PASSWORD, API_KEY)) -> None:
    """Neither the password nor the key in any output, nor in any file but their own."""
    for secret in secrets:
        for result in results:
            assert secret not in result.stdout + result.stderr
        for path in tmp_path.rglob("*"):
            if path.is_file() and path.name not in ("key.txt", "peps.txt"):
                assert secret.encode() not in path.read_bytes(), path


def posts(server: OgcApiServer) -> list:
    return [r for r in server.requests if r.method == "POST"]


def test_a_series_submitted_followed_downloaded_and_rerun_by_the_real_scripts(
        run, make_ogcapi, auth_file, tmp_path):
    server = make_ogcapi(hold="queued")  # queued until released
    submitted = run("process", "-a", auth_file, *PERIOD, "--url", server.url, "-l", "job.log")
    assert submitted.returncode == 0, submitted.stderr
    [job] = json.loads(Path(tmp_path, "job.log").read_text())["jobs"]
    assert job["protocol"] == "ogcapi" and job["status_url"] == f"{server.url}/jobs/{job['job_id']}"
    assert f"Submitted job {job['job_id']}" in submitted.stdout
    assert "full_maja_download.py -a" in submitted.stdout
    queued = run("download", "-a", auth_file, "-l", "job.log", "-w", "out")
    assert queued.returncode == 75 and "queued" in queued.stdout, (queued.stdout, queued.stderr)
    server.configure(hold=None)
    result, _ = until_ended(run, "-a", auth_file, "-l", "job.log", "-w", "out")
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Skipped for clouds" in result.stdout and "Not processed: " in result.stdout
    assert zips() and not any("NOVALD" in name for name in zips())
    assert "The series is complete." in result.stdout
    fetched = len(server.product_requests)
    assert fetched >= len(zips())
    again = run("download", "-a", auth_file, "-l", "job.log", "-w", "out", "-q")
    assert again.returncode == 0, again.stderr
    assert len(server.product_requests) == fetched
    assert not any(r.has_auth_header or r.has_api_key for r in server.product_requests)
    no_secret_anywhere(tmp_path, submitted, result, again)


@pytest.mark.parametrize("form", REPORT_FORMS)
def test_each_report_form_gives_the_series(cli, make_ogcapi, auth_file, form):
    server = make_ogcapi(report_form=form)
    submit(cli, server, "-a", auth_file)
    result, _ = until_ended(cli, "-a", auth_file, "-l", "job.log", "-w", "out")
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert zips() and "Skipped for clouds" in result.stdout
    assert "Not processed: " in result.stdout


def test_an_api_key_from_a_file_goes_in_its_header_and_nowhere_else(cli, make_ogcapi,
                                                                     key_file, tmp_path):
    server = make_ogcapi()
    sent = submit(cli, server, "--api-key-file", key_file)
    result, _ = until_ended(cli, "--api-key-file", key_file, "-l", "job.log", "-w", "out")
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert all(r.has_api_key and not r.has_authorization and r.authorized
               for r in server.requests)
    assert zips() and not any(r.has_api_key or r.has_auth_header
                              for r in server.product_requests)
    assert "--api-key-file" in sent.stdout
    no_secret_anywhere(tmp_path, sent, result)


def test_an_api_key_in_the_environment_goes_in_the_header_named(cli, make_ogcapi, tmp_path):
    server = make_ogcapi(api_key_header="X-Maja-Token")
    env = {"FULL_MAJA_API_KEY": API_KEY}
    header = ("--api-key-header", "X-Maja-Token")
    sent = cli("process", *header, *PERIOD, "--url", server.url, "-l", "job.log", env=env)
    assert sent.returncode == 0, sent.stderr
    result, _ = until_ended(cli, *header, "-l", "job.log", "-w", "out", env=env)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert zips() and all(r.has_api_key and r.authorized for r in server.requests)
    assert "X-Maja-Token" in sent.stdout
    no_secret_anywhere(tmp_path, sent, result)


@pytest.mark.parametrize("account, source", [
    ("password", "peps.txt"), ("key-file", "key.txt"), ("key-env", "FULL_MAJA_API_KEY")])
def test_a_refused_account_exits_3_naming_where_it_came_from(cli, make_ogcapi, tmp_path,
                                                             account, source):
    server = make_ogcapi()
    wrong = "wrong-" + API_KEY
    env: dict = {}
    if account == "password":
        Path("peps.txt").write_text(f"{USER} not-{PASSWORD}\n")
        Path("peps.txt").chmod(0o600)
        options: tuple = ("-a", "peps.txt")
    elif account == "key-file":
        Path("key.txt").write_text(wrong)
        Path("key.txt").chmod(0o600)
        options = ("--api-key-file", "key.txt")
    else:
        env, options = {"FULL_MAJA_API_KEY": wrong}, ()
    result = cli("process", *options, *PERIOD, "--url", server.url, "-l", "job.log", env=env)
    assert_one_line_error(result, 3, source)
    assert ("HTTP 401" if account == "password" else "HTTP 403") in result.stderr
    assert not Path("job.log").exists() and not posts(server)
    no_secret_anywhere(tmp_path, result, secrets=(PASSWORD, wrong, f"not-{PASSWORD}"))


def test_a_failed_job_exits_1_with_the_servers_message(cli, make_ogcapi, auth_file):
    server = make_ogcapi(fail="the tape robot is overloaded")
    submit(cli, server, "-a", auth_file)
    result, _ = until_ended(cli, "-a", auth_file, "-l", "job.log", "-w", "out")
    assert result.returncode == 1
    assert "the tape robot is overloaded" in result.stdout + result.stderr
    assert zips() == []


def test_a_running_job_is_cancelled_reported_and_revived(cli, make_ogcapi, auth_file):
    server = make_ogcapi(run_seconds=30)
    submit(cli, server, "-a", auth_file)
    [job_id] = job_ids()
    cancelled = cli("download", "-a", auth_file, "-l", "job.log", "--cancel")
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"Cancelled job {job_id} (tile 36TWQ" in cancelled.stdout
    assert any(r.method == "DELETE" and r.path.endswith(job_id) for r in server.requests)
    assert joblog.read_job_log("job.log").jobs[0].cancelled
    again = cli("download", "-a", auth_file, "-l", "job.log", "--cancel")
    assert again.returncode == 0 and "nothing to cancel" in again.stdout
    reported = cli("download", "-a", auth_file, "-l", "job.log", "-w", "out")
    assert reported.returncode == 1 and "dismissed" in reported.stdout + reported.stderr
    server.configure(run_seconds=0.5)
    revived = cli("download", "-a", auth_file, "-l", "job.log", "-w", "out", "--resubmit")
    assert f"Resubmitted job {job_id} as job" in revived.stdout
    assert len(posts(server)) == 2
    new_id = job_ids()[-1]
    assert new_id != job_id and joblog.read_job_log("job.log").jobs[0].replaced_by == new_id
    result, _ = until_ended(cli, "-a", auth_file, "-l", "job.log", "-w", "out")
    assert result.returncode == 0 and zips()


def test_the_server_jobs_are_listed_as_a_table_and_as_json(cli, make_ogcapi, auth_file):
    server = make_ogcapi()
    submit(cli, server, "-a", auth_file)
    submit(cli, server, "-a", auth_file, log="two.log")
    ids = job_ids() + job_ids("two.log")
    table = cli("download", "-a", auth_file, "--url", server.url, "--server-jobs")
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["JOB", "PROCESS", "STATUS", "PROGRESS", "CREATED"]
    assert sorted(row.split()[0] for row in rows) == sorted(ids)
    assert all(row.split()[1] == "FULL_MAJA" for row in rows)
    as_json = cli("download", "-a", auth_file, "--url", server.url, "--server-jobs", "--json")
    document = json.loads(as_json.stdout)
    assert document["endpoint"] == server.url
    assert sorted(job["job_id"] for job in document["jobs"]) == sorted(ids)
    assert {"process", "status", "progress", "created"} <= set(document["jobs"][0])


def test_a_job_found_on_the_server_is_adopted_then_downloaded(cli, make_ogcapi, auth_file,
                                                              state_home):
    server = make_ogcapi()
    submit(cli, server, "-a", auth_file, log="lost.log")
    [job_id] = job_ids("lost.log")
    Path("lost.log").unlink()
    (state_home / "full-maja" / "jobs.jsonl").unlink()  # nor in the journal: the server only
    adopted = cli("download", "-a", auth_file, "--url", server.url, "--adopt", job_id,
                  "-l", "found.log")
    assert adopted.returncode == 0, adopted.stderr
    assert f"Wrote job {job_id}" in adopted.stdout and "-l found.log" in adopted.stdout
    assert any(r.path.endswith(f"/jobs/{job_id}") for r in server.requests)
    [record] = joblog.read_job_log("found.log").jobs
    assert record.protocol == "ogcapi" and record.endpoint == server.url
    refused = cli("download", "-a", auth_file, "--url", server.url, "--adopt", job_id,
                  "-l", "found.log")
    assert_one_line_error(refused, 2, "found.log")
    result, _ = until_ended(cli, "-a", auth_file, "-l", "found.log", "-w", "out")
    assert result.returncode == 0 and zips()


def test_the_protocol_is_detected_or_forced(cli, make_ogcapi, auth_file):
    server = make_ogcapi()
    submit(cli, server, "-a", auth_file)
    assert [r.path for r in server.requests if r.path.endswith("/conformance")]
    server.clear_requests()
    submit(cli, server, "-a", auth_file, log="forced.log", extra=("--protocol", "ogcapi"))
    assert not [r for r in server.requests if r.path.endswith("/conformance")]
    assert joblog.read_job_log("forced.log").jobs[0].protocol == "ogcapi"
    server.clear_requests()
    wps = cli("process", "-a", auth_file, *PERIOD, "--url", server.url, "-l", "wps.log",
              "--protocol", "wps")
    assert wps.returncode != 0 and not Path("wps.log").exists()
    assert [r.method for r in server.requests] == ["POST"]
    assert not server.requests[0].path.endswith("/execution")


def test_a_dry_run_sends_nothing_and_shows_the_chosen_protocols_document(cli, server):
    plain = cli("process", *PERIOD, "--url", server.url, "-n")
    assert plain.returncode == 0, plain.stderr
    assert "<wps:Execute" in plain.stdout and f"Would POST to {server.url} " in plain.stdout
    ogc = cli("process", *PERIOD, "--url", server.url, "-n", "--protocol", "ogcapi")
    assert ogc.returncode == 0, ogc.stderr
    assert f"Would POST to {server.url}/processes/FULL_MAJA/execution" in ogc.stdout
    assert '"tileid": "36TWQ"' in ogc.stdout and "<wps:" not in ogc.stdout
    assert server.requests == [] and not Path("job.log").exists()


def test_wps_cannot_cancel_nor_list_and_says_so(cli, run, emulator, auth_file):
    submit_wps(run, emulator, auth_file)
    cancel = cli("download", "-a", auth_file, "-l", "job.log", "--cancel")
    assert_one_line_error(cancel, 2, NO_CANCEL)
    listing = cli("download", "-a", auth_file, "--url", emulator.url, "--server-jobs")
    assert_one_line_error(listing, 2, "cannot list")
    assert NO_LISTING in listing.stderr


@pytest.mark.parametrize("pair", CONFLICTS + NEEDS, ids=" ".join)
def test_contradictory_options_are_refused_in_one_line(cli, pair):
    first, second = pair
    words = {"--log": ["-l", "job.log"], "--adopt": ["--adopt", "42"]}
    args = [*words.get(first, [first]), *words.get(second, [second])]
    if pair in NEEDS:
        args = words.get(first, [first])
    if "--log" not in pair and "--server-jobs" not in pair:
        args += ["-l", "job.log"]
    result = cli("download", *args)
    assert_one_line_error(result, 2, first, second)
    assert not Path("job.log").exists()


def test_the_log_is_asked_for_unless_listing_server_jobs(cli):
    assert_one_line_error(cli("download", "-w", "out"), 2, "-l/--log", "--server-jobs")


def disk_full(path: object, data: object) -> None:
    """An atomic_write on a full disk."""
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_an_accepted_job_whose_log_cannot_be_written_is_journalled_and_adopted(
        cli, emulator, auth_file, monkeypatch, state_home):
    with monkeypatch.context() as patch:
        patch.setattr(joblog, "atomic_write", disk_full)
        lost = cli("process", "-a", auth_file, *PERIOD, "--url", emulator.url, "-l", "job.log")
    assert lost.returncode == 2 and not Path("job.log").exists()
    [job_id] = list(emulator.jobs)
    assert f"job {job_id} was accepted" in lost.stderr
    printed = shlex.split(lost.stderr.split("recover the job with: ", 1)[1].splitlines()[0])
    arguments = printed[next(i for i, word in enumerate(printed)
                             if word.endswith("full_maja_download.py")) + 1:]
    assert arguments == ["-a", str(auth_file), "--adopt", job_id, "-l", "job.log"]
    assert_one_line_error(lost, 2, "cannot write job.log", "No space left")
    journalled = find_job(job_id, state_home / "full-maja" / "jobs.jsonl")
    assert journalled is not None and journalled.tile == "36TWQ"
    adopted = cli("download", *arguments)
    assert adopted.returncode == 0, adopted.stderr
    assert "-l job.log -w 36TWQ" in adopted.stdout
    result, _ = until_ended(cli, "-a", auth_file, "-l", "job.log", "-w", "36TWQ")
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert zips("36TWQ")


def test_a_resubmission_whose_log_cannot_be_written_is_not_sent_twice(
        cli, make_ogcapi, auth_file, monkeypatch):
    server = make_ogcapi(fail="no L1C product")
    submit(cli, server, "-a", auth_file)
    until_ended(cli, "-a", auth_file, "-l", "job.log", "-w", "out")
    server.configure(fail=None)
    with monkeypatch.context() as patch:
        patch.setattr(joblog, "atomic_write", disk_full)
        full = cli("download", "-a", auth_file, "-l", "job.log", "-w", "out", "--resubmit")
    assert_one_line_error(full, 2, "cannot write job.log")
    assert len(posts(server)) == 2 and len(job_ids()) == 1
    [old_id] = job_ids()
    assert f"job {old_id} was resubmitted as job" in full.stderr
    assert "run --resubmit again" in full.stderr
    again = cli("download", "-a", auth_file, "-l", "job.log", "-w", "out", "--resubmit")
    assert len(posts(server)) == 2, again.stderr
    assert "already resubmitted" in again.stderr and len(job_ids()) == 2
    result, _ = until_ended(cli, "-a", auth_file, "-l", "job.log", "-w", "out")
    assert result.returncode == 0 and zips()


@pytest.mark.parametrize("kind", ["device", "fifo", "folder"])
def test_a_key_file_that_is_not_a_regular_file_is_refused(cli, server, tmp_path, kind):
    result = cli("process", "--api-key-file", special_file(tmp_path, kind), *PERIOD,
                 "--url", server.url,
                 "-l", "job.log", timeout=10)
    assert_one_line_error(result, 2, "--api-key-file")
    assert server.requests == []


def complete_then_one_product_lost(cli, server: OgcApiServer, auth_file) -> str:
    """A series downloaded whole, then one of its products deleted; that product's name."""
    submit(cli, server, "-a", auth_file)
    result, _ = until_ended(cli, "-a", auth_file, "-l", "job.log", "-w", "out")
    assert result.returncode == 0, (result.stdout, result.stderr)
    lost = zips()[0]
    Path("out", lost).unlink()
    server.clear_requests()
    return lost


def test_status_never_calls_complete_a_series_whose_product_is_not_on_disk(cli, server,
                                                                          auth_file):
    lost = complete_then_one_product_lost(cli, server, auth_file)
    table = cli("download", "-a", auth_file, "-l", "job.log", "-w", "out", "--status")
    assert table.returncode == 75, (table.stdout, table.stderr)
    header, row = table.stdout.splitlines()[:2]
    ready, on_disk = (int(row.split()[header.split().index(word)]) for word in ("READY", "ON"))
    assert ready == on_disk + 1
    as_json = cli("download", "-a", auth_file, "-l", "job.log", "-w", "out", "--status",
                  "--json")
    assert as_json.returncode == 75
    document = json.loads(as_json.stdout)
    [job] = document["jobs"]
    assert document["complete"] is False and job["phase"] == "finished"
    assert [p["outcome"] for p in job["products"] if p["name"] == lost] == ["ready"]
    assert server.product_requests == [] and not Path("out", lost).exists()


def test_a_remembered_series_missing_a_product_asks_the_server_again(cli, server, auth_file):
    lost = complete_then_one_product_lost(cli, server, auth_file)
    [job_id] = job_ids()
    status = cli("download", "-a", auth_file, "-l", "job.log", "-w", "out", "--status")
    assert status.returncode == 75, (status.stdout, status.stderr)
    assert any(r.path.endswith(f"/jobs/{job_id}") for r in server.requests)  # asked again
    fetched = cli("download", "-a", auth_file, "-l", "job.log", "-w", "out")
    assert fetched.returncode == 0, (fetched.stdout, fetched.stderr)
    assert [r.path.rsplit("/", 1)[1] for r in server.product_requests] == [lost]
    server.clear_requests()
    again = cli("download", "-a", auth_file, "-l", "job.log", "-w", "out", "--status")
    assert again.returncode == 0 and server.requests == []  # complete again: remembered
