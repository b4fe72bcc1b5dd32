"""A hostile or confused OGC API server, end to end: each failure stays with its job,
no secret shows, and what the user is told to run works as printed."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Callable

import pytest

from full_maja.jobrecord import JobRecord
from full_maja.journal import record_job

KEY = "review-key-0123456789"
PRODUCT = "SENTINEL2A_20190301-083751-427_L2A_T36TWQ_C_V2-2.zip"
CORE = "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core"

def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(PRODUCT[:-4] + "/MTD.xml", "<x/>")
    return buffer.getvalue()


def _send(handler, code: int, body, ctype: str = "application/json") -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    handler.send_response(code)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _key_file(tmp_path: Path, key: str = KEY) -> Path:
    path = tmp_path / "api.key"
    path.write_text(key + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def _two_job_log(tmp_path: Path, api: str) -> Path:
    jobs = [{"job_id": job, "status_url": f"{api}/jobs/{job}", "endpoint": api,
             "protocol": "ogcapi", "tile": "36TWQ", "start": "2019-03-01", "end": "2019-05-01"}
            for job in ("bad", "good")]
    path = tmp_path / "two.log"
    path.write_text(json.dumps({"format": "full-maja job log", "version": 1, "jobs": jobs}))
    return path


def _api(hostile: Callable, bad_job: Callable) -> str:
    """An OGC API whose job `good` succeeds with one product; `bad_job(handler)` answers `bad`."""
    def answer(handler) -> None:
        path = handler.path.split("?")[0]
        if path.endswith("/conformance"):
            return _send(handler, 200, {"conformsTo": [CORE]})
        if path.endswith(".zip"):
            return _send(handler, 200, _zip(), "application/zip")
        if "/jobs/bad" in path:
            return bad_job(handler, path)
        if path.endswith("/jobs/good"):
            return _send(handler, 200, {"jobID": "good", "status": "successful"})
        if path.endswith("/jobs/good/results"):
            return _send(handler, 200, {"report": {"job_status": "FINISHED",
                                                   "results": [f"{base}/products/{PRODUCT}"]}})
        return _send(handler, 404, {"title": "not found"})
    base, _ = hostile(answer)
    return base


# a refusal by the server holding one job's report (another origin, which
# never gets the key) stops the whole run with exit 3, blames the API key (403), and the
# healthy job is never checked. README: "a report or product on another host is fetched
# without it, and a refusal there is reported as that server's"; issue 12 class 10.
@pytest.mark.parametrize("refusal", [401, 403])
def test_a_report_host_that_refuses_fails_that_job_only(cli, hostile, tmp_path, refusal):
    report_base, seen = hostile(lambda handler: _send(handler, refusal, {"title": "no"}))

    def bad_job(handler, path):
        if path.endswith("/results"):
            return _send(handler, 200, {"report": {"href": f"{report_base}/report.json"}})
        return _send(handler, 200, {"jobID": "bad", "status": "successful"})

    api = _api(hostile, bad_job)
    log = _two_job_log(tmp_path, api)
    result = cli("download", "--api-key-file", _key_file(tmp_path), "-l", log, "-w", "out")
    assert all(KEY not in str(headers) for headers in seen)
    assert (tmp_path / "out" / PRODUCT).is_file(), result.stderr   # the healthy job
    assert result.returncode == 1, result.stderr
    assert "refused the API key" not in result.stderr


# a statusInfo whose `results` link is not http(s), or plain http to another
# machine, makes the whole run exit 2 (a "usage" error caused by the server, advising
# --insecure-http), and the healthy job is never downloaded.
@pytest.mark.parametrize("href", ["file:///etc/passwd", "http://results.example.com/r"])
def test_a_results_link_the_transport_refuses_fails_that_job_only(cli, hostile, tmp_path,
                                                                  href):
    def bad_job(handler, path):
        return _send(handler, 200, {"jobID": "bad", "status": "successful",
                                    "links": [{"rel": "results", "href": href}]})

    api = _api(hostile, bad_job)
    log = _two_job_log(tmp_path, api)
    result = cli("download", "--api-key-file", _key_file(tmp_path), "-l", log, "-w", "out")
    assert (tmp_path / "out" / PRODUCT).is_file(), result.stderr
    assert result.returncode == 1, result.stderr
    assert "--insecure-http" not in result.stderr


# an API key with a character outside Latin-1 crashes in http.client with
# "unexpected UnicodeEncodeError: ... character '\u20ac' in position 3", exit 1: one
# character of the key and its position (issue 12 class 5, for the key this time).
def test_an_api_key_outside_latin1_is_refused_without_showing_it(cli, hostile, tmp_path):
    api = _api(hostile, lambda handler, path: _send(handler, 404, {}))
    log = _two_job_log(tmp_path, api)
    result = cli("download", "--api-key-file", _key_file(tmp_path, "KEY\u20acabc"),
                 "-l", log, "-w", "out")
    assert result.returncode == 2, result.stderr
    assert "UnicodeEncodeError" not in result.stderr
    assert "\u20ac" not in result.stderr and "u20ac" not in result.stderr
    assert "position" not in result.stderr


# `--adopt ""` is not refused: it silently turns into a plain download run
# (requests sent, series.html written).
def test_an_empty_adopt_job_id_is_refused_before_anything_is_sent(cli, hostile, tmp_path):
    api = _api(hostile, lambda handler, path: _send(handler, 404, {}))
    log = _two_job_log(tmp_path, api)
    result = cli("download", "--api-key-file", _key_file(tmp_path), "-l", log,
                 "--adopt", "", "-w", "out")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert not (tmp_path / "out").exists()


# the recovery command printed when a log cannot be written
# (`full_maja_download.py --adopt JOB_ID -l LOG`) fails when run as printed: --adopt
# demands an account (for peps.cnes.fr) even though the journal answers without any
# request, and the hint carries none of the account options used to submit.
def test_the_printed_recovery_command_adopts_a_journalled_job(cli, tmp_path):
    record = JobRecord(job_id="42", status_url="http://127.0.0.1:9/ogcapi/jobs/42",
                       endpoint="http://127.0.0.1:9/ogcapi", protocol="ogcapi",
                       tile="36TWQ")
    assert record_job(record, "ogcapi")
    result = cli("download", "--adopt", "42", "-l", "job.log")
    assert result.returncode == 0, result.stderr
    assert "42" in (tmp_path / "job.log").read_text()


# --adopt from the server trusts the jobID the server answers: asking for
# job `asked` writes a log whose job_id is `other` but whose status_url is /jobs/asked.
def test_adopt_from_the_server_records_the_job_asked_for(cli, hostile, tmp_path):
    def answer(handler):
        if handler.path.split("?")[0].endswith("/conformance"):
            return _send(handler, 200, {"conformsTo": [CORE]})
        return _send(handler, 200, {"jobID": "other", "status": "running"})

    base, _ = hostile(answer)
    result = cli("download", "--url", base, "--api-key-file", _key_file(tmp_path),
                 "--adopt", "asked", "-l", "job.log")
    logged = json.loads((tmp_path / "job.log").read_text())["jobs"] \
        if (tmp_path / "job.log").exists() else []
    assert result.returncode != 0 or logged[0]["job_id"] == "asked", logged
