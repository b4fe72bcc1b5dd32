"""The bodies the emulator answers: PyWPS 3.2 style XML, the JSON report, the job log."""
from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import quote

from .jobs import ACCEPTED, FAILED, STARTED, SUCCEEDED, Job

WPS = "http://www.opengis.net/wps/1.0.0"
OWS = "http://www.opengis.net/ows/1.1"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FULL_MAJA = "FULL_MAJA"
PROCESSING_STATUS = "PROCESSING_STATUS"
TITLES = {FULL_MAJA: "MAJA atmospheric correction of a full time series of one tile",
          PROCESSING_STATUS: "Refresh the processing report of a job"}
REPORT_OUTPUT = ("FULL_MAJA_report", "Processing report (JSON)")
PRODUCTS_PATH = "/cgi-bin/mapcache_results/maja"
LOGS_PATH = "/cgi-bin/mapcache_results/logs"
STATUS_PATH = "/wps/outputs"

for _prefix, _uri in (("wps", WPS), ("ows", OWS), ("xlink", XLINK), ("xsi", XSI)):
    ET.register_namespace(_prefix, _uri)


def status_location(base_url: str, job_id: str) -> str:
    """The URL of a job's status document."""
    return f"{base_url}{STATUS_PATH}/pywps-{job_id}.xml"


def report_location(base_url: str, job_id: str) -> str:
    """The URL of a job's JSON report."""
    return f"{base_url}{STATUS_PATH}/FULL_MAJA_{job_id}.json"


def log_location(base_url: str, job_id: str) -> str:
    """The URL of a job's plain-text log."""
    return f"{base_url}{LOGS_PATH}/joblog-{job_id}.log"


def product_location(base_url: str, job_id: str, name: str, via_redirect: bool = False) -> str:
    """The URL of one product zip, or of its redirecting alias."""
    prefix = "/redirect/maja" if via_redirect else PRODUCTS_PATH
    return f"{base_url}{prefix}/{quote(job_id, safe='')}/{quote(name, safe='')}"


def _now() -> str:
    """The time as PyWPS 3.2 writes creationTime."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _to_bytes(root: ET.Element) -> bytes:
    """Serialize a document with its XML declaration."""
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _execute_response(base_url: str, identifier: str, job_id: Optional[str]) -> ET.Element:
    """The wps:ExecuteResponse skeleton, with statusLocation for asynchronous jobs."""
    root = ET.Element(f"{{{WPS}}}ExecuteResponse", {
        "service": "WPS", "version": "1.0.0", XML_LANG: "eng",
        f"{{{XSI}}}schemaLocation":
            f"{WPS} http://schemas.opengis.net/wps/1.0.0/wpsExecute_response.xsd",
        "serviceInstance": f"{base_url}/resto/wps?service=WPS&request=GetCapabilities"
                           "&version=1.0.0"})
    if job_id is not None:
        root.set("statusLocation", status_location(base_url, job_id))
    process = ET.SubElement(root, f"{{{WPS}}}Process", {f"{{{WPS}}}processVersion": "1.0"})
    ET.SubElement(process, f"{{{OWS}}}Identifier").text = identifier
    ET.SubElement(process, f"{{{OWS}}}Title").text = TITLES[identifier]
    return root


def _status(root: ET.Element) -> ET.Element:
    """Add the wps:Status element."""
    return ET.SubElement(root, f"{{{WPS}}}Status", creationTime=_now())


def accepted_response(base_url: str, job: Job) -> bytes:
    """The answer to an accepted FULL_MAJA submission."""
    root = _execute_response(base_url, FULL_MAJA, job.id)
    ET.SubElement(_status(root), f"{{{WPS}}}ProcessAccepted").text = \
        f"Process {FULL_MAJA} accepted"
    return _to_bytes(root)


def status_document(base_url: str, job: Job) -> bytes:
    """The job's stored status document, as it stands after this GET."""
    root = _execute_response(base_url, FULL_MAJA, job.id)
    status = _status(root)
    phase = job.status_phase()
    if phase == ACCEPTED:
        ET.SubElement(status, f"{{{WPS}}}ProcessAccepted").text = \
            f"Process {FULL_MAJA} accepted"
    elif phase == STARTED:
        ET.SubElement(status, f"{{{WPS}}}ProcessStarted",
                      percentCompleted=str(job.started_percent())).text = \
            "Registering the job on the CNES computing centre"
    elif phase == FAILED:
        _add_failure(status, f"MAJA processing failed: no L1C product found for tile "
                             f"{job.params.get('tile')} in the period")
    elif phase == SUCCEEDED:
        ET.SubElement(status, f"{{{WPS}}}ProcessSucceeded").text = \
            f"Process {FULL_MAJA} successfully registered"
        _add_reference(root, report_location(base_url, job.id))
    return _to_bytes(root)


def _add_failure(status: ET.Element, text: str) -> None:
    """A wps:ProcessFailed holding an OWS exception."""
    failed = ET.SubElement(status, f"{{{WPS}}}ProcessFailed")
    report = ET.SubElement(failed, f"{{{WPS}}}ExceptionReport")
    exception = ET.SubElement(report, f"{{{OWS}}}Exception", exceptionCode="NoApplicableCode")
    ET.SubElement(exception, f"{{{OWS}}}ExceptionText").text = text


def _add_reference(root: ET.Element, href: str) -> None:
    """The output whose wps:Reference points at the JSON report."""
    outputs = ET.SubElement(root, f"{{{WPS}}}ProcessOutputs")
    output = ET.SubElement(outputs, f"{{{WPS}}}Output")
    ET.SubElement(output, f"{{{OWS}}}Identifier").text = REPORT_OUTPUT[0]
    ET.SubElement(output, f"{{{OWS}}}Title").text = REPORT_OUTPUT[1]
    ET.SubElement(output, f"{{{WPS}}}Reference", href=href, mimeType="application/json")


def refresh_response(base_url: str, job: Job) -> bytes:
    """The synchronous answer to PROCESSING_STATUS: succeeded, with the job_status."""
    root = _execute_response(base_url, PROCESSING_STATUS, None)
    ET.SubElement(_status(root), f"{{{WPS}}}ProcessSucceeded").text = \
        f"Process {PROCESSING_STATUS} successful"
    outputs = ET.SubElement(root, f"{{{WPS}}}ProcessOutputs")
    output = ET.SubElement(outputs, f"{{{WPS}}}Output")
    ET.SubElement(output, f"{{{OWS}}}Identifier").text = "job_status"
    ET.SubElement(output, f"{{{OWS}}}Title").text = "Status of the job"
    data = ET.SubElement(output, f"{{{WPS}}}Data")
    ET.SubElement(data, f"{{{WPS}}}LiteralData").text = job.state
    return _to_bytes(root)


def exception_report(code: str, text: str, locator: Optional[str] = None) -> bytes:
    """An OWS ExceptionReport, as PyWPS answers a refused request."""
    root = ET.Element(f"{{{OWS}}}ExceptionReport", {
        "version": "1.0.0", XML_LANG: "en",
        f"{{{XSI}}}schemaLocation":
            f"{OWS} http://schemas.opengis.net/ows/1.1.0/owsExceptionReport.xsd"})
    attributes = {"exceptionCode": code}
    if locator is not None:
        attributes["locator"] = locator
    exception = ET.SubElement(root, f"{{{OWS}}}Exception", attributes)
    ET.SubElement(exception, f"{{{OWS}}}ExceptionText").text = text
    return _to_bytes(root)


def report_dict(job: Job, base_url: str,
                product_url: Callable[[str], str]) -> Dict[str, Any]:
    """The JSON report of a job at its current step."""
    finished = job.state == "FINISHED"
    return {"USER_INFO": {
        "job_status": job.state,
        "process": job.progress(),
        "results": [product_url(name) for name in job.plan.results] if finished else [],
        "unprocessed": len(job.plan.missing) if finished else 0,
        "missing": list(job.plan.missing) if finished else [],
        "logs": [log_location(base_url, job.id)],
        "message": report_message(job),
        "tileid": job.params.get("tile"),
        "startDate": job.params.get("start"),
        "completionDate": job.params.get("end"),
    }}


def report_message(job: Job) -> str:
    """The human-readable message: empty unless the job failed or was canceled."""
    if job.state == "ERROR":
        return (f"MAJA processing of tile {job.params.get('tile')} failed on the CNES "
                f"computing centre; see the job log")
    if job.state == "CANCELED":
        return "The job was canceled by the PEPS operators"
    return ""


def report_body(report: Any) -> bytes:
    """The report as sent: dicts as JSON, text as UTF-8, bytes as they are."""
    if isinstance(report, bytes):
        return report
    if isinstance(report, str):
        return report.encode("utf-8")
    return json.dumps(report, indent=2).encode("utf-8")


def job_log(job: Job) -> bytes:
    """A few plain-text lines of processing log, growing with the job's steps."""
    lines: List[str] = [
        f"{job.created:%Y-%m-%d %H:%M:%S} INFO job {job.id} registered: FULL_MAJA "
        f"tile={job.params.get('tile')} period={job.params.get('start')}.."
        f"{job.params.get('end')}",
    ]
    for state in job.timeline[:job.step + 1]:
        lines.append(f"{job.created:%Y-%m-%d %H:%M:%S} INFO job_status={state}")
    if job.state == "FINISHED":
        lines.append(f"INFO {len(job.plan.results)} L2A products, "
                     f"{len(job.plan.missing)} L1C products not processed")
    if job.state in ("ERROR", "CANCELED"):
        lines.append(f"ERROR {report_message(job)}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def html_page(status: int, text: str) -> bytes:
    """A small Apache-like HTML error page."""
    return (f"<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>"
            f"<title>{status} {text}</title></head><body><h1>{text}</h1>"
            f"<p>The server encountered an error.</p><hr><address>Apache Server at "
            f"peps.cnes.fr Port 443</address></body></html>\n").encode()


def json_error(text: str) -> bytes:
    """A JSON error body, as a front-end proxy might answer."""
    return json.dumps({"ErrorCode": 500, "ErrorMessage": text}).encode("utf-8")
