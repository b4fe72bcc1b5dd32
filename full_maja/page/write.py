"""Writing `series.html` into the write folder: atomically, and only when it says something new.

A page whose inputs (the fingerprint kept in it, `inputs`) did not change is neither
rebuilt nor rewritten, so a cron rerun that finds nothing new leaves it alone. The
quick-looks of the products on disk are copied beside it. An OSError (disk full, folder
not writable, a link or FIFO planted where the page or its quick-looks folder go:
`NotOwnFile`, never followed) propagates: the caller decides whether it matters.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from ..atomic import atomic_write, refuse_unless_own, refuse_unless_own_folder
from ..quicklooks import QUICKLOOK_DIR, Previews
from ..series import SeriesReport
from .document import document
from .inputs import page_inputs, stamp_line, stamp_of
from .job import job_section

PAGE_NAME = "series.html"


def write_series_page(report: SeriesReport, write_dir: Path, *, title: str,
                      now: Optional[datetime] = None) -> Optional[Path]:
    """Write `write_dir/series.html` and its quick-looks; its path, or None if no job or folder."""
    folder = Path(write_dir)
    if not report.jobs or not folder.is_dir():
        return None
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    target = folder / PAGE_NAME
    refuse_unless_own(target)
    refuse_unless_own_folder(folder / QUICKLOOK_DIR)
    inputs = page_inputs(report, folder, title, moment)
    if stamp_of(target) == inputs:
        return target
    previews = Previews(folder)
    sections = [job_section(index, series, previews, moment)
                for index, series in enumerate(report.jobs, 1)]
    inputs = page_inputs(report, folder, title, moment)
    page = document(title, report, sections, moment, stamp_line(inputs))
    del sections
    atomic_write(target, page, follow_symlinks=False)
    return target

