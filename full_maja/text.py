"""The text a user reads about jobs and series: states, dates, gaps and a summary."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Optional

from .estimate import estimate_text
from .series import JobSeries, SeriesReport
from .service import UNREACHABLE, JobState
from .states import (
    LEFT_TO_ANOTHER_RUN,
    NO_MESSAGE,
    OVER_CLOUDY,
    QUEUE_LIMIT,
    JobPhase,
    ProductOutcome,
    queue_reason,
)

RESUBMIT = "run this command with --resubmit"
"""How to submit a failed job again, unless the caller words it for its own command."""
PROCESSING_CAVEAT = ("The progress figure runs well ahead of reality: MAJA needs about an "
                     "hour for the first date and about 25 minutes for each further date.")
LOOK_AGAIN = "Run this command again later: once an hour is plenty (a cron job does it well)."


def job_heading(state: JobState) -> str:
    """`Job 1552 (tile 36TWQ, orbit 64, 2019-03-01 to 2019-09-01): finished.`"""
    job = state.job
    return f"Job {job.job_id} ({job.describe()}): {_state_words(state)}"


def queued_why(state: JobState) -> str:
    """Why the job waits: in the words of its own server."""
    reason = queue_reason(state.job.endpoint)
    busy = " while its computing centre is busy" if reason == QUEUE_LIMIT else ""
    return f"{reason[0].upper()}{reason[1:]}, and queues the others{busy}; the job waits " \
           "its turn."


def state_lines(state: JobState, now: Optional[datetime] = None, *,
                resubmit: str = RESUBMIT) -> list[str]:
    """What a user needs to know about a job that has not finished.

    `resubmit` says how to submit a failed job again with the command in use.
    """
    lines = [job_heading(state)]
    estimate = estimate_text(state, now or datetime.now(timezone.utc))
    if state.phase == JobPhase.QUEUED:
        lines += [f"  {queued_why(state)}", f"  {estimate}", f"  {LOOK_AGAIN}"]
    elif state.phase == JobPhase.PROCESSING:
        lines += [f"  {PROCESSING_CAVEAT}", f"  {estimate}", f"  {LOOK_AGAIN}"]
    elif state.server_state == UNREACHABLE:
        lines.append(f"  Could not check it: {state.message}")
    elif state.phase == JobPhase.FAILED:
        lines.append(f"  Server message: {state.message or NO_MESSAGE}")
        lines.append(f"  To submit it again: {resubmit}")
        for url in state.report.logs if state.report else []:
            lines.append(f"  Log: {url}")
    lines += [f"  Note: {note}" for note in state.notes]
    return lines


def series_lines(series: JobSeries, *, resubmit: str = RESUBMIT) -> list[str]:
    """The finished job's dates in order with their outcome, then the gaps."""
    lines = [job_heading(series.state)]
    if series.state.phase != JobPhase.FINISHED:
        return state_lines(series.state, resubmit=resubmit)
    lines.append(f"  Series, {len(series.entries)} products in date order:")
    for entry in series.entries:
        day = entry.date.isoformat() if entry.date else "(no date)"
        detail = entry.message if entry.outcome == ProductOutcome.FAILED else entry.name
        if entry.outcome == ProductOutcome.READY and entry.message:
            detail += f" ({entry.message})"
        lines.append(f"    {day}  {entry.outcome.word:<10}  {detail}")
    lines += _cloudy_lines(series) + _missing_lines(series)
    lines += [f"  Note: {note}" for note in series.state.notes]
    return lines


def summary_line(report: SeriesReport) -> str:
    """The one-line summary that ends every download run."""
    phases = Counter(job.state.phase for job in report.jobs)
    outcomes = Counter(entry.outcome for job in report.jobs for entry in job.entries)
    parts = [_count(len(report.jobs), "job") + ": " + ", ".join(
        f"{count} {phase}" for phase, count in phases.items())]
    on_disk = sum(count for outcome, count in outcomes.items() if outcome.on_disk)
    if phases[JobPhase.FINISHED]:
        parts.append(f"{_count(on_disk, 'product')} on disk "
                     f"({outcomes[ProductOutcome.DOWNLOADED]} downloaded now)")
        parts.append(f"{outcomes[ProductOutcome.CLOUDY]} skipped for clouds")
        parts.append(f"{sum(job.unprocessed or 0 for job in report.jobs)} not processed")
    if outcomes[ProductOutcome.FAILED]:
        parts.append(f"{_count(outcomes[ProductOutcome.FAILED], 'product')} FAILED")
    elsewhere = _left_to_another_run(report)
    if elsewhere:
        parts.append(f"{_count(elsewhere, 'product')} being written by another run")
    if outcomes[ProductOutcome.READY] > elsewhere:
        parts.append(f"{_count(outcomes[ProductOutcome.READY] - elsewhere, 'product')} not "
                     "ready yet at the source (on tape)")
    return "Summary: " + "; ".join(parts) + ". " + _verdict(report, outcomes)


def _left_to_another_run(report: SeriesReport) -> int:
    """How many products still to come another run sharing the folder is writing."""
    return sum(1 for job in report.jobs for entry in job.entries
               if entry.outcome == ProductOutcome.READY and entry.message == LEFT_TO_ANOTHER_RUN)


def status_table(report: SeriesReport) -> list[str]:
    """One row per job: tile, orbit, period, id, state, progress and product counts."""
    header = ("TILE", "ORBIT", "PERIOD", "JOB", "STATE", "PROGRESS",
              "READY", "ON DISK", "CLOUDY", "MISSING")
    rows = [header] + [_status_row(job) for job in report.jobs]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in rows]
    now = datetime.now(timezone.utc)
    return lines + [f"Job {job.state.job.job_id}: {estimate_text(job.state, now)}"
                    for job in report.waiting if estimate_text(job.state, now)]


def _status_row(series: JobSeries) -> tuple[str, ...]:
    job, state = series.state.job, series.state
    outcomes = Counter(entry.outcome for entry in series.entries)
    finished = state.phase == JobPhase.FINISHED
    period = f"{job.start}..{job.end}" if job.start and job.end else "-"

    def figure(value: int) -> str:
        return str(value) if finished else "-"

    return (job.tile or "-", str(job.orbit) if job.orbit is not None else "-", period,
            job.job_id, state.server_state, state.progress or "-",
            figure(sum(outcomes.values()) - outcomes[ProductOutcome.CLOUDY]
                   - outcomes[ProductOutcome.MISSING]),
            figure(sum(count for outcome, count in outcomes.items() if outcome.on_disk)),
            figure(outcomes[ProductOutcome.CLOUDY]),
            str(series.unprocessed) if finished and series.unprocessed is not None else "-")


def _cloudy_lines(series: JobSeries) -> list[str]:
    cloudy = series.with_outcome(ProductOutcome.CLOUDY)
    if not cloudy:
        return ["  Skipped for clouds: none."]
    days = ", ".join(_day(entry.date) for entry in cloudy)
    why = f"{OVER_CLOUDY}, or cloudier than asked" if any(entry.message for entry in cloudy) \
        else OVER_CLOUDY
    return [f"  Skipped for clouds ({len(cloudy)}, {why}): {days}"]


def _missing_lines(series: JobSeries) -> list[str]:
    count = series.unprocessed
    missing = series.with_outcome(ProductOutcome.MISSING)
    if not count and not missing:
        return ["  Not processed: none."]
    lines = [f"  Not processed: {_count(count or len(missing), 'product')} "
             "(split acquisitions, or the tape robot was overloaded)"]
    lines += [f"    {_day(entry.date)}  {entry.name}" for entry in missing]
    if count and not missing:
        lines.append("    (the server does not say which ones)")
    return lines


def _verdict(report: SeriesReport, outcomes: Counter) -> str:
    if report.failed or report.failed_products or report.problems:
        return "Something failed: see the messages above, then run again."
    if report.waiting:
        return "Not finished yet: run again later."
    if _left_to_another_run(report):
        return ("Another full-maja run is writing products of this series into the same "
                "folder: the series is not complete yet; run again once it has finished.")
    if outcomes[ProductOutcome.READY]:
        return "The series is not complete yet: run again later for the products to come."
    return "The series is complete."


def _state_words(state: JobState) -> str:
    text = f"{state.phase} ({state.server_state})"
    if state.phase == JobPhase.PROCESSING and state.progress:
        text += f", progress {state.progress}"
    return text + "."


def _day(value: Optional[object]) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else "(no date)"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
