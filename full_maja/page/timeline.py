"""A job's timeline on the page: a mark per date across the period, and month ticks."""
from __future__ import annotations

from datetime import date
from typing import Optional

from ..estimate import job_dates
from ..series import JobSeries, SeriesEntry
from ..service import JobState
from .markup import escape

Period = tuple[date, date]
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
           "Dec")


def period(state: JobState, dated: list[SeriesEntry]) -> Optional[Period]:
    """The job's period, widened to its dates; the span of its dates if it has no period."""
    job = state.job
    if job.start and job.end and job.start <= job.end:
        start, end = job.start, job.end
        if dated:
            start = min(start, *(entry.date for entry in dated if entry.date))
            end = max(end, *(entry.date for entry in dated if entry.date))
        return start, end
    days = [entry.date for entry in dated if entry.date]
    return (min(days), max(days)) if days else None


def timeline(index: int, series: JobSeries, span: Period) -> str:
    """The strip of date marks, its month axis and its two ends."""
    start, end = span
    marks = _marks(index, series, span)
    ticks = "".join(
        f'<span class="tick{" odd" if number % 2 else ""}" '
        f'style="left:{_position(day, span):.2f}%">{escape(text)}</span>'
        for number, (day, text) in enumerate(_month_ticks(span)))
    return ("<div class=\"timeline\">"
            f'<div class="strip" aria-label="Timeline from {start.isoformat()} to '
            f'{end.isoformat()}">{"".join(marks)}</div>'
            f'<div class="axis" aria-hidden="true">{ticks}</div>'
            f'<div class="ends"><span>{start.isoformat()}</span>'
            f"<span>{end.isoformat()}</span></div></div>")


def _marks(index: int, series: JobSeries, span: Period) -> list[str]:
    """A band for the dates still to come of a running job, then a link per dated entry."""
    marks = []
    if not series.state.ended:
        dates = job_dates(series.state)
        label = (f"{dates} dates still to come" if dates else "dates still to come")
        marks.append(f'<span class="band" title="{escape(label)}" '
                     f'aria-label="{escape(label)}"></span>')
    for number, entry in enumerate(series.entries, 1):
        if entry.date is None:
            continue
        mark = entry.outcome.mark
        label = f"{entry.date.isoformat()}: {mark.label}"
        marks.append(f'<a class="mark o-{mark}" href="#j{index}-{number}" '
                     f'style="left:{_position(entry.date, span):.2f}%" '
                     f'title="{escape(label)}" aria-label="{escape(label)}" '
                     f'data-date="{entry.date.isoformat()}" data-outcome="{mark}"></a>')
    return marks


def _position(day: date, span: Period) -> float:
    """Where `day` falls in `span`, in percent of its width."""
    start, end = span
    days = (end - start).days
    if days <= 0:
        return 50.0
    return min(100.0, max(0.0, (day - start).days * 100.0 / days))


def _month_ticks(span: Period) -> list[tuple[date, str]]:
    """The first days of the months inside `span`, clear of its ends, with their names."""
    start, end = span
    ticks: list[tuple[date, str]] = []
    day = date(start.year, start.month, 1)
    while day <= end:
        if day >= start and 4.0 <= _position(day, span) <= 96.0:
            text = _MONTHS[day.month - 1]
            if day.month == 1 or not ticks:
                text += f" {day.year}"
            ticks.append((day, text))
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return ticks
