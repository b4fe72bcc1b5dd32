"""Fault injection: which fault a request meets, and how it replaces or spoils the answer."""
from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Optional, Tuple

from . import documents
from .config import Fault
from .execute import WpsError
from .replies import Reply, exception_reply, text_reply
from .state import EmulatorState
from .streaming import BytesBody, Delivery

REPLACING_FAULTS = ("drop", "status", "html", "json")
CONFIG_FAULTS = {"http500": Fault("status", 500), "drop": Fault("drop"), "html": Fault("html")}
UNREACHABLE = "The CNES computing centre cannot be reached: try again later"


@dataclass(frozen=True)
class Replacement:
    """What answers a request instead of its endpoint: a reply, or None to drop the line."""

    reply: Optional[Reply]


def wps_fault(state: EmulatorState, target: str,
              configured: Optional[str]) -> Tuple[Optional[Fault], Optional[Replacement]]:
    """The fault a WPS request meets (queued first, else standing) and its replacement."""
    fault = state.take_fault(target)
    if fault is not None and fault.kind == "exception":
        text = fault.text or UNREACHABLE
        return fault, Replacement(exception_reply(WpsError("NoApplicableCode", text)))
    if fault is None and configured == "exception":
        return None, Replacement(exception_reply(WpsError("NoApplicableCode", UNREACHABLE)))
    if fault is None and configured in CONFIG_FAULTS:
        fault = CONFIG_FAULTS[configured]
    return fault, replacement(fault)


def replacement(fault: Optional[Fault]) -> Optional[Replacement]:
    """The answer of a fault that replaces the response, or None if it does not."""
    if fault is None or fault.kind not in REPLACING_FAULTS:
        return None
    if fault.kind == "drop":
        return Replacement(None)
    if fault.kind == "status":
        return Replacement(status_fault_reply(fault))
    if fault.kind == "html":
        page = documents.html_page(200, "PEPS is under maintenance")
        return Replacement(Reply(200, "text/html; charset=utf-8", BytesBody(page)))
    body = documents.json_error("internal error, please retry later")
    return Replacement(Reply(200, "application/json", BytesBody(body)))


def status_fault_reply(fault: Fault) -> Reply:
    """The small answer of a Fault("status", code)."""
    code = int(fault.value or 500)
    headers = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    if code == 401:
        headers["WWW-Authenticate"] = 'Basic realm="PEPS"'
    return text_reply(code, f"{code} {_phrase(code)}", headers)


def _phrase(code: int) -> str:
    """The standard reason phrase of a status code."""
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def refuses_range(fault: Optional[Fault]) -> bool:
    """Whether the fault makes this answer ignore a Range header."""
    return fault is not None and fault.kind == "no-range"


def wrong_start(fault: Optional[Fault]) -> Optional[int]:
    """The byte a "wrong-range" fault answers a Range request from, or None."""
    if fault is None or fault.kind != "wrong-range":
        return None
    return int(fault.value or 0)


def delivery(fault: Optional[Fault]) -> Delivery:
    """How a fault spoils the body of an otherwise normal answer."""
    if fault is None:
        return Delivery()
    if fault.kind == "truncate":
        return Delivery(cut_after=int(fault.value or 0))
    if fault.kind == "stall":
        return Delivery(cut_after=int(fault.value or 0), stall_seconds=fault.stall_seconds)
    return Delivery(corrupt=fault.kind == "corrupt")
