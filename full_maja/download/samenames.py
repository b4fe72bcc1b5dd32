"""One product name, several URLs: each name is fetched once, and a size that differs is a conflict.

Two jobs may list the same product (a tile submitted twice, overlapping periods): one
writer per name, so the first URL of a name is fetched and the others share its
result. Whether another URL gives the product on disk is judged by its size (and MD5)
when its source publishes them, else by the size the server announces, asked once and
kept in the verified record (`disagreement`); a different size is reported as a
conflict for that URL, and the product on disk stays the one first downloaded. Bytes
that differ at the same size cannot be told apart without fetching twice.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Iterator, Optional

from ..errors import FullMajaError, ProductError
from ..products import ProductRef
from ..session import PepsSession
from ..states import ProductOutcome
from .verified import VerifiedRecord

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


def disagreement(record: VerifiedRecord, session: PepsSession, name: str,
                 ref: ProductRef) -> Optional[str]:
    """Why `ref` does not give the product on disk, which another URL gave; else None.

    A size (and MD5) the source publishes is compared with the record at once;
    otherwise the other URL's size is asked once (HEAD) and recorded: a conflict is
    told by every run, a URL that agrees costs nothing more.
    """
    entry = record.entry(name) or {}
    source, kept, url = entry.get("source"), entry.get("size"), ref.url
    if ref.size is not None and isinstance(kept, int):
        return _published_conflict(name, ref, kept, entry.get("md5"))
    if not isinstance(source, str) or source == url or not isinstance(kept, int):
        return None
    others = entry.get("others")
    size = others.get(url) if isinstance(others, dict) else None
    if not isinstance(size, int):
        size = announced_size(session, url)
        if size is None:
            return None
        record.note_other_source(name, url, size)
    if size == kept:
        return None
    return (f"{name}: conflict: two jobs give different products of this name "
            f"({kept} bytes kept, {size} bytes at {url}); the one on disk is "
            "the one first downloaded")


def _published_conflict(name: str, ref: ProductRef, kept: int,
                        kept_md5: object) -> Optional[str]:
    """Why the product on disk is not the one the source publishes (size, MD5); else None."""
    if ref.size == kept and (ref.md5 is None or kept_md5 in (None, ref.md5)):
        return None
    what = (f"{kept} bytes kept, {ref.size} bytes published" if ref.size != kept
            else "the MD5 recorded differs from the one published")
    return (f"{name}: conflict: the product on disk is not the one {ref.url} gives ({what}); "
            "the one on disk is kept: move it away to fetch the published one")


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
