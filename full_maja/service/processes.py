"""The OGC API - Processes side of FULL_MAJA: execute documents out, statusInfo and results in.

Pure functions over decoded JSON, tolerant of the differences between servers
listed in `ogcapi-processes.md` (pygeoapi's `null` answer, its `{"id", "value"}`
results, HTML links listed first, older exception documents).
"""
from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from enum import Enum
from typing import Any, Optional, Union
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from ..errors import ServiceError
from ..validation import JobRequest
from .jobreport import JobReport, report_from_document
from .wps import FULL_MAJA, parses_as_url

CORE_CONFORMANCE = "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core"
RESULTS_REL = "http://www.opengis.net/def/rel/ogc/1.0/results"
REPORT_OUTPUT = "report"
JSON_TYPE = "application/json"


class JobStatus(str, Enum):
    """The statusInfo `status` values of OGC API - Processes."""

    ACCEPTED = "accepted"
    RUNNING = "running"
    SUCCESSFUL = "successful"
    FAILED = "failed"
    DISMISSED = "dismissed"

    def __str__(self) -> str:
        return str(self.value)


@dataclass(frozen=True)
class StatusInfo:
    """What a statusInfo document says of a job."""

    job_id: str
    status: JobStatus
    process: str = ""
    message: str = ""
    progress: Optional[int] = None
    created: Optional[str] = None
    results_url: Optional[str] = None


@dataclass(frozen=True)
class ReportReference:
    """A report given by reference: the URL to fetch it from."""

    href: str


ReportSource = Union[JobReport, ReportReference]


def execute_body(request: JobRequest) -> dict[str, Any]:
    """The execute document of FULL_MAJA for one request (the orbit only when given)."""
    inputs: dict[str, Any] = {"tileid": request.tile, "startDate": request.start.isoformat(),
                              "completionDate": request.end.isoformat()}
    if request.orbit is not None:
        inputs["relativeOrbitNumber"] = int(request.orbit)
    return {"inputs": inputs}


def conforms_to_processes(document: Any) -> bool:
    """True when a conformance document declares the Processes core class."""
    if not isinstance(document, dict):
        return False
    classes = document.get("conformsTo")
    return isinstance(classes, list) and any(
        isinstance(item, str) and item.strip().rstrip("/") == CORE_CONFORMANCE
        for item in classes)


def job_url_from_location(location: str, request_url: str) -> str:
    """The job's URL from a `Location` header, absolute or relative to the request."""
    url = _joined(request_url, location)
    if url is None or urlsplit(url).scheme not in ("http", "https"):
        raise ServiceError(f"the server gave a job Location that is not a URL: {location!r}")
    return url


def job_id_from_url(url: str) -> str:
    """The job id: the last segment of the job's URL path."""
    try:
        path = urlsplit(url).path
    except ValueError:
        raise ServiceError(f"the job URL {url!r} is not a URL") from None
    name = posixpath.basename(unquote(path).rstrip("/"))
    if not name:
        raise ServiceError(f"cannot find a job id in the job URL {url}")
    return name


def is_status_info(document: Any) -> bool:
    """True when a document looks like a statusInfo (it has a `status` and a job id)."""
    return isinstance(document, dict) and "status" in document and (
        "jobID" in document or "jobId" in document or "id" in document)


def parse_status_info(document: Any, what: str, base_url: str,
                      job_id: Optional[str] = None) -> StatusInfo:
    """Read a statusInfo; `job_id` stands in for a missing `jobID`; links resolve on `base_url`."""
    if not isinstance(document, dict):
        raise ServiceError(f"{what} is not a JSON object")
    found_id = _first_text(document, ("jobID", "jobId", "id")) or job_id
    if not found_id:
        raise ServiceError(f"{what} has no jobID")
    return StatusInfo(job_id=found_id, status=_status(document.get("status"), what),
                      process=_first_text(document, ("processID", "processId", "process")),
                      message=_one_line(document.get("message")),
                      progress=_progress(document.get("progress")),
                      created=_first_text(document, ("created",)) or None,
                      results_url=results_link(document.get("links"), base_url))


def results_link(links: Any, base_url: str) -> Optional[str]:
    """The results link of a statusInfo, the JSON one preferred over bare, HTML last."""
    candidates = [link for link in links if _is_results_link(link)] \
        if isinstance(links, list) else []
    if not candidates:
        return None
    return _joined(base_url, min(candidates, key=_json_preference)["href"])


def report_source(document: Any, what: str) -> ReportSource:
    """The `report` output of a results document, in any of the forms servers use."""
    output = _report_output(document)
    if output is None:
        raise ServiceError(f"{what} holds no {REPORT_OUTPUT} output")
    return output_to_source(output, what)


def output_to_source(output: Any, what: str) -> ReportSource:
    """One output: a reference to fetch, a `{"value": ...}` wrapper, or the report itself."""
    if isinstance(output, str):
        output = _decoded(output, what)
    if isinstance(output, dict) and _is_reference(output):
        href = output["href"].strip()
        if not parses_as_url(href) or urlsplit(href).scheme not in ("http", "https"):
            raise ServiceError(f"{what}: the report reference is not a URL: {href!r}")
        return ReportReference(href)
    if isinstance(output, dict) and "value" in output and not _is_report(output):
        return output_to_source(output["value"], what)
    return report_from_document(output, what)


def exception_text(document: Any) -> str:
    """One line of an exception document: `{"title", "detail"}` or `{"code", "description"}`."""
    if not isinstance(document, dict):
        return ""
    label = _first_text(document, ("title", "code", "type"))
    detail = _first_text(document, ("detail", "description"))
    if label and detail and label != detail:
        return f"{label}: {detail}"
    return detail or label


def _joined(base_url: str, href: str) -> Optional[str]:
    """`href` resolved on `base_url`; None when that is no URL requests could send."""
    try:
        url = urljoin(base_url, href.strip())
    except ValueError:
        return None
    return url if parses_as_url(url) else None


def _report_output(document: Any) -> Any:
    if not isinstance(document, dict):
        return None
    if document.get("id") == REPORT_OUTPUT and "value" in document:
        return document["value"]
    if REPORT_OUTPUT in document:
        return document[REPORT_OUTPUT]
    outputs = document.get("outputs")
    if isinstance(outputs, dict) and REPORT_OUTPUT in outputs:
        return outputs[REPORT_OUTPUT]
    if isinstance(outputs, list):
        return next((item for item in outputs
                     if isinstance(item, dict) and item.get("id") == REPORT_OUTPUT), None)
    return document if _is_report(document) else None


def _is_report(document: dict[str, Any]) -> bool:
    return "job_status" in document or "USER_INFO" in document


def _is_reference(output: dict[str, Any]) -> bool:
    return isinstance(output.get("href"), str) and not _is_report(output) \
        and "value" not in output


def _decoded(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise ServiceError(f"{what}: the report is text, not JSON") from None


def _is_results_link(link: Any) -> bool:
    return isinstance(link, dict) and isinstance(link.get("href"), str) \
        and link.get("rel") in (RESULTS_REL, "results")


def _json_preference(link: dict[str, Any]) -> int:
    kind = str(link.get("type") or "").lower()
    try:
        wanted = parse_qs(urlsplit(link["href"]).query).get("f", [""])[0].lower()
    except ValueError:
        wanted = ""
    if "json" in kind or wanted == "json":
        return 0
    if "html" in kind or wanted == "html":
        return 2
    return 1


def _status(value: Any, what: str) -> JobStatus:
    word = value.strip().lower() if isinstance(value, str) else ""
    try:
        return JobStatus(word)
    except ValueError:
        raise ServiceError(f"{what} has an unknown job status {value!r}") from None


def _progress(value: Any) -> Optional[int]:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = int(float(value))
    except (TypeError, ValueError, OverflowError):
        return None
    return min(max(number, 0), 100)


def _first_text(document: dict[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        text = _one_line(document.get(key))
        if text:
            return text
    return ""


def _one_line(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return ""
    return " ".join(str(value).split())


__all__ = ["CORE_CONFORMANCE", "FULL_MAJA", "JobStatus", "ReportReference", "ReportSource",
           "StatusInfo", "conforms_to_processes", "exception_text", "execute_body",
           "is_status_info", "job_id_from_url", "job_url_from_location", "output_to_source",
           "parse_status_info", "report_source", "results_link"]
