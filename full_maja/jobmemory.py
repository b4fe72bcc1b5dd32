"""What earlier runs learnt of a log's jobs, kept beside the log: hints, final states, and
the provenance a source's metadata announced for products not on disk (`announced`).

The file `LOG.state.json` sits beside the log's real file (a symlink followed), for
full-maja's logs and the original client's XML logs alike: the log stays the record
of what was submitted, which the user owns and the original client's logs never are
rewritten, while this file is only a cache that may be deleted at any time (the next
run asks the server again). It is written atomically, by runs that hold the log's lock.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional, Union

from .atomic import atomic_write
from .capped import read_own_file
from .errors import FullMajaError
from .jobrecord import JobRecord
from .products import product_ref_from_json
from .service import UNREACHABLE, JobState
from .service.jobreport import JobReport, report_from_document
from .states import JobPhase

MEMORY_FORMAT = "full-maja job memory"
MEMORY_VERSION = 1
MEMORY_SUFFIX = ".state.json"
MAX_MEMORY_BYTES = 64 * 1024 * 1024
log = logging.getLogger(__name__)


def memory_path(log_path: Union[str, Path]) -> Path:
    """The memory file of a job log: beside its real file."""
    path = Path(os.path.realpath(log_path))
    return path.with_name(path.name + MEMORY_SUFFIX)


class JobMemory:
    """Per job of one log: the service's hint, and the final state of a finished job."""

    def __init__(self, path: Path, entries: Optional[dict[str, dict[str, Any]]] = None) -> None:
        self.path = path
        self._entries = entries or {}
        self.changed = False

    @classmethod
    def load(cls, log_path: Union[str, Path]) -> JobMemory:
        """The memory of a log; empty when there is none or it cannot be read."""
        path = memory_path(log_path)
        data = read_own_file(path, "the job memory", MAX_MEMORY_BYTES)
        if data is None:
            return cls(path)
        try:
            document = json.loads(data.decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            log.warning("ignoring %s, which cannot be read (%s); asking the server", path, exc)
            return cls(path)
        return cls(path, _entries(document))

    def hint(self, job: JobRecord) -> Optional[str]:
        """The hint kept for `job`, if any: opaque here, the service judges it."""
        hint = self._entry(job).get("hint")
        return hint if isinstance(hint, str) and hint else None

    def final_state(self, job: JobRecord) -> Optional[JobState]:
        """The state `job` finished in, when a run saw it finished with every product on disk."""
        final = self._entry(job).get("final")
        if not isinstance(final, dict):
            return None
        try:
            return _state_from_json(job, final)
        except (FullMajaError, ValueError, TypeError):
            return None

    def announced(self, job: JobRecord) -> dict[str, str]:
        """The provenance texts, by product name, that the metadata of `job`'s products gave."""
        texts = self._entry(job).get("announced")
        if not isinstance(texts, dict):
            return {}
        return {name: text for name, text in texts.items() if isinstance(text, str)}

    def announce(self, job: JobRecord, texts: dict[str, str]) -> None:
        """Keep provenance texts read from the metadata of `job`'s products."""
        entry = {"status_url": job.status_url, **self._entry(job)}
        entry["announced"] = {**self.announced(job), **texts}
        self._entries[job.job_id] = entry
        self.changed = True

    def learn(self, state: JobState, *, complete: bool) -> None:
        """Keep a check's hint, and its state if the job finished and is complete on disk."""
        job = state.job
        if state.server_state == UNREACHABLE:
            return
        entry: dict[str, Any] = {"status_url": job.status_url}
        announced = self.announced(job)
        if announced:
            entry["announced"] = announced
        if state.hint:
            entry["hint"] = state.hint
        if complete and state.phase == JobPhase.FINISHED and state.report is not None \
                and not state.may_grow:
            entry["final"] = _state_to_json(state)
        if entry != self._entries.get(job.job_id):
            self._entries[job.job_id] = entry
            self.changed = True

    def save(self) -> None:
        """Write the memory atomically, if it changed (OSError when it cannot be written)."""
        if not self.changed:
            return
        document = {"format": MEMORY_FORMAT, "version": MEMORY_VERSION, "jobs": self._entries}
        atomic_write(self.path, json.dumps(document, indent=1, sort_keys=True) + "\n",
                     follow_symlinks=False)
        self.changed = False

    def _entry(self, job: JobRecord) -> dict[str, Any]:
        entry = self._entries.get(job.job_id)
        if not isinstance(entry, dict) or entry.get("status_url") != job.status_url:
            return {}
        return entry


def _entries(document: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(document, dict) or document.get("format") != MEMORY_FORMAT:
        return {}
    jobs = document.get("jobs")
    if not isinstance(jobs, dict):
        return {}
    return {key: value for key, value in jobs.items() if isinstance(value, dict)}


def _state_to_json(state: JobState) -> dict[str, Any]:
    report = state.report or JobReport(state.server_state)
    return {"phase": str(state.phase), "server_state": state.server_state,
            "progress": state.progress, "message": state.message,
            "report": {"job_status": report.state, "process": report.progress,
                       "results": [ref.as_json() for ref in report.results],
                       "unprocessed": report.unprocessed,
                       "missing": report.missing, "logs": report.logs,
                       "message": report.message}}


def _state_from_json(job: JobRecord, final: dict[str, Any]) -> JobState:
    phase = JobPhase(final.get("phase"))
    server_state, progress, message = (final.get("server_state"), final.get("progress"),
                                       final.get("message") or "")
    if phase != JobPhase.FINISHED or not isinstance(server_state, str) \
            or not isinstance(message, str) or not isinstance(progress, (str, type(None))):
        raise ValueError("not a finished state")
    document = final.get("report")
    if not isinstance(document, dict):
        raise ValueError("no report")
    results = document.get("results") or []
    if not isinstance(results, list):
        raise ValueError("results is not a list")
    report = report_from_document({**document, "results": []}, str(job.job_id))
    report = replace(report, results=[product_ref_from_json(item) for item in results])
    return JobState(job, phase, server_state, report=report, progress=progress,
                    message=message)
