"""WPS documents: the Execute request out, ExecuteResponse and exception reports in."""
from __future__ import annotations

from datetime import date

import pytest

from full_maja.errors import ServiceError
from full_maja.service.wps import (
    ACCEPTED,
    FAILED,
    STARTED,
    SUCCEEDED,
    execute_document,
    full_maja_inputs,
    job_id_from_status_location,
    parse_execute_response,
    parse_xml,
)
from full_maja.validation import JobRequest

HEAD = ('<wps:ExecuteResponse xmlns:wps="http://www.opengis.net/wps/1.0.0" '
        'xmlns:ows="http://www.opengis.net/ows/1.1" service="WPS" version="1.0.0" '
        'statusLocation="https://peps.cnes.fr/wps/outputs/pywps-155237461814.xml">')
ACCEPTED_DOC = HEAD + ('<wps:Status creationTime="2019-03-12T08:30:18Z"><wps:ProcessAccepted>'
                       'Process FULL_MAJA accepted</wps:ProcessAccepted></wps:Status>'
                       '</wps:ExecuteResponse>')
STARTED_DOC = HEAD + ('<wps:Status><wps:ProcessStarted percentCompleted="12">running'
                      '</wps:ProcessStarted></wps:Status></wps:ExecuteResponse>')
SUCCEEDED_DOC = HEAD + ('<wps:Status><wps:ProcessSucceeded>done</wps:ProcessSucceeded>'
                        '</wps:Status><wps:ProcessOutputs><wps:Output><ows:Identifier>r'
                        '</ows:Identifier><wps:Reference href=" https://x/r.json " '
                        'mimeType="application/json"/></wps:Output></wps:ProcessOutputs>'
                        '</wps:ExecuteResponse>')
FAILED_DOC = HEAD + ('<wps:Status><wps:ProcessFailed><wps:ExceptionReport>'
                     '<ows:Exception exceptionCode="NoApplicableCode"><ows:ExceptionText>'
                     'MAJA crashed</ows:ExceptionText></ows:Exception></wps:ExceptionReport>'
                     '</wps:ProcessFailed></wps:Status></wps:ExecuteResponse>')
REPORT = ('<ExceptionReport xmlns="http://www.opengis.net/ows/1.1" version="1.0.0">'
          '<Exception exceptionCode="InvalidParameterValue" locator="tileid">'
          '<ExceptionText>bad tile</ExceptionText></Exception></ExceptionReport>')


@pytest.mark.parametrize("document, state, percent, report_url", [
    (ACCEPTED_DOC, ACCEPTED, None, None),
    (STARTED_DOC, STARTED, 12, None),
    (SUCCEEDED_DOC, SUCCEEDED, None, "https://x/r.json"),
    (FAILED_DOC, FAILED, None, None),
])
def test_status_documents_are_read_by_namespace(document, state, percent, report_url):
    status = parse_execute_response(document.encode())
    assert (status.state, status.percent, status.report_url) == (state, percent, report_url)
    assert status.status_location.endswith("pywps-155237461814.xml")


def test_other_prefixes_and_xlink_href_are_understood():
    document = ('<a:ExecuteResponse xmlns:a="http://www.opengis.net/wps/1.0.0" '
                'xmlns:x="http://www.w3.org/1999/xlink"><a:Status><a:ProcessSucceeded/>'
                '</a:Status><a:ProcessOutputs><a:Output><a:Reference x:href="u.json"/>'
                '</a:Output></a:ProcessOutputs></a:ExecuteResponse>')
    assert parse_execute_response(document.encode()).report_url == "u.json"


def test_failed_status_carries_the_server_text():
    assert "MAJA crashed" in parse_execute_response(FAILED_DOC.encode()).message


def test_exception_report_raises_with_the_server_text():
    with pytest.raises(ServiceError, match=r"InvalidParameterValue.*tileid.*bad tile"):
        parse_execute_response(REPORT.encode())


@pytest.mark.parametrize("content", [
    b"", b"not xml", b"<html><body>502</body></html>", HEAD.encode(),
    b'<wps:ExecuteResponse xmlns:wps="http://www.opengis.net/wps/1.0.0"/>',
])
def test_documents_that_make_no_sense_raise_service_error(content):
    with pytest.raises(ServiceError):
        parse_execute_response(content)


@pytest.mark.parametrize("content", [
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>',
    b'<?xml version="1.0"?><!DOCTYPE a SYSTEM "http://example.invalid/a.dtd"><a/>',
    b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY l "l"><!ENTITY l2 "&l;&l;">]><a>&l2;</a>',
])
def test_dtds_and_entities_are_refused(content):
    with pytest.raises(ServiceError, match="DTD or entities"):
        parse_xml(content, "the status document")


@pytest.mark.parametrize("url, job_id", [
    ("https://peps.cnes.fr/wps/outputs/pywps-155237461814.xml", "155237461814"),
    ("http://127.0.0.1:8/o/pywps-3f2a9c1e-aa.xml", "3f2a9c1e-aa"),
    ("http://h/status/job_42.XML", "job_42"),
    ("http://h/a/pywps-12.xml?x=1", "12"),
])
def test_job_id_is_the_status_name_without_prefix_and_suffix(url, job_id):
    assert job_id_from_status_location(url) == job_id


def test_execute_document_holds_every_input_and_asks_for_an_asynchronous_job():
    request = JobRequest("36TWQ", 64, date(2019, 3, 1), date(2019, 9, 1))
    root = parse_xml(execute_document("FULL_MAJA", full_maja_inputs(request),
                                      asynchronous=True), "test")
    wps, ows = "{http://www.opengis.net/wps/1.0.0}", "{http://www.opengis.net/ows/1.1}"
    inputs = {item.find(f"{ows}Identifier").text: item.find(f"{wps}Data/{wps}LiteralData").text
              for item in root.iter(f"{wps}Input")}
    assert inputs == {"startDate": "2019-03-01", "completionDate": "2019-09-01",
                      "tileid": "36TWQ", "relativeOrbitNumber": "64"}
    form = root.find(f"{wps}ResponseForm/{wps}ResponseDocument")
    assert form.get("storeExecuteResponse") == form.get("status") == "true"


def test_orbit_is_left_out_when_not_given():
    request = JobRequest("36TWQ", None, date(2019, 3, 1), date(2019, 9, 1))
    assert "relativeOrbitNumber" not in dict(full_maja_inputs(request))


def test_pywps_none_locator_is_no_locator():
    document = FAILED_DOC.replace('exceptionCode="NoApplicableCode"',
                                  'exceptionCode="NoApplicableCode" locator="None"')
    message = parse_execute_response(document.encode()).message
    assert message == "NoApplicableCode: MAJA crashed"
