"""What the emulator remembers: jobs, requests seen and faults waiting to be used."""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Deque, Dict, Iterable, List, Optional, Tuple

from .acquisitions import ProductPlan, acquisitions, plan_products
from .config import EmulatorConfig, Fault
from .jobs import Job, JobIds
from .streaming import Hold

ANY_PRODUCT = "*"


@dataclass
class RequestRecord:
    """One request as the server saw it; bytes_sent grows while the body is sent."""

    method: str
    path: str
    query: Dict[str, str]
    range: Optional[str]
    authorized: bool
    has_auth_header: bool
    host: str
    bytes_sent: int = 0
    # time.monotonic() when the request was read, and when the last write of its whole
    # answer began (or when the answer was given up); None while the request is in flight,
    # which lasts a moment after the client has the whole answer: wait for it to be set
    started: float = field(default_factory=time.monotonic)
    finished: Optional[float] = None


RecordFilter = Callable[[RequestRecord], bool]


def max_in_flight(records: Iterable[RequestRecord]) -> int:
    """The most requests in flight at once; an unfinished one counts as in flight still."""
    events: List[Tuple[float, int]] = []
    for record in records:
        end = math.inf if record.finished is None else record.finished
        events += [(record.started, 1), (end, -1)]
    peak = current = 0
    for _, step in sorted(events):
        current += step
        peak = max(peak, current)
    return peak


class EmulatorState:
    """The shared, thread-safe memory of one emulator."""

    def __init__(self, config: EmulatorConfig) -> None:
        """Start empty, with the given live config."""
        self.config = config
        self.jobs: Dict[str, Job] = {}
        self.requests: List[RequestRecord] = []
        self.stopping = threading.Event()
        self.lock = threading.RLock()
        self._faults: Dict[str, Deque[Fault]] = {}
        self._holds: Dict[str, Hold] = {}
        self._ids = JobIds()

    def record(self, record: RequestRecord) -> RequestRecord:
        """Append a request record, in arrival order."""
        with self.lock:
            self.requests.append(record)
        return record

    def max_concurrency(self, where: Optional[RecordFilter] = None) -> int:
        """The most requests (those where() accepts, or all) in flight at once so far."""
        with self.lock:
            records = [record for record in self.requests if where is None or where(record)]
        return max_in_flight(records)

    def clear_requests(self) -> None:
        """Forget the requests seen so far."""
        with self.lock:
            self.requests.clear()

    def add_fault(self, target: str, fault: Fault) -> None:
        """Queue a fault for the next request to target."""
        with self.lock:
            self._faults.setdefault(target, deque()).append(fault)

    def take_fault(self, *targets: str) -> Optional[Fault]:
        """Use up the first queued fault of the first target that has one."""
        with self.lock:
            for target in targets:
                queue = self._faults.get(target)
                if queue:
                    return queue.popleft()
        return None

    def add_hold(self, target: str, hold: Hold) -> Hold:
        """Hold the answers for a product name (or "*": every product) as `hold` says."""
        with self.lock:
            self._holds[target] = hold
        return hold

    def hold_for(self, *targets: str) -> Optional[Hold]:
        """The hold of the first target that has one not released yet."""
        with self.lock:
            for target in targets:
                hold = self._holds.get(target)
                if hold is not None and not hold.released:
                    return hold
        return None

    def create_job(self, params: Dict[str, Any]) -> Job:
        """Register a new job for checked FULL_MAJA inputs."""
        config = self.config
        with self.lock:
            job_id = self._ids.next(config.job_id_style)
            job = Job(job_id, dict(params), list(config.timeline), config.registration_polls,
                      config.process_failed, self._plan(params))
            self.jobs[job_id] = job
        return job

    def _plan(self, params: Dict[str, Any]) -> ProductPlan:
        """The job's products: the configured names, or generated from its period."""
        config = self.config
        if config.products is not None:
            return ProductPlan(results=list(config.products))
        passes = acquisitions(params["tile"], params["orbit"],
                              date.fromisoformat(params["start"]),
                              date.fromisoformat(params["end"]), config.acquisition_step_days)
        return plan_products(passes, config.cloudy_every, config.unprocessed_every)

    def job(self, job_id: str) -> Optional[Job]:
        """A job by id, or None."""
        with self.lock:
            return self.jobs.get(job_id)

    def forget_job(self, job_id: str) -> None:
        """Purge a job, as the computing centre does with old ones: it answers 404 from now."""
        with self.lock:
            del self.jobs[job_id]

    def count_status_get(self, job: Job) -> None:
        """Note one GET of the job's status document."""
        with self.lock:
            job.status_gets += 1

    def set_job_status(self, job_status: str, job_ids: Iterable[str] = ()) -> None:
        """From now on, the named jobs (all when none is named) stay at job_status."""
        with self.lock:
            for job_id in list(job_ids) or list(self.jobs):
                job = self.jobs[job_id]
                job.timeline, job.refreshes = [job_status], 0

    def refresh(self, job: Job) -> None:
        """Advance a registered job by one timeline step."""
        with self.lock:
            if job.registered:
                job.refreshes += 1
