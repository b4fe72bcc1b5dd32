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
from typing import Optional

from ..errors import FullMajaError
from ..products import ProductRef
from ..provenance import provenance_from_documents
from ..session import PepsSession
from .facts import compact

READ_AT_ONCE = 8
"""Metadata files read side by side: a year of a tile has dozens of dates to describe."""
log = logging.getLogger(__name__)


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
