"""The job log: which jobs were submitted, where to follow them, and their history."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Optional, Union

from .atomic import atomic_write
from .capped import check_regular_file, read_user_file
from .errors import FullMajaError, JobLogError
from .jobrecord import JobRecord
from .lock import hold_lock
from .service.wps import job_id_from_status_location, parse_execute_response, parses_as_url
from .states import Protocol
from .validation import JobRequest

LOG_FORMAT = "full-maja job log"
LOG_VERSION = 1
MAX_LOG_BYTES = 4 * 1024 * 1024


@dataclass
class JobLog:
    """The jobs of one log file, oldest first."""

    path: Path
    jobs: list[JobRecord] = field(default_factory=list)
    legacy: bool = False

    @property
    def active_jobs(self) -> list[JobRecord]:
        """The jobs to follow: every job not replaced by a resubmission."""
        return [job for job in self.jobs if not job.replaced_by]

    def with_job(self, job: JobRecord) -> JobLog:
        """A copy of this log with `job` added."""
        return JobLog(self.path, [*self.jobs, job], legacy=False)

    def with_updated(self, record: JobRecord) -> JobLog:
        """A copy where the job with `record`'s id is replaced by `record`."""
        jobs = [record if job.job_id == record.job_id else job for job in self.jobs]
        return JobLog(self.path, jobs, legacy=False)

    def with_replacement(self, old_id: str, new_job: JobRecord) -> JobLog:
        """A copy where `new_job` replaces the job `old_id`, history kept."""
        jobs = [replace(job, replaced_by=new_job.job_id) if job.job_id == old_id else job
                for job in self.jobs]
        return JobLog(self.path, [*jobs, replace(new_job, replaces=old_id)], legacy=False)


def read_job_log(path: Union[str, Path]) -> JobLog:
    """Read a job log of full-maja, or the raw ExecuteResponse of the original client."""
    target = Path(path)
    text = _read_text(target)
    if not text.strip():
        raise JobLogError(f"--log: {target} is empty; it holds no job")
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("<"):
        return _read_legacy(target, stripped)
    return _read_json(target, stripped)


def write_job_log(log: JobLog) -> None:
    """Write the whole log atomically: a crash leaves the old log or the new one."""
    document = {"format": LOG_FORMAT, "version": LOG_VERSION,
                "jobs": [_job_to_json(job) for job in log.jobs]}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        atomic_write(log.path, text)
    except OSError as exc:
        raise JobLogError(f"--log: cannot write {log.path}: {exc.strerror or exc}") from None


def log_holds_jobs(path: Union[str, Path]) -> bool:
    """True when `path` exists and is not empty (so a new submission must not overwrite it)."""
    try:
        return check_regular_file(path, "--log", JobLogError) and Path(path).stat().st_size > 0
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise JobLogError(f"--log: cannot read {path}: {exc.strerror}") from None


def check_log_is_free(path: Union[str, Path], append: bool) -> None:
    """Refuse to submit into a log that already holds a job, unless appending."""
    if log_holds_jobs(path) and not append:
        raise JobLogError(f"--log: {path} already holds a job; give another --log, "
                          "or --append to add the new job to it")


def add_adopted_job(record: JobRecord, log_path: Union[str, Path], append: bool) -> JobRecord:
    """Write a job found again (journal or server) into a log, never overwriting one."""
    path = Path(log_path)
    check_log_is_free(path, append)
    with hold_lock(path):
        log = read_job_log(path) if log_holds_jobs(path) else JobLog(path)
        if any(job.job_id == record.job_id for job in log.jobs):
            raise JobLogError(f"job {record.job_id} is already in {path}: nothing to adopt")
        adopted = replace(record, replaces=None, replaced_by=None)
        write_job_log(log.with_job(adopted))
    return adopted


def default_log_name(request: JobRequest) -> str:
    """A log name made of tile, orbit and period, e.g. `36TWQ_o64_2019-03-01_2019-09-01.log`."""
    orbit = f"_o{request.orbit:03d}" if request.orbit is not None else ""
    return f"{request.tile}{orbit}_{request.period_label()}.log"


def _read_text(target: Path) -> str:
    if not check_regular_file(target, "--log", JobLogError):
        raise JobLogError(f"--log: {target} does not exist; give the log written by "
                          "full_maja_process.py")
    data = read_user_file(target, "--log", MAX_LOG_BYTES, JobLogError)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise JobLogError(f"--log: {target} is not a text file; is it the right file?") from None


def _read_legacy(target: Path, text: str) -> JobLog:
    try:
        status = parse_execute_response(text.encode("utf-8"), f"the log {target}")
    except FullMajaError as exc:
        raise JobLogError(f"--log: {target} is neither a full-maja log nor a WPS "
                          f"response: {exc}") from None
    if not status.status_location:
        raise JobLogError(f"--log: {target} holds a WPS response without a statusLocation: "
                          "the job was not accepted, or the file was cut; nothing to follow")
    try:
        job_id = job_id_from_status_location(status.status_location)
    except FullMajaError as exc:
        raise JobLogError(f"--log: {target}: {exc}") from None
    job = JobRecord(job_id=job_id, status_url=status.status_location)
    return JobLog(target, [job], legacy=True)


def _read_json(target: Path, text: str) -> JobLog:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise JobLogError(f"--log: {target} is not a job log (neither JSON of full-maja nor "
                          "the XML of the original client); was it cut or edited?") from None
    if not isinstance(document, dict) or document.get("format") != LOG_FORMAT:
        raise JobLogError(f"--log: {target} is JSON but not a full-maja job log")
    jobs = document.get("jobs")
    if not isinstance(jobs, list) or not jobs:
        raise JobLogError(f"--log: {target} holds no job")
    return JobLog(target, [_job_from_json(target, i, item) for i, item in enumerate(jobs, 1)])


def job_to_json(job: JobRecord) -> dict[str, Any]:
    """The JSON object of one job, as the log and the journal keep it."""
    return _job_to_json(job)


def job_from_json(where: str, item: Any) -> JobRecord:
    """A job from its JSON object; JobLogError (naming `where`) if it is not one."""
    return _job_from_json(Path(where), 0, item, where)


def _job_to_json(job: JobRecord) -> dict[str, Any]:
    data = asdict(job)
    for key in ("start", "end"):
        data[key] = data[key].isoformat() if data[key] else None
    return {key: value for key, value in data.items()
            if value is not None or key in ("job_id", "status_url")}


def _job_from_json(target: Path, index: int, item: Any,
                   where: Optional[str] = None) -> JobRecord:
    where = where or f"--log: {target}, job {index}"
    if not isinstance(item, dict):
        raise JobLogError(f"{where} is not an object")
    job_id, status_url = item.get("job_id"), item.get("status_url")
    if not isinstance(job_id, str) or not job_id or not isinstance(status_url, str) \
            or not status_url:
        raise JobLogError(f"{where} lacks its job_id or status_url")
    endpoint = _optional_str(where, item, "endpoint")
    for key, url in (("status_url", status_url), ("endpoint", endpoint)):
        if url and not parses_as_url(url):
            raise JobLogError(f"{where}: {key} is not a URL")
    orbit = item.get("orbit")
    if orbit is not None and (not isinstance(orbit, int) or isinstance(orbit, bool)):
        raise JobLogError(f"{where}: orbit is not a number")
    return JobRecord(job_id=job_id, status_url=status_url,
                     endpoint=endpoint,
                     tile=_optional_str(where, item, "tile"), orbit=orbit,
                     start=_optional_date(where, item, "start"),
                     end=_optional_date(where, item, "end"),
                     submitted=_optional_str(where, item, "submitted"),
                     replaces=_optional_str(where, item, "replaces"),
                     replaced_by=_optional_str(where, item, "replaced_by"),
                     protocol=_optional_protocol(where, item),
                     cancelled=_optional_str(where, item, "cancelled"),
                     max_cloud=_optional_percent(where, item, "max_cloud"))


def _optional_protocol(where: str, item: dict) -> Optional[str]:
    value = _optional_str(where, item, "protocol")
    if value is not None and value not in {protocol.value for protocol in Protocol}:
        raise JobLogError(f"{where}: protocol {value!r} is none of "
                          f"{', '.join(protocol.value for protocol in Protocol)}")
    return value


def _optional_percent(where: str, item: dict, key: str) -> Optional[float]:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise JobLogError(f"{where}: {key} is not a percentage")
    return float(value)


def _optional_str(where: str, item: dict, key: str) -> Optional[str]:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        raise JobLogError(f"{where}: {key} is not text")
    return value


def _optional_date(where: str, item: dict, key: str) -> Optional[date]:
    value = _optional_str(where, item, key)
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise JobLogError(f"{where}: {key} is not a YYYY-MM-DD date") from None
