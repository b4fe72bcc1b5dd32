"""The fingerprint of everything a page shows, so that a page whose inputs did not change
is neither rebuilt nor are its quick-looks read again from the zips.

The inputs are the title, each job's state and dates (the mark of each date, as the
page shows it), the estimate of a job still waiting (it moves with time), and for each
product on disk its zip's size and time, or its extracted folder's time, and a digest
of its provenance as the verified record keeps it (not parsed).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

from ..capped import own_file
from ..estimate import estimate_text
from ..products import product_stem
from ..quicklooks import QUICKLOOK_DIR, quicklook_name
from ..series import JobSeries, SeriesEntry, SeriesReport
from ..states import DateMark

INPUTS_VERSION = 3
HEAD_BYTES = 4096
_STAMP = re.compile(r'<meta name="full-maja-inputs" content="([0-9a-f]{64})">')


def page_inputs(report: SeriesReport, folder: Path, title: str, moment: datetime) -> str:
    """The fingerprint (SHA-256, hex) of what the page of `report` would show."""
    data = {"version": INPUTS_VERSION, "title": title,
            "quicklooks": (folder / QUICKLOOK_DIR).is_dir(),
            "jobs": [_job_inputs(series, folder, moment) for series in report.jobs]}
    text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stamp_line(inputs: str) -> str:
    """The page's `<meta>` that keeps its fingerprint."""
    return f'<meta name="full-maja-inputs" content="{inputs}">'


def stamp_of(page: Path) -> Optional[str]:
    """The fingerprint kept in the page on disk, if any."""
    with own_file(page, "the series page") as handle:
        try:
            head = handle.read(HEAD_BYTES).decode("utf-8", "replace") if handle else ""
        except OSError:
            return None
    match = _STAMP.search(head)
    return match.group(1) if match else None


def _job_inputs(series: JobSeries, folder: Path, moment: datetime) -> dict[str, Any]:
    state = series.state
    where = os.fspath(folder)
    return {"job": series.as_json(products=False),
            "notes": state.notes,
            "estimate": None if state.ended else estimate_text(state, moment),
            "dates": [_entry_inputs(entry, where) for entry in series.entries]}


def _entry_inputs(entry: SeriesEntry, folder: str) -> list[Any]:
    mark = entry.outcome.mark
    disk = _disk(folder, entry.name) if mark == DateMark.ON_DISK else None
    message = entry.message if mark in (DateMark.FAILED, DateMark.CLOUDY) else ""
    quicklook = disk is not None and os.path.exists(
        f"{folder}{os.sep}{QUICKLOOK_DIR}{os.sep}{quicklook_name(entry.name)}")
    text = entry.provenance_text
    provenance = None if text is None else hashlib.sha256(
        f"{text}\0{entry.shared_text or ''}".encode()).hexdigest()[:16]
    return [entry.name, entry.date, str(mark), message, disk, quicklook, provenance]


def _disk(folder: str, name: str) -> Optional[list[int]]:
    """The size (-1 for a folder) and time of a product's zip, else of its extracted folder."""
    for path in (f"{folder}{os.sep}{name}", f"{folder}{os.sep}{product_stem(name)}"):
        try:
            found = os.stat(path)
        except (OSError, ValueError):
            continue
        return [found.st_size if stat.S_ISREG(found.st_mode) else -1, found.st_mtime_ns]
    return None
