"""End to end: full_maja_process.py against the emulator, as a user runs it.

Tests of what the script does run it (`run`); tests of what it says when it refuses or
fails run its entry point in this process (`cli`), which is all the script calls.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import PASSWORD, USER, assert_one_line_error, submit

VALID = ["-t", "36TWQ", "-o", "64", "-d", "2019-03-01", "-f", "2019-09-01"]


def test_a_submission_writes_the_log_and_prints_what_to_do_next(run, emulator, auth_file,
                                                                tmp_path: Path):
    result = run("process", "-a", auth_file, *VALID, "--url", emulator.url)
    assert result.returncode == 0, result.stderr
    log = tmp_path / "36TWQ_o064_2019-03-01_2019-09-01.log"
    job = json.loads(log.read_text())["jobs"][0]
    assert (job["tile"], job["orbit"], job["start"], job["end"]) == \
        ("36TWQ", 64, "2019-03-01", "2019-09-01")
    assert job["job_id"] in emulator.jobs and job["endpoint"] == emulator.url
    assert job["status_url"].endswith(f"pywps-{job['job_id']}.xml")
    assert f"Submitted job {job['job_id']}" in result.stdout
    assert f"full_maja_download.py -a {auth_file} -l {log.name} -w 36TWQ" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr + log.read_text()
    posts = [r for r in emulator.requests if r.method == "POST"]
    assert len(posts) == 1 and posts[0].authorized
    assert emulator.jobs[job["job_id"]].params["tile"] == "36TWQ"


@pytest.mark.parametrize("tile", ["T36TWQ", "t36twq", " 36twq "])
def test_tile_spellings_are_normalised(cli, emulator, auth_file, tile):
    result = cli("process", "-a", auth_file, "-t", tile, "-d", "2019-03-01", "-e",
                 "2019-05-01", "--url", emulator.url, "-g", "x.log")
    assert result.returncode == 0, result.stderr
    assert json.loads(Path("x.log").read_text())["jobs"][0]["tile"] == "36TWQ"


@pytest.mark.parametrize("options, words", [
    (["-t", "36TWI"], "--tile"), (["-t", "61TWQ"], "--tile"), (["-t", "36TWW"], "--tile"),
    (["-t", "36IWQ"], "--tile"), (["-t", "36"], "--tile"),
    (["-o", "0"], "--orbit"), (["-o", "6x"], "--orbit"),
    (["-d", "2019-02-29"], "--start-date"), (["-d", "2019-3-1"], "--start-date"),
    (["-d", "2016-03-31", "-f", "2016-06-30"], "2016-04-01"),
    (["-f", "2020-03-02"], "--split"),
    (["-f", "2019-02-01"], "--end-date"),
])
def test_each_invalid_value_is_refused_before_anything_is_sent(cli, emulator, auth_file,
                                                               tmp_path, options, words):
    values = {"-t": "36TWQ", "-o": "64", "-d": "2019-03-01", "-f": "2019-09-01"}
    values.update(dict(zip(options[::2], options[1::2])))
    args = [item for pair in values.items() for item in pair]
    result = cli("process", "-a", auth_file, *args, "--url", emulator.url, "-l", "x.log")
    assert_one_line_error(result, 2, words)
    assert emulator.requests == []
    assert not (tmp_path / "x.log").exists()


@pytest.mark.parametrize("start, end", [("2019-03-01", "2019-05-01"),
                                        ("2019-03-01", "2020-03-01"),
                                        ("2016-04-01", "2016-06-01")])
def test_boundaries_that_are_allowed(cli, emulator, auth_file, start, end):
    result = cli("process", "-a", auth_file, "-t", "36TWQ", "-o", "143", "-d", start, "-f",
                 end, "--url", emulator.url, "-l", "x.log")
    assert result.returncode == 0, result.stderr


def test_a_log_holding_a_job_is_never_overwritten(cli, emulator, auth_file):
    submit(cli, emulator, auth_file)
    before = Path("job.log").read_bytes()
    emulator.clear_requests()
    result = cli("process", "-a", auth_file, *VALID, "--url", emulator.url, "-l", "job.log")
    assert_one_line_error(result, 2, "already holds a job", "--append")
    assert Path("job.log").read_bytes() == before
    assert emulator.requests == []


def test_append_adds_a_job_to_the_log(run, emulator, auth_file):
    submit(run, emulator, auth_file)
    submit(run, emulator, auth_file, "--append")
    jobs = json.loads(Path("job.log").read_text())["jobs"]
    assert len(jobs) == 2 and jobs[0]["job_id"] != jobs[1]["job_id"]


def test_dry_run_prints_the_request_and_sends_and_writes_nothing(run, emulator, tmp_path):
    result = run("process", *VALID, "--url", emulator.url, "-n")
    assert result.returncode == 0, result.stderr
    assert "<wps:Execute" in result.stdout and "FULL_MAJA" in result.stdout
    assert "36TWQ" in result.stdout and "relativeOrbitNumber" in result.stdout
    assert emulator.requests == []
    assert list(tmp_path.glob("*.log")) == []


@pytest.mark.parametrize("where", ["file", "environment", "netrc"])
def test_a_refused_account_exits_3_naming_where_it_came_from(cli, make_emulator, tmp_path,
                                                             isolated_env, where):
    emulator = make_emulator(password="another-password")
    env, args = {}, []
    if where == "file":
        (tmp_path / "peps.txt").write_text(f"{USER} {PASSWORD}\n")
        args = ["-a", "peps.txt"]
    elif where == "environment":
        env = {"PEPS_USER": USER, "PEPS_PASSWORD": PASSWORD}
    else:
        netrc = isolated_env / ".netrc"
        netrc.write_text(f"machine 127.0.0.1 login {USER} password {PASSWORD}\n")
        netrc.chmod(0o600)
    result = cli("process", *args, *VALID, "--url", emulator.url, "-l", "x.log", env=env)
    assert_one_line_error(result, 3, "401", {"file": "peps.txt", "environment": "PEPS_USER",
                                             "netrc": ".netrc"}[where])
    assert not (tmp_path / "x.log").exists()


def test_no_credentials_at_all_is_a_usage_error(cli, emulator):
    result = cli("process", *VALID, "--url", emulator.url)
    assert_one_line_error(result, 2, "PEPS_USER", "-a")


def test_a_wps_exception_report_exits_1_with_the_server_text(cli, make_emulator, auth_file):
    emulator = make_emulator(submit_fault="exception")
    result = cli("process", "-a", auth_file, *VALID, "--url", emulator.url, "-l", "x.log")
    assert_one_line_error(result, 1, "refused the request")
    assert not Path("x.log").exists()


@pytest.mark.parametrize("fault, words", [("http500", "HTTP 500"), ("html", "not a valid XML"),
                                          ("drop", "may exist")])
def test_a_broken_answer_exits_1_and_the_post_is_sent_once(cli, make_emulator, auth_file,
                                                           fault, words):
    emulator = make_emulator(submit_fault=fault)
    result = cli("process", "-a", auth_file, *VALID, "--url", emulator.url, "-l", "x.log")
    assert_one_line_error(result, 1, words)
    assert len([r for r in emulator.requests if r.method == "POST"]) == 1
    assert not Path("x.log").exists()


@pytest.mark.parametrize("url, words", [
    ("http://127.0.0.1:9/resto/wps", "refused"),
    ("https://no-such-host.invalid/resto/wps", "cannot reach no-such-host.invalid"),
])
def test_an_unreachable_server_exits_1_with_one_line(cli, auth_file, url, words):
    result = cli("process", "-a", auth_file, *VALID, "--url", url, "-l", "x.log")
    assert_one_line_error(result, 1, words)


def test_the_endpoint_comes_from_the_environment(run, emulator, auth_file):
    result = run("process", "-a", auth_file, *VALID, "-l", "x.log",
                 env={"PEPS_WPS_URL": emulator.url})
    assert result.returncode == 0, result.stderr
    assert len(emulator.jobs) == 1


def test_dry_run_refuses_what_the_real_run_would_refuse(cli, emulator, auth_file):
    submit(cli, emulator, auth_file)
    result = cli("process", *VALID, "--url", emulator.url, "-n", "-l", "job.log")
    assert_one_line_error(result, 2, "already holds a job")
    result = cli("process", *VALID, "--url", "ftp://x/wps", "-n")
    assert_one_line_error(result, 2, "not an http(s) URL")


def test_an_account_inside_the_url_is_refused_and_never_shown(cli, emulator, auth_file):
    url = emulator.url.replace("http://", f"http://{USER}:{PASSWORD}@")
    for extra in ([], ["-n"]):
        result = cli("process", "-a", auth_file, *VALID, "--url", url, "-l", "x.log", *extra)
        assert_one_line_error(result, 2, "account in the URL")
    assert emulator.requests == [] and not Path("x.log").exists()


def test_split_jobs_share_a_log_named_after_the_whole_period(run, emulator, auth_file,
                                                              tmp_path):
    result = run("process", "-a", auth_file, "-t", "36TWQ", "-d", "2019-03-01", "-f",
                 "2020-09-01", "--split", "--url", emulator.url)
    assert result.returncode == 0, result.stderr
    log = tmp_path / "36TWQ_2019-03-01_2020-09-01.log"
    assert len(json.loads(log.read_text())["jobs"]) == 2
