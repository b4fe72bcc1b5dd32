"""The provenance told by the bytes of the two documents, `_MTD_ALL.xml` and `_JPI_ALL.xml`."""
from __future__ import annotations

from typing import Optional

from .elements import parse
from .job_informations import from_job_informations
from .metadata import from_metadata
from .record import Provenance


def provenance_from_documents(mtd: bytes, jpi: Optional[bytes] = None) -> Provenance:
    """The provenance told by the bytes of `_MTD_ALL.xml` and, if given, `_JPI_ALL.xml`.

    A document that does not parse counts as absent: its values stay None.
    """
    root = parse(mtd)
    facts = from_metadata(root) if root is not None else {}
    jobs = parse(jpi) if jpi is not None else None
    if jobs is not None:
        facts.update(from_job_informations(jobs))
    return Provenance(**facts)
