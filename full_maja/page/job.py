"""One job's section of the page: its state, a notice or its counts, timeline and date cards."""
from __future__ import annotations

from datetime import datetime

from ..estimate import estimate_text
from ..provenance import Provenance
from ..quicklooks import Preview, Previews
from ..series import JobSeries, SeriesEntry
from ..service import JobState
from ..states import NO_MESSAGE, DateMark, JobPhase, ProductOutcome, queue_reason
from .markup import counts_text, escape, mark_counts, plural
from .timeline import period, timeline

NOT_STATED = "not stated"


def job_section(index: int, series: JobSeries, previews: Previews, moment: datetime) -> str:
    """The `<section>` of the `index`th job of the page."""
    state = series.state
    job = state.job
    parts = [f'<section class="job" id="job-{index}" data-job="{escape(job.job_id)}" '
             f'data-phase="{escape(state.phase)}">',
             f"<h2>{escape(_job_title(state))}</h2>",
             f'<p class="state">Job {escape(job.job_id)}: '
             f'<b class="phase-{escape(state.phase)}">{escape(_state_text(state))}</b></p>']
    if not state.ended:
        parts.append(_waiting_notice(state, moment))
    elif state.phase == JobPhase.FAILED:
        parts.append(_failure_notice(state))
    else:
        parts.append(_series_counts(series))
    dated = [entry for entry in series.entries if entry.date is not None]
    span = period(state, dated)
    if span is not None and (dated or not state.ended):
        parts.append(timeline(index, series, span))
    if series.entries:
        cards = "".join(_card(index, number, entry, _preview(previews, entry))
                        for number, entry in enumerate(series.entries, 1))
        parts.append(f'<ol class="cards">{cards}</ol>')
    parts.extend(f'<p class="note">Note: {escape(note)}</p>' for note in state.notes)
    parts.append("</section>")
    return "\n".join(parts)


def _preview(previews: Previews, entry: SeriesEntry) -> Preview:
    """The quick-look, cloud cover and link of a product on disk; nothing for the others."""
    return previews.of(entry.name) if entry.outcome.mark == DateMark.ON_DISK else Preview()


def _job_title(state: JobState) -> str:
    """`Tile 36TWQ · orbit 64 · 2019-03-01 to 2019-09-01`."""
    job = state.job
    words = [f"Tile {job.tile}" if job.tile else "Tile not recorded"]
    words.append(f"orbit {job.orbit}" if job.orbit is not None else "all orbits")
    if job.start and job.end:
        words.append(f"{job.start.isoformat()} to {job.end.isoformat()}")
    return " · ".join(words)


def _state_text(state: JobState) -> str:
    """`processing (STARTED), progress 35%`."""
    text = f"{state.phase} ({state.server_state})"
    if not state.ended and state.progress:
        text += f", progress {state.progress}"
    return text


def _waiting_notice(state: JobState, moment: datetime) -> str:
    """Why a queued or processing job has no dates yet, and when to expect them."""
    if state.phase == JobPhase.QUEUED:
        first = f"The job is queued: {queue_reason(state.job.endpoint)} and the job waits " \
                "its turn."
    else:
        progress = f" The server's progress figure is {state.progress}, which runs well " \
                   "ahead of reality." if state.progress else ""
        first = f"The job is processing.{progress}"
    return (f'<div class="notice"><p>{escape(first)}</p>'
            f'<p class="estimate">{escape(estimate_text(state, moment))}</p>'
            "<p>The dates appear here once the job has ended.</p></div>")


def _failure_notice(state: JobState) -> str:
    """The server's message and logs of a failed job, and how to submit it again."""
    lines = [f"<p>Server message: {escape(state.message or NO_MESSAGE)}</p>"]
    logs = state.report.logs if state.report else []
    lines += [f"<p>Processing log: <code>{escape(url)}</code></p>" for url in logs]
    lines.append("<p>To submit the job again: <code>full-maja resubmit</code> (or the "
                 "download script's <code>--resubmit</code>).</p>")
    return f'<div class="notice problem">{"".join(lines)}</div>'


def _series_counts(series: JobSeries) -> str:
    """How many dates of a finished job show with each mark, and the unlisted unprocessed."""
    counts = mark_counts(series.entries)
    text = counts_text(counts) if counts else "no product"
    parts = [f'<p class="counts">{len(series.entries)} dates: {escape(text)}.</p>']
    listed = len(series.with_outcome(ProductOutcome.MISSING))
    if series.unprocessed and series.unprocessed > listed:
        unlisted = plural(series.unprocessed - listed, "more product")
        parts.append(f'<p class="counts">{unlisted} not processed; the server does not say '
                     "which dates.</p>")
    return "".join(parts)


def _card(index: int, number: int, entry: SeriesEntry, preview: Preview) -> str:
    """The card of one date: its day, mark, quick-look or placeholder, cloud cover and name."""
    mark = entry.outcome.mark
    day = entry.date.isoformat() if entry.date else "(no date)"
    parts = [f'<li class="card c-{mark}" id="j{index}-{number}" data-date="{escape(day)}" '
             f'data-outcome="{mark}">',
             f'<div class="head"><time>{escape(day)}</time>'
             f'<span class="badge o-{mark}">{escape(mark.label)}</span></div>',
             _thumb(day, mark, preview)]
    if preview.cloud is not None:
        parts.append(f'<p class="cloud">Cloud {escape(_percent(preview.cloud))} %</p>')
    provenance = entry.provenance
    if provenance is not None:
        parts.append(_provenance(provenance))
    name = escape(entry.name)
    parts.append(f'<p class="name"><a href="{escape(preview.link)}">{name}</a></p>'
                 if preview.link else f'<p class="name">{name}</p>')
    if entry.message and mark in (DateMark.FAILED, DateMark.CLOUDY):
        parts.append(f'<p class="message">{escape(entry.message)}</p>')
    parts.append("</li>")
    return "".join(parts)


def _provenance(provenance: Provenance) -> str:
    """What made the product, as its metadata says; absent values said to be absent."""
    produced = provenance.production_date
    snow = provenance.snow_cover
    lines = [f"Version {provenance.product_version or NOT_STATED}, produced "
             f"{produced.date().isoformat() if produced else NOT_STATED}",
             f"CAMS {provenance.cams or NOT_STATED}, mode "
             f"{provenance.processing_mode or NOT_STATED}",
             f"Snow {_percent(snow) + ' %' if snow is not None else NOT_STATED}"]
    return "".join(f'<p class="provenance">{escape(line)}</p>' for line in lines)


def _thumb(day: str, mark: DateMark, preview: Preview) -> str:
    """The quick-look, linked to the product when it has a link; else the mark's placeholder."""
    if not preview.image:
        return f'<div class="thumb empty">{escape(mark.placeholder)}</div>'
    image = (f'<img src="{escape(preview.image)}" alt="Quick-look of {escape(day)}" '
             'width="160" height="160">')
    return (f'<a class="thumb" href="{escape(preview.link)}">{image}</a>'
            if preview.link else f'<div class="thumb">{image}</div>')


def _percent(value: float) -> str:
    """`42` or `12.5`."""
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"
