"""The WPS 1.0.0 side of FULL_MAJA: Execute documents out, status documents in."""
from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Iterable, Optional
from urllib.parse import unquote, urlsplit

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from ..errors import ServiceError
from ..validation import JobRequest

WPS_NS = "http://www.opengis.net/wps/1.0.0"
OWS_NAMESPACES = ("http://www.opengis.net/ows/1.1", "http://www.opengis.net/ows")
XLINK_NS = "http://www.w3.org/1999/xlink"
FULL_MAJA = "FULL_MAJA"
PROCESSING_STATUS = "PROCESSING_STATUS"

ACCEPTED, STARTED, SUCCEEDED, FAILED = "accepted", "started", "succeeded", "failed"
_STATE_TAGS = {"ProcessAccepted": ACCEPTED, "ProcessStarted": STARTED,
               "ProcessPaused": STARTED, "ProcessSucceeded": SUCCEEDED,
               "ProcessFailed": FAILED}


@dataclass(frozen=True)
class WpsStatus:
    """What a wps:ExecuteResponse says of a job."""

    state: str
    message: str = ""
    percent: Optional[int] = None
    status_location: Optional[str] = None
    report_url: Optional[str] = None


def full_maja_inputs(request: JobRequest) -> list[tuple[str, str]]:
    """The FULL_MAJA data inputs of one job request."""
    inputs = [("startDate", request.start.isoformat()),
              ("completionDate", request.end.isoformat()),
              ("tileid", request.tile)]
    if request.orbit is not None:
        inputs.append(("relativeOrbitNumber", str(request.orbit)))
    return inputs


def execute_document(identifier: str, inputs: Iterable[tuple[str, str]], *,
                     asynchronous: bool) -> bytes:
    """A WPS 1.0.0 Execute request as an XML document."""
    ET.register_namespace("wps", WPS_NS)
    ET.register_namespace("ows", OWS_NAMESPACES[0])
    root = ET.Element(_wps("Execute"), {"service": "WPS", "version": "1.0.0"})
    ET.SubElement(root, _ows("Identifier")).text = identifier
    data_inputs = ET.SubElement(root, _wps("DataInputs"))
    for name, value in inputs:
        item = ET.SubElement(data_inputs, _wps("Input"))
        ET.SubElement(item, _ows("Identifier")).text = name
        data = ET.SubElement(item, _wps("Data"))
        ET.SubElement(data, _wps("LiteralData")).text = value
    form = ET.SubElement(root, _wps("ResponseForm"))
    flag = "true" if asynchronous else "false"
    ET.SubElement(form, _wps("ResponseDocument"),
                  {"storeExecuteResponse": flag, "status": flag})
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def processing_status_params(job_id: str) -> dict[str, str]:
    """Key-value parameters of the PROCESSING_STATUS request that refreshes a report."""
    return {"request": "execute", "service": "WPS", "version": "1.0.0",
            "identifier": PROCESSING_STATUS, "datainputs": f"wps_id={job_id}",
            "status": "false", "storeExecuteResponse": "false"}


def parse_xml(content: bytes, what: str) -> ET.Element:
    """Parse untrusted XML, refusing DTDs and entities."""
    try:
        return SafeET.fromstring(content, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise ServiceError(f"{what} was refused: it declares a DTD or entities "
                           f"({exc.__class__.__name__}), which full-maja never accepts") from None
    except (ET.ParseError, ValueError, LookupError) as exc:
        # LookupError: an XML declaration naming an encoding Python does not know.
        raise ServiceError(f"{what} is not a valid XML document ({exc})") from None


def parse_execute_response(content: bytes, what: str = "the WPS response") -> WpsStatus:
    """Read a wps:ExecuteResponse; raise ServiceError for an OWS exception report."""
    root = parse_xml(content, what)
    if _local(root.tag) == "ExceptionReport":
        raise ServiceError(f"the server refused the request: {exception_text(root)}")
    if root.tag != _wps("ExecuteResponse"):
        raise ServiceError(f"{what} is not a WPS ExecuteResponse (root <{_local(root.tag)}>)")
    status = root.find(_wps("Status"))
    state_element = _first_child(status) if status is not None else None
    if state_element is None or _local(state_element.tag) not in _STATE_TAGS:
        raise ServiceError(f"{what} has no wps:Status")
    state = _STATE_TAGS[_local(state_element.tag)]
    message = (exception_text(state_element) if state == FAILED
               else " ".join((state_element.text or "").split()))
    return WpsStatus(state=state, message=message,
                     percent=_percent(state_element.get("percentCompleted")),
                     status_location=_url(root.get("statusLocation"), what, "statusLocation"),
                     report_url=_url(_report_reference(root), what, "report reference"))


def exception_text(element: ET.Element) -> str:
    """The texts of every ows:Exception below `element`, joined on one line."""
    texts = []
    for exc in element.iter():
        if _local(exc.tag) != "Exception" or _namespace(exc.tag) not in (*OWS_NAMESPACES, ""):
            continue
        code = exc.get("exceptionCode", "")
        locator = exc.get("locator")
        if locator == "None":  # PyWPS 4 writes Python's None for "no locator"
            locator = None
        text = " ".join(" ".join((t.text or "").split()) for t in exc
                        if _local(t.tag) == "ExceptionText").strip()
        label = f"{code} ({locator})" if locator else code
        texts.append(": ".join(part for part in (label, text) if part))
    return "; ".join(texts) or "no explanation given"


def job_id_from_status_location(url: str) -> str:
    """The job id: the status document's name without `.xml` and the `pywps-` prefix."""
    try:
        path = urlsplit(url).path
    except ValueError:
        raise ServiceError(f"the status location {url!r} is not a URL") from None
    name = posixpath.basename(unquote(path))
    if name.lower().endswith(".xml"):
        name = name[:-4]
    if name.startswith("pywps-"):
        name = name[len("pywps-"):]
    if not name:
        raise ServiceError(f"cannot find a job id in the status location {url}")
    return name


def _report_reference(root: ET.Element) -> Optional[str]:
    outputs = root.find(_wps("ProcessOutputs"))
    if outputs is None:
        return None
    for reference in outputs.iter(_wps("Reference")):
        href = reference.get("href") or reference.get(f"{{{XLINK_NS}}}href")
        if href:
            return href.strip()
    return None


def parses_as_url(value: str) -> bool:
    """True when `value` can be split into a URL, port included (requests needs that)."""
    try:
        port = urlsplit(value).port  # a bad [IPv6] host or port raises ValueError
    except ValueError:
        return False
    return port is None or 0 <= port <= 65535


def _url(value: Optional[str], what: str, name: str) -> Optional[str]:
    """`value` when it is empty or a URL that can be parsed; ServiceError otherwise."""
    if not value:
        return None
    if not parses_as_url(value):
        raise ServiceError(f"{what} has a {name} that is not a URL: {value!r}")
    return value


def _percent(value: Optional[str]) -> Optional[int]:
    try:
        return int(float(value)) if value is not None else None
    except (ValueError, OverflowError):
        return None


def _first_child(element: ET.Element) -> Optional[ET.Element]:
    return next(iter(element), None)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _wps(name: str) -> str:
    return f"{{{WPS_NS}}}{name}"


def _ows(name: str) -> str:
    return f"{{{OWS_NAMESPACES[0]}}}{name}"
