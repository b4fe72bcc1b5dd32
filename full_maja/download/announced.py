"""What made a product not on disk yet, as the metadata files its source publishes say.

A catalogue lists each product's `_MTD_ALL.xml` and `_JPI_ALL.xml` beside its zip (the
`mtd_url` and `jpi_url` of its reference); a date skipped for clouds may have them and
no zip at all. Reading them gives the product's provenance before its zip is on disk, or
when it never will be. Each product's is read once: the texts are kept in the job memory
of the log (`LOG.state.json`), so a cron run costs no request for them. A file that
cannot be read (no API key, a refusal, a server in trouble) leaves that product's
provenance absent (kept as an empty text, not asked again until `--refresh`), never
guessed, and fails nothing: the product itself is what the run is for.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Optional

from ..errors import FullMajaError
from ..jobmemory import JobMemory
from ..products import ProductRef
from ..provenance import provenance_from_documents
from ..service import JobState
from ..session import PepsSession
from ..states import JobPhase, ProductOutcome
from . import ProductResult
from .facts import compact

if TYPE_CHECKING:
    from ..series import ProvenanceOf

READ_AT_ONCE = 8
"""Metadata files read side by side: a year of a tile has dozens of dates to describe."""
log = logging.getLogger(__name__)


def provenance_announced(session: PepsSession, states: Iterable[JobState],
                         results: Iterable[ProductResult], memory: JobMemory,
                         refresh: bool) -> ProvenanceOf:
    """The provenance of the finished jobs' products not on disk: a date skipped for
    clouds, a product still to come (on tape, or not fetched by `status`). Read once
    and kept in the job memory; `refresh` tries again those that could not be read."""
    ready = {result.url for result in results if result.outcome == ProductOutcome.READY}
    texts: dict[str, str] = {}
    for state in states:
        if state.report is None or state.phase != JobPhase.FINISHED:
            continue
        known = {name: text for name, text in memory.announced(state.job).items()
                 if text or not refresh}
        refs = [ref for ref in state.report.results if ref.cloudy or ref.url in ready]
        new = announced_provenance(session, refs, known)
        if new:
            memory.announce(state.job, new)
        texts.update(known)
        texts.update(new)
    return lambda name: (texts[name], None) if texts.get(name) else None


def announced_provenance(session: PepsSession, refs: Iterable[ProductRef],
                         known: Mapping[str, str]) -> dict[str, str]:
    """The provenance texts, by product name, of the `refs` whose metadata a source
    publishes and `known` does not hold yet; an unreadable one is an empty text."""
    wanted = {ref.label: ref for ref in refs if ref.mtd_url and ref.label not in known}
    if not wanted:
        return {}
    with ThreadPoolExecutor(min(READ_AT_ONCE, len(wanted)),
                            thread_name_prefix="full-maja-metadata") as pool:
        texts = pool.map(lambda ref: _read(session, ref), wanted.values())
        return {name: text or "" for name, text in zip(wanted, texts)}


def _read(session: PepsSession, ref: ProductRef) -> Optional[str]:
    """The provenance text of one product from its metadata files; None if unreadable."""
    mtd = _document(session, ref.mtd_url, f"the metadata of {ref.label}")
    if mtd is None:
        return None
    jpi = _document(session, ref.jpi_url, f"the processing information of {ref.label}")
    return compact(provenance_from_documents(mtd, jpi).as_record())


def _document(session: PepsSession, url: Optional[str], what: str) -> Optional[bytes]:
    if not url:
        return None
    try:
        document = session.get_document(url, what)
    except FullMajaError as exc:
        log.debug("%s: %s", what, exc)
        return None
    return document.content if document.status_code == 200 else None
