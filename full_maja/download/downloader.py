"""Scheduling the downloads of a series: which products, which connections, the final rename."""
from __future__ import annotations

import logging
import os
import stat
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Optional, Union

from ..atomic import fsync_directory, refuse_unless_own
from ..errors import BusyError, ProductError
from ..lock import hold_file_lock, remove_stale_locks
from ..products import ProductRef, target_path
from ..session import PepsSession
from ..states import (
    LEFT_TO_ANOTHER_RUN,
    ProductOutcome,
    Progress,
    ProgressCallback,
    ProgressKind,
)
from .connections import OpenConnections
from .extract import Extractions, remove_leftover
from .partchecks import verify_while_syncing
from .parts import PartFiles, file_size, remove_part_files, scan_part_files
from .policy import DEFAULT_SPLIT_POLICY, SplitPolicy
from .responses import BadBody, describe_disk_error
from .samenames import SameNames, disagreement
from .transfer import ProductTransfer
from .verified import VerifiedRecord
from .zipcheck import zip_is_sound

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2
LOCK_SUFFIX = ".part.lock"
KEY_REFUSALS = (401, 403)
Product = Union[ProductRef, str]


@dataclass(frozen=True, slots=True)
class ProductResult:
    """What became of one product URL."""

    url: str
    name: str
    outcome: ProductOutcome
    size: Optional[int] = None
    message: str = ""
    status: Optional[int] = None


class Downloader:
    """Fetch products into one folder: skip verified ones, resume partial ones."""

    def __init__(self, session: PepsSession, write_dir: Path, *, parallel: int = 2,
                 on_progress: Optional[ProgressCallback] = None,
                 cancel: Optional[threading.Event] = None, extract: bool = False,
                 keep_zip: bool = False, split_policy: SplitPolicy = DEFAULT_SPLIT_POLICY) -> None:
        self.session = session
        self.write_dir = write_dir
        self.parallel = max(1, parallel)
        self.extract = extract
        self.split_policy = split_policy
        self.on_progress = on_progress or (lambda event: None)
        self.cancel = cancel or threading.Event()
        self.record = VerifiedRecord(write_dir)
        self.extractions = Extractions(write_dir, self.record, asked=extract,
                                       keep_zip=keep_zip, cancel=self.cancel)
        self._lock = threading.Lock()
        self._transfers: set[ProductTransfer] = set()
        self._connections = OpenConnections()
        self._parts: Optional[dict[str, dict[int, Path]]] = None
        self._held: set[str] = set()
        self._held_sizes: dict[str, Optional[int]] = {}
        self._base: Optional[Path] = None

    @property
    def problems(self) -> list[str]:
        """What went wrong outside any one product (the record could not be written)."""
        return list(self.record.problems)

    def holds(self, product: Product) -> bool:
        """True when `product` is on disk and verified (kept for this run, with its size)."""
        try:
            name = as_ref(product).file_name()
            found = self._verified_file(name)
            if found is not None:
                self._held.add(name)
                self._held_sizes[name] = found
                return True
            final = self._target(name)
            present = self.is_present(name, final)
        except ProductError:
            return False
        if present:
            self._held.add(name)
            if final.name == name:
                self._held_sizes[name] = file_size(final)
        return present

    def _verified_file(self, name: str) -> Optional[int]:
        """The size of the zip of plain name `name` when it is the file the record verified
        (one system call); None otherwise, and for anything else (`is_present` then tells)."""
        if "/" in name or os.sep in name or name in ("", ".", ".."):
            return None
        if self._base is None:
            self._base = self.write_dir.resolve()
        try:
            found = os.lstat(f"{self._base}{os.sep}{name}")
        except (OSError, ValueError):
            return None
        if stat.S_ISREG(found.st_mode) and self.record.describes(name, found):
            return found.st_size
        return None

    def _target(self, name: str) -> Path:
        if self._base is None:
            self._base = self.write_dir.resolve()
        return target_path(self.write_dir, name, self._base)

    def fetch_all(self, products: Iterable[Product]) -> list[ProductResult]:
        """Fetch every product (a reference, or a bare URL), in parallel; one failure never
        stops the others. Results come one per URL, in order.

        A product name given by several URLs is fetched once (see `samenames`);
        products already verified on disk are answered without the scheduler.
        """
        self._parts = scan_part_files(self.write_dir)
        remove_stale_locks(self.write_dir, LOCK_SUFFIX)
        self._remove_leftover_extractions()
        try:
            names = SameNames([as_ref(product) for product in products])
            settled = {ref.url: (ref, self._settled(ref, name))
                       for ref, name in names.first_refs()}
            waiting = [ref for ref, result in settled.values() if result is None]
            fetched = {result.url: result for result in self._fetch_many(waiting)}
            done = {url: result or fetched[url] for url, (_, result) in settled.items()}
            return names.results(done, self._conflict)
        finally:
            self.record.flush()

    def _remove_leftover_extractions(self) -> None:
        """Remove what killed runs' extractions left, each under its product's lock.

        A product whose lock is held is being extracted by a live run: its folder stays.
        """
        for name, path in self.extractions.leftovers():
            try:
                final = self._target(name)
                with hold_file_lock(final.with_name(final.name + LOCK_SUFFIX)):
                    remove_leftover(path)
            except (BusyError, ProductError, OSError):
                continue

    def _fetch_many(self, refs: list[ProductRef]) -> list[ProductResult]:
        if self.parallel == 1 or not refs:
            return [self.fetch(ref) for ref in refs]
        pool = ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="full-maja")
        try:
            results = self._fetch_with(pool, refs)
        except BaseException:
            self.cancel.set()
            self._connections.hang_up()  # a read from a silent server ends now, not at its timeout
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return results

    def _settled(self, ref: ProductRef, name: Optional[str]) -> Optional[ProductResult]:
        """The result of a product that needs no work (on disk, nothing to tidy); else None."""
        if name is not None and name in self._held_sizes and not self.extract \
                and name not in (self._parts or {}):  # found on disk by this run already
            return self._present(ref, name, self._held_sizes[name])
        try:
            final = self._target(name) if name is not None else None
        except ProductError:
            final = None
        if name is None or final is None:
            return None
        if final.name in (self._parts or {}) \
                or not (name in self._held or self.is_present(name, final)) \
                or self.extractions.pending(name, final):
            return None
        return self._present(ref, name, file_size(final))

    def _present(self, ref: ProductRef, name: str, size: Optional[int]) -> ProductResult:
        """The result of a product on disk: present, unless another URL's conflicts with it."""
        problem = disagreement(self.record, self.session, name, ref)
        if problem is not None:
            return self._failed(ref.url, ProductError(problem, product=name))
        return self._finished(ref.url, name, ProductOutcome.PRESENT, size)

    def _conflict(self, first: ProductResult, ref: ProductRef) -> Optional[str]:
        """Why `ref` does not give the product `first` put on disk, when their sizes tell."""
        if not first.outcome.on_disk:
            return None
        return disagreement(self.record, self.session, first.name, ref)

    def _fetch_with(self, pool: ThreadPoolExecutor,
                    refs: list[ProductRef]) -> list[ProductResult]:
        """Keep every connection busy: products first, then tails of the slowest ones.

        A finished product's future is let go at once: a long series keeps its results only.
        """
        waiting = deque(enumerate(refs))
        results: list[Optional[ProductResult]] = [None] * len(refs)
        products: dict[Future, int] = {}
        running: set[Future] = set()
        while waiting or running:
            while waiting and len(running) < self.parallel:
                index, ref = waiting.popleft()
                future = pool.submit(self.fetch, ref)
                products[future] = index
                running.add(future)
            if not waiting and len(running) < self.parallel:
                helper = self._work_for_free_connection()
                if helper is not None:
                    running.add(pool.submit(helper))
            done, pending = wait(running, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            running = set(pending)
            if self.cancel.is_set():
                self._connections.hang_up()
            for future in done:
                result = future.result()
                if future in products:
                    results[products.pop(future)] = result
        return [result for result in results if result is not None]

    def _work_for_free_connection(self) -> Optional[Callable[[], None]]:
        """A stretch of the product that gains most from another connection, if any does."""
        now = time.monotonic()
        with self._lock:
            transfers = list(self._transfers)
        worth = [(transfer.helpers.worth(now), index) for index, transfer in enumerate(transfers)]
        best = max(worth, default=(0.0, -1))
        if best[0] <= 0:
            return None
        transfer = transfers[best[1]]
        segment = transfer.helpers.take(now)
        return None if segment is None else partial(transfer.helpers.fetch, segment)

    def fetch(self, product: Product) -> ProductResult:
        """Make sure one product is complete and verified in the write folder.

        The product's lock file is held meanwhile: a product another run is writing
        is left to it this run (READY).
        """
        ref = as_ref(product)
        url = ref.url
        try:
            name = ref.file_name()
            final = self._target(name)
        except ProductError as exc:
            log.error("%s", exc)
            return ProductResult(url, exc.product or url, ProductOutcome.FAILED, message=str(exc))
        try:
            with hold_file_lock(final.with_name(final.name + LOCK_SUFFIX)):
                return self._fetch_held(ref, name, final)
        except BusyError:
            log.warning("%s: %s", name, LEFT_TO_ANOTHER_RUN)
            return ProductResult(url, name, ProductOutcome.READY, message=LEFT_TO_ANOTHER_RUN)
        except OSError as exc:
            return self._failed(url, ProductError(describe_disk_error(name, exc, removed=False),
                                                  product=name))

    def _fetch_held(self, ref: ProductRef, name: str, final: Path) -> ProductResult:
        refuse_unless_own(self.write_dir / name)  # a link there would be written through
        try:
            if self.is_present(name, final):
                remove_part_files(final, self._sides(final))
                if self.extractions.sound(name, final):
                    return self._finished(ref.url, name, ProductOutcome.PRESENT,
                                          file_size(final))
            size = self._download(ref, name, final)
            self.extractions.extract_if_asked(name, final)
        except ProductError as exc:
            if ref.online is False and exc.status not in (None, *KEY_REFUSALS):
                return self._on_tape(ref, name, exc)
            return self._failed(ref.url, exc)
        return self._finished(ref.url, name, ProductOutcome.DOWNLOADED, size)

    def _on_tape(self, ref: ProductRef, name: str, exc: ProductError) -> ProductResult:
        """A product on tape that the server does not give yet: for a later run, not failed."""
        message = (f"on tape at the source, not ready yet (HTTP {exc.status}); "
                   "a later run fetches it")
        log.warning("%s: %s", name, message)
        self.on_progress(Progress(ProgressKind.FINISH, name, outcome=ProductOutcome.READY))
        return ProductResult(ref.url, name, ProductOutcome.READY, message=message,
                             status=exc.status)

    def _failed(self, url: str, exc: ProductError) -> ProductResult:
        name = exc.product or url
        log.error("%s", exc)
        self.on_progress(Progress(ProgressKind.FINISH, name, outcome=ProductOutcome.FAILED))
        return ProductResult(url, name, ProductOutcome.FAILED, message=str(exc),
                             status=exc.status)

    def _sides(self, final: Path) -> Optional[dict[int, Path]]:
        """The tail part files of a product, from this run's listing; None: list them again.

        A product that had part files when the run began may be resumed: its folder
        is listed again then, in case another run has changed them since.
        """
        if self._parts is None or final.name in self._parts:
            return None
        return {}

    def _finished(self, url: str, name: str, outcome: ProductOutcome,
                  size: Optional[int]) -> ProductResult:
        """Announce a product on disk and return its result."""
        self.on_progress(Progress(ProgressKind.FINISH, name, total=size, done=size or 0,
                                  outcome=outcome))
        return ProductResult(url, name, outcome, size=size)

    def is_present(self, name: str, final: Path) -> bool:
        """True when the product is on disk and verified, now or by an earlier run."""
        if self.extractions.entries(name) and not final.exists():
            return True
        if self.record.is_current(name, final):
            return True
        if final.is_file() and zip_is_sound(final):
            self.record.remember(name, final)
            return True
        return False

    def _download(self, ref: ProductRef, name: str, final: Path) -> int:
        for attempt in (1, 2):
            parts = PartFiles(final, self._sides(final))
            transfer = ProductTransfer(self.session, ref, name, parts, cancel=self.cancel,
                                       on_progress=self.on_progress, policy=self.split_policy,
                                       connections=self._connections)
            with self._lock:
                self._transfers.add(transfer)
            try:
                size, checks = transfer.run()
                checks.check_published(size, ref.size)
                verify_while_syncing(parts.main, name, checks.zip)
            except BadBody as exc:
                parts.remove_all()
                if attempt == 2 or exc.final:
                    raise ProductError(f"{name}: {exc}; giving up on it for this run",
                                       product=name) from None
                log.warning("%s: %s; discarded, fetching it once more", name, exc)
                continue
            finally:
                with self._lock:
                    self._transfers.discard(transfer)
            os.replace(parts.main, final)
            fsync_directory(final.parent)
            digest = {"md5": ref.md5} if ref.md5 else {"sha256": checks.digest.sha256}
            self.record.remember(name, final, source=ref.url, **digest)
            return size
        raise AssertionError("unreachable")


def as_ref(product: Product) -> ProductRef:
    """A product reference; a bare URL becomes one that holds only its URL."""
    return product if isinstance(product, ProductRef) else ProductRef(product)
