"""Reading a WPS Execute request, key-value or POSTed XML, and checking its inputs."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Dict, Iterator, Optional, Tuple
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from .documents import FULL_MAJA, OWS, PROCESSING_STATUS, WPS

PROCESSES = (FULL_MAJA, PROCESSING_STATUS)
EARLIEST_START = date(2016, 4, 1)
_TILE = re.compile(r"[0-9]{2}[C-X][A-Z]{2}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ORBIT = re.compile(r"[0-9]{1,3}")


class WpsError(Exception):
    """A refused request, answered as an OWS ExceptionReport."""

    def __init__(self, code: str, text: str, locator: Optional[str] = None) -> None:
        """Keep the exceptionCode, the text and the optional locator."""
        super().__init__(text)
        self.code, self.text, self.locator = code, text, locator


@dataclass(frozen=True)
class ExecuteRequest:
    """Which process is executed, and with which literal inputs."""

    identifier: str
    inputs: Dict[str, str]

    def value(self, name: str) -> Optional[str]:
        """An input's value by case-insensitive name, or None."""
        wanted = name.lower()
        for key, value in self.inputs.items():
            if key.lower() == wanted:
                return value
        return None


def parse_kvp(query: Dict[str, str]) -> ExecuteRequest:
    """An Execute request from key-value query parameters (keys case-insensitive)."""
    params = {key.lower(): value for key, value in query.items()}
    _require_kvp(params, "service", "WPS")
    _require_kvp(params, "request", "execute")
    version = params.get("version")
    if version is not None and version != "1.0.0":
        raise WpsError("VersionNegotiationFailed", f"version {version!r} is not supported: "
                       "use 1.0.0", "version")
    identifier = _known_process(params.get("identifier"))
    return ExecuteRequest(identifier, dict(_kvp_inputs(params.get("datainputs", ""))))


def _require_kvp(params: Dict[str, str], key: str, expected: str) -> None:
    """Refuse a missing parameter or one with another value (case-insensitive)."""
    value = params.get(key)
    if not value:
        raise WpsError("MissingParameterValue", f"parameter {key!r} is missing", key)
    if value.lower() != expected.lower():
        code = "OperationNotSupported" if key == "request" else "InvalidParameterValue"
        raise WpsError(code, f"{key}={value!r} is not supported: expected {expected}", key)


def _known_process(identifier: Optional[str]) -> str:
    """The process identifier, if it is one this server offers."""
    if not identifier:
        raise WpsError("MissingParameterValue", "parameter 'identifier' is missing",
                       "identifier")
    if identifier not in PROCESSES:
        raise WpsError("InvalidParameterValue", f"no process named {identifier!r}: "
                       f"offered are {', '.join(PROCESSES)}", "identifier")
    return identifier


def _kvp_inputs(text: str) -> Iterator[Tuple[str, str]]:
    """The `name=value;name=value` pairs of a datainputs parameter."""
    for item in text.split(";"):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise WpsError("InvalidParameterValue", f"datainputs item {item!r} is not "
                           "name=value", "datainputs")
        yield name.strip(), value.split("@", 1)[0].strip()


def parse_xml(body: bytes) -> ExecuteRequest:
    """An Execute request from a POSTed wps:Execute document (untrusted: parsed safely)."""
    try:
        root = SafeET.fromstring(body)
    except (ParseError, DefusedXmlException, ValueError) as error:
        raise WpsError("NoApplicableCode",
                       f"the POSTed document is not usable XML: {error}") from None
    if root.tag != f"{{{WPS}}}Execute":
        raise WpsError("NoApplicableCode", f"the POSTed document is a {root.tag}, "
                       "not a wps:Execute")
    identifier = _known_process(_child_text(root, f"{{{OWS}}}Identifier"))
    inputs = root.find(f"{{{WPS}}}DataInputs")
    pairs = dict(_xml_inputs(inputs)) if inputs is not None else {}
    return ExecuteRequest(identifier, pairs)


def _child_text(element: Element, tag: str) -> Optional[str]:
    """The stripped text of a direct child, or None."""
    child = element.find(tag)
    if child is None or child.text is None:
        return None
    return child.text.strip()


def _xml_inputs(inputs: Element) -> Iterator[Tuple[str, str]]:
    """The (identifier, literal value) pairs of wps:DataInputs."""
    for item in inputs.findall(f"{{{WPS}}}Input"):
        name = _child_text(item, f"{{{OWS}}}Identifier")
        literal = item.find(f"{{{WPS}}}Data/{{{WPS}}}LiteralData")
        if not name or literal is None:
            raise WpsError("InvalidParameterValue", "each wps:Input needs an ows:Identifier "
                           "and wps:Data/wps:LiteralData", name or "DataInputs")
        yield name, (literal.text or "").strip()


def full_maja_params(request: ExecuteRequest) -> Dict[str, Any]:
    """The checked FULL_MAJA inputs: tile, orbit (or None), start and end dates."""
    tile = _required(request, "tileid")
    if not _TILE.fullmatch(tile):
        raise WpsError("InvalidParameterValue", f"tileid {tile!r} is not an MGRS tile "
                       "such as 36TWQ (no leading T)", "tileid")
    start = _date_input(request, "startDate")
    end = _date_input(request, "completionDate")
    if start < EARLIEST_START:
        raise WpsError("InvalidParameterValue", f"startDate {start} is before "
                       f"{EARLIEST_START}: L1C metadata are incomplete", "startDate")
    if end < start:
        raise WpsError("InvalidParameterValue", f"completionDate {end} is before "
                       f"startDate {start}", "completionDate")
    return {"tile": tile, "orbit": _orbit_input(request), "start": start.isoformat(),
            "end": end.isoformat()}


def processing_status_id(request: ExecuteRequest) -> str:
    """The wps_id input of a PROCESSING_STATUS request."""
    return _required(request, "wps_id")


def _required(request: ExecuteRequest, name: str) -> str:
    """A non-empty input, or a MissingParameterValue."""
    value = request.value(name)
    if not value:
        raise WpsError("MissingParameterValue", f"input {name!r} is missing", name)
    return value


def _date_input(request: ExecuteRequest, name: str) -> date:
    """A YYYY-MM-DD input as a date."""
    text = _required(request, name)
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise WpsError("InvalidParameterValue", f"{name} {text!r} is not a date "
                       "YYYY-MM-DD", name) from None


def _orbit_input(request: ExecuteRequest) -> Optional[int]:
    """The optional relativeOrbitNumber, 1 to 143."""
    text = request.value("relativeOrbitNumber")
    if not text:
        return None
    if not _ORBIT.fullmatch(text) or not 1 <= int(text) <= 143:
        raise WpsError("InvalidParameterValue", f"relativeOrbitNumber {text!r} is not "
                       "a whole number from 1 to 143", "relativeOrbitNumber")
    return int(text)
