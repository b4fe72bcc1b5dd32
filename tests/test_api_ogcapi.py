"""The Python API against the real pygeoapi FULL_MAJA server (OGC API - Processes)."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import pytest
from conftest import API_KEY, PASSWORD, USER

from emulators.ogcapi import REPORT_FORMS, OgcApiServer
from full_maja import AuthenticationError, Client, Credentials, validate_request
from full_maja.errors import NotSupported, ServiceError
from full_maja.joblog import read_job_log
from full_maja.service import OgcApiService, WpsService
from full_maja.states import JobPhase, ProductOutcome

ACCOUNT = Credentials(USER, PASSWORD, "the test")
DEADLINE = 60.0


@pytest.fixture
def server(make_ogcapi: Callable[..., OgcApiServer]) -> OgcApiServer:
    return make_ogcapi()


def request_36twq() -> list:
    return validate_request("36TWQ", 64, "2019-03-01", "2019-05-01")


def follow(client: Client, log: Path) -> list:
    """Check until every job has ended, within the deadline."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        states = client.check(log)
        if all(state.ended for state in states):
            return states
        time.sleep(0.1)
    raise AssertionError("the job did not end in time")


def test_a_series_is_submitted_followed_and_downloaded(make_ogcapi, tmp_path: Path):
    server = make_ogcapi(hold="queued")  # queued until released
    log = tmp_path / "36TWQ.log"
    with Client(server.url, api_key=API_KEY) as client:
        [job] = client.submit(request_36twq(), log)
        seen = {state.phase for state in [client.check_job(job)]}
        server.configure(hold=None)
        seen |= {state.phase for state in follow(client, log)}
        report = client.download(log, tmp_path / "out")
    assert isinstance(client.service, OgcApiService)
    record = read_job_log(log).jobs[0]
    assert record.protocol == "ogcapi" and record.status_url.startswith(f"{server.url}/jobs/")
    assert JobPhase.FINISHED in seen and seen & {JobPhase.QUEUED, JobPhase.PROCESSING}
    [series] = report.jobs
    assert series.state.server_state == "successful"
    outcomes = {entry.outcome for entry in series.entries}
    assert {ProductOutcome.DOWNLOADED, ProductOutcome.CLOUDY} <= outcomes
    assert series.unprocessed and series.unprocessed > 0
    assert not any("NOVALD" in p.name for p in (tmp_path / "out").glob("*.zip"))
    assert report.complete
    posts = [r for r in server.requests if r.method == "POST"]
    assert len(posts) == 1 and posts[0].prefer == "respond-async"


@pytest.mark.parametrize("form", REPORT_FORMS)
@pytest.mark.parametrize("user_info", [False, True], ids=["bare", "user-info"])
def test_each_report_form_gives_the_same_products(make_ogcapi, tmp_path: Path, form, user_info):
    server = make_ogcapi(report_form=form, user_info=user_info)
    log = tmp_path / "a.log"
    with Client(server.url, credentials=ACCOUNT) as client:
        client.submit(request_36twq(), log)
        [state] = follow(client, log)
    assert state.phase == JobPhase.FINISHED and state.report is not None
    assert state.report.results and all(url.startswith(server.products_url)
                                        for url in state.report.urls)
    assert state.report.unprocessed


def test_a_failed_job_says_the_servers_message(make_ogcapi, tmp_path: Path):
    server = make_ogcapi(fail="the tape robot is overloaded")
    log = tmp_path / "a.log"
    with Client(server.url, api_key=API_KEY) as client:
        client.submit(request_36twq(), log)
        [state] = follow(client, log)
    assert state.phase == JobPhase.FAILED and state.server_state == "failed"
    assert "the tape robot is overloaded" in state.message


def test_a_running_job_is_cancelled_and_then_reported_cancelled(make_ogcapi, tmp_path: Path):
    server = make_ogcapi(run_seconds=20)
    log = tmp_path / "a.log"
    with Client(server.url, api_key=API_KEY) as client:
        [job] = client.submit(request_36twq(), log)
        [dismissed] = client.cancel(log)
        [state] = client.check(log)
        assert client.cancel(log) == []
    assert dismissed.job_id == job.job_id and dismissed.cancelled
    assert any(r.method == "DELETE" and r.path.endswith(job.job_id) for r in server.requests)
    assert read_job_log(log).jobs[0].cancelled == dismissed.cancelled
    assert (state.phase, state.server_state) == (JobPhase.FAILED, "dismissed")
    assert "cancelled" in state.message


def test_a_wps_log_cannot_be_cancelled(tmp_path: Path):
    log = tmp_path / "a.log"
    log.write_text(json.dumps({"format": "full-maja job log", "version": 1, "jobs": [
        {"job_id": "1", "status_url": "http://127.0.0.1:9/wps/pywps-1.xml"}]}))
    with Client("http://127.0.0.1:9/wps", credentials=ACCOUNT, protocol="wps") as client:
        with pytest.raises(NotSupported, match="no way to stop a job"):
            client.cancel(log)
        with pytest.raises(NotSupported, match="cannot list"):
            client.server_jobs()
        with pytest.raises(NotSupported):
            client.adopt("1", tmp_path / "b.log")
    assert not (tmp_path / "b.log").exists()


def test_server_jobs_then_adopt_then_download(server: OgcApiServer, tmp_path: Path):
    with Client(server.url, api_key=API_KEY) as client:
        [job] = client.submit(request_36twq(), tmp_path / "lost.log")
        listed = client.server_jobs()
        (tmp_path / "lost.log").unlink()
        adopted = client.adopt(job.job_id, tmp_path / "found.log")
        follow(client, tmp_path / "found.log")
        report = client.download(tmp_path / "found.log", tmp_path / "out")
    assert [(j.job_id, j.process) for j in listed] == [(job.job_id, "FULL_MAJA")]
    assert listed[0].status in ("accepted", "running") and listed[0].created
    assert adopted.status_url == job.status_url and adopted.protocol == "ogcapi"
    assert report.complete and list((tmp_path / "out").glob("*.zip"))


def test_server_jobs_follows_pages(server: OgcApiServer, tmp_path: Path):
    server.configure(run_seconds=0)
    with Client(server.url, api_key=API_KEY) as client:
        ids = {client.submit(request_36twq(), tmp_path / f"{n}.log")[0].job_id
               for n in range(12)}
        listed = client.server_jobs()
    assert {job.job_id for job in listed} == ids and len(listed) == 12


def test_an_unknown_job_cannot_be_adopted(server: OgcApiServer, tmp_path: Path):
    with Client(server.url, api_key=API_KEY) as client, pytest.raises(ServiceError, match="404"):
        client.adopt("no-such-job", tmp_path / "a.log")
    assert not (tmp_path / "a.log").exists()


@pytest.mark.parametrize("way", ["api_key", "basic"])
def test_credentials_never_reach_the_product_server(server: OgcApiServer, tmp_path, way):
    account = {"api_key": API_KEY} if way == "api_key" else {"credentials": ACCOUNT}
    log = tmp_path / "a.log"
    with Client(server.url, **account) as client:
        client.submit(request_36twq(), log)
        follow(client, log)
        client.download(log, tmp_path / "out")
    gets = [r for r in server.product_requests if r.method == "GET"]
    assert gets and not any(r.has_auth_header or r.has_api_key for r in server.product_requests)
    assert all(r.authorized for r in server.requests)


def test_a_key_file_and_the_environment_are_used(server, tmp_path: Path, monkeypatch):
    key_file = tmp_path / "key.txt"
    key_file.write_text(API_KEY + "\n")
    key_file.chmod(0o600)
    with Client(server.url, api_key_file=str(key_file)) as client:
        assert client.server_jobs() == []
    monkeypatch.setenv("FULL_MAJA_API_KEY", API_KEY)
    with Client(server.url) as client:
        assert client.server_jobs() == []
    assert all(r.has_api_key and not r.has_authorization for r in server.requests)


@pytest.mark.parametrize("account, status, named", [
    ({"api_key": "wrong"}, 403, "the API key from the Python API"),
    ({"credentials": Credentials(USER, "wrong", "the file peps.txt")}, 401,
     "the account from the file peps.txt"),
], ids=["key", "basic"])
def test_a_refused_account_names_where_it_came_from(server, tmp_path, account, status, named):
    with Client(server.url, **account) as client, \
            pytest.raises(AuthenticationError, match=f"HTTP {status}") as caught:
        client.submit(request_36twq(), tmp_path / "a.log")
    assert named in str(caught.value) and "wrong" not in str(caught.value)
    assert not (tmp_path / "a.log").exists()


def test_the_protocol_is_detected_once_and_recorded(server: OgcApiServer, tmp_path: Path):
    log = tmp_path / "a.log"
    with Client(server.url, api_key=API_KEY) as client:
        client.submit(request_36twq(), log)
    assert [r.path for r in server.requests].count("/ogcapi/conformance") == 1
    server.clear_requests()
    with Client(server.url, api_key=API_KEY) as client:
        client.check(log)
    assert not any(r.path.endswith("/conformance") for r in server.requests)


def test_a_forced_protocol_sends_no_detection(server: OgcApiServer, tmp_path: Path):
    with Client(server.url, api_key=API_KEY, protocol="ogcapi") as client:
        client.submit(request_36twq(), tmp_path / "a.log")
    assert not any(r.path.endswith("/conformance") for r in server.requests)


def test_a_wps_endpoint_is_detected_as_wps(emulator):
    with Client(emulator.url, credentials=Credentials(USER, PASSWORD)) as client:
        assert isinstance(client.service, WpsService)


def test_forcing_wps_on_an_ogcapi_server_fails_plainly(server: OgcApiServer, tmp_path: Path):
    with Client(server.url, api_key=API_KEY, protocol="wps") as client, \
            pytest.raises(ServiceError):
        client.submit(request_36twq(), tmp_path / "a.log")
