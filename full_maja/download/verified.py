"""The record of verified products, so later runs need not re-read gigabytes."""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Optional

from ..atomic import atomic_write
from ..lock import hold_lock

RECORD_NAME = ".full-maja-verified.json"
RECORD_FORMAT = "full-maja verified products"


class VerifiedRecord:
    """Name, size and modification time of each product verified in one folder.

    Several runs (two logs, one write folder) may share the record: each save
    merges this run's entries into the record on disk, under an OS lock.
    """

    def __init__(self, write_dir: Path) -> None:
        self.path = write_dir / RECORD_NAME
        self._lock = threading.Lock()
        self._entries = self._load()
        self._changes: dict[str, dict] = {}

    def _load(self) -> dict[str, dict]:
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
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

    def entry(self, name: str) -> Optional[dict]:
        """What is recorded of `name`, if anything."""
        return self._entries.get(name)

    def remember(self, name: str, path: Path, **extra: object) -> None:
        """Record `path` as verified and save the record at once."""
        stat = path.stat()
        self._save(name, {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, **extra})

    def remember_extracted(self, name: str, folders: list[str]) -> None:
        """Record that `name` was extracted to `folders` and its zip removed."""
        self._save(name, {"extracted": folders})

    def _save(self, name: str, entry: dict) -> None:
        with self._lock:
            self._changes[name] = entry
            self._entries[name] = entry
            if not self.path.parent.is_dir():
                return
            with hold_lock(self.path, wait=True):
                merged = {**self._load(), **self._changes}
                document = {"format": RECORD_FORMAT, "products": merged}
                atomic_write(self.path, json.dumps(document, indent=1, sort_keys=True) + "\n")
            self._entries = {**merged, **self._entries}
