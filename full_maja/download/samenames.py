"""One product name, several URLs: each name is fetched once, and a size that differs is a conflict.

Two jobs may list the same product (a tile submitted twice, overlapping periods): one
writer per name, so the first URL of a name is fetched and the others share its
result. Whether another URL gives the product on disk is the downloader's to judge
(its size, asked once and kept in the verified record); a different size is reported
as a conflict for that URL, and the product on disk stays the one first downloaded.
Bytes that differ at the same size cannot be told apart without fetching twice.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Iterator, Optional

from ..errors import FullMajaError, ProductError
from ..products import ProductRef
from ..session import PepsSession
from ..states import ProductOutcome

if TYPE_CHECKING:
    from .downloader import ProductResult

log = logging.getLogger(__name__)
Conflict = Callable[["ProductResult", ProductRef], Optional[str]]


class SameNames:
    """The products of a run grouped by the name they are given, in their order (one per URL)."""

    def __init__(self, refs: list[ProductRef]) -> None:
        self.refs: dict[str, ProductRef] = {}
        for ref in refs:
            self.refs.setdefault(ref.url, ref)
        self.urls = list(self.refs)
        self.names: dict[str, Optional[str]] = {url: _name(ref) for url, ref in self.refs.items()}
        self.first: dict[str, str] = {}
        for url, name in self.names.items():
            if name is not None:
                self.first.setdefault(name, url)

    def first_refs(self) -> Iterator[tuple[ProductRef, Optional[str]]]:
        """Each product to fetch: the first of its name, or one whose name cannot be read."""
        for url, name in self.names.items():
            if name is None or self.first[name] == url:
                yield self.refs[url], name

    def results(self, done: dict[str, ProductResult], conflict: Conflict) -> list[ProductResult]:
        """One result per URL, in order; a URL sharing a name gets the first URL's result."""
        return [done[url] if url in done else self._shared(url, done, conflict)
                for url in self.urls]

    def _shared(self, url: str, done: dict[str, ProductResult],
                conflict: Conflict) -> ProductResult:
        name = self.names[url]
        assert name is not None
        first = done[self.first[name]]
        problem = conflict(first, self.refs[url])
        if problem is None:
            return replace(first, url=url)
        log.error("%s", problem)
        return replace(first, url=url, outcome=ProductOutcome.FAILED, message=problem)


def announced_size(session: PepsSession, url: str) -> Optional[int]:
    """The size the server announces for `url` (HEAD); None when it does not say."""
    try:
        with session.head(url, allow_redirects=True,
                          headers={"Accept-Encoding": "identity"}) as response:
            length = response.headers.get("Content-Length")
            ok = response.status_code == 200
    except FullMajaError as exc:
        log.warning("could not ask the size of %s: %s", url, exc)
        return None
    return int(length) if ok and length and length.isdigit() else None


def _name(ref: ProductRef) -> Optional[str]:
    try:
        return ref.file_name()
    except ProductError:
        return None
