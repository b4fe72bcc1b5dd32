"""OGC API - Processes documents, read as real servers write them; the API key's rules."""
from __future__ import annotations

import json
import logging
import time
from datetime import date
from pathlib import Path

import pytest
import requests

from full_maja.auth import ApiKey, EndpointAuth, origin_of, resolve_api_key
from full_maja.credentials import Credentials
from full_maja.errors import CredentialsError, DocumentLimitError, ServiceError
from full_maja.joblog import JobLog, read_job_log, write_job_log
from full_maja.jobrecord import JobRecord
from full_maja.service import protocol_named
from full_maja.service.jobreport import JobReport
from full_maja.service.ogcapi import OgcApiService
from full_maja.service.processes import (
    JobStatus,
    ReportReference,
    conforms_to_processes,
    exception_text,
    execute_body,
    is_status_info,
    job_id_from_url,
    job_url_from_location,
    parse_status_info,
    report_source,
    results_link,
)
from full_maja.session import PepsSession, make_session
from full_maja.states import Protocol
from full_maja.validation import JobRequest

BASE = "http://127.0.0.1:5000/ogcapi"
JOB = f"{BASE}/jobs/4b0e7c3a-1d2e-11ef-9c1a-0242ac120002"
RESULTS_REL = "http://www.opengis.net/def/rel/ogc/1.0/results"
REPORT = {"job_status": "FINISHED", "process": "100%",
          "results": ["http://files.example/1/SENTINEL2A_20190301-083751-427_L2A_T36TWQ_C_V2-2.zip"],
          "unprocessed": 1, "missing": ["S2B_MSIL1C_20190311"], "logs": [], "message": ""}


def status(**fields: object) -> dict:
    return {"jobID": "4b0e7c3a-1d2e-11ef-9c1a-0242ac120002", "status": "running",
            "type": "process", "processID": "FULL_MAJA", "parameters": None, **fields}


@pytest.mark.parametrize("orbit, expected", [
    (64, {"tileid": "36TWQ", "startDate": "2019-03-01", "completionDate": "2019-09-01",
          "relativeOrbitNumber": 64}),
    (None, {"tileid": "36TWQ", "startDate": "2019-03-01", "completionDate": "2019-09-01"}),
])
def test_the_execute_document_holds_the_orbit_only_when_given(orbit, expected):
    request = JobRequest("36TWQ", orbit, date(2019, 3, 1), date(2019, 9, 1))
    body = execute_body(request)
    assert body == {"inputs": expected}
    assert isinstance(json.loads(json.dumps(body))["inputs"].get("relativeOrbitNumber", 0), int)


@pytest.mark.parametrize("document, expected", [
    ({"conformsTo": ["http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core"]}, True),
    ({"conformsTo": ["http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core/"]}, True),
    ({"conformsTo": ["http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core"]}, False),
    ({"conformsTo": "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core"}, False),
    (None, False), ([], False), ({}, False),
], ids=["core", "trailing-slash", "other-api", "not-a-list", "null", "list", "empty"])
def test_detection_needs_the_processes_core_class(document, expected):
    assert conforms_to_processes(document) is expected


@pytest.mark.parametrize("location, expected", [
    (JOB, JOB),
    ("/ogcapi/jobs/abc", "http://127.0.0.1:5000/ogcapi/jobs/abc"),
    ("../../jobs/abc", "http://127.0.0.1:5000/ogcapi/jobs/abc"),
    ("  https://other.example/jobs/abc  ", "https://other.example/jobs/abc"),
], ids=["absolute", "absolute-path", "relative", "spaces"])
def test_the_job_url_comes_from_location_absolute_or_relative(location, expected):
    assert job_url_from_location(location, f"{BASE}/processes/FULL_MAJA/execution") == expected


@pytest.mark.parametrize("location", ["ftp://x/jobs/a", "http://[::1/jobs/a"])
def test_a_location_that_is_no_http_url_is_refused(location):
    with pytest.raises(ServiceError, match="Location"):
        job_url_from_location(location, BASE)


@pytest.mark.parametrize("url, job_id", [
    (JOB, "4b0e7c3a-1d2e-11ef-9c1a-0242ac120002"),
    (f"{BASE}/jobs/abc/", "abc"), (f"{BASE}/jobs/a%20b?f=json", "a b"),
])
def test_the_job_id_is_the_last_path_segment(url, job_id):
    assert job_id_from_url(url) == job_id


@pytest.mark.parametrize("document, expected", [
    (status(), True), (None, False), ({"id": "report", "value": {}}, False),
    ({"report": {}}, False), ({"jobID": "x", "status": "accepted"}, True),
], ids=["statusInfo", "null", "pygeoapi-results", "results", "minimal"])
def test_a_statusinfo_is_told_from_other_answers(document, expected):
    assert is_status_info(document) is expected


@pytest.mark.parametrize("word, expected", [
    ("accepted", JobStatus.ACCEPTED), ("running", JobStatus.RUNNING),
    ("successful", JobStatus.SUCCESSFUL), ("failed", JobStatus.FAILED),
    ("dismissed", JobStatus.DISMISSED), (" Running ", JobStatus.RUNNING),
])
def test_each_status_is_read(word, expected):
    assert parse_status_info(status(status=word), "s", JOB).status is expected


@pytest.mark.parametrize("value, expected", [
    (5, 5), (95, 95), ("40", 40), (12.7, 12), (150, 100), (-3, 0), (None, None),
    (True, None), ("soon", None),
])
def test_progress_is_a_bounded_whole_number_or_nothing(value, expected):
    assert parse_status_info(status(progress=value), "s", JOB).progress == expected


def test_a_statusinfo_gives_process_message_and_creation_time():
    info = parse_status_info(status(status="failed", message="MAJA  crashed\n on date 3",
                                    created="2026-01-02T03:04:05Z"), "s", JOB)
    assert (info.process, info.message, info.created) == (
        "FULL_MAJA", "MAJA crashed on date 3", "2026-01-02T03:04:05Z")


@pytest.mark.parametrize("document, match", [
    ({"status": "running"}, "no jobID"), (status(status="paused"), "unknown job status"),
    (status(status=None), "unknown job status"), (["running"], "not a JSON object"),
])
def test_a_statusinfo_that_makes_no_sense_is_refused(document, match):
    with pytest.raises(ServiceError, match=match):
        parse_status_info(document, "the status", JOB)


def test_a_missing_job_id_may_come_from_the_url():
    assert parse_status_info({"status": "accepted"}, "s", JOB, "abc").job_id == "abc"


def link(href: str, kind: str = "", rel: str = RESULTS_REL) -> dict:
    return {"href": href, "rel": rel, **({"type": kind} if kind else {})}


@pytest.mark.parametrize("links, expected", [
    ([link(f"{JOB}/results?f=html", "text/html"), link(f"{JOB}/results?f=json", "application/json"),
      link(f"{JOB}/results")], f"{JOB}/results?f=json"),
    ([link(f"{JOB}/results?f=html", "text/html"), link(f"{JOB}/results")], f"{JOB}/results"),
    ([link("results?f=json")], f"{BASE}/jobs/results?f=json"),
    ([link(f"{JOB}/results", rel="self")], None), ([], None), (None, None),
    ([link(f"{JOB}/results?f=html", "text/html")], f"{JOB}/results?f=html"),
], ids=["pygeoapi", "bare-over-html", "relative", "other-rel", "none", "null", "html-only"])
def test_the_results_link_prefers_json_then_bare_then_html(links, expected):
    assert results_link(links, JOB) == expected


@pytest.mark.parametrize("document", [
    {"report": REPORT},
    {"report": {"value": REPORT}},
    {"id": "report", "value": REPORT},
    {"report": {"USER_INFO": REPORT}},
    {"report": {"value": {"USER_INFO": REPORT}}},
    {"report": {"value": json.dumps(REPORT)}},
    {"report": json.dumps(REPORT)},
    {"outputs": {"report": {"value": REPORT}}},
    {"outputs": [{"id": "report", "value": REPORT}]},
    REPORT,
], ids=["inline", "value", "pygeoapi-id-value", "user-info", "value-user-info",
        "value-as-text", "text", "outputs-map", "outputs-list", "bare-report"])
def test_the_report_is_read_in_every_inline_form(document):
    report = report_source(document, "the results")
    assert isinstance(report, JobReport)
    assert report.state == "FINISHED" and report.unprocessed == 1
    assert report.urls == REPORT["results"] and report.missing == ["S2B_MSIL1C_20190311"]


def test_a_report_by_reference_is_a_url_to_fetch():
    source = report_source({"report": {"href": "http://files.example/1/report.json",
                                       "type": "application/json"}}, "the results")
    assert source == ReportReference("http://files.example/1/report.json")


@pytest.mark.parametrize("document, match", [
    ({"other": 1}, "no report output"), (None, "no report output"),
    ({"report": {"href": "file:///etc/passwd"}}, "not a URL"),
    ({"report": {"value": "not json"}}, "not JSON"),
    ({"report": {"value": {"job_status": ""}}}, "no job_status"),
])
def test_results_without_a_usable_report_are_refused(document, match):
    with pytest.raises(ServiceError, match=match):
        report_source(document, "the results")


@pytest.mark.parametrize("document, text", [
    ({"type": "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-process",
      "title": "No such process", "detail": "FULL_MAJA is not offered"},
     "No such process: FULL_MAJA is not offered"),
    ({"code": "InvalidParameterValue", "type": "InvalidParameterValue",
      "description": "tileid 99ZZZ is not a tile"},
     "InvalidParameterValue: tileid 99ZZZ is not a tile"),
    ({"code": "NoSuchJob", "description": "job\n not found"}, "NoSuchJob: job not found"),
    ({"description": "only a description"}, "only a description"),
    ({"title": "Bad", "detail": "Bad"}, "Bad"),
    ("<html>", ""), (None, ""),
], ids=["rfc7807", "pygeoapi", "one-line", "description-only", "same", "html", "null"])
def test_exception_documents_give_one_line_in_the_servers_words(document, text):
    assert exception_text(document) == text


@pytest.mark.parametrize("name, expected", [
    (None, Protocol.WPS), ("wps", Protocol.WPS), ("OGCAPI", Protocol.OGCAPI),
    (Protocol.OGCAPI, Protocol.OGCAPI),
])
def test_protocol_names(name, expected):
    assert protocol_named(name) is expected


def test_an_unknown_protocol_is_a_usage_error():
    with pytest.raises(Exception, match="--protocol"):
        protocol_named("soap")


def record(**fields: object) -> JobRecord:
    return JobRecord(job_id="abc", status_url=f"{BASE}/jobs/abc", endpoint=BASE, tile="36TWQ",
                     start=date(2019, 3, 1), end=date(2019, 9, 1), **fields)


def test_a_wps_record_is_written_without_protocol_or_cancellation(tmp_path: Path):
    path = tmp_path / "a.log"
    write_job_log(JobLog(path, [record()]))
    text = path.read_text()
    assert "protocol" not in text and "cancelled" not in text
    assert read_job_log(path).jobs[0].protocol is None


def test_an_ogcapi_record_keeps_protocol_and_cancellation(tmp_path: Path):
    path = tmp_path / "a.log"
    job = record(protocol="ogcapi", cancelled="2026-01-02T03:04:05Z")
    write_job_log(JobLog(path, [job]))
    assert read_job_log(path).jobs == [job]


def test_a_log_with_an_unknown_protocol_is_refused(tmp_path: Path):
    path = tmp_path / "a.log"
    path.write_text(json.dumps({"format": "full-maja job log", "version": 1, "jobs": [
        {"job_id": "a", "status_url": JOB, "protocol": "soap"}]}))
    with pytest.raises(Exception, match="none of wps, ogcapi, catalogue"):
        read_job_log(path)


def test_the_api_key_is_found_in_the_documented_order(tmp_path: Path):
    key_file = tmp_path / "key.txt"
    key_file.write_text("\n  from-file  \n")
    key_file.chmod(0o600)
    env = {"FULL_MAJA_API_KEY": "from-env"}
    assert resolve_api_key("given", str(key_file), environ=env).key == "given"
    found = resolve_api_key(None, str(key_file), "X-Key", environ=env)
    assert (found.key, found.header, found.source) == ("from-file", "X-Key", f"the file {key_file}")
    assert resolve_api_key(None, None, environ=env).source == \
        "the environment variable FULL_MAJA_API_KEY"
    assert resolve_api_key(None, None, environ={}) is None


def test_the_key_never_shows_in_its_repr():
    assert "s3cret" not in repr(ApiKey("s3cret", source="x"))


def test_a_group_readable_key_file_draws_a_warning(tmp_path: Path, caplog):
    key_file = tmp_path / "key.txt"
    key_file.write_text("k3y\n")
    key_file.chmod(0o640)
    with caplog.at_level(logging.WARNING):
        resolve_api_key(None, str(key_file), environ={})
    assert "chmod 600" in caplog.text and "k3y" not in caplog.text


@pytest.mark.parametrize("key, header, match", [
    ("two words", "X-API-Key", "one word"), ("k", "X API", "header name"),
    ("k", "", "header name"), ("k\r\nX-Evil: 1", "X-API-Key", "one word"),
])
def test_bad_keys_and_header_names_are_refused(key, header, match):
    with pytest.raises(CredentialsError, match=match):
        resolve_api_key(key, None, header, environ={})


def test_an_empty_or_missing_key_file_is_refused(tmp_path: Path):
    (tmp_path / "empty").write_text("\n\n")
    with pytest.raises(CredentialsError, match="empty"):
        resolve_api_key(None, str(tmp_path / "empty"), environ={})
    with pytest.raises(CredentialsError, match="cannot read"):
        resolve_api_key(None, str(tmp_path / "none"), environ={})


@pytest.mark.parametrize("url, same", [
    ("http://127.0.0.1:5000/ogcapi/jobs", True), ("HTTP://127.0.0.1:5000/x", True),
    ("http://127.0.0.1:5001/x", False), ("https://127.0.0.1:5000/x", False),
    ("http://localhost:5000/x", False),
])
def test_the_account_goes_to_the_endpoints_origin_only(url, same):
    auth = EndpointAuth(BASE, Credentials("u", "p", "f"), ApiKey("k3y", "X-API-Key", "f"))
    prepared = auth(requests.Request("GET", url).prepare())
    assert ("X-API-Key" in prepared.headers) is same
    assert ("Authorization" in prepared.headers) is same


def test_default_ports_make_the_same_origin():
    assert origin_of("https://a.example/x") == origin_of("https://A.example:443/y")


def test_a_refusal_names_where_the_key_came_from():
    auth = EndpointAuth(BASE, None, ApiKey("k3y", "X-API-Key", "the file key.txt"))
    message = str(auth.refusal(401, JOB))
    assert "API key from the file key.txt" in message and "k3y" not in message


def test_a_redirect_to_another_origin_loses_the_key():
    session = make_session(EndpointAuth(BASE, None, ApiKey("k3y", "X-API-Key", "f")))
    redirected = session.prepare_request(requests.Request("GET", f"{JOB}/results"))
    redirected.url = "https://files.example/report.json"
    session.rebuild_auth(redirected, requests.Response())
    assert "X-API-Key" not in redirected.headers


@pytest.mark.parametrize("target", ["http://files.example/report.json", "file:///etc/passwd"])
def test_a_redirect_to_a_url_full_maja_does_not_follow_is_the_servers_fault(target):
    session = make_session(EndpointAuth(BASE, None, ApiKey("k3y", "X-API-Key", "f")))
    redirected = session.prepare_request(requests.Request("GET", f"{JOB}/results"))
    redirected.url = target
    answer = requests.Response()
    answer.url = f"{JOB}/results"
    with pytest.raises(ServiceError, match="redirected to a URL full-maja does not follow"):
        session.rebuild_auth(redirected, answer)


def test_a_status_document_that_drips_is_abandoned_at_the_time_cap(hostile):
    def drip(handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        for _ in range(100):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(1)

    base, _ = hostile(drip)
    session = PepsSession(None, document_seconds=0.5)
    job = JobRecord(job_id="1", status_url=f"{base}/ogcapi/jobs/1", protocol="ogcapi")
    started = time.monotonic()
    with pytest.raises(DocumentLimitError, match="/ogcapi/jobs/1"):
        OgcApiService(session, f"{base}/ogcapi").check(job)
    assert time.monotonic() - started < 50  # the drip lasts 100 s, the cap 0.5 s


def _answering(hostile, answers: dict):
    """An OGC API whose paths (ends of) answer (status, JSON body)."""
    def answer(handler) -> None:
        path = handler.path.split("?")[0]
        code, body = next(value for end, value in answers.items() if path.endswith(end))
        data = json.dumps(body).encode()
        handler.send_response(code)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
    base, _ = hostile(answer)
    return OgcApiService(PepsSession(None), f"{base}/ogcapi"), \
        JobRecord(job_id="1", status_url=f"{base}/ogcapi/jobs/1", protocol="ogcapi")


@pytest.mark.parametrize("code", [404, 410])
def test_a_job_whose_status_the_server_no_longer_has_is_gone(hostile, code):
    service, job = _answering(hostile, {"/jobs/1": (code, {"title": "no such job"})})
    state = service.check(job)
    assert (state.server_state, state.phase, state.ended, state.resubmittable) == \
        ("GONE", "failed", True, True)
    assert f"HTTP {code}" in state.message


def test_results_that_cannot_be_read_are_no_proof_that_a_job_is_gone(hostile):
    service, job = _answering(hostile, {"/jobs/1": (200, {"jobID": "1", "status": "successful"}),
                                        "/results": (404, {"title": "not found"})})
    with pytest.raises(ServiceError, match="HTTP 404"):
        service.check(job)
