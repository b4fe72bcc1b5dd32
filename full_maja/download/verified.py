"""The record of verified products, so later runs need not re-read gigabytes."""
from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import BinaryIO, Iterator, Optional, Union

from ..atomic import Lines, NotOwnFile, atomic_write, refuse_unless_own
from ..capped import FileIdentity, file_identity, own_file_within
from ..errors import BusyError, JobLogError
from ..lock import hold_lock

RECORD_NAME = ".full-maja-verified.json"
RECORD_FORMAT = "full-maja verified products"
SAVE_EVERY = 500
SAVE_SECONDS = 5.0
ORIGIN_KEYS = ("source", "others")
FACT_KEYS = ("provenance", "shared", "sha256")
SHARED_KEY = SHARED_REF = "shared"
WHAT = "the record of verified products"
HEAD_LINE = f'{{"format": {json.dumps(RECORD_FORMAT)},\n'.encode()
SHARED_LINE = b'"shared": '
PRODUCTS_LINE, END_LINE = b'"products": {\n', b"}}\n"
LINES_AT_ONCE = 500
MAX_RECORD_BYTES = 256 * 1024 * 1024
log = logging.getLogger(__name__)


class VerifiedRecord:
    """Name, size and modification time of each product verified in one folder.

    Several runs (two logs, one write folder) may share the record: each save
    merges this run's entries into the record on disk, under an OS lock. The record
    and its lock are never opened through a link: a planted one makes the save fail
    (a problem of the run), never writes elsewhere. Saves are batched (every
    SAVE_EVERY products or SAVE_SECONDS, and `flush`): a product verified but not
    saved yet is only verified again by the next run. A save reads the record on disk
    again only when another run has replaced it since this one last read or wrote it,
    and writes one product a line, never holding the whole text.

    Facts read from the products (`remember_facts`) are saved with the next batch or
    after SAVE_SECONDS, never on their own count: reading them again is the whole cost
    of losing them. Facts shared by many products (a tile's grid, how its products were
    made) are kept once, in the record's `shared`, under the key their entries give
    (`share`, `shared`).
    """

    def __init__(self, write_dir: Path) -> None:
        self.path = write_dir / RECORD_NAME
        self._lock = threading.Lock()
        self._found: Optional[FileIdentity] = None
        self._shared: dict[str, str] = {}
        self._entries = self._load()
        self._new_shared: dict[str, str] = {}
        self._changes: dict[str, dict] = {}
        self._facts: dict[str, tuple[tuple, dict]] = {}
        self._pending = 0
        self._batch = 0
        self._saved_at = time.monotonic()
        self.problems: list[str] = []

    def _load(self) -> dict[str, dict]:
        """The entries of the record on disk (and its shared facts, kept aside).

        A record full-maja wrote is read a few hundred products at a time, never whole.
        """
        try:
            refuse_unless_own(self.path)
        except NotOwnFile:  # a link or a FIFO: not read; saving says so, once
            return {}
        with own_file_within(self.path, WHAT, MAX_RECORD_BYTES) as (stream, self._found):
            try:
                read = _read_lines(stream) if stream is not None else ({}, {})
                if read is None and stream is not None:
                    stream.seek(0)
                    read = _read_whole(stream.read(MAX_RECORD_BYTES + 1))
            except (OSError, ValueError, RecursionError):
                read = None
        products, shared = read or ({}, {})
        self._shared.update((key, text) for key, text in shared.items()
                            if isinstance(text, str))
        return {name: entry for name, entry in products.items() if isinstance(entry, dict)}

    def is_current(self, name: str, path: Union[str, Path]) -> bool:
        """True when `path` is the very file verified earlier (same size and time)."""
        if name not in self._entries:
            return False
        try:
            return self.describes(name, os.stat(path))
        except (OSError, ValueError):
            return False

    def describes(self, name: str, found: os.stat_result) -> bool:
        """True when the file `found` (its status) is the one verified as `name`."""
        entry = self._entries.get(name)
        if not entry:
            return False
        return entry.get("size") == found.st_size and entry.get("mtime_ns") == found.st_mtime_ns

    def names(self) -> list[str]:
        """Every product recorded, by this run or by any other sharing the folder."""
        return list(self._entries)

    def entry(self, name: str) -> Optional[dict]:
        """What is recorded of `name`, if anything."""
        return self._entries.get(name)

    def shared(self, key: object) -> Optional[str]:
        """The shared facts kept under `key` (an entry's `shared`), if the record holds them."""
        return self._shared.get(key) if isinstance(key, str) else None

    def share(self, key: str, text: str) -> None:
        """Keep `text` once under `key`, for the entries that give that key."""
        with self._lock:
            if self._shared.get(key) != text:
                self._shared[key] = text
                self._new_shared[key] = text

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
            self._count_pending(count=False)

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

    def _count_pending(self, count: bool = True) -> None:
        self._pending += 1
        self._batch += count
        if self._batch >= SAVE_EVERY or time.monotonic() - self._saved_at >= SAVE_SECONDS:
            self._save(wait=False)

    def _save(self, wait: bool) -> None:
        """Merge this run's entries into the record on disk; a failure is kept as a problem.

        A batch (not `wait`) never waits for another run saving: it is left for the next.
        """
        if not self.path.parent.is_dir():
            return
        try:
            with hold_lock(self.path, wait=wait, follow_symlinks=False):
                unchanged = file_identity(self.path) == self._found
                merged = {**(self._entries if unchanged else self._load()), **self._changes}
                self._add_facts(merged)
                shared = self._kept_shared(merged)
                atomic_write(self.path, Lines(_record_lines(merged, shared)),
                             follow_symlinks=False)
                self._found = file_identity(self.path)
        except BusyError:
            self._saved_at = time.monotonic()
            return
        except (OSError, JobLogError) as exc:
            self._failed(exc)
            return
        self._entries = {**merged, **self._entries}
        self._shared = shared
        self._changes = {}
        self._facts = {}
        self._new_shared = {}
        self._pending = self._batch = 0
        self._saved_at = time.monotonic()

    def _kept_shared(self, merged: dict[str, dict]) -> dict[str, str]:
        """The shared facts some entry still gives the key of: the record's and this run's."""
        known = {**self._shared, **self._new_shared}
        used = {entry.get(SHARED_REF) for entry in merged.values()}
        return {key: text for key, text in known.items() if key in used}

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


def _record_lines(products: dict[str, dict], shared: dict[str, str]) -> Iterator[str]:
    """The record's JSON document, one product a line, in name order."""
    yield HEAD_LINE.decode("utf-8")
    if shared:
        yield f'"{SHARED_KEY}": {json.dumps(shared, sort_keys=True)},\n'
    yield PRODUCTS_LINE.decode("utf-8")
    last = len(products) - 1
    for index, name in enumerate(sorted(products)):
        line = f"{json.dumps(name)}: {json.dumps(products[name], sort_keys=True)}"
        yield line + (",\n" if index < last else "\n")
    yield "}}\n"


Read = tuple[dict, dict]


def _read_lines(stream: BinaryIO) -> Optional[Read]:
    """The products and shared facts of a record in `_record_lines`'s layout, some lines at
    a time; None for any other layout (read whole then)."""
    if stream.readline() != HEAD_LINE:
        return None
    line, shared = stream.readline(), {}
    if line.startswith(SHARED_LINE):
        shared = json.loads(line[len(SHARED_LINE):].rstrip(b",\r\n"))
        line = stream.readline()
    if line != PRODUCTS_LINE or not isinstance(shared, dict):
        return None
    products: dict = {}
    lines: list[bytes] = []
    for line in stream:
        if line == END_LINE:
            _take(products, lines)
            return products, shared
        lines.append(line.rstrip(b",\r\n"))
        if len(lines) == LINES_AT_ONCE:
            _take(products, lines)
            lines = []
    return None


def _take(products: dict, lines: list[bytes]) -> None:
    """Add the products of some lines of the record: parsed together (their keys one string
    each), their source and shared key one string with every other entry's."""
    if not lines:
        return
    for name, entry in json.loads(b"{" + b",".join(lines) + b"}").items():
        if isinstance(entry, dict):
            for key in (SHARED_REF, "source"):
                if isinstance(entry.get(key), str):
                    entry[key] = sys.intern(entry[key])
        products[name] = entry


def _read_whole(data: bytes) -> Optional[Read]:
    """The products and shared facts of a record read whole (an earlier layout)."""
    if len(data) > MAX_RECORD_BYTES:
        return None
    document = json.loads(data.decode("utf-8"))
    if not isinstance(document, dict) or not isinstance(document.get("products"), dict):
        return None
    shared = document.get(SHARED_KEY)
    return document["products"], shared if isinstance(shared, dict) else {}


def identity_of(entry: dict) -> tuple:
    """What tells one verified file or extraction from another: size, time, folders made."""
    extracted = entry.get("extracted")
    folders = tuple(extracted) if isinstance(extracted, list) else extracted
    return entry.get("size"), entry.get("mtime_ns"), folders
