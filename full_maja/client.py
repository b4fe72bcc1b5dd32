"""The Python API: submit jobs, follow them, download their products, report the series."""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional, Sequence, Union

from .credentials import Credentials, resolve_credentials
from .download import DEFAULT_SPLIT_POLICY, Downloader, ProductResult, SplitPolicy
from .errors import FullMajaError, JobLogError, NetworkError, ServiceError, UsageError
from .joblog import JobLog, check_log_is_free, log_holds_jobs, read_job_log, write_job_log
from .jobrecord import JobRecord
from .lock import hold_lock
from .products import product_name_from_url, target_path
from .series import JobSeries, SeriesReport, build_series, product_urls_to_fetch
from .service import UNREACHABLE, JobState, Service, open_service
from .service.jobreport import FAILED_STATES
from .service.peps import PROCESS_FAILED
from .session import READ_TIMEOUT, PepsSession, check_transport, make_session, warn_if_clear_text
from .states import JobPhase, ProductOutcome, ProgressCallback
from .validation import JobRequest

DEFAULT_ENDPOINT = "https://peps.cnes.fr/resto/wps"
ENDPOINT_VARIABLE = "PEPS_WPS_URL"
PathLike = Union[str, "os.PathLike[str]"]
RESUBMITTABLE_STATES = FAILED_STATES | {PROCESS_FAILED}
log = logging.getLogger(__name__)


def resolve_endpoint(url: Optional[str] = None,
                     environ: Optional[Mapping[str, str]] = None) -> str:
    """The WPS endpoint: `url`, else $PEPS_WPS_URL, else the PEPS default."""
    env = os.environ if environ is None else environ
    return url or env.get(ENDPOINT_VARIABLE) or DEFAULT_ENDPOINT


def open_log(path: PathLike) -> JobLog:
    """Read a job log (full-maja's, or the raw XML log of the original client)."""
    return read_job_log(Path(path))


class Client:
    """A connection to one FULL_MAJA endpoint with one PEPS account."""

    def __init__(self, endpoint: Optional[str] = None, *,
                 credentials: Optional[Credentials] = None, auth_file: Optional[str] = None,
                 insecure_http: bool = False, timeout: float = READ_TIMEOUT,
                 retries: int = 5, backoff: float = 1.0, parallel: int = 2) -> None:
        self.endpoint = resolve_endpoint(endpoint)
        check_transport(self.endpoint, insecure_http)
        warn_if_clear_text(self.endpoint)
        self.credentials = credentials or resolve_credentials(auth_file, self.endpoint)
        self.session: PepsSession = make_session(
            self.credentials, origin=self.endpoint, insecure_http=insecure_http,
            read_timeout=timeout,
            retries=retries, backoff=backoff, pool_size=max(10, parallel + 2))
        self.service: Service = open_service(self.session, self.endpoint)

    def close(self) -> None:
        """Close the connections."""
        self.session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, requests: Sequence[JobRequest], log_path: PathLike, *,
               append: bool = False) -> list[JobRecord]:
        """Submit one job per request and record each in the log as soon as it is accepted.

        If a submission fails, the jobs already accepted stay in the log and the
        error's `accepted` and `remaining` say which requests still need submitting.
        """
        path = Path(log_path)
        check_log_is_free(path, append)
        with hold_lock(path):
            log = read_job_log(path) if log_holds_jobs(path) else JobLog(path)
            accepted: list[JobRecord] = []
            for index, request in enumerate(requests):
                try:
                    record = self.service.submit(request)
                except FullMajaError as exc:
                    exc.accepted = list(accepted)
                    exc.remaining = list(requests[index:])
                    raise
                log = log.with_job(record)
                write_job_log(log)
                accepted.append(record)
            return accepted

    def check(self, log: Union[JobLog, PathLike]) -> list[JobState]:
        """Where every active job of the log stands, without downloading anything."""
        job_log = log if isinstance(log, JobLog) else open_log(log)
        return [self.check_job(job) for job in job_log.active_jobs]

    def check_job(self, job: JobRecord) -> JobState:
        """Where one job stands; a job that cannot be checked comes back as failed.

        A server that cannot be reached or answers nonsense for one job fails that
        job only: the others of the log are still checked and downloaded.
        """
        try:
            return self._service_for(job).check(job)
        except (ServiceError, NetworkError) as exc:
            log.error("job %s: %s", job.job_id, exc)
            return JobState(job, JobPhase.FAILED, UNREACHABLE, message=str(exc))

    def status(self, log_path: PathLike, write_dir: PathLike = ".") -> SeriesReport:
        """The series report of a log as it stands, with what is already on disk."""
        states = self.check(log_path)
        downloader = Downloader(self.session, Path(write_dir))
        return SeriesReport([build_series(state, _on_disk(downloader, state))
                             for state in states])

    def download(self, log_path: PathLike, write_dir: PathLike = ".", *,
                 parallel: int = 2, on_progress: Optional[ProgressCallback] = None,
                 cancel: Optional[threading.Event] = None, extract: bool = False,
                 keep_zip: bool = False,
                 on_state: Optional[Callable[[JobState], None]] = None,
                 split_policy: Optional[SplitPolicy] = None) -> SeriesReport:
        """Check every job of the log and download the finished products into `write_dir`.

        `split_policy` tunes when a free connection takes a slow product's tail;
        the default suits products of hundreds of MiB.
        """
        path = Path(log_path)
        with hold_lock(path):
            states = self.check(open_log(path))
            for state in states:
                (on_state or _ignore)(state)
            if all(state.server_state == UNREACHABLE for state in states):
                return SeriesReport([build_series(state, []) for state in states])
            folder = _write_dir(write_dir)
            downloader = Downloader(self.session, folder, parallel=parallel,
                                    on_progress=on_progress, cancel=cancel,
                                    extract=extract, keep_zip=keep_zip,
                                    split_policy=split_policy or DEFAULT_SPLIT_POLICY)
            urls = [url for state in states for url in product_urls_to_fetch(state)]
            results = downloader.fetch_all(_unique(urls))
            return SeriesReport([build_series(state, results) for state in states])

    def wait(self, log_path: PathLike, *, poll_interval: float,
             on_state: Optional[Callable[[JobState], None]] = None,
             sleep: Callable[[float], None] = time.sleep) -> list[JobState]:
        """Check the jobs every `poll_interval` seconds until each has ended.

        A server that cannot be reached, or a job that cannot be checked, is tried
        again at the next poll: a follow meant to last a day must outlive a hiccup.
        """
        while True:
            try:
                states = self.check(log_path)
            except NetworkError as exc:
                log.warning("%s; trying again in %.0f s", exc, poll_interval)
                states = []
            for state in states:
                (on_state or _ignore)(state)
            if states and all(state.ended and state.server_state != UNREACHABLE
                              for state in states):
                return states
            sleep(poll_interval)

    def resubmit(self, log_path: PathLike) -> list[JobRecord]:
        """Submit again each job of the log that ended in ERROR or CANCELED."""
        path = Path(log_path)
        with hold_lock(path):
            log = open_log(path)
            new_jobs = []
            for state in self.check(log):
                if state.server_state not in RESUBMITTABLE_STATES:
                    continue
                request = state.job.request
                if request is None:
                    raise JobLogError(f"--log: job {state.job.job_id} has no recorded tile "
                                      "and period (a log of the original client); submit "
                                      "it again with full_maja_process.py")
                record = self._service_for(state.job).submit(request)
                log = log.with_replacement(state.job.job_id, record)
                write_job_log(log)
                new_jobs.append(log.jobs[-1])
            return new_jobs

    def _service_for(self, job: JobRecord) -> Service:
        """The service of the endpoint a job was submitted to."""
        if not job.endpoint or job.endpoint == self.endpoint:
            return self.service
        return open_service(self.session, job.endpoint)


def _on_disk(downloader: Downloader, state: JobState) -> list[ProductResult]:
    results = []
    for url in product_urls_to_fetch(state):
        try:
            name = product_name_from_url(url)
            present = downloader.is_present(name, target_path(downloader.write_dir, name))
        except FullMajaError:
            continue
        outcome = ProductOutcome.PRESENT if present else ProductOutcome.READY
        results.append(ProductResult(url, name, outcome))
    return results


def _write_dir(write_dir: PathLike) -> Path:
    folder = Path(write_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--write-dir: cannot create {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise UsageError(f"--write-dir: {folder} is not writable")
    return folder


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _ignore(_: object) -> None:
    return None


__all__ = ["DEFAULT_ENDPOINT", "Client", "JobSeries", "open_log", "resolve_endpoint"]
