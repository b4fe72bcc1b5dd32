"""The Python API: submit jobs, follow them, download their products, report the series."""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

from .auth import DEFAULT_API_KEY_HEADER, ApiKey, EndpointAuth, resolve_api_key
from .credentials import Credentials, basic_account
from .download import DEFAULT_SPLIT_POLICY, Downloader, SplitPolicy
from .download.announced import provenance_announced
from .download.facts import ProductFacts
from .endpoints import DEFAULT_CATALOGUE, DEFAULT_ENDPOINT, resolve_catalogue, resolve_endpoint
from .errors import (
    FullMajaError,
    JobLogError,
    NetworkError,
    NoAccountError,
    ServiceError,
    UsageError,
)
from .jobchecks import CHECKS_AT_ONCE, Settled, check_side_by_side, remember, settled_by
from .joblog import (
    JobLog,
    add_adopted_job,
    check_log_is_free,
    log_holds_jobs,
    read_job_log,
    write_job_log,
)
from .jobmemory import JobMemory
from .jobrecord import JobRecord, checked_job_id, utc_now
from .journal import adopt_from_journal, find_replacement, journal_then_write
from .lock import hold_lock
from .series import (
    JobSeries,
    SeriesReport,
    build_series,
    products_on_disk,
    products_to_fetch,
)
from .service import (
    UNREACHABLE,
    JobState,
    ServerJob,
    ServerJobList,
    Service,
    detect_protocol,
    protocol_named,
)
from .service.registry import ServiceRegistry
from .session import READ_TIMEOUT, PepsSession, check_transport, make_session, warn_if_clear_text
from .states import JobPhase, ProgressCallback, Protocol
from .validation import JobRequest

MAX_POLL_INTERVAL = 86400.0
PathLike = Union[str, "os.PathLike[str]"]
log = logging.getLogger(__name__)


def open_log(path: PathLike) -> JobLog:
    """Read a job log (full-maja's, or the raw XML log of the original client)."""
    return read_job_log(Path(path))


class Client:
    """A connection to one source of products with one account (basic auth and/or API key).

    `protocol` is "wps", "ogcapi" (processing services), "catalogue" (a STAC catalogue of
    existing products, GEODES), or None to detect a processing protocol (one GET of
    `/conformance`) the first time a new job needs it; jobs of a log use the protocol
    it records. With an API key, basic auth is sent only when given (`credentials`,
    `auth_file`). A catalogue needs no account to search; its downloads get the API key,
    and only on its own origin.
    """

    def __init__(self, endpoint: Optional[str] = None, *,
                 credentials: Optional[Credentials] = None, auth_file: Optional[str] = None,
                 protocol: Optional[str] = None, api_key: Optional[str] = None,
                 api_key_file: Optional[str] = None,
                 api_key_header: str = DEFAULT_API_KEY_HEADER,
                 insecure_http: bool = False, timeout: float = READ_TIMEOUT,
                 retries: int = 5, backoff: float = 1.0, parallel: int = 2) -> None:
        self.protocol: Optional[Protocol] = protocol_named(protocol) if protocol else None
        self.endpoint = resolve_catalogue(endpoint) if self.protocol == Protocol.CATALOGUE \
            else resolve_endpoint(endpoint)
        check_transport(self.endpoint, insecure_http)
        warn_if_clear_text(self.endpoint)
        self.api_key: Optional[ApiKey] = resolve_api_key(api_key, api_key_file, api_key_header)
        no_account: Optional[NoAccountError] = None
        try:
            self.credentials = basic_account(credentials, auth_file, self.endpoint,
                                             self.api_key is not None,
                                             self.protocol == Protocol.CATALOGUE)
        except NoAccountError as exc:  # only a service that needs an account refuses
            self.credentials, no_account = None, exc
        self.account = EndpointAuth(self.endpoint, self.credentials, self.api_key)
        self.session: PepsSession = make_session(
            self.account,
            insecure_http=insecure_http, read_timeout=timeout, retries=retries,
            backoff=backoff, pool_size=max(10, parallel + 2, CHECKS_AT_ONCE + 2))
        self._services = ServiceRegistry(self.session, self.account, no_account)
        self._hints: dict[str, str] = {}

    @property
    def service(self) -> Service:
        """The service of the endpoint, its protocol detected on first use unless given."""
        if self.protocol is None:
            self._services.require_account(None)
            self.protocol = detect_protocol(self.session, self.endpoint)
        return self._services.at(self.endpoint, self.protocol)

    def close(self) -> None:
        """Close the connections."""
        self.session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, requests: Sequence[JobRequest], log_path: PathLike, *,
               append: bool = False) -> list[JobRecord]:
        """Submit one job per request; journal each accepted job, then record it in the log.

        If a submission fails, the jobs already accepted stay in the log and the
        error's `accepted` and `remaining` say which requests still need submitting.
        If the log cannot be written, UnrecordedJobError names the job the journal
        keeps (`full_maja.journal`), and nothing more is submitted.
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
                if any(job.job_id == record.job_id for job in log.active_jobs):
                    _say_already_logged(record, path)
                else:
                    log = journal_then_write(log.with_job(record), record, accepted,
                                  requests[index + 1:])
                accepted.append(record)
            return accepted

    def search(self, requests: Sequence[JobRequest]) -> list[JobState]:
        """What a catalogue holds for each request, recording nothing (NotSupported elsewhere).

        Each state is finished, with the products (and the dates skipped for clouds) as
        its report; `submit` then records a search without asking the catalogue again.
        """
        service = self.service
        service.check_searchable()
        return [service.check(service.submit(request)) for request in requests]

    def check(self, log: Union[JobLog, PathLike]) -> list[JobState]:
        """Where every active job of the log stands, without downloading anything.

        Jobs are checked side by side, at most CHECKS_AT_ONCE at a time; the states
        come back in the log's order.
        """
        job_log = log if isinstance(log, JobLog) else open_log(log)
        return self._check_jobs(job_log.active_jobs, JobMemory.load(job_log.path), None)

    def check_job(self, job: JobRecord, hint: Optional[str] = None) -> JobState:
        """Where one job stands; a job that cannot be checked comes back as failed.

        A server that cannot be reached or answers nonsense for one job fails that
        job only: the others of the log are still checked and downloaded.
        """
        state = self._state_of(job, hint)
        _say_if_unreachable(state)
        return state

    def _state_of(self, job: JobRecord, hint: Optional[str]) -> JobState:
        """Where one job stands, an unreachable one included, said nowhere yet."""
        if job.cancelled:
            return JobState.cancelled(job)
        try:
            return self._service_for(job).check(job, hint)
        except (ServiceError, NetworkError) as exc:
            return JobState(job, JobPhase.FAILED, UNREACHABLE, message=str(exc))

    def status(self, log_path: PathLike, write_dir: PathLike = ".", *,
               refresh: bool = False) -> SeriesReport:
        """The series report of a log as it stands, with what is already on disk.

        A job remembered as finished with every product on disk is not asked
        again, unless `refresh`.
        """
        job_log = open_log(log_path)
        downloader = Downloader(self.session, Path(write_dir))
        settled = None if refresh else settled_by(downloader)
        memory = JobMemory.load(job_log.path)
        states = self._check_jobs(job_log.active_jobs, memory, settled)
        facts = ProductFacts(downloader.record, Path(write_dir))
        results = [result for state in states
                   for result in products_on_disk(state, downloader.holds)]
        announced = provenance_announced(self.session, states, results, memory, refresh)
        report = SeriesReport([build_series(state, results, facts.recorded, announced)
                               for state in states], facts=facts)
        downloader.record.flush()
        return report

    def download(self, log_path: PathLike, write_dir: PathLike = ".", *,
                 parallel: int = 2, on_progress: Optional[ProgressCallback] = None,
                 cancel: Optional[threading.Event] = None, extract: bool = False,
                 keep_zip: bool = False,
                 on_state: Optional[Callable[[JobState], None]] = None,
                 split_policy: Optional[SplitPolicy] = None,
                 refresh: bool = False) -> SeriesReport:
        """Check every job of the log and download the finished products into `write_dir`.

        `split_policy` tunes when a free connection takes a slow product's tail;
        the default suits products of hundreds of MiB. A job remembered as finished
        with every product on disk costs no request, unless `refresh`.
        """
        path = Path(log_path)
        with hold_lock(path):
            job_log, memory = open_log(path), JobMemory.load(path)
            downloader = Downloader(self.session, Path(write_dir), parallel=parallel,
                                    on_progress=on_progress, cancel=cancel,
                                    extract=extract, keep_zip=keep_zip,
                                    split_policy=split_policy or DEFAULT_SPLIT_POLICY)
            settled = None if refresh else settled_by(downloader)
            states = self._check_jobs(job_log.active_jobs, memory, settled)
            for state in states:
                (on_state or _ignore)(state)
            if all(state.server_state == UNREACHABLE for state in states):
                return SeriesReport([build_series(state, []) for state in states])
            _write_dir(write_dir)
            results = downloader.fetch_all(
                [ref for state in states for ref in products_to_fetch(state)])
            facts = ProductFacts(downloader.record, Path(write_dir))
            announced = provenance_announced(self.session, states, results, memory, refresh)
            report = SeriesReport([build_series(state, results, facts.recorded, announced)
                                   for state in states], facts=facts)
            downloader.record.flush()
            return replace(report, problems=downloader.problems + remember(memory, report))

    def _check_jobs(self, jobs: list[JobRecord], memory: JobMemory,
                    settled: Optional[Settled]) -> list[JobState]:
        states = check_side_by_side(self._state_of, jobs, memory, settled, self._hints)
        for state in states:  # in the log's order, whichever check failed first
            _say_if_unreachable(state)
        self._hints.update((state.job.job_id, state.hint) for state in states if state.hint)
        return states

    def wait(self, log_path: PathLike, *, poll_interval: float,
             on_state: Optional[Callable[[JobState], None]] = None,
             sleep: Callable[[float], None] = time.sleep) -> list[JobState]:
        """Check the jobs every `poll_interval` seconds until each has ended.

        A job the server no longer knows (GONE) has ended. A server that cannot be
        reached, or a job that cannot be checked, is tried again at the next poll: a
        follow meant to last a day must outlive a hiccup.
        `poll_interval` is more than 0 and at most a day (UsageError otherwise).
        """
        if not 0 < poll_interval <= MAX_POLL_INTERVAL:
            raise UsageError(f"poll interval: {poll_interval!r} is not a number of seconds "
                             f"above 0 and up to {MAX_POLL_INTERVAL:g}")
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
        """Submit again each job of the log that failed, was cancelled or is gone on the server.

        A job that could not be checked (UNREACHABLE) is never submitted again: it may
        be running still. A replacement already in the journal (accepted by an earlier
        run whose log could not be written) is recorded instead of submitting it once more.
        """
        path = Path(log_path)
        with hold_lock(path):
            log = open_log(path)
            new_jobs: list[JobRecord] = []
            for state in self.check(log):
                if not state.resubmittable:
                    continue
                record = self._replacement(state.job)
                log = journal_then_write(log.with_replacement(state.job.job_id, record), record,
                              new_jobs, [])
                new_jobs.append(log.jobs[-1])
            return new_jobs

    def cancel(self, log_path: PathLike) -> list[JobRecord]:
        """Dismiss every job of the log that has not ended, and record it in the log.

        Raises NotSupported for a WPS 1.0.0 job: that protocol cannot stop one.
        Returns the jobs dismissed now (a job the server no longer knows counts).
        """
        path = Path(log_path)
        with hold_lock(path):
            log = open_log(path)
            for job in log.active_jobs:
                self._service_for(job).check_cancellable()
            dismissed = []
            for state in self.check(log):
                if state.ended and state.server_state != UNREACHABLE:
                    continue
                self._service_for(state.job).cancel(state.job)
                record = replace(state.job, cancelled=utc_now())
                log = log.with_updated(record)
                write_job_log(log)
                dismissed.append(record)
            return dismissed

    def server_jobs(self) -> list[ServerJob]:
        """The jobs the server lists for this account, each once (OGC API; NotSupported on WPS).

        A list that stops short (see `server_job_list`) is said in a logged warning.
        """
        listing = self.server_job_list()
        if listing.stopped:
            log.warning("%s", listing.stopped)
        return listing.jobs

    def server_job_list(self) -> ServerJobList:
        """The jobs the server lists, and why the list stops short of its end, if it does."""
        return self.service.list_jobs()

    def adopt(self, job_id: str, log_path: PathLike, *, append: bool = False) -> JobRecord:
        """Write a log for a job whose log was lost: from the journal, else the server.

        The log must not hold a job yet, unless `append`. WPS 1.0.0 cannot look a job
        up: there only the local journal of submissions can give it back (NotSupported
        otherwise).
        """
        path = Path(log_path)
        check_log_is_free(path, append)
        return adopt_from_journal(job_id, path, append=append) or add_adopted_job(
            self.service.job_record(checked_job_id(job_id)), path, append)

    def _replacement(self, job: JobRecord) -> JobRecord:
        """The job replacing `job`: one already journalled, else a new submission."""
        journalled = find_replacement(job.job_id)
        if journalled is not None:
            log.warning("job %s was already resubmitted as job %s (found in the journal); "
                        "recording that job instead of submitting again",
                        job.job_id, journalled.job_id)
            return journalled
        request = job.request
        if request is None:
            raise JobLogError(f"--log: job {job.job_id} has no recorded tile and period "
                              "(adopted from the server, or a log of the original client); "
                              "submit the series again with the submit command")
        record = self._service_for(job).submit(request)
        return replace(record, replaces=job.job_id)

    def _service_for(self, job: JobRecord) -> Service:
        """The service of the endpoint and protocol a job was submitted with."""
        return self._services.of_job(job, self.endpoint)


def _say_already_logged(record: JobRecord, path: Path) -> None:
    log.warning("job %s (%s) is already in %s; it is not recorded twice", record.job_id,
                record.describe(), path)


def _say_if_unreachable(state: JobState) -> None:
    if state.server_state == UNREACHABLE:
        log.error("job %s: %s", state.job.job_id, state.message)


def _write_dir(write_dir: PathLike) -> Path:
    folder = Path(write_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--write-dir: cannot create {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise UsageError(f"--write-dir: {folder} is not writable")
    return folder


def _ignore(_: object) -> None:
    return None


__all__ = ["DEFAULT_CATALOGUE", "DEFAULT_ENDPOINT", "Client", "JobSeries", "open_log",
           "resolve_catalogue", "resolve_endpoint"]
