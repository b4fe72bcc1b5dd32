"""Downloading products: resumable, verified before their final name, in parallel."""
from __future__ import annotations

import errno
import logging
import os
import re
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

import requests
import urllib3

from .atomic import fsync_directory
from .errors import Cancelled, NetworkError, ProductError, UsageError
from .extract import extract_product
from .products import product_name_from_url, target_path
from .session import PepsSession
from .verified import VerifiedRecord
from .zipcheck import CorruptZip, StreamingZipCheck, check_zip_file, zip_is_sound

log = logging.getLogger(__name__)

DOWNLOADED, PRESENT, FAILED = "downloaded", "already present", "failed"
PART_SUFFIX = ".part"
CHUNK = 1024 * 1024
RESUME_ATTEMPTS = 5
ZIP_MAGIC = b"PK\x03\x04"
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


@dataclass(frozen=True)
class ProductResult:
    """What became of one product URL."""

    url: str
    name: str
    outcome: str
    size: Optional[int] = None
    message: str = ""
    status: Optional[int] = None


@dataclass(frozen=True)
class Progress:
    """A progress event: `kind` is start, advance or finish."""

    kind: str
    name: str
    total: Optional[int] = None
    done: int = 0
    step: int = 0
    outcome: str = ""


ProgressCallback = Callable[[Progress], None]


class Interrupted(Exception):
    """The transfer stopped early and can resume from the temporary file."""


class BadBody(Exception):
    """The server sent something that is not the product."""


class Downloader:
    """Fetch products into one folder: skip verified ones, resume partial ones."""

    def __init__(self, session: PepsSession, write_dir: Path, *, parallel: int = 2,
                 on_progress: Optional[ProgressCallback] = None,
                 cancel: Optional[threading.Event] = None, extract: bool = False,
                 keep_zip: bool = False) -> None:
        self.session = session
        self.write_dir = write_dir
        self.parallel = max(1, parallel)
        self.extract = extract
        self.keep_zip = keep_zip
        self.on_progress = on_progress or (lambda event: None)
        self.cancel = cancel or threading.Event()
        self.record = VerifiedRecord(write_dir)

    def fetch_all(self, urls: Iterable[str]) -> list[ProductResult]:
        """Fetch every URL, in parallel; one failure never stops the others."""
        urls = list(urls)
        if self.parallel == 1 or len(urls) <= 1:
            return [self.fetch(url) for url in urls]
        pool = ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="full-maja")
        futures = [pool.submit(self.fetch, url) for url in urls]
        try:
            _wait_all(futures)
        except BaseException:
            self.cancel.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return [future.result() for future in futures]

    def fetch(self, url: str) -> ProductResult:
        """Make sure one product is complete and verified in the write folder."""
        try:
            name = product_name_from_url(url)
            final = target_path(self.write_dir, name)
        except ProductError as exc:
            log.error("%s", exc)
            return ProductResult(url, exc.product or url, FAILED, message=str(exc))
        try:
            if self.is_present(name, final):
                self._extract_if_asked(name, final)
                self.on_progress(Progress("finish", name, outcome=PRESENT))
                return ProductResult(url, name, PRESENT, size=_size(final))
            size = self._download(url, name, final)
            self._extract_if_asked(name, final)
        except ProductError as exc:
            log.error("%s", exc)
            self.on_progress(Progress("finish", name, outcome=FAILED))
            return ProductResult(url, name, FAILED, message=str(exc), status=exc.status)
        self.on_progress(Progress("finish", name, total=size, done=size, outcome=DOWNLOADED))
        return ProductResult(url, name, DOWNLOADED, size=size)

    def is_present(self, name: str, final: Path) -> bool:
        """True when the product is on disk and verified, now or by an earlier run."""
        if self._extracted_entries(name) and not final.exists():
            return True
        if self.record.is_current(name, final):
            return True
        if final.is_file() and zip_is_sound(final):
            self.record.remember(name, final)
            return True
        return False

    def _extracted_entries(self, name: str) -> list[str]:
        """What an earlier extraction of `name` made, if all of it is still there."""
        entries = (self.record.entry(name) or {}).get("extracted")
        if isinstance(entries, str):
            entries = [entries]
        if not isinstance(entries, list) or not entries:
            return []
        paths = [self.write_dir / entry for entry in entries if isinstance(entry, str)]
        return entries if paths and all(path.exists() for path in paths) else []

    def _extract_if_asked(self, name: str, final: Path) -> None:
        if not self.extract or not final.exists():
            return
        entries = self._extracted_entries(name)
        if not entries:
            entries = extract_product(final, self.write_dir)
            self.record.remember(name, final, extracted=entries)
        if not self.keep_zip:
            self.record.remember_extracted(name, entries)
            final.unlink()

    def _download(self, url: str, name: str, final: Path) -> int:
        part = final.with_name(final.name + PART_SUFFIX)
        for attempt in (1, 2):
            try:
                size, check = self._transfer_with_resume(url, name, part)
                _verify_while_syncing(part, name, check)
            except BadBody as exc:
                _remove(part)
                if attempt == 2:
                    raise ProductError(f"{name}: {exc}; giving up on it for this run",
                                       product=name) from None
                log.warning("%s: %s; discarded, fetching it once more", name, exc)
                continue
            os.replace(part, final)
            fsync_directory(final.parent)
            self.record.remember(name, final)
            return size
        raise AssertionError("unreachable")

    def _transfer_with_resume(self, url: str, name: str,
                              part: Path) -> tuple[int, StreamingZipCheck]:
        last_error = ""
        for _ in range(RESUME_ATTEMPTS):
            try:
                return self._transfer(url, name, part)
            except Interrupted as exc:
                last_error = str(exc)
                log.warning("%s: %s; resuming", name, exc)
        raise ProductError(f"{name}: the transfer kept breaking off ({last_error}); "
                           "the part already fetched is kept for the next run", product=name)

    def _transfer(self, url: str, name: str, part: Path) -> tuple[int, StreamingZipCheck]:
        offset = _size(part) or 0
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            response = self.session.get(url, headers=headers, stream=True)
        except (NetworkError, UsageError) as exc:
            raise ProductError(f"{name}: {exc}", product=name) from None
        with response:
            if response.status_code == 416 and offset:
                _remove(part)
                raise Interrupted("the server refused to resume; starting over")
            _check_status(response, name)
            span = _body_span(response, offset)
            if span is None:
                _remove(part)
                raise Interrupted("the server's Content-Range does not match; starting over")
            start, total = span
            if start != offset:
                log.warning("%s: the server cannot resume, fetching it from the start", name)
            _check_content_type(response)
            self.on_progress(Progress("start", name, total=total, done=start))
            try:
                check = _check_of_prefix(part, start)
            except CorruptZip:
                _remove(part)
                raise Interrupted("the part kept from an earlier run is damaged; "
                                  "starting over") from None
            written = self._write_body(response, part, start, name, total, check)
        if total is not None and written != total:
            raise Interrupted(f"got {written} of {total} bytes")
        return written, check

    def _write_body(self, response: requests.Response, part: Path, start: int,
                    name: str, total: Optional[int], check: StreamingZipCheck) -> int:
        written = start
        mode = "ab" if start else "wb"
        try:
            with open(part, mode) as handle:
                if start:
                    handle.truncate(start)
                for chunk in _body_chunks(response):
                    if self.cancel.is_set():
                        raise Cancelled(f"stopped while fetching {name}; the part already "
                                        "fetched is kept for the next run")
                    if written == 0 and not chunk.startswith(ZIP_MAGIC[:len(chunk)]):
                        raise BadBody(_describe_non_zip(chunk))
                    check.feed(chunk)
                    handle.write(chunk)
                    written += len(chunk)
                    self.on_progress(Progress("advance", name, total=total, done=written,
                                              step=len(chunk)))
                handle.flush()
        except CorruptZip as exc:
            raise BadBody(str(exc)) from None
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise Interrupted(_describe_break(exc)) from None
        except OSError as exc:
            _remove(part)
            raise ProductError(_describe_disk_error(name, exc), product=name) from None
        return written


def _body_chunks(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives, so that a broken transfer loses no byte already received.

    `iter_content` asks urllib3 for whole chunks and drops a half-filled one when
    the connection breaks; `read1` hands over what each read got.
    """
    read1 = getattr(response.raw, "read1", None)
    if read1 is None:
        yield from response.iter_content(chunk_size=CHUNK)
        return
    while True:
        chunk = read1(CHUNK)
        if not chunk:
            return
        yield chunk


def _wait_all(futures: list[Future]) -> None:
    pending = set(futures)
    while pending:
        _, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)


def _check_status(response: requests.Response, name: str) -> None:
    code = response.status_code
    if code in (200, 206):
        return
    advice = {403: "access denied", 404: "not on the server (purged, or not produced)"}
    reason = advice.get(code, "the server kept failing" if code >= 500 or code == 429
                        else "unexpected answer")
    raise ProductError(f"{name}: HTTP {code}, {reason}", product=name, status=code)


def _body_span(response: requests.Response,
               offset: int) -> Optional[tuple[int, Optional[int]]]:
    """Where the body starts in the product and its full size; None if the range is wrong."""
    if response.status_code == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        if match and int(match.group(1)) == offset and match.group(3) != "*":
            return offset, int(match.group(3))
        return None
    length = response.headers.get("Content-Length")
    return 0, int(length) if length and length.isdigit() else None


_NOT_ZIP_TYPES = {"text/html": "an HTML page", "application/json": "JSON",
                  "text/plain": "plain text", "application/xml": "XML", "text/xml": "XML"}


def _check_content_type(response: requests.Response) -> None:
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if kind in _NOT_ZIP_TYPES:
        raise BadBody(f"the server sent {_NOT_ZIP_TYPES[kind]} instead of a zip")


def _describe_non_zip(chunk: bytes) -> str:
    head = chunk[:64].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "the server sent an HTML page instead of a zip"
    if head.startswith((b"{", b"[")):
        return "the server sent JSON instead of a zip"
    return "the server sent something that is not a zip"


def _describe_break(exc: Exception) -> str:
    text = str(exc)
    if "Read timed out" in text or isinstance(exc, requests.exceptions.Timeout):
        return "no data received for too long"
    return "the connection broke off"


def _describe_disk_error(name: str, exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return f"{name}: the disk is full; the partial file was removed, free space and run again"
    return f"{name}: cannot write the product: {exc.strerror or exc}"


def _check_of_prefix(part: Path, start: int) -> StreamingZipCheck:
    """A streaming check that has already seen the first `start` bytes kept on disk."""
    check = StreamingZipCheck()
    if start:
        with open(part, "rb") as handle:
            while not check.unsure and handle.tell() < start:
                check.feed(handle.read(min(CHUNK, start - handle.tell())))
    return check


def _verify_while_syncing(path: Path, name: str, check: StreamingZipCheck) -> None:
    """Make sure the zip is sound and on disk before it may take its final name.

    When the streaming check saw every member, only the directory is read again;
    otherwise the whole archive is checked while the kernel flushes it, side by side.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="full-maja-fsync") as pool:
        synced = pool.submit(_fsync_file, path)
        try:
            if not check.confirms(path):
                check_zip_file(path)
        except CorruptZip as exc:
            raise BadBody(str(exc)) from None
        finally:
            error = synced.exception()
    if error is not None:
        _remove(path)
        raise ProductError(_describe_disk_error(name, error), product=name) from None


def _fsync_file(path: Path) -> None:
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _size(path: Path) -> Optional[int]:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass

