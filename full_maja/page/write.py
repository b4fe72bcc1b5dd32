"""Writing `series.html` into the write folder: atomically, and only when it says something new.

The page covers the whole folder: each log whose runs write there keeps its part (its
job sections, `logparts`), and the page shows the part of every log, in the order the
logs first came, each under its name when there are several. A log's part whose inputs
(the fingerprint `inputs`) did not change is not rendered again (nor its quick-looks
read again from the zips), and a page whose parts did not change is not rewritten, so
a cron rerun that finds nothing new leaves it alone. The quick-looks of the products on
disk are copied beside it. An OSError (disk full, folder not writable, a link or FIFO
planted where the page, its parts or its quick-looks folder go: `NotOwnFile`, never
followed) propagates: the caller decides whether it matters.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from ..atomic import atomic_write, refuse_unless_own, refuse_unless_own_folder
from ..estimate import format_time
from ..quicklooks import QUICKLOOK_DIR, Previews
from ..series import SeriesReport
from ..states import DateMark
from .document import document, report_counts, summary
from .inputs import page_inputs, stamp_line, stamp_of
from .job import job_section
from .logparts import LogPart, held_parts, log_key
from .markup import escape

PAGE_NAME = "series.html"
JOB_IDS_PER_LOG = 100_000


def write_series_page(report: SeriesReport, write_dir: Path, *, title: str,
                      now: Optional[datetime] = None,
                      log: Optional[Path] = None) -> Optional[Path]:
    """Write `write_dir/series.html` with `report` as the part of `log`, named `title`.

    Its path, or None if the report has no job or the folder does not exist. The page
    also shows the parts other logs' runs left in the folder (`logparts`).
    """
    folder = Path(write_dir)
    if not report.jobs or not folder.is_dir():
        return None
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    target = folder / PAGE_NAME
    refuse_unless_own(target)
    refuse_unless_own_folder(folder / QUICKLOOK_DIR)
    with held_parts(folder) as parts:
        key = log_key(log, title, folder)
        mine = parts.get(key)
        if mine is None or mine.inputs != page_inputs(report, folder, title, moment):
            number = mine.number if mine is not None else parts.next_number()
            parts.put(_rendered(report, folder, key, title, number, moment))
        shown = parts.current()
        parts.save()
        stamp = _stamp(shown)
        if stamp_of(target) != stamp:
            atomic_write(target, _page(shown, moment, stamp), follow_symlinks=False)
    return target


def _rendered(report: SeriesReport, folder: Path, key: str, title: str, number: int,
              moment: datetime) -> LogPart:
    """The part of one log: its job sections, numbered apart from the other logs' jobs."""
    facts = report.facts
    first = (number - 1) * JOB_IDS_PER_LOG
    record = facts.record if facts and facts.covers(folder) else None
    with Previews(folder, record, batched=True) as previews:
        sections = [job_section(first + index, series, previews, moment)
                    for index, series in enumerate(report.jobs, 1)]
    phases, marks = report_counts(report)
    return LogPart(key=key, title=title, number=number,
                   inputs=page_inputs(report, folder, title, moment),
                   written=moment.isoformat(), phases=phases, marks=marks, sections=sections)


def _stamp(parts: list[LogPart]) -> str:
    """The fingerprint of a page of these parts."""
    text = json.dumps([[part.key, part.number, part.title, part.inputs] for part in parts])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _page(parts: list[LogPart], moment: datetime, stamp: str) -> str:
    """The page of every log's part; a heading names each log when there are several."""
    phases = [phase for part in parts for phase in part.phases]
    counts = {mark: sum(part.marks.get(mark, 0) for part in parts) for mark in DateMark}
    sections = []
    for part in parts:
        if len(parts) > 1:
            sections.append(_log_heading(part))
        sections.extend(part.sections)
    title = ", ".join(part.title for part in parts)
    return document(title, summary(phases, counts), sections, moment, stamp_line(stamp))


def _log_heading(part: LogPart) -> str:
    """`job.log`, and when its run last brought its part up to date."""
    try:
        written = format_time(datetime.fromisoformat(part.written))
    except ValueError:
        written = part.written
    return (f'<h2 class="log" id="log-{part.number}">Log {escape(part.title)}</h2>'
            f'<p class="meta">Its jobs as its last download run saw them, '
            f"{escape(written)}.</p>")
