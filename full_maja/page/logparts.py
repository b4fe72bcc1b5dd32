"""What each log sharing a write folder shows on its `series.html`, kept in `.full-maja-page.json`.

The page covers the whole folder: every download run stores its log's part (the job
sections it rendered, the fingerprint of their inputs, each job's phase and the count
of dates by mark) and the page is built from the parts of every log. A part is
replaced only by a run of its own log; the part of a log whose file is gone is dropped.
Parts are read and saved under an OS lock (`.full-maja-page.json.lock`), which the page
writer holds from reading the parts to writing the page, so two runs never interleave.
The file is full-maja's own: a link or FIFO there is refused (`atomic.NotOwnFile`).
"""
from __future__ import annotations

import json
import logging
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from ..atomic import atomic_write, refuse_unless_own
from ..capped import read_own_file
from ..lock import hold_lock, lock_path_for
from ..states import DateMark, JobPhase

PARTS_NAME = ".full-maja-page.json"
PARTS_FORMAT = "full-maja page parts"
PARTS_VERSION = 1
MAX_PARTS_BYTES = 256 * 1024 * 1024
TITLE_KEY = "title:"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LogPart:
    """One log's part of the page.

    `key` names the log (its real path, relative to the write folder where it can be;
    `title:NAME` for a page written without one),
    `number` is its place on the page, from 1, kept for good; `inputs` the fingerprint
    of what its `sections` show (`page.inputs`); `written` when they were rendered (ISO).
    """

    key: str
    title: str
    number: int
    inputs: str
    written: str
    phases: list[JobPhase] = field(default_factory=list)
    marks: dict[DateMark, int] = field(default_factory=dict)
    sections: list[str] = field(default_factory=list)

    def gone(self, folder: Path) -> bool:
        """True when the part's log no longer exists (`folder`: the write folder)."""
        return not self.key.startswith(TITLE_KEY) and not (folder / self.key).exists()


def log_key(log_path: Optional[Path], title: str, folder: Path) -> str:
    """The key of a log's part: its real path from `folder`, or the title when no log.

    A relative key keeps naming the log when the folder moves with its logs, and
    says less about the machine than an absolute one.
    """
    if log_path is None:
        return TITLE_KEY + title
    real = os.path.realpath(log_path)
    try:
        return os.path.relpath(real, os.path.realpath(folder))
    except ValueError:  # another drive (Windows)
        return real


class LogParts:
    """The parts of the page of one folder, held under its lock while a page is written."""

    def __init__(self, path: Path, parts: dict[str, LogPart]) -> None:
        self.path = path
        self._parts = parts
        self.changed = False

    def get(self, key: str) -> Optional[LogPart]:
        """The part of the log `key`, if the folder has one."""
        return self._parts.get(key)

    def next_number(self) -> int:
        """The number a log new to the page gets."""
        return max((part.number for part in self._parts.values()), default=0) + 1

    def put(self, part: LogPart) -> None:
        """Store a log's part, replacing the one it had."""
        self._parts[part.key] = part
        self.changed = True

    def current(self) -> list[LogPart]:
        """The parts of the logs that still exist, in page order; the others are dropped."""
        for key in [key for key, part in self._parts.items() if part.gone(self.path.parent)]:
            del self._parts[key]
            self.changed = True
        return sorted(self._parts.values(), key=lambda part: part.number)

    def save(self) -> None:
        """Write the parts atomically, if they changed (OSError when they cannot be)."""
        if not self.changed:
            return
        document = {"format": PARTS_FORMAT, "version": PARTS_VERSION,
                    "logs": [_part_json(part) for part in self.current()]}
        atomic_write(self.path, json.dumps(document, indent=1) + "\n", follow_symlinks=False)
        self.changed = False


@contextmanager
def held_parts(folder: Path) -> Iterator[LogParts]:
    """The page parts of `folder`, under its lock (waiting for another run's page)."""
    path = folder / PARTS_NAME
    for own in (path, lock_path_for(path, follow_symlinks=False)):
        refuse_unless_own(own)
    with hold_lock(path, wait=True, follow_symlinks=False):
        yield LogParts(path, _load(path))


def _load(path: Path) -> dict[str, LogPart]:
    """The parts kept in `path`; an unreadable file or part counts as none (rebuilt)."""
    data = read_own_file(path, "the parts of the series page", MAX_PARTS_BYTES)
    try:
        document = json.loads(data.decode("utf-8")) if data is not None else None
    except (ValueError, RecursionError):
        log.warning("ignoring %s, which cannot be read; the page shows this log only until "
                    "the other logs' next runs", path)
        return {}
    if not isinstance(document, dict) or document.get("format") != PARTS_FORMAT:
        return {}
    parts = [_part(entry) for entry in document.get("logs") or [] if isinstance(entry, dict)]
    return {part.key: part for part in parts if part is not None}


def _part(entry: dict[str, Any]) -> Optional[LogPart]:
    try:
        part = LogPart(key=str(entry["key"]), title=str(entry["title"]),
                       number=int(entry["number"]), inputs=str(entry["inputs"]),
                       written=str(entry["written"]),
                       phases=[JobPhase(phase) for phase in entry["phases"]],
                       marks={DateMark(mark): int(count)
                              for mark, count in dict(entry["marks"]).items()},
                       sections=[str(section) for section in entry["sections"]])
    except (KeyError, TypeError, ValueError):
        return None
    return part if part.number > 0 else None


def _part_json(part: LogPart) -> dict[str, Any]:
    entry = asdict(part)
    entry["phases"] = [str(phase) for phase in part.phases]
    entry["marks"] = {str(mark): count for mark, count in part.marks.items()}
    return entry
