"""Everything that speaks to a FULL_MAJA server, behind one interface (`Service`)."""
from __future__ import annotations

from typing import Union

from ..errors import UsageError
from ..session import PepsSession
from ..states import Protocol
from ..validation import JobRequest
from .base import GONE, UNREACHABLE, JobState, ServerJob, ServerJobList, Service
from .catalogue import CatalogueService, search_url
from .ogcapi import OgcApiService, execute_text, execution_url, speaks_ogcapi
from .peps import WpsService, submission_document

__all__ = ["GONE", "UNREACHABLE", "CatalogueService", "JobState", "OgcApiService", "Protocol",
           "ServerJob", "ServerJobList", "Service", "WpsService", "detect_protocol",
           "needs_account", "open_service", "protocol_named", "submission_preview"]

_SERVICES: dict[Protocol, type[Service]] = {Protocol.WPS: WpsService,
                                            Protocol.OGCAPI: OgcApiService,
                                            Protocol.CATALOGUE: CatalogueService}


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


def needs_account(protocol: Union[Protocol, str, None]) -> bool:
    """True when the service of `protocol` wants an account (a catalogue searches without)."""
    return _SERVICES[protocol_named(protocol)].needs_account


def submission_preview(endpoint: str, protocol: Union[Protocol, str, None],
                       request: JobRequest) -> tuple[str, str]:
    """Where a submission would be POSTed and the document, sending nothing (None: WPS)."""
    chosen = protocol_named(protocol)
    if chosen == Protocol.CATALOGUE:
        return search_url(endpoint), CatalogueService.submission_text_of(request)
    if chosen == Protocol.OGCAPI:
        return execution_url(endpoint), execute_text(request)
    return endpoint, submission_document(request).decode("utf-8")
