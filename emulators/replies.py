"""Answers before they are sent: status, content type, body and extra headers."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional

from . import documents
from .execute import WpsError
from .streaming import Body, BytesBody


@dataclass
class Reply:
    """An answer before it is sent; `ranged` ones honour Range and the bandwidth limit."""

    status: int
    content_type: str
    body: Body
    headers: Dict[str, str] = field(default_factory=dict)
    ranged: bool = False


def text_reply(status: int, text: str, headers: Optional[Dict[str, str]] = None) -> Reply:
    """A short plain-text answer."""
    return Reply(status, "text/plain; charset=utf-8", BytesBody(text.encode() + b"\n"),
                 headers or {})


def xml_reply(data: bytes) -> Reply:
    """A 200 XML document, as PyWPS sends them."""
    return Reply(200, "text/xml; charset=utf-8", BytesBody(data))


def exception_reply(error: WpsError) -> Reply:
    """An OWS ExceptionReport with HTTP 200, as PyWPS 3.2 answers."""
    return xml_reply(documents.exception_report(error.code, error.text, error.locator))
