"""End to end: full_maja_download.py following jobs of every state on the emulator.

Tests of what the script does run it (`run`); tests of what it says of each state and
failure, and its exit code, run its entry point in this process (`cli`).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from conftest import PASSWORD, USER, assert_one_line_error, product_requests, submit


def download(run, auth_file, *extra, log="job.log", write_dir="out"):
    return run("download", "-a", auth_file, "-l", log, "-w", write_dir, *extra)


def finished(make_emulator, **settings):
    settings.setdefault("timeline", ["FINISHED"])
    return make_emulator(registration_polls=0, **settings)


def zips(folder: str = "out") -> list[str]:
    return sorted(path.name for path in Path(folder).glob("*.zip"))


def test_a_finished_series_lands_whole_on_disk(run, make_emulator, auth_file):
    emulator = finished(make_emulator)
    submit(run, emulator, auth_file)
    result = download(run, auth_file)
    assert result.returncode == 0, result.stderr
    job_id = next(iter(emulator.jobs))
    report = requests.get(f"{emulator.base_url}/wps/outputs/FULL_MAJA_{job_id}.json",
                          auth=(USER, PASSWORD), timeout=5).json()["USER_INFO"]
    wanted = sorted(url.rsplit("/", 1)[1] for url in report["results"] if "NOVALD" not in url)
    assert zips() == wanted and len(wanted) == 9
    for name in wanted[:2]:
        url = next(url for url in report["results"] if url.endswith(name))
        assert Path("out", name).read_bytes() == \
            requests.get(url, auth=(USER, PASSWORD), timeout=5).content
    assert not list(Path("out").glob("*.part"))
    assert "Skipped for clouds (3, over 90 % cloudy): 2019-03-16, 2019-04-05, 2019-04-25" \
        in result.stdout
    assert "Not processed: 1 product" in result.stdout
    assert "2019-03-31  S2A_MSIL1C_20190331T083751" in result.stdout
    assert "9 products on disk (9 downloaded now)" in result.stdout
    assert not any("NOVALD" in r.path for r in product_requests(emulator))


def test_the_cron_rerun_requests_no_product_and_changes_no_file(run, make_emulator, auth_file):
    emulator = finished(make_emulator)
    submit(run, emulator, auth_file)
    assert download(run, auth_file).returncode == 0
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in Path("out").rglob("*")
              if p.is_file()}
    emulator.clear_requests()
    result = download(run, auth_file, "-q")
    assert result.returncode == 0, result.stderr
    assert product_requests(emulator) == []
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in Path("out").rglob("*")
             if p.is_file()}
    assert after == before
    assert result.stdout.strip().splitlines()[-1].endswith("The series is complete.")
    assert len(result.stdout.strip().splitlines()) == 1


@pytest.mark.parametrize("timeline, code, words", [
    (["PENDING"], 75, ["queued (PENDING)", "runs a limited number of jobs at once"]),
    (["STALLED"], 75, ["processing (STALLED), progress 35%", "ahead of reality", "again later"]),
    (["ERROR"], 1, ["failed (ERROR)", "Server message:", "Log: http", "joblog-"]),
    (["CANCELED"], 1, ["failed (CANCELED)", "Server message:"]),
])
def test_each_server_state_is_explained_with_its_exit_code(cli, make_emulator, auth_file,
                                                           timeline, code, words):
    emulator = make_emulator(registration_polls=0, timeline=timeline)
    submit(cli, emulator, auth_file)
    result = download(cli, auth_file)
    assert result.returncode == code, result.stdout + result.stderr
    for word in words:
        assert word in result.stdout
    assert product_requests(emulator) == []
    assert "Traceback" not in result.stderr


def test_a_job_not_registered_yet_is_queued(cli, make_emulator, auth_file):
    emulator = make_emulator(registration_polls=5)
    submit(cli, emulator, auth_file)
    result = download(cli, auth_file)
    assert result.returncode == 75
    assert "queued (accepted)" in result.stdout


def test_a_process_failed_status_exits_1_with_the_server_text(cli, make_emulator, auth_file):
    emulator = make_emulator(process_failed=True, registration_polls=0)
    submit(cli, emulator, auth_file)
    result = download(cli, auth_file)
    assert result.returncode == 1
    assert "failed (ProcessFailed)" in result.stdout and "MAJA processing failed" in result.stdout


def test_a_failed_refresh_is_reported_and_the_report_used_as_it_stands(cli, make_emulator,
                                                                       auth_file):
    emulator = finished(make_emulator, refresh_fault="exception")
    submit(cli, emulator, auth_file)
    result = download(cli, auth_file)
    assert "could not ask the server to refresh the report" in result.stderr
    assert result.returncode == 0, result.stderr
    assert len(zips()) == 9


def test_the_report_moves_on_over_successive_runs(cli, make_emulator, auth_file):
    emulator = make_emulator(registration_polls=1,
                             timeline=["PENDING", "STALLED", "FINISHED"])
    submit(cli, emulator, auth_file)
    codes = [download(cli, auth_file, "-q").returncode for _ in range(4)]
    assert codes == [75, 75, 0, 0]
    assert len(zips()) == 9


def test_job_ids_need_not_be_digits(run, make_emulator, auth_file):
    emulator = finished(make_emulator, job_id_style="uuid")
    submit(run, emulator, auth_file)
    job_id = json.loads(Path("job.log").read_text())["jobs"][0]["job_id"]
    assert not job_id.isdigit()
    assert download(run, auth_file).returncode == 0
    refreshes = [r for r in emulator.requests if r.query.get("identifier") == "PROCESSING_STATUS"]
    assert refreshes and all(r.query["datainputs"] == f"wps_id={job_id}" for r in refreshes)


def test_a_log_of_the_original_client_is_followed(run, make_emulator, auth_file):
    emulator = finished(make_emulator)
    answer = requests.get(emulator.url, params={
        "request": "execute", "service": "WPS", "version": "1.0.0", "identifier": "FULL_MAJA",
        "datainputs": "startDate=2019-03-01;completionDate=2019-05-01;tileid=36TWQ;"
                      "relativeOrbitNumber=64", "status": "true",
        "storeExecuteResponse": "true"}, auth=(USER, PASSWORD), timeout=5)
    Path("36TWQ_2019-03-01.log").write_text(answer.text)
    result = download(run, auth_file, "--url", emulator.url, log="36TWQ_2019-03-01.log")
    assert result.returncode == 0, result.stderr
    assert len(zips()) == 9
    assert "parameters not recorded" in result.stdout
    assert Path("36TWQ_2019-03-01.log").read_text() == answer.text


def test_a_legacy_log_takes_the_endpoint_from_the_environment(run, make_emulator, auth_file):
    emulator = finished(make_emulator)
    answer = requests.post(emulator.url, data=_execute_xml(), auth=(USER, PASSWORD), timeout=5)
    Path("legacy.log").write_text(answer.text)
    result = run("download", "-a", auth_file, "-l", "legacy.log", "-w", "out",
                 env={"PEPS_WPS_URL": emulator.url})
    assert result.returncode == 0, result.stderr
    assert len(zips()) == 9


def _execute_xml() -> bytes:
    from datetime import date

    from full_maja.service.peps import submission_document
    from full_maja.validation import JobRequest
    return submission_document(JobRequest("36TWQ", 64, date(2019, 3, 1), date(2019, 5, 1)))


def test_a_refused_account_exits_3(cli, make_emulator, auth_file, tmp_path):
    emulator = finished(make_emulator)
    submit(cli, emulator, auth_file)
    (tmp_path / "wrong.txt").write_text(f"{USER} not-the-password\n")
    result = download(cli, tmp_path / "wrong.txt")
    assert_one_line_error(result, 3, "401", "wrong.txt")


def test_a_url_other_than_the_logs_endpoint_is_refused(cli, emulator, auth_file):
    submit(cli, emulator, auth_file)
    elsewhere = emulator.url.replace("127.0.0.1", "localhost")
    result = cli("download", "-a", auth_file, "-l", "job.log", "-w", "out", "--url", elsewhere)
    assert_one_line_error(result, 2, "--url", "not the endpoint")
    assert not Path("out").exists()


def test_server_jobs_needs_a_url(cli, auth_file):
    result = cli("download", "-a", auth_file, "--server-jobs")
    assert_one_line_error(result, 2, "--server-jobs", "--url")
