"""Checking a log's jobs side by side, and what the job memory spares of those checks."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Callable, Mapping, Optional

from .download import Downloader
from .jobmemory import JobMemory
from .jobrecord import JobRecord
from .series import SeriesReport, products_to_fetch
from .service import GONE, JobState

CHECKS_AT_ONCE = 8
"""Jobs checked side by side: enough to hide a distant server's latency, few for one server."""
Settled = Callable[[JobState], bool]
log = logging.getLogger(__name__)


def check_side_by_side(check_job: Callable[[JobRecord, Optional[str]], JobState],
                       jobs: list[JobRecord], memory: JobMemory, settled: Optional[Settled],
                       hints: Mapping[str, str]) -> list[JobState]:
    """Each job's state, in order; a remembered one that `settled` accepts is not asked.

    A job the server no longer knows (GONE) that a run saw finished with every
    product on disk keeps that remembered state: servers purge old jobs, and a
    series once complete is not submitted again for it.
    """
    def one(job: JobRecord) -> JobState:
        final = memory.final_state(job)
        if final is not None and settled is not None and settled(final):
            return final
        state = check_job(job, hints.get(job.job_id) or memory.hint(job))
        if state.server_state == GONE and final is not None:
            return replace(final, notes=[*final.notes, f"{state.message}; its report as a "
                                         "run last saw it is used"])
        return state

    if len(jobs) <= 1:
        return [one(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=min(CHECKS_AT_ONCE, len(jobs)),
                            thread_name_prefix="full-maja-check") as pool:
        return list(pool.map(one, jobs))


def settled_by(downloader: Downloader) -> Settled:
    """Whether a remembered finished state may stand: every product it lists is on disk."""
    def settled(state: JobState) -> bool:
        return all(downloader.holds(ref) for ref in products_to_fetch(state))
    return settled


def remember(memory: JobMemory, report: SeriesReport) -> list[str]:
    """Keep what this run learnt of the jobs; the problem, if the memory cannot be written."""
    for series in report.jobs:
        memory.learn(series.state, complete=series.complete)
    try:
        memory.save()
    except OSError as exc:
        problem = (f"cannot write {memory.path} ({exc.strerror or exc}); the next run "
                   "asks the server about every job again")
        log.error("%s", problem)
        return [problem]
    return []
