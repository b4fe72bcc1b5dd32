"""Everything that speaks to a FULL_MAJA server, behind one interface (`Service`)."""
from __future__ import annotations

from typing import Union

from ..errors import UsageError
from ..session import PepsSession
from ..states import Protocol
from ..validation import JobRequest
from .base import GONE, UNREACHABLE, JobState, ServerJob, Service
from .ogcapi import OgcApiService, execute_text, execution_url, speaks_ogcapi
from .peps import WpsService, submission_document

__all__ = ["GONE", "UNREACHABLE", "JobState", "OgcApiService", "Protocol", "ServerJob", "Service",
           "WpsService", "detect_protocol", "open_service", "protocol_named", "submission_preview"]

_SERVICES: dict[Protocol, type[Service]] = {Protocol.WPS: WpsService,
                                            Protocol.OGCAPI: OgcApiService}


def open_service(session: PepsSession, endpoint: str,
                 protocol: Union[Protocol, str, None] = None) -> Service:
    """The service behind `endpoint`, speaking `protocol` (detected with one GET when None)."""
    chosen = protocol_named(protocol) if protocol else detect_protocol(session, endpoint)
    return _SERVICES[chosen](session, endpoint)


def detect_protocol(session: PepsSession, endpoint: str) -> Protocol:
    """OGC API when `{endpoint}/conformance` declares Processes core; WPS 1.0.0 otherwise."""
    return Protocol.OGCAPI if speaks_ogcapi(session, endpoint) else Protocol.WPS


def protocol_named(name: Union[Protocol, str, None]) -> Protocol:
    """The protocol of a name (`wps`, `ogcapi`); None, as in old job logs, means WPS."""
    if name is None:
        return Protocol.WPS
    try:
        return Protocol(str(name).strip().lower())
    except ValueError:
        raise UsageError(f"--protocol: {name!r} is not a protocol; use wps or ogcapi") from None


def submission_preview(endpoint: str, protocol: Union[Protocol, str, None],
                       request: JobRequest) -> tuple[str, str]:
    """Where a submission would be POSTed and the document, sending nothing (None: WPS)."""
    if protocol_named(protocol) == Protocol.OGCAPI:
        return execution_url(endpoint), execute_text(request)
    return endpoint, submission_document(request).decode("utf-8")
