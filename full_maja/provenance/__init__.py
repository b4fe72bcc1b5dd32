"""What made a product, as its MUSCATE metadata says (`_MTD_ALL.xml`, `DATA/_JPI_ALL.xml`).

One reader for every output (the verified record, `--json`, the page's cards, the STAC
catalogue) and every source (a zip on disk, an extracted folder, the bytes of the two
documents). Both documents are parsed with defusedxml, tag names without namespace;
every element may be absent, and an absent value stays None: neither file names the
MAJA software version nor the DEM, so nothing here does either.

`record` holds what is read (`Provenance`) and its JSON form; `metadata` and
`job_informations` read one document each, on the elements `elements` finds and the
values `values` reads; `documents` tells the provenance of the two documents' bytes;
`on_disk` finds them in a product zip or extracted folder.
"""
from __future__ import annotations

from .documents import provenance_from_documents
from .metadata import MAX_ORBIT
from .on_disk import JPI_SUFFIX, MTD_SUFFIX, read_provenance
from .record import DemStatistics, Grid, Provenance

__all__ = ["JPI_SUFFIX", "MAX_ORBIT", "MTD_SUFFIX", "DemStatistics", "Grid", "Provenance",
           "provenance_from_documents", "read_provenance"]
