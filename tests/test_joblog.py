"""The job log: written atomically, read back whole, legacy logs understood, bad logs refused."""
from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest
from conftest import special_file

from full_maja.errors import BusyError, JobLogError
from full_maja.joblog import (
    MAX_LOG_BYTES,
    JobLog,
    check_log_is_free,
    default_log_name,
    read_job_log,
    write_job_log,
)
from full_maja.jobrecord import JobRecord, new_record
from full_maja.lock import hold_lock, lock_path_for
from full_maja.validation import JobRequest

REQUEST = JobRequest("36TWQ", 64, date(2019, 3, 1), date(2019, 9, 1))
STATUS = "https://peps.cnes.fr/wps/outputs/pywps-155237461814.xml"
LEGACY = ('<?xml version="1.0" encoding="utf-8"?>\n<wps:ExecuteResponse '
          'xmlns:wps="http://www.opengis.net/wps/1.0.0" xmlns:ows="http://www.opengis.net/ows/1.1"'
          f' statusLocation="{STATUS}"><wps:Status><wps:ProcessAccepted>Process FULL_MAJA '
          'accepted</wps:ProcessAccepted></wps:Status></wps:ExecuteResponse>\n')


def test_a_written_log_reads_back_the_same(tmp_path: Path):
    record = new_record(REQUEST, "155237461814", STATUS, "https://peps.cnes.fr/resto/wps")
    write_job_log(JobLog(tmp_path / "a.log", [record]))
    log = read_job_log(tmp_path / "a.log")
    assert log.jobs == [record]
    assert record.job_id == "155237461814" and record.request == REQUEST
    assert not log.legacy


def test_the_log_is_readable_json_without_secrets(tmp_path: Path):
    write_job_log(JobLog(tmp_path / "a.log", [new_record(REQUEST, "155237461814", STATUS, "https://e/wps")]))
    document = json.loads((tmp_path / "a.log").read_text())
    assert document["format"] == "full-maja job log"
    assert document["jobs"][0]["tile"] == "36TWQ"
    assert set(document["jobs"][0]) >= {"job_id", "status_url", "endpoint", "orbit", "start",
                                        "end", "submitted"}


def test_replacement_keeps_history_and_follows_the_new_job(tmp_path: Path):
    old = new_record(REQUEST, "155237461814", STATUS, "https://e/wps")
    new = new_record(REQUEST, "99", STATUS.replace("155237461814", "99"), "https://e/wps")
    log = JobLog(tmp_path / "a.log", [old]).with_replacement(old.job_id, new)
    write_job_log(log)
    again = read_job_log(tmp_path / "a.log")
    assert [job.job_id for job in again.jobs] == ["155237461814", "99"]
    assert [job.job_id for job in again.active_jobs] == ["99"]
    assert again.jobs[1].replaces == "155237461814"


def test_a_log_of_the_original_client_is_read(tmp_path: Path):
    path = tmp_path / "36TWQ.log"
    path.write_text(LEGACY)
    log = read_job_log(path)
    assert log.legacy
    assert log.jobs == [JobRecord(job_id="155237461814", status_url=STATUS)]


@pytest.mark.parametrize("content, words", [
    (b"", "empty"),
    (b"\n  \n", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not a text file"),
    (b'{"format": "full-maja job log", "jobs": [{"job_id": "1"', "not a job log"),
    (b'{"a": 1}', "not a full-maja job log"),
    (b'{"format": "full-maja job log", "jobs": []}', "holds no job"),
    (b'{"format": "full-maja job log", "jobs": [{"job_id": 3, "status_url": "u"}]}', "job_id"),
    (b'{"format": "full-maja job log", "jobs": [{"job_id": "3", "status_url": "u",'
     b' "start": "2019-02-30"}]}', "start"),
    (LEGACY.replace("statusLocation", "other").encode(), "without a statusLocation"),
    (LEGACY[:120].encode(), "neither"),
])
def test_bad_logs_are_refused_with_a_reason(tmp_path: Path, content: bytes, words: str):
    path = tmp_path / "bad.log"
    path.write_bytes(content)
    with pytest.raises(JobLogError, match=words):
        read_job_log(path)
    assert path.read_bytes() == content


def test_huge_and_missing_and_unreadable_logs_are_refused(tmp_path: Path):
    huge = tmp_path / "huge.log"
    with open(huge, "wb") as handle:
        handle.truncate(MAX_LOG_BYTES + 1)
    with pytest.raises(JobLogError, match="too large"):
        read_job_log(huge)
    with pytest.raises(JobLogError, match="does not exist"):
        read_job_log(tmp_path / "nope.log")
    with pytest.raises(JobLogError, match="folder"):
        read_job_log(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_log(tmp_path: Path):
    path = tmp_path / "secret.log"
    path.write_text(LEGACY)
    path.chmod(0)
    with pytest.raises(JobLogError, match="cannot read"):
        read_job_log(path)


def test_a_failed_write_leaves_the_old_log_whole(tmp_path: Path, monkeypatch):
    path = tmp_path / "a.log"
    write_job_log(JobLog(path, [new_record(REQUEST, "155237461814", STATUS, "https://e/wps")]))
    before = path.read_bytes()

    def crash(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(JobLogError, match="No space left"):
        write_job_log(JobLog(path, []))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["a.log"]


@pytest.mark.parametrize("orbit, name", [(64, "36TWQ_o064_2019-03-01_2019-09-01.log"),
                                         (None, "36TWQ_2019-03-01_2019-09-01.log")])
def test_default_log_names_differ_by_tile_orbit_and_period(orbit, name):
    assert default_log_name(JobRequest("36TWQ", orbit, date(2019, 3, 1),
                                       date(2019, 9, 1))) == name


# -- logs are the user's files (issue 12) -------------------------------------------------------

def linked_log(tmp_path: Path) -> tuple[Path, Path]:
    """A real log in a folder of its own and a symlink to it elsewhere."""
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "a.log"
    write_job_log(JobLog(real, [new_record(REQUEST, "155237461814", STATUS, "https://e/wps")]))
    link = tmp_path / "link.log"
    link.symlink_to(real)
    return real, link


def test_a_log_written_through_a_symlink_updates_its_target(tmp_path: Path):
    real, link = linked_log(tmp_path)
    log = read_job_log(link)
    second = new_record(REQUEST, "155237461815", STATUS.replace("1814", "1815"), "https://e/wps")
    write_job_log(log.with_job(second))
    assert link.is_symlink() and link.resolve() == real
    assert [job.job_id for job in read_job_log(real).jobs] == ["155237461814", "155237461815"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "link.log", "real"]


def test_the_lock_belongs_to_the_real_file(tmp_path: Path):
    real, link = linked_log(tmp_path)
    assert lock_path_for(link) == lock_path_for(real) == real.with_name("a.log.lock")
    with hold_lock(link), pytest.raises(BusyError), hold_lock(real):
        pass


@pytest.mark.parametrize("kind", ["fifo", "folder", "device"])
def test_a_log_that_is_not_a_regular_file_is_refused_untouched(tmp_path: Path, kind):
    path = special_file(tmp_path, kind)
    with pytest.raises(JobLogError, match="not a regular file"):
        read_job_log(path)
    with pytest.raises(JobLogError, match="not a regular file"):
        check_log_is_free(path, append=False)
    assert not path.with_name(path.name + ".lock").exists()
