"""The PEPS emulator, spoken to over real HTTP with requests."""
from __future__ import annotations

import io
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest
import requests
from conftest import wait_until

from emulators import Emulator, EmulatorConfig, Fault, RequestRecord
from emulators.__main__ import build_parser, config_from
from emulators.acquisitions import many_products
from emulators.state import max_in_flight

ROOT = Path(__file__).resolve().parent.parent
WPS = "{http://www.opengis.net/wps/1.0.0}"
OWS = "{http://www.opengis.net/ows/1.1}"
INPUTS = {"startDate": "2019-03-01", "completionDate": "2019-05-01", "tileid": "36TWQ",
          "relativeOrbitNumber": "64"}
MakeEmulator = Callable[..., Emulator]


def session(emu: Emulator) -> requests.Session:
    """A session carrying the emulator's account."""
    http = requests.Session()
    http.auth = (emu.config.user, emu.config.password)
    return http


def kvp_inputs(inputs: Dict[str, str]) -> str:
    """The datainputs parameter of a key-value Execute."""
    return ";".join(f"{key}={value}" for key, value in inputs.items())


def execute_xml(identifier: str, inputs: Dict[str, str]) -> str:
    """A WPS 1.0.0 wps:Execute document."""
    items = "".join(f"<wps:Input><ows:Identifier>{key}</ows:Identifier><wps:Data>"
                    f"<wps:LiteralData>{value}</wps:LiteralData></wps:Data></wps:Input>"
                    for key, value in inputs.items())
    return ('<?xml version="1.0" encoding="UTF-8"?><wps:Execute service="WPS" version="1.0.0" '
            'xmlns:wps="http://www.opengis.net/wps/1.0.0" '
            'xmlns:ows="http://www.opengis.net/ows/1.1">'
            f"<ows:Identifier>{identifier}</ows:Identifier><wps:DataInputs>{items}"
            '</wps:DataInputs><wps:ResponseForm><wps:ResponseDocument storeExecuteResponse="true"'
            ' status="true"/></wps:ResponseForm></wps:Execute>')


def submit(emu: Emulator, via: str = "kvp", inputs: Optional[Dict[str, str]] = None,
           identifier: str = "FULL_MAJA") -> requests.Response:
    """Execute a process by key-value GET or by POSTed XML."""
    inputs = INPUTS if inputs is None else inputs
    if via == "xml":
        return session(emu).post(emu.url, data=execute_xml(identifier, inputs).encode(),
                                 headers={"Content-Type": "text/xml"}, timeout=10)
    return session(emu).get(emu.url, params={
        "request": "execute", "service": "WPS", "version": "1.0.0", "identifier": identifier,
        "datainputs": kvp_inputs(inputs), "status": "true", "storeExecuteResponse": "true"},
        timeout=10)


def submitted_id(emu: Emulator) -> str:
    """Submit a default job and return its id, read from statusLocation."""
    location = ET.fromstring(submit(emu).content).get("statusLocation")
    return re.search(r"pywps-(.+)\.xml$", location).group(1)


def refresh(emu: Emulator, job_id: str) -> requests.Response:
    """Execute PROCESSING_STATUS for a job."""
    return session(emu).get(emu.url, params={
        "request": "execute", "service": "WPS", "version": "1.0.0",
        "identifier": "PROCESSING_STATUS", "datainputs": f"wps_id={job_id}",
        "status": "false", "storeExecuteResponse": "false"}, timeout=10)


def status_url(emu: Emulator, job_id: str) -> str:
    """The status document URL of a job."""
    return f"{emu.base_url}/wps/outputs/pywps-{job_id}.xml"


def report_url(emu: Emulator, job_id: str) -> str:
    """The JSON report URL of a job."""
    return f"{emu.base_url}/wps/outputs/FULL_MAJA_{job_id}.json"


def report(emu: Emulator, job_id: str) -> dict:
    """The USER_INFO of a job's report."""
    return session(emu).get(report_url(emu, job_id), timeout=10).json()["USER_INFO"]


def finished(emu: Emulator) -> dict:
    """Submit and refresh a job until its report says FINISHED."""
    job_id = submitted_id(emu)
    for _ in emu.config.timeline:
        refresh(emu, job_id)
    info = report(emu, job_id)
    assert info["job_status"] == "FINISHED"
    return info


def status_tag(response: requests.Response) -> str:
    """The local name of the wps:Status child of an ExecuteResponse."""
    status = ET.fromstring(response.content).find(f"{WPS}Status")
    return status[0].tag.replace(WPS, "")


def exception_of(response: requests.Response) -> ET.Element:
    """The ows:Exception of an ExceptionReport."""
    root = ET.fromstring(response.content)
    assert root.tag == f"{OWS}ExceptionReport"
    return root.find(f"{OWS}Exception")


def first_product(emu: Emulator) -> str:
    """The URL of the first downloadable product of a finished job."""
    return next(url for url in finished(emu)["results"] if "NOVALD" not in url)


@pytest.fixture
def emu(make_emulator: MakeEmulator) -> Emulator:
    """An emulator whose jobs are registered from the first status GET."""
    return make_emulator(registration_polls=0)


@pytest.mark.parametrize("via", ["kvp", "xml"])
def test_submission_is_accepted_with_a_status_location(emu: Emulator, via: str) -> None:
    response = submit(emu, via)
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.tag == f"{WPS}ExecuteResponse" and root.get("service") == "WPS"
    assert status_tag(response) == "ProcessAccepted"
    assert root.find(f"{WPS}Process/{OWS}Identifier").text == "FULL_MAJA"
    job_id = re.fullmatch(re.escape(emu.base_url) + r"/wps/outputs/pywps-(\d+)\.xml",
                          root.get("statusLocation")).group(1)
    assert emu.jobs[job_id].params == {"tile": "36TWQ", "orbit": 64, "start": "2019-03-01",
                                       "end": "2019-05-01"}


def test_status_document_registers_after_the_configured_polls(
        make_emulator: MakeEmulator) -> None:
    emu = make_emulator(registration_polls=2)
    job_id = submitted_id(emu)
    http = session(emu)
    assert http.get(report_url(emu, job_id)).status_code == 404
    first, second, third = (http.get(status_url(emu, job_id)) for _ in range(3))
    assert [status_tag(first), status_tag(second)] == ["ProcessAccepted", "ProcessStarted"]
    started = ET.fromstring(second.content).find(f"{WPS}Status/{WPS}ProcessStarted")
    assert 0 < int(started.get("percentCompleted")) < 100
    assert status_tag(third) == "ProcessSucceeded"
    reference = ET.fromstring(third.content).find(f".//{WPS}Output/{WPS}Reference")
    assert reference.get("href") == report_url(emu, job_id)
    assert ET.fromstring(third.content).get("statusLocation") == status_url(emu, job_id)
    assert http.get(report_url(emu, job_id)).status_code == 200


def test_processing_status_moves_the_report_along_its_timeline(emu: Emulator) -> None:
    job_id = submitted_id(emu)
    seen = [(report(emu, job_id)["job_status"], report(emu, job_id)["process"])]
    for _ in range(4):
        response = refresh(emu, job_id)
        assert status_tag(response) == "ProcessSucceeded"
        info = report(emu, job_id)
        seen.append((info["job_status"], info["process"]))
    assert seen == [("PENDING", "0%"), ("STALLED", "35%"), ("STALLED", "80%"),
                    ("FINISHED", "100%"), ("FINISHED", "100%")]
    assert emu.jobs[job_id].refreshes == 4 and emu.jobs[job_id].state == "FINISHED"


def test_results_only_appear_when_the_job_finishes(emu: Emulator) -> None:
    job_id = submitted_id(emu)
    refresh(emu, job_id)
    info = report(emu, job_id)
    assert (info["results"], info["missing"], info["unprocessed"]) == ([], [], 0)


def test_finished_report_lists_results_cloudy_and_missing(emu: Emulator) -> None:
    info = finished(emu)
    names = [url.rsplit("/", 1)[1] for url in info["results"]]
    assert len(names) == 12 and info["unprocessed"] == 1 == len(info["missing"])
    assert [name for name in names if "NOVALD" in name] == [names[3], names[6], names[10]]
    assert re.fullmatch(r"SENTINEL2A_20190301-0837\d\d-\d{3}_L2A_T36TWQ_C_V2-2\.zip", names[0])
    assert names[1].startswith("SENTINEL2B_20190306-")
    assert re.fullmatch(r"S2A_MSIL1C_20190331T0837\d\d_N0207_R064_T36TWQ_20190331T\d{6}",
                        info["missing"][0])
    assert info["tileid"] == "36TWQ" and info["message"] == ""
    assert all(url.startswith(f"{emu.base_url}/cgi-bin/mapcache_results/maja/")
               for url in info["results"])
    http = session(emu)
    cloudy = next(url for url in info["results"] if "NOVALD" in url)
    assert http.get(cloudy).status_code == 404
    log = http.get(info["logs"][0])
    assert log.status_code == 200 and log.headers["Content-Type"].startswith("text/plain")
    assert "FINISHED" in log.text


@pytest.mark.parametrize("final, message", [("ERROR", "failed"), ("CANCELED", "canceled")])
def test_failed_jobs_say_why(make_emulator: MakeEmulator, final: str, message: str) -> None:
    emu = make_emulator(registration_polls=0, timeline=["STALLED", final])
    job_id = submitted_id(emu)
    refresh(emu, job_id)
    info = report(emu, job_id)
    assert info["job_status"] == final and message in info["message"]
    assert info["results"] == []


@pytest.mark.parametrize("path", ["/resto/wps", "/wps/outputs/pywps-1.xml",
                                  "/wps/outputs/FULL_MAJA_1.json",
                                  "/cgi-bin/mapcache_results/maja/1/x.zip",
                                  "/cgi-bin/mapcache_results/logs/joblog-1.log"])
@pytest.mark.parametrize("auth", [None, ("demo@example.com", "wrong")])
def test_every_endpoint_wants_the_account(emu: Emulator, path: str, auth: object) -> None:
    response = requests.get(emu.base_url + path, auth=auth, timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="PEPS"'
    assert emu.requests[-1].authorized is False
    assert emu.requests[-1].has_auth_header is (auth is not None)


def test_a_product_is_a_real_deterministic_zip(emu: Emulator) -> None:
    url = first_product(emu)
    http = session(emu)
    response = http.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert int(response.headers["Content-Length"]) == len(response.content) == 64 * 1024
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    stem = url.rsplit("/", 1)[1][:-4]
    prefix = f"{stem}/"
    assert all(name.startswith(prefix) for name in archive.namelist())
    members = {name[len(prefix):].replace(stem + "_", ""): name for name in archive.namelist()}
    assert set(members) == {"QKL_ALL.jpg", "MTD_ALL.xml", "DATA/JPI_ALL.xml", "SRE_B4.tif"}
    assert archive.read(members["SRE_B4.tif"]).startswith(b"II*\0")
    assert archive.read(members["QKL_ALL.jpg"]).startswith(b"\xff\xd8")
    metadata = ET.fromstring(archive.read(members["MTD_ALL.xml"]))
    cloud = metadata.find(".//QUALITY_INDEX[@name='CloudPercent']")
    assert 0 <= int(cloud.text) <= 90
    assert metadata.find(".//GEOGRAPHICAL_ZONE").text == "T36TWQ"
    assert http.get(url).content == response.content
    head = http.head(url)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(64 * 1024)


@pytest.mark.parametrize("range_support, status", [(True, 206), (False, 200)])
def test_range_requests(make_emulator: MakeEmulator, range_support: bool, status: int) -> None:
    emu = make_emulator(registration_polls=0, range_support=range_support)
    url = first_product(emu)
    http = session(emu)
    whole = http.get(url).content
    response = http.get(url, headers={"Range": "bytes=1000-"})
    assert response.status_code == status
    if range_support:
        assert response.headers["Content-Range"] == f"bytes 1000-{len(whole) - 1}/{len(whole)}"
        assert response.content == whole[1000:]
        assert http.get(url, headers={"Range": f"bytes={len(whole)}-"}).status_code == 416
    else:
        assert response.content == whole and "Content-Range" not in response.headers
    assert emu.requests[-1 if not range_support else -2].range == "bytes=1000-"


def test_a_wrong_range_fault_answers_from_another_byte_and_says_so(emu: Emulator) -> None:
    url = first_product(emu)
    whole = session(emu).get(url).content
    emu.add_fault("*", Fault("wrong-range", 500))
    response = session(emu).get(url, headers={"Range": "bytes=1000-"})
    assert response.status_code == 206 and response.content == whole[500:]
    assert response.headers["Content-Range"] == f"bytes 500-{len(whole) - 1}/{len(whole)}"
    assert session(emu).get(url, headers={"Range": "bytes=1000-"}).content == whole[1000:]


def test_an_exception_fault_answers_with_its_text(emu: Emulator) -> None:
    job_id = submitted_id(emu)
    emu.add_fault("refresh", Fault("exception", text="the tape robot is overloaded"))
    response = submit(emu, "kvp", {"wps_id": job_id}, identifier="PROCESSING_STATUS")
    assert b"ExceptionReport" in response.content
    assert b"the tape robot is overloaded" in response.content


@pytest.mark.parametrize("target", ["name", "*"])
def test_a_status_fault_is_used_once(emu: Emulator, target: str) -> None:
    url = first_product(emu)
    emu.add_fault(url.rsplit("/", 1)[1] if target == "name" else "*",
                  Fault("status", 503, retry_after=7))
    failed = session(emu).get(url)
    assert failed.status_code == 503 and failed.headers["Retry-After"] == "7"
    assert session(emu).get(url).status_code == 200


@pytest.mark.parametrize("kind, error", [
    ("truncate", requests.exceptions.ChunkedEncodingError),
    ("drop", requests.exceptions.ConnectionError),
])
def test_broken_transfers(emu: Emulator, kind: str, error: type) -> None:
    url = first_product(emu)
    emu.add_fault("*", Fault(kind, 1000))
    with pytest.raises(error):
        session(emu).get(url, timeout=10)
    assert emu.requests[-1].bytes_sent == (1000 if kind == "truncate" else 0)


def test_a_stall_sends_some_bytes_then_hangs(emu: Emulator) -> None:
    url = first_product(emu)
    emu.add_fault("*", Fault("stall", 1000, stall_seconds=0.3))
    began = time.monotonic()
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        session(emu).get(url, timeout=10)
    assert time.monotonic() - began >= 0.25
    assert emu.requests[-1].bytes_sent == 1000


@pytest.mark.parametrize("kind, content_type", [("html", "text/html"),
                                                ("json", "application/json")])
def test_an_error_page_instead_of_the_zip(emu: Emulator, kind: str, content_type: str) -> None:
    url = first_product(emu)
    emu.add_fault("*", Fault(kind))
    response = session(emu).get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(content_type)
    assert not response.content.startswith(b"PK")


def test_a_corrupt_zip_fails_its_crc(emu: Emulator) -> None:
    url = first_product(emu)
    emu.add_fault("*", Fault("corrupt"))
    response = session(emu).get(url)
    assert response.status_code == 200 and len(response.content) == 64 * 1024
    assert zipfile.ZipFile(io.BytesIO(response.content)).testzip() is not None


def test_no_range_once(emu: Emulator) -> None:
    url = first_product(emu)
    emu.add_fault("*", Fault("no-range"))
    http = session(emu)
    assert http.get(url, headers={"Range": "bytes=10-"}).status_code == 200
    assert http.get(url, headers={"Range": "bytes=10-"}).status_code == 206


@pytest.mark.parametrize("target", ["status", "report"])
def test_faults_on_job_documents(emu: Emulator, target: str) -> None:
    job_id = submitted_id(emu)
    emu.add_fault(target, Fault("status", 500))
    url = status_url(emu, job_id) if target == "status" else report_url(emu, job_id)
    assert session(emu).get(url).status_code == 500
    assert session(emu).get(url).status_code == 200


@pytest.mark.parametrize("refresh_fault", ["http500", "exception"])
def test_a_failed_refresh_does_not_advance(make_emulator: MakeEmulator,
                                           refresh_fault: str) -> None:
    emu = make_emulator(registration_polls=0, refresh_fault=refresh_fault)
    job_id = submitted_id(emu)
    response = refresh(emu, job_id)
    if refresh_fault == "http500":
        assert response.status_code == 500
    else:
        assert exception_of(response).get("exceptionCode") == "NoApplicableCode"
    assert report(emu, job_id)["job_status"] == "PENDING"
    emu.config.refresh_fault = None
    emu.add_fault("refresh", Fault("drop"))
    with pytest.raises(requests.exceptions.ConnectionError):
        refresh(emu, job_id)
    refresh(emu, job_id)
    assert report(emu, job_id)["job_status"] == "STALLED"


@pytest.mark.parametrize("submit_fault", ["exception", "http500", "drop", "html"])
def test_submission_faults_create_no_job(make_emulator: MakeEmulator,
                                         submit_fault: str) -> None:
    emu = make_emulator(submit_fault=submit_fault)
    if submit_fault == "drop":
        with pytest.raises(requests.exceptions.ConnectionError):
            submit(emu)
    else:
        response = submit(emu, "xml")
        expected = {"exception": 200, "http500": 500, "html": 200}[submit_fault]
        assert response.status_code == expected
        assert "ProcessAccepted" not in response.text
    assert emu.jobs == {}


def test_a_failed_process(make_emulator: MakeEmulator) -> None:
    emu = make_emulator(process_failed=True)
    job_id = submitted_id(emu)
    response = session(emu).get(status_url(emu, job_id))
    assert status_tag(response) == "ProcessFailed"
    text = ET.fromstring(response.content).find(f".//{OWS}ExceptionText").text
    assert "36TWQ" in text
    assert session(emu).get(report_url(emu, job_id)).status_code == 404


@pytest.mark.parametrize("via, inputs, code, locator", [
    ("kvp", {"startDate": "2019-03-01", "completionDate": "2019-05-01"},
     "MissingParameterValue", "tileid"),
    ("xml", {**INPUTS, "startDate": "2019-13-01"}, "InvalidParameterValue", "startDate"),
    ("kvp", {**INPUTS, "completionDate": "2019-01-01"}, "InvalidParameterValue",
     "completionDate"),
    ("xml", {**INPUTS, "tileid": "T36TWQ"}, "InvalidParameterValue", "tileid"),
    ("kvp", {**INPUTS, "relativeOrbitNumber": "144"}, "InvalidParameterValue",
     "relativeOrbitNumber"),
])
def test_bad_inputs_get_an_exception_report(emu: Emulator, via: str, inputs: Dict[str, str],
                                            code: str, locator: str) -> None:
    response = submit(emu, via, inputs)
    assert response.status_code == 200
    exception = exception_of(response)
    assert (exception.get("exceptionCode"), exception.get("locator")) == (code, locator)
    assert exception.find(f"{OWS}ExceptionText").text
    assert emu.jobs == {}


@pytest.mark.parametrize("body", [
    b"<wps:Execute not xml",
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
    b"<Execute/>",
])
def test_unusable_xml_gets_no_applicable_code(emu: Emulator, body: bytes) -> None:
    response = session(emu).post(emu.url, data=body)
    assert exception_of(response).get("exceptionCode") == "NoApplicableCode"


def test_unknown_process_and_unknown_job(emu: Emulator) -> None:
    unknown = exception_of(submit(emu, "kvp", identifier="NOT_A_PROCESS"))
    assert unknown.get("locator") == "identifier"
    assert exception_of(refresh(emu, "424242")).get("locator") == "wps_id"
    assert session(emu).get(status_url(emu, "424242")).status_code == 404


def test_uuid_job_ids(make_emulator: MakeEmulator) -> None:
    emu = make_emulator(registration_polls=0, job_id_style="uuid")
    job_id = submitted_id(emu)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", job_id)
    assert report(emu, job_id)["job_status"] == "PENDING"


def test_digit_job_ids_grow(emu: Emulator) -> None:
    ids: List[int] = [int(submitted_id(emu)) for _ in range(3)]
    assert ids == sorted(set(ids))
    assert len(emu.requests) == 3
    emu.clear_requests()
    assert emu.requests == []


def test_redirected_products_live_on_another_host(make_emulator: MakeEmulator) -> None:
    emu = make_emulator(registration_polls=0, redirect_products=True)
    url = first_product(emu)
    assert "/redirect/" in url
    response = session(emu).get(url)
    assert response.status_code == 200 and response.history[0].status_code == 302
    assert response.url.startswith(f"http://localhost:{emu.port}/cgi-bin/")
    last = emu.requests[-1]
    assert last.host.startswith("localhost:") and last.has_auth_header is False


def test_overrides_replace_the_documents(make_emulator: MakeEmulator) -> None:
    emu = make_emulator(registration_polls=0, products=["../evil.zip"],
                        report_override=lambda job, data: {"USER_INFO": {
                            **data["USER_INFO"], "process": 35}},
                        status_override=lambda job, text: text.replace("Succeeded", "Paused"))
    job_id = submitted_id(emu)
    assert "ProcessPaused" in session(emu).get(status_url(emu, job_id)).text
    for _ in range(3):
        refresh(emu, job_id)
    info = report(emu, job_id)
    assert info["process"] == 35
    assert info["results"][0].endswith(f"/{job_id}/..%2Fevil.zip")
    assert session(emu).get(info["results"][0]).status_code == 200


def test_a_report_override_may_send_anything(make_emulator: MakeEmulator) -> None:
    emu = make_emulator(registration_polls=0, report_override=lambda job, data: b"<html>")
    job_id = submitted_id(emu)
    assert session(emu).get(report_url(emu, job_id)).content == b"<html>"


def test_bandwidth_limits_each_download(make_emulator: MakeEmulator) -> None:
    emu = make_emulator(registration_polls=0, bandwidth=400_000, product_size=100_000)
    url = first_product(emu)
    began = time.monotonic()
    assert len(session(emu).get(url).content) == 100_000
    assert time.monotonic() - began >= 0.2  # a floor: a loaded machine is only slower


def test_a_held_answer_waits_for_its_release_then_goes_on(emu: Emulator) -> None:
    url = first_product(emu)
    whole = session(emu).get(url).content
    hold = emu.hold("*", after=1000)
    outcome: List[object] = []
    worker = threading.Thread(target=lambda: outcome.append(_try_get(emu, url)))
    worker.start()
    wait_until(lambda: hold.waiting == 1, "the answer is held")
    assert emu.requests[-1].bytes_sent == 1000 and emu.requests[-1].finished is None
    hold.release(rate=200_000)
    worker.join(60)
    assert isinstance(outcome[0], requests.Response) and outcome[0].content == whole
    assert not hold.waiting
    assert len(session(emu).get(url).content) == len(whole)  # a released hold holds nothing


def test_a_hold_applies_to_its_product_only_and_stop_wakes_it(emu: Emulator) -> None:
    urls = [url for url in finished(emu)["results"] if "NOVALD" not in url]
    hold = emu.hold(urls[0].rsplit("/", 1)[1], after=0)
    assert len(session(emu).get(urls[1]).content) == emu.config.product_size
    worker = threading.Thread(target=lambda: _try_get(emu, urls[0]))
    worker.start()
    wait_until(lambda: hold.waiting == 1, "the answer is held")
    emu.stop()
    worker.join(60)
    assert not worker.is_alive() and not hold.waiting and emu.requests[-1].bytes_sent == 0


def test_stop_wakes_a_stalled_download(tmp_path: Path) -> None:
    emu = Emulator(EmulatorConfig(registration_polls=0, products_dir=tmp_path / "cache"))
    emu.start()
    url = first_product(emu)
    emu.add_fault("*", Fault("stall", 1000))
    outcome: List[object] = []
    worker = threading.Thread(target=lambda: outcome.append(_try_get(emu, url)))
    worker.start()
    wait_until(lambda: _zip_bytes_sent(emu), "the stall has begun")
    emu.stop()
    worker.join(60)  # the stall lasts 120 s: only stop() can end it sooner
    assert not worker.is_alive()
    assert _zip_bytes_sent(emu) == 1000
    assert isinstance(outcome[0], requests.exceptions.RequestException)
    assert list((tmp_path / "cache").glob("*.zip"))


def _zip_bytes_sent(emu: Emulator) -> int:
    """The body bytes sent so far for product requests."""
    return sum(record.bytes_sent for record in emu.requests if record.path.endswith(".zip"))


def _try_get(emu: Emulator, url: str) -> object:
    """GET url, returning the response or the exception."""
    try:
        return session(emu).get(url, timeout=30)
    except requests.exceptions.RequestException as error:
        return error


def test_the_cli_prints_its_url_and_stops_on_sigint() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "emulators", "--port", "0", "--password", "cli-secret",
         "--timeline", "PENDING,FINISHED"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert select.select([process.stdout], [], [], 15)[0], "no line within 15 s"
        line = process.stdout.readline()
        match = re.fullmatch(r"PEPS emulator listening on (http://127\.0\.0\.1:\d+/resto/wps) "
                             r"\(user demo@example\.com\)\n", line)
        assert match, line
        answer = requests.get(match.group(1), auth=("demo@example.com", "cli-secret"),
                              timeout=10)
        assert answer.status_code == 200
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "cli-secret" not in line + out + err and "Traceback" not in err


def test_processing_status_by_posted_xml(emu: Emulator) -> None:
    job_id = submitted_id(emu)
    response = submit(emu, "xml", {"wps_id": job_id}, identifier="PROCESSING_STATUS")
    assert status_tag(response) == "ProcessSucceeded"
    assert report(emu, job_id)["job_status"] == "STALLED"


def test_the_cli_says_so_when_the_port_is_taken(emu: Emulator) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulators", "--port", str(emu.port)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=30)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cannot listen" in result.stderr and result.stdout == ""


def test_latency_holds_each_answer_back(make_emulator: MakeEmulator) -> None:
    emu = make_emulator(registration_polls=0, latency=0.3)
    began = time.monotonic()
    assert submit(emu).status_code == 200
    assert time.monotonic() - began >= 0.3
    record = emu.requests[-1]
    wait_until(lambda: record.finished is not None, "the handler has finished")
    assert record.finished is not None and record.finished - record.started >= 0.3


def test_latency_does_not_serialize_connections(make_emulator: MakeEmulator) -> None:
    emu = make_emulator(registration_polls=0, latency=0.05)
    job_id = submitted_id(emu)
    emu.clear_requests()
    for _ in range(2):
        session(emu).get(status_url(emu, job_id), timeout=10)
    wait_until(lambda: all(record.finished for record in emu.requests), "handlers finished")
    assert emu.max_concurrency() == 1
    emu.config.latency = 3600  # every answer is held back until stop()
    emu.clear_requests()
    workers = [threading.Thread(target=_try_get, args=(emu, status_url(emu, job_id)))
               for _ in range(3)]
    for worker in workers:
        worker.start()
    wait_until(lambda: len(emu.requests) == 3, "three requests held back at once")
    assert emu.max_concurrency() == 3
    assert emu.max_concurrency(lambda record: record.path.endswith(".json")) == 0
    emu.stop()
    for worker in workers:
        worker.join(60)


def _record(started: float, finished: Optional[float]) -> RequestRecord:
    """A request record seen from started to finished."""
    record = RequestRecord("GET", "/", {}, None, True, True, "h")
    record.started, record.finished = started, finished
    return record


@pytest.mark.parametrize("spans, peak", [
    ([], 0),
    ([(0, 1), (1, 2), (2, 3)], 1),
    ([(0, 2), (1, 3), (1.5, 1.6), (4, 5)], 3),
    ([(0, None), (5, 6)], 2),
])
def test_max_in_flight_counts_overlapping_requests(spans: list, peak: int) -> None:
    assert max_in_flight([_record(*span) for span in spans]) == peak


def test_a_record_is_in_flight_until_its_answer_is_given_up(emu: Emulator) -> None:
    url = first_product(emu)
    emu.add_fault("*", Fault("stall", 1000, stall_seconds=3600))
    worker = threading.Thread(target=lambda: _try_get(emu, url))
    worker.start()
    wait_until(lambda: _zip_bytes_sent(emu), "the stall has begun")
    assert emu.requests[-1].finished is None and emu.max_concurrency() == 1
    given_up = time.monotonic()
    emu.stop()  # the stall is given up
    worker.join(60)
    record = emu.requests[-1]
    wait_until(lambda: record.finished is not None, "the handler has finished")
    assert record.finished is not None and record.finished >= given_up


def test_latency_on_the_command_line() -> None:
    assert config_from(build_parser().parse_args(["--latency", "0.2"])).latency == 0.2
    assert config_from(build_parser().parse_args([])).latency == 0.0
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--latency", "-1"])
    with pytest.raises(ValueError):
        EmulatorConfig(latency=float("nan"))


def test_a_job_may_deliver_thousands_of_small_products(make_emulator: MakeEmulator) -> None:
    names = many_products("36TWQ", 4800)
    emu = make_emulator(registration_polls=0, timeline=["FINISHED"], products=names,
                        product_size=16 * 1024)
    urls = report(emu, submitted_id(emu))["results"]
    assert [url.rsplit("/", 1)[1] for url in urls] == names and len(set(names)) == 4800
    http = session(emu)
    for url in urls[::1199]:
        data = http.get(url).content
        archive = zipfile.ZipFile(io.BytesIO(data))
        stem = url.rsplit("/", 1)[1][:-4]
        assert len(data) == 16 * 1024 and archive.testzip() is None
        assert {name.replace(f"{stem}_", "") for name in archive.namelist()} == {
            f"{stem}/QKL_ALL.jpg", f"{stem}/MTD_ALL.xml", f"{stem}/DATA/JPI_ALL.xml",
            f"{stem}/SRE_B4.tif"}


def test_jobs_stay_processing_until_told_to_finish(make_emulator: MakeEmulator) -> None:
    emu = make_emulator(registration_polls=0, timeline=["STALLED"])
    ids = [submitted_id(emu) for _ in range(20)]
    assert len(set(ids)) == 20
    for _ in range(3):
        refresh(emu, ids[0])
    assert (report(emu, ids[0])["job_status"], report(emu, ids[0])["results"]) == ("STALLED", [])
    emu.set_job_status("FINISHED", ids[0])
    assert report(emu, ids[0])["job_status"] == "FINISHED" and report(emu, ids[0])["results"]
    assert report(emu, ids[1])["job_status"] == "STALLED"
    emu.set_job_status("FINISHED")
    assert {report(emu, job_id)["job_status"] for job_id in ids} == {"FINISHED"}
