"""The record of verified products, so later runs need not re-read gigabytes."""
from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Optional

from ..atomic import NotOwnFile, atomic_write, refuse_unless_own
from ..capped import read_own_file
from ..errors import BusyError, JobLogError
from ..lock import hold_lock

RECORD_NAME = ".full-maja-verified.json"
RECORD_FORMAT = "full-maja verified products"
SAVE_EVERY = 500
SAVE_SECONDS = 5.0
ORIGIN_KEYS = ("source", "others")
FACT_KEYS = ("provenance", "sha256")
MAX_RECORD_BYTES = 256 * 1024 * 1024
log = logging.getLogger(__name__)


class VerifiedRecord:
    """Name, size and modification time of each product verified in one folder.

    Several runs (two logs, one write folder) may share the record: each save
    merges this run's entries into the record on disk, under an OS lock. The record
    and its lock are never opened through a link: a planted one makes the save fail
    (a problem of the run), never writes elsewhere. Saves are batched (every
    SAVE_EVERY products or SAVE_SECONDS, and `flush`): a product verified but not
    saved yet is only verified again by the next run.
    """

    def __init__(self, write_dir: Path) -> None:
        self.path = write_dir / RECORD_NAME
        self._lock = threading.Lock()
        self._entries = self._load()
        self._changes: dict[str, dict] = {}
        self._facts: dict[str, tuple[tuple, dict]] = {}
        self._pending = 0
        self._saved_at = time.monotonic()
        self.problems: list[str] = []

    def _load(self) -> dict[str, dict]:
        try:
            refuse_unless_own(self.path)
        except NotOwnFile:  # a link or a FIFO: not read; saving says so, once
            return {}
        data = read_own_file(self.path, "the record of verified products", MAX_RECORD_BYTES)
        try:
            document = json.loads(data.decode("utf-8")) if data is not None else None
        except (ValueError, RecursionError):
            return {}
        products = document.get("products") if isinstance(document, dict) else None
        if not isinstance(products, dict):
            return {}
        return {name: entry for name, entry in products.items() if isinstance(entry, dict)}

    def is_current(self, name: str, path: Path) -> bool:
        """True when `path` is the very file verified earlier (same size and time)."""
        entry = self._entries.get(name)
        if not entry:
            return False
        try:
            stat = path.stat()
        except OSError:
            return False
        return entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns

    def names(self) -> list[str]:
        """Every product recorded, by this run or by any other sharing the folder."""
        return list(self._entries)

    def entry(self, name: str) -> Optional[dict]:
        """What is recorded of `name`, if anything."""
        return self._entries.get(name)

    def remember(self, name: str, path: Path, **extra: object) -> None:
        """Record `path` as verified; saved with the next batch.

        Where the product came from (`source`, the sizes other URLs announced) is kept
        while the file keeps its size.
        """
        stat = path.stat()
        old = self._entries.get(name) or {}
        kept = {key: old[key] for key in ORIGIN_KEYS
                if key in old and old.get("size") == stat.st_size}
        if old.get("size") == stat.st_size and old.get("mtime_ns") == stat.st_mtime_ns:
            kept.update((key, old[key]) for key in FACT_KEYS if key in old)
        self._stage(name, {**kept, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                           **extra})

    def remember_facts(self, name: str, **facts: object) -> None:
        """Add facts read from the product (`provenance`, `sha256`) to its entry.

        They are saved only while the entry on disk still describes the file or
        folder they were read from (same size, time and extraction).
        """
        with self._lock:
            entry = self._entries.get(name)
            if entry is None:
                return
            identity, known = self._facts.get(name, (identity_of(entry), {}))
            if identity != identity_of(entry):
                known = {}
            self._facts[name] = (identity_of(entry), {**known, **facts})
            self._entries[name] = {**entry, **facts}
            self._count_pending()

    def note_other_source(self, name: str, url: str, size: int) -> None:
        """Record the size another URL announced for `name` (asked once, then known)."""
        entry = dict(self._entries.get(name) or {})
        others = entry.get("others")
        entry["others"] = {**(others if isinstance(others, dict) else {}), url: size}
        self._stage(name, entry)

    def remember_extracted(self, name: str, folders: list[str]) -> None:
        """Record that `name` was extracted to `folders` and its zip removed.

        Where it came from and its size stay: a URL giving another size under the same
        name is still a conflict once the zip is gone.
        """
        old = self._entries.get(name) or {}
        kept = {key: old[key] for key in (*ORIGIN_KEYS, "size") if key in old}
        self._stage(name, {**kept, "extracted": folders})

    def flush(self) -> bool:
        """Save what is not saved yet, waiting for another run's save; False when it failed."""
        with self._lock:
            if self._pending:
                self._save(wait=True)
            return not self._pending

    def _stage(self, name: str, entry: dict) -> None:
        with self._lock:
            self._changes[name] = entry
            self._entries[name] = entry
            self._count_pending()

    def _count_pending(self) -> None:
        self._pending += 1
        if self._pending >= SAVE_EVERY or time.monotonic() - self._saved_at >= SAVE_SECONDS:
            self._save(wait=False)

    def _save(self, wait: bool) -> None:
        """Merge this run's entries into the record on disk; a failure is kept as a problem.

        A batch (not `wait`) never waits for another run saving: it is left for the next.
        """
        if not self.path.parent.is_dir():
            return
        try:
            with hold_lock(self.path, wait=wait, follow_symlinks=False):
                merged = {**self._load(), **self._changes}
                self._add_facts(merged)
                document = {"format": RECORD_FORMAT, "products": merged}
                atomic_write(self.path, json.dumps(document, indent=1, sort_keys=True) + "\n",
                             follow_symlinks=False)
        except BusyError:
            self._saved_at = time.monotonic()
            return
        except (OSError, JobLogError) as exc:
            self._failed(exc)
            return
        self._entries = {**merged, **self._entries}
        self._changes = {}
        self._facts = {}
        self._pending = 0
        self._saved_at = time.monotonic()

    def _add_facts(self, merged: dict[str, dict]) -> None:
        """Add the facts read to the entries that still describe what they were read from."""
        for name, (identity, facts) in self._facts.items():
            entry = merged.get(name)
            if entry is not None and identity_of(entry) == identity:
                merged[name] = {**entry, **facts}

    def _failed(self, exc: Exception) -> None:
        self._saved_at = time.monotonic()
        if self.problems:
            return
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        self.problems.append(f"cannot write the record of verified products {self.path} "
                             f"({reason}); the products are on disk and will be verified "
                             "again by the next run")
        log.error("%s", self.problems[0])


def identity_of(entry: dict) -> tuple:
    """What tells one verified file or extraction from another: size, time, folders made."""
    extracted = entry.get("extracted")
    folders = tuple(extracted) if isinstance(extracted, list) else extracted
    return entry.get("size"), entry.get("mtime_ns"), folders
