"""A metadata document's elements: parsed without namespaces, found by tag, read as text."""
from __future__ import annotations

from typing import Any, Iterator, Optional

from defusedxml import ElementTree as SafeET

_PARSE_ERRORS = (ValueError, SyntaxError)
Element = Any


def parse(data: bytes) -> Optional[Element]:
    """The document's root, every tag stripped of its namespace; None if it does not parse."""
    try:
        root = SafeET.fromstring(data)
    except _PARSE_ERRORS:
        return None
    for node in root.iter():
        node.tag = _local(node.tag)
    return root


def child(element: Optional[Element], name: str) -> Optional[Element]:
    """The first element named `name` under `element`."""
    return next(all_named(element, name), None)


def all_named(element: Optional[Element], name: str) -> Iterator[Element]:
    """Every element named `name` under `element`, in document order."""
    if element is None:
        return iter(())
    return (node for node in element.iter(name) if node is not element)


def text_of(element: Optional[Element], name: str) -> Optional[str]:
    """The stripped text of the first element named `name` under `element`; None if empty."""
    found = child(element, name)
    value = (found.text or "").strip() if found is not None else ""
    return value or None


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
