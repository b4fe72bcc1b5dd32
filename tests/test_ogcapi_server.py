"""The real pygeoapi FULL_MAJA server, spoken to with plain HTTP as the profile says."""
from __future__ import annotations

import io
import re
import time
import zipfile
from typing import Any, Callable, Dict, List
from urllib.parse import urlsplit

import pytest
import requests
from conftest import API_KEY, PASSWORD, USER

from emulators.ogcapi import REPORT_FORMS, OgcApiServer

AUTH = (USER, PASSWORD)
JSON = {"Accept": "application/json"}
ASYNC = {"Prefer": "respond-async"}
CORE = "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core"
RESULTS_REL = "http://www.opengis.net/def/rel/ogc/1.0/results"
INPUTS = {"tileid": "36TWQ", "startDate": "2019-03-01", "completionDate": "2019-05-01",
          "relativeOrbitNumber": 64}
DEADLINE = 30.0
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def server(make_ogcapi: Callable[..., OgcApiServer]) -> OgcApiServer:
    """A server with the default settings and short jobs."""
    return make_ogcapi()


def submit(server: OgcApiServer, inputs: Dict[str, Any] = INPUTS,
           headers: Dict[str, str] = ASYNC) -> requests.Response:
    """POST the execute document."""
    return requests.post(f"{server.url}/processes/FULL_MAJA/execution", auth=AUTH,
                         headers=headers, json={"inputs": inputs}, timeout=30)


def status(location: str) -> Dict[str, Any]:
    """The job's statusInfo."""
    answer = requests.get(location, auth=AUTH, headers=JSON, timeout=30)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def follow(location: str, until: Callable[[Dict[str, Any]], bool]) -> List[Dict[str, Any]]:
    """Poll the job until `until` holds (with a deadline); every statusInfo seen."""
    seen, deadline = [], time.monotonic() + DEADLINE
    while True:
        seen.append(status(location))
        if until(seen[-1]):
            return seen
        assert time.monotonic() < deadline, f"job never got there: {seen[-1]}"
        time.sleep(0.1)


def ended(info: Dict[str, Any]) -> bool:
    """Whether a statusInfo is final."""
    return info["status"] in ("successful", "failed", "dismissed")


def finished_job(server: OgcApiServer) -> str:
    """Submit a job and wait until it succeeds; its URL."""
    location = submit(server).headers["Location"]
    assert follow(location, ended)[-1]["status"] == "successful"
    return location


def report_of(results: Dict[str, Any], form: str) -> Dict[str, Any]:
    """The report out of a results document of the given form, fetching a reference."""
    if form == "id":
        assert results["id"] == "report"
        return dict(results["value"])
    output = results["report"]
    if form == "value":
        return dict(output["value"])
    if form == "href":
        assert output["type"] == "application/json"
        answer = requests.get(output["href"], timeout=30)
        assert answer.status_code == 200
        return dict(answer.json())
    return dict(output)


def test_conformance_lists_processes_core(server: OgcApiServer) -> None:
    answer = requests.get(f"{server.url}/conformance", auth=AUTH, headers=JSON, timeout=30)
    assert answer.status_code == 200
    assert CORE in answer.json()["conformsTo"]
    landing = requests.get(server.url, auth=AUTH, params={"f": "json"}, timeout=30)
    assert landing.status_code == 200 and landing.json()["links"]


def test_process_description(server: OgcApiServer) -> None:
    answer = requests.get(f"{server.url}/processes/FULL_MAJA", auth=AUTH, headers=JSON,
                          timeout=30)
    description = answer.json()
    assert answer.status_code == 200 and description["id"] == "FULL_MAJA"
    assert set(description["inputs"]) == {"tileid", "startDate", "completionDate",
                                          "relativeOrbitNumber"}
    assert description["inputs"]["relativeOrbitNumber"]["minOccurs"] == 0
    assert list(description["outputs"]) == ["report"]
    assert "async-execute" in description["jobControlOptions"]
    unknown = requests.get(f"{server.url}/processes/NOPE", auth=AUTH, headers=JSON, timeout=30)
    assert unknown.status_code == 404


def test_async_submit_answers_201_location_and_a_null_body(server: OgcApiServer) -> None:
    answer = submit(server)
    assert answer.status_code == 201
    assert answer.headers["Preference-Applied"] == "respond-async"
    location = answer.headers["Location"]
    assert location.startswith(f"{server.url}/jobs/")
    assert UUID.fullmatch(location.rsplit("/", 1)[1])
    assert answer.text == "null"
    record = server.requests[-1]
    assert (record.method, record.path, record.prefer) == (
        "POST", "/ogcapi/processes/FULL_MAJA/execution", "respond-async")


def test_a_job_goes_accepted_running_successful_with_progress(
        make_ogcapi: Callable[..., OgcApiServer]) -> None:
    server = make_ogcapi(run_seconds=1.0, hold="queued")  # each phase lasts until released
    location = submit(server).headers["Location"]
    seen = [status(location)]
    server.configure(hold="running")
    seen += follow(location, lambda info: info["status"] == "running")
    server.configure(hold=None)
    seen += follow(location, ended)
    states = [info["status"] for info in seen]
    assert states[0] == "accepted" and seen[0]["progress"] == 5
    assert seen[0]["finished"] is None
    assert any(link["rel"] == RESULTS_REL for link in seen[0]["links"])
    assert "running" in states and states[-1] == "successful"
    assert states.index("running") < states.index("successful")
    progress = [info["progress"] for info in seen]
    assert progress == sorted(progress) and progress[-1] == 100
    assert any(5 < value < 100 for value in progress)
    final = seen[-1]
    assert final["processID"] == "FULL_MAJA" and final["type"] == "process"
    assert final["parameters"] is None
    results = [link for link in final["links"] if link["rel"] == RESULTS_REL]
    assert {link["type"] for link in results} == {"application/json", "text/html"}


def test_results_before_the_end_are_404(make_ogcapi: Callable[..., OgcApiServer]) -> None:
    server = make_ogcapi(run_seconds=30)
    location = submit(server).headers["Location"]
    answer = requests.get(f"{location}/results", auth=AUTH, headers=JSON, timeout=30)
    assert answer.status_code == 404
    assert answer.json()["code"] == "ResultNotReady"
    assert requests.delete(location, auth=AUTH, timeout=30).status_code == 200


@pytest.mark.parametrize("form", REPORT_FORMS)
def test_results_give_the_report_in_each_form(make_ogcapi: Callable[..., OgcApiServer],
                                              form: str) -> None:
    server = make_ogcapi(report_form=form)
    location = finished_job(server)
    answer = requests.get(f"{location}/results", auth=AUTH, headers=JSON, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    report = report_of(answer.json(), form)
    assert report["job_status"] == "FINISHED" and report["process"] == "100%"
    assert report["message"] == ""
    assert any("NOVALD" in url for url in report["results"])
    assert report["unprocessed"] == len(report["missing"]) > 0
    assert all(url.startswith(server.products_url + "/") for url in report["results"])
    by_query = requests.get(f"{location}/results", auth=AUTH, params={"f": "json"}, timeout=30)
    assert by_query.json() == answer.json()


def test_results_are_html_unless_json_is_asked_for(server: OgcApiServer) -> None:
    location = finished_job(server)
    answer = requests.get(f"{location}/results", auth=AUTH, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")


def test_report_can_be_wrapped_in_user_info(make_ogcapi: Callable[..., OgcApiServer]) -> None:
    server = make_ogcapi(user_info=True, report_form="value")
    location = finished_job(server)
    results = requests.get(f"{location}/results", auth=AUTH, headers=JSON, timeout=30).json()
    assert results["report"]["value"]["USER_INFO"]["job_status"] == "FINISHED"


def test_products_download_from_another_origin_with_ranges(server: OgcApiServer) -> None:
    location = finished_job(server)
    results = requests.get(f"{location}/results", auth=AUTH, headers=JSON, timeout=30).json()
    urls = results["report"]["results"]
    assert urlsplit(urls[0]).netloc != urlsplit(server.url).netloc
    clear = next(url for url in urls if "NOVALD" not in url)
    whole = requests.get(clear, timeout=30)
    assert whole.status_code == 200 and whole.headers["Accept-Ranges"] == "bytes"
    assert int(whole.headers["Content-Length"]) == len(whole.content)
    assert zipfile.ZipFile(io.BytesIO(whole.content)).testzip() is None
    part = requests.get(clear, headers={"Range": "bytes=100-"}, timeout=30)
    assert part.status_code == 206 and part.content == whole.content[100:]
    size = len(whole.content)
    assert part.headers["Content-Range"] == f"bytes 100-{size - 1}/{size}"
    beyond = requests.get(clear, headers={"Range": f"bytes={size}-"}, timeout=30)
    assert beyond.status_code == 416
    cloudy = next(url for url in urls if "NOVALD" in url)
    assert requests.get(cloudy, timeout=30).status_code == 404
    assert requests.get(results["report"]["logs"][0], timeout=30).status_code == 200
    assert not any(record.has_auth_header for record in server.product_requests)


def test_failed_job_says_why(make_ogcapi: Callable[..., OgcApiServer]) -> None:
    server = make_ogcapi(fail="MAJA crashed on tile 36TWQ")
    location = submit(server).headers["Location"]
    final = follow(location, ended)[-1]
    assert final["status"] == "failed"
    assert "MAJA crashed on tile 36TWQ" in final["message"]
    assert "links" not in final
    answer = requests.get(f"{location}/results", auth=AUTH, headers=JSON, timeout=30)
    assert answer.status_code == 400
    assert answer.json()["description"] == "job failed"


def test_bad_inputs_fail_the_async_job_and_refuse_the_sync_one(server: OgcApiServer) -> None:
    bad = {**INPUTS, "tileid": "T36TWQ"}
    answer = submit(server, bad)
    assert answer.status_code == 201
    final = follow(answer.headers["Location"], ended)[-1]
    assert final["status"] == "failed" and "tileid 'T36TWQ'" in final["message"]
    refused = submit(server, {**INPUTS, "startDate": "2015-01-01"}, headers={})
    assert refused.status_code == 400
    assert "before 2016-04-01" in refused.json()["description"]


def test_prefer_other_than_respond_async_runs_synchronously(server: OgcApiServer) -> None:
    answer = submit(server, headers={"Prefer": "respond-async, wait=10"})
    assert answer.status_code == 200
    assert answer.json()["report"]["job_status"] == "FINISHED"
    assert answer.headers["Location"].startswith(f"{server.url}/jobs/")


def test_delete_of_a_running_job_dismisses_it(make_ogcapi: Callable[..., OgcApiServer]) -> None:
    server = make_ogcapi(run_seconds=60)
    location = submit(server).headers["Location"]
    follow(location, lambda info: info["status"] == "running")
    answer = requests.delete(location, auth=AUTH, timeout=30)
    assert answer.status_code == 200
    assert answer.json()["status"] == "dismissed"
    assert requests.get(location, auth=AUTH, headers=JSON, timeout=30).status_code == 404
    again = requests.delete(location, auth=AUTH, timeout=30)
    assert again.status_code == 404 and again.json()["code"] == "NoSuchJob"
    deadline = time.monotonic() + DEADLINE
    while server.running_jobs and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.running_jobs == 0
    job_id = location.rsplit("/", 1)[1]
    assert not (server.products_dir / job_id).exists()


def test_jobs_are_listed_newest_first_within_oldest_first_pages(server: OgcApiServer) -> None:
    first, second = finished_job(server), finished_job(server)
    first_id, second_id = first.rsplit("/", 1)[1], second.rsplit("/", 1)[1]
    answer = requests.get(f"{server.url}/jobs", auth=AUTH, headers=JSON, timeout=30)
    listing = answer.json()
    assert set(listing) == {"jobs", "links"}
    assert [job["jobID"] for job in listing["jobs"]] == [second_id, first_id]
    page = requests.get(f"{server.url}/jobs", auth=AUTH, headers=JSON,
                        params={"limit": 1}, timeout=30).json()
    assert [job["jobID"] for job in page["jobs"]] == [first_id]
    following = next(link["href"] for link in page["links"] if link["rel"] == "next")
    page = requests.get(following, auth=AUTH, headers=JSON, timeout=30).json()
    assert [job["jobID"] for job in page["jobs"]] == [second_id]
    following = next(link["href"] for link in page["links"] if link["rel"] == "next")
    assert requests.get(following, auth=AUTH, headers=JSON, timeout=30).json()["jobs"] == []


def test_gateway_refuses_missing_or_wrong_credentials(server: OgcApiServer) -> None:
    url = f"{server.url}/processes"
    missing = requests.get(url, headers=JSON, timeout=30)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Basic")
    wrong = requests.get(url, headers=JSON, auth=(USER, "nope"), timeout=30)
    assert wrong.status_code == 401
    bad_key = requests.get(url, headers={**JSON, "X-API-Key": "nope"}, timeout=30)
    assert bad_key.status_code == 403
    assert [record.status for record in server.requests] == [401, 401, 403]
    assert not any(record.authorized for record in server.requests)


def test_gateway_lets_basic_auth_or_the_api_key_through(server: OgcApiServer) -> None:
    url = f"{server.url}/processes"
    assert requests.get(url, headers=JSON, auth=AUTH, timeout=30).status_code == 200
    assert requests.get(url, headers={**JSON, "X-API-Key": API_KEY}, timeout=30).status_code == 200
    by_auth, by_key = server.requests
    assert (by_auth.has_authorization, by_auth.has_api_key, by_auth.status) == (True, False, 200)
    assert (by_key.has_authorization, by_key.has_api_key, by_key.status) == (False, True, 200)


def test_api_key_header_is_configurable(make_ogcapi: Callable[..., OgcApiServer]) -> None:
    server = make_ogcapi(api_key_header="X-Maja-Token", user=None)
    url = f"{server.url}/jobs"
    assert requests.get(url, headers={"X-Maja-Token": API_KEY}, timeout=30).status_code == 200
    assert requests.get(url, headers={"X-API-Key": API_KEY}, timeout=30).status_code == 401
    assert requests.get(url, auth=AUTH, timeout=30).status_code == 401


def test_paths_outside_the_prefix_are_404(server: OgcApiServer) -> None:
    assert requests.get(f"{server.root_url}/jobs", auth=AUTH, timeout=30).status_code == 404


def test_configure_changes_the_next_jobs(server: OgcApiServer) -> None:
    server.configure(report_form="id", fail=None)
    location = finished_job(server)
    results = requests.get(f"{location}/results", auth=AUTH, headers=JSON, timeout=30).json()
    assert results["id"] == "report" and results["value"]["job_status"] == "FINISHED"
    server.configure(fail="tape robot overloaded")
    final = follow(submit(server).headers["Location"], ended)[-1]
    assert final["status"] == "failed" and "tape robot overloaded" in final["message"]
    with pytest.raises(ValueError):
        server.configure(report_form="xml")
    assert server.config.report_form == "id"
