"""How many dates a job holds and when it may end, from MAJA's documented pace.

Everything here is a pure function of its arguments (`now` is always passed in), so the
page, the text report and `--status` say the very same sentence, and tests can pin time.
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta, timezone
from typing import Optional

from .service import JobState
from .states import JobPhase

REVISIT_DAYS = 5
"""Sentinel-2A and 2B together see each relative orbit of a tile every 5 days."""
ORBITS_WITHOUT_ORBIT = 2
"""A job without a relative orbit processes every orbit seeing the tile: assume two."""
FIRST_DATE_MINUTES = 60
FURTHER_DATE_MINUTES = 25
ROUND_MINUTES = 15
PACE = "1 h for the first date, 25 min for each further one"
_PERCENT = re.compile(r"\d+(?:\.\d+)?")


def expected_dates(start: date, end: date, orbit: Optional[int]) -> int:
    """The acquisitions a period holds: one per relative orbit every 5 days, both ends in.

    Without an orbit, the tile is assumed to be seen from two orbits. A period that
    ends before it starts holds none.
    """
    if end < start:
        return 0
    per_orbit = (end - start).days // REVISIT_DAYS + 1
    return per_orbit * (1 if orbit is not None else ORBITS_WITHOUT_ORBIT)


def processing_minutes(dates: int) -> int:
    """MAJA's documented pace: 60 minutes for the first date, 25 for each further one."""
    if dates <= 0:
        return 0
    return FIRST_DATE_MINUTES + FURTHER_DATE_MINUTES * (dates - 1)


def job_dates(state: JobState) -> Optional[int]:
    """The dates the job is expected to hold, or None when the log lacks its period."""
    job = state.job
    if job.start is None or job.end is None:
        return None
    return max(1, expected_dates(job.start, job.end, job.orbit))


def estimate_end(state: JobState, now: datetime) -> Optional[datetime]:
    """When a job that has not ended may end, in UTC, or None when it cannot be told.

    The full duration D is `processing_minutes(expected dates of the period)`.

    - queued: `now + D`. The job has not started, so this is the earliest end (the
      queue may last longer still).
    - processing: the largest of three lower bounds, because each one errs early:
      `submitted + D` (processing cannot have started before the submission; it may
      have started later, after a wait in the queue), `now + D * (1 - progress)` (the
      progress figure is known to run well ahead of reality), and `now + 25 min` (a job
      still processing needs at least the time of the date under way). Without a
      progress figure the second bound is left out. Progress is never trusted alone:
      without a readable submission time the estimate is `now + D`, as if the job had
      just started (the only safe reading when nothing says how long it has run).
    - finished, failed, or a job whose log does not record the period: None.

    The result is rounded up to the next quarter hour: the pace is an order of
    magnitude, not a schedule.
    """
    dates = job_dates(state)
    if dates is None or state.ended:
        return None
    now = _utc(now)
    total = timedelta(minutes=processing_minutes(dates))
    if state.phase == JobPhase.QUEUED:
        return _round_up(now + total)
    bounds = [now + timedelta(minutes=FURTHER_DATE_MINUTES)]
    submitted = _parse_time(state.job.submitted)
    if submitted is None:
        bounds.append(now + total)
    else:
        bounds.append(min(submitted, now) + total)
        percent = progress_percent(state.progress)
        if percent is not None:
            bounds.append(now + total * (1 - percent / 100))
    return _round_up(max(bounds))


def estimate_text(state: JobState, now: datetime) -> str:
    """One sentence on the dates expected and the likely end; empty once a job has ended.

    The page, the text report and `--status` all print this very sentence.
    """
    if state.ended:
        return ""
    dates = job_dates(state)
    if dates is None:
        return ("The log does not record the job's period, so the number of dates and the "
                f"end cannot be estimated; MAJA's pace is {PACE}, a day for a one-year "
                "series.")
    when = format_time(estimate_end(state, now) or _utc(now))
    counted = f"About {dates} date{'' if dates == 1 else 's'} expected"
    if state.job.orbit is None:
        counted += " (no orbit given: two orbits assumed)"
    duration = format_duration(processing_minutes(dates))
    if state.phase == JobPhase.QUEUED:
        return (f"{counted}; MAJA's pace ({PACE}) means about {duration} of processing "
                f"once the job leaves the queue, so it may end around {when} at the "
                "earliest.")
    return (f"{counted}; MAJA's pace ({PACE}) means about {duration} in all, so it may "
            f"end around {when}.")


def progress_percent(progress: Optional[str]) -> Optional[float]:
    """The number in a progress figure such as `35%`, clamped to 0..100, or None."""
    match = _PERCENT.search(progress or "")
    if not match:
        return None
    return min(100.0, max(0.0, float(match.group())))


def format_time(moment: datetime) -> str:
    """`2026-11-24 07:00 UTC`."""
    return _utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def format_duration(minutes: int) -> str:
    """`25 min`, `1 h`, `7 h 15 min`."""
    hours, rest = divmod(max(0, minutes), 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _parse_time(text: Optional[str]) -> Optional[datetime]:
    """A time a log or a server wrote, in UTC; None when it cannot be read or placed in UTC.

    Any text is accepted: one that is not an ISO 8601 time, or that lies beyond what
    a UTC time can hold (year 1 at +05:00), counts as no time at all.
    """
    if not text:
        return None
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        return _utc(datetime.fromisoformat(value))
    except (ValueError, OverflowError):
        return None


def _round_up(moment: datetime) -> datetime:
    base = moment.replace(second=0, microsecond=0)
    if base < moment:
        base += timedelta(minutes=1)
    minutes = base.hour * 60 + base.minute
    step = math.ceil(minutes / ROUND_MINUTES) * ROUND_MINUTES
    return base + timedelta(minutes=step - minutes)
