"""The journal of accepted jobs: appended and flushed, never a secret, never raising."""
from __future__ import annotations

import json
import logging
import os
from datetime import date
from pathlib import Path

import pytest

from full_maja.errors import JobLogError
from full_maja.joblog import JobLog, read_job_log, write_job_log
from full_maja.jobrecord import new_record
from full_maja.journal import adopt_from_journal, find_job, journal_path, record_job
from full_maja.validation import JobRequest

REQUEST = JobRequest("36TWQ", 64, date(2019, 3, 1), date(2019, 5, 1))
ENDPOINT = "https://peps.cnes.fr/resto/wps"


def job(number: int):
    """The record of job `number`, as the server would have accepted it."""
    return new_record(REQUEST, str(number), f"https://peps.cnes.fr/wps/outputs/pywps-{number}.xml",
                      ENDPOINT)


@pytest.mark.parametrize("environ, expected", [
    ({"XDG_STATE_HOME": "/s"}, "/s/full-maja/jobs.jsonl"),
    ({"XDG_STATE_HOME": "relative"}, "~/.local/state/full-maja/jobs.jsonl"),
    ({}, "~/.local/state/full-maja/jobs.jsonl"),
])
def test_the_journal_lives_in_the_xdg_state_folder(environ, expected):
    assert journal_path(environ) == Path(os.path.expanduser(expected))


def test_jobs_are_appended_one_json_line_each_and_found_again(state_home):
    second = job(2)
    assert record_job(job(1), protocol="wps-1.0.0") and record_job(second)
    path = state_home / "full-maja" / "jobs.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["job_id"] for line in lines] == ["1", "2"]
    assert lines[0]["protocol"] == "wps-1.0.0" and lines[0]["tile"] == "36TWQ"
    assert path.stat().st_mode & 0o077 == 0
    assert find_job("2") == second
    assert find_job("3") is None


def test_damaged_lines_are_skipped(state_home):
    record_job(job(1))
    path = journal_path()
    with open(path, "ab") as stream:
        stream.write(b'{"job_id": "cut\n\xff\xfe\n[1, 2]\n')
    record_job(job(2))
    assert find_job("1").job_id == "1" and find_job("2").job_id == "2"


def test_a_disk_error_is_a_warning_never_an_exception(state_home, caplog):
    state_home.mkdir()
    (state_home / "full-maja").write_text("a file where the folder should be")
    with caplog.at_level(logging.WARNING):
        assert record_job(job(7)) is False
    assert "job 7" in caplog.text and "journal" in caplog.text


def test_a_journalled_job_is_adopted_into_a_log_without_an_account(state_home, tmp_path):
    record_job(job(5))
    log = tmp_path / "recovered.log"
    assert adopt_from_journal("5", log).job_id == "5"
    assert [entry.job_id for entry in read_job_log(log).jobs] == ["5"]
    with pytest.raises(JobLogError, match="already holds a job"):
        adopt_from_journal("5", log)
    other = tmp_path / "other.log"
    write_job_log(JobLog(other, [job(4)]))
    adopt_from_journal("5", other, append=True)
    assert [entry.job_id for entry in read_job_log(other).jobs] == ["4", "5"]
    with pytest.raises(JobLogError, match="already in"):
        adopt_from_journal("5", other, append=True)


def test_a_job_not_in_the_journal_is_left_to_the_server(state_home, tmp_path):
    assert adopt_from_journal("404", tmp_path / "x.log") is None
    assert not (tmp_path / "x.log").exists()
