"""A job's timeline on the page: a mark per date across the period, and month ticks.

Any date a server sends is drawn or said, never a crash: the strip covers the job's
period (or, for a log without one, the middle one of its dates) widened to the dates
at most `WIDEN_DAYS` away from it; a date farther still (year 9999, year 1) keeps its
card, with its date as it is, and is named under the strip as left off it. Month
ticks thin out to years, decades... so that a strip never holds more than `MAX_TICKS`.
"""
from __future__ import annotations

import statistics
from datetime import date
from typing import Optional

from ..estimate import job_dates
from ..series import JobSeries, SeriesEntry
from ..service import JobState
from .markup import escape

Period = tuple[date, date]
WIDEN_DAYS = 366
MAX_TICKS = 24
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
           "Dec")


def period(state: JobState, dated: list[SeriesEntry]) -> Optional[Period]:
    """The strip's span: the job's period (or its middle date) widened to the dates near it."""
    days = [entry.date for entry in dated if entry.date]
    job = state.job
    if job.start and job.end and job.start <= job.end:
        start, end = job.start, job.end
    elif days:
        start = end = statistics.median_low(days)
    else:
        return None
    near = [day for day in days if _near((start, end), day)]
    return min([start, *near]), max([end, *near])


def _near(span: Period, day: date) -> bool:
    """True when `day` is at most WIDEN_DAYS outside `span`."""
    start, end = span
    return (start - day).days <= WIDEN_DAYS and (day - end).days <= WIDEN_DAYS


def timeline(index: int, series: JobSeries, span: Period) -> str:
    """The strip of date marks, its month axis, its two ends, and the dates left off it."""
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
            f"<span>{end.isoformat()}</span></div></div>{_left_off(series, span)}")


def _left_off(series: JobSeries, span: Period) -> str:
    """A note naming the dates too far from the period to be drawn on its strip."""
    far = sorted({entry.date for entry in series.entries
                  if entry.date is not None and not span[0] <= entry.date <= span[1]})
    if not far:
        return ""
    days = ", ".join(day.isoformat() for day in far)
    return (f'<p class="note">{len(far)} date{"" if len(far) == 1 else "s"} far outside the '
            f"period, left off the timeline (see the cards): {escape(days)}</p>")


def _marks(index: int, series: JobSeries, span: Period) -> list[str]:
    """A band for the dates still to come of a running job, then a link per dated entry."""
    marks = []
    if not series.state.ended:
        dates = job_dates(series.state)
        label = (f"{dates} dates still to come" if dates else "dates still to come")
        marks.append(f'<span class="band" title="{escape(label)}" '
                     f'aria-label="{escape(label)}"></span>')
    for number, entry in enumerate(series.entries, 1):
        if entry.date is None or not span[0] <= entry.date <= span[1]:
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
    """The first days of the months inside `span`, clear of its ends, with their names.

    Over a long span, only every 12th, 120th... month: never more than MAX_TICKS.
    """
    start, end = span
    first, last = _month_number(start), _month_number(end)
    step = 1
    while (last - first) // step > MAX_TICKS:
        step = 12 if step == 1 else step * 10
    begin = first if step == 1 else -(-first // step) * step
    ticks: list[tuple[date, str]] = []
    for number in range(begin, last + 1, step):
        day = date(number // 12, number % 12 + 1, 1)
        if day >= start and 4.0 <= _position(day, span) <= 96.0:
            text = _MONTHS[day.month - 1] if step == 1 else ""
            if day.month == 1 or not ticks:
                text = f"{text} {day.year}".strip()
            ticks.append((day, text))
    return ticks


def _month_number(day: date) -> int:
    """Months since the start of year 0: January of year 1 is 12."""
    return day.year * 12 + day.month - 1
