"""Crash-safe file writes, and the files full-maja keeps for itself in a shared folder.

`atomic_write`: a reader sees the old content or the new, never half of it. `open_own`
and `refuse_unless_own`: a file full-maja keeps in a write folder (part files, locks,
the verified record, the page) is only ever opened as a regular file, never through a
symbolic link, so that a link or a FIFO planted by whoever shares the folder is refused
and the file it leads to is left untouched.
"""
from __future__ import annotations

import errno
import os
import stat
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, Iterable, Optional, Union, cast

from .capped import file_kind
from .masking import mask

_NO_FOLLOW = (getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
              | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
_MODES = {"rb": os.O_RDONLY, "r+b": os.O_RDWR,
          "ab": os.O_WRONLY | os.O_APPEND | os.O_CREAT,
          "xb": os.O_WRONLY | os.O_CREAT | os.O_EXCL}
WRITE_BUFFER = 256 * 1024
PARALLEL_FLUSHES = 8


class NotOwnFile(OSError):
    """Where full-maja keeps a file of its own, something else is: a link, a FIFO, a folder."""

    def __init__(self, path: Union[str, Path], mode: int) -> None:
        kind = "a symbolic link" if stat.S_ISLNK(mode) else file_kind(mode)
        super().__init__(errno.EEXIST, f"{path} is {kind}, not a file full-maja made: "
                         "refused and left alone, nothing is written through it; remove it "
                         "and run again", str(path))


def refuse_unless_own(path: Union[str, Path]) -> bool:
    """True when `path` is a regular file, False when absent; NotOwnFile for anything else.

    A symbolic link is not followed: it is refused, whatever it leads to.
    """
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return False
    if not stat.S_ISREG(mode):
        raise NotOwnFile(path, mode)
    return True


def refuse_unless_own_folder(path: Union[str, Path]) -> bool:
    """True when `path` is a real folder, False when absent; NotOwnFile for anything else."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return False
    if not stat.S_ISDIR(mode):
        raise NotOwnFile(path, mode)
    return True


def open_own_fd(path: Union[str, Path], flags: int) -> int:
    """Open a file of full-maja's own with `flags`: never through a link, only a regular file."""
    try:
        fd = os.open(str(path), flags | _NO_FOLLOW, 0o666)
    except OSError:
        refuse_unless_own(path)  # a link (ELOOP) or a FIFO without reader (ENXIO) says so
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotOwnFile(path, mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_own(path: Union[str, Path], mode: str = "rb") -> BinaryIO:
    """`open_own_fd` as a file object; `mode`: "rb", "r+b", "ab" (created if absent), "xb"."""
    return cast(BinaryIO, os.fdopen(open_own_fd(path, _MODES[mode]), mode.replace("x", "w")))


class Lines:
    """A text given line by line, each line ending with its line break: written by
    `atomic_write` as it comes, never held whole in memory."""

    def __init__(self, lines: Iterable[str]) -> None:
        self.lines = lines


def atomic_write(path: Union[str, Path], data: Union[bytes, str, Lines], *,
                 follow_symlinks: bool = True) -> None:
    """Write `data` to a temporary file beside `path`, flush it to disk, rename it over.

    A symlink is followed (the user's log: its target is replaced, the link stays a
    link) unless `follow_symlinks` is False (a file full-maja keeps for itself): then
    anything but a regular file there (a link, a FIFO) is refused with NotOwnFile and
    left alone, and so is the file a link points to. Text has every secret hidden
    (`masking`; `Lines` line by line: a secret holds no line break, so none spans two);
    bytes (a quick-look) are written as they are. Many files into one folder:
    `FolderWrites`.
    """
    if isinstance(data, Lines):
        chunks: Iterable[bytes] = (mask(line).encode("utf-8") for line in data.lines)
    else:
        chunks = (mask(data).encode("utf-8") if isinstance(data, str) else data,)
    _replace(path, chunks, follow_symlinks)


def _replace(path: Union[str, Path], chunks: Iterable[bytes], follow_symlinks: bool) -> None:
    """Write `chunks` to a temporary file beside `path`, flush it, rename it over `path`."""
    target = Path(os.path.realpath(path)) if follow_symlinks else Path(path)
    if not follow_symlinks:
        refuse_unless_own(target)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                     dir=str(target.parent))
    try:
        with os.fdopen(fd, "wb", buffering=WRITE_BUFFER) as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        _keep_mode(target, temp_name)
        os.replace(temp_name, target)
    except BaseException:
        _remove_quietly(temp_name)
        raise
    fsync_directory(target.parent)


class FolderWrites:
    """Files written into one folder as `atomic_write` writes each (its bytes on disk before
    it takes its name), their flushes several at once, the folder flushed once at the end.

    Flushing files one after another costs a journal commit each; flushes issued side by
    side are committed together, so thousands of small files (Items, quick-looks) cost a
    fraction of it. A write that fails (a full disk) is raised by a later `write` or by
    `close`, which waits for every flush; the files written before it keep their names.
    Use it as a context manager; files full-maja keeps for itself, never through a link.
    """

    def __init__(self, folder: Union[str, Path], flushes: int = PARALLEL_FLUSHES) -> None:
        self.folder = Path(folder)
        self._flushes = flushes
        self._pool: Optional[ThreadPoolExecutor] = None
        self._slots = threading.BoundedSemaphore(flushes * 4)
        self._failure: Optional[BaseException] = None
        self._written = 0

    def __enter__(self) -> FolderWrites:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        self.close(raise_failure=kind is None)

    def write(self, name: str, data: Union[bytes, str]) -> None:
        """Write file `name` of the folder; its flush and rename follow in the background."""
        self._raise_failure()
        target = self.folder / name
        refuse_unless_own(target)
        payload = mask(data).encode("utf-8") if isinstance(data, str) else data
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                         dir=str(self.folder))
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
        except BaseException:
            os.close(fd)
            _remove_quietly(temp_name)
            raise
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._flushes, thread_name_prefix="full-maja-flush")
        self._slots.acquire()
        self._pool.submit(self._finish, fd, temp_name, target)
        self._written += 1

    def _finish(self, fd: int, temp_name: str, target: Path) -> None:
        try:
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            _keep_mode(target, temp_name)
            os.replace(temp_name, target)
        except BaseException as exc:
            _remove_quietly(temp_name)
            self._failure = self._failure or exc
        finally:
            self._slots.release()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def close(self, raise_failure: bool = True) -> None:
        """Wait for every flush, then flush the folder; raise the first failure."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._written:
            fsync_directory(self.folder)
            self._written = 0
        if raise_failure:
            self._raise_failure()


def fsync_directory(directory: Union[str, Path]) -> None:
    """Make a rename in `directory` durable, where the platform allows it."""
    try:
        fd = os.open(str(directory), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _keep_mode(target: Path, temp_name: str) -> None:
    try:
        mode = target.stat().st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_UMASK
    os.chmod(temp_name, mode)


def _read_umask() -> int:
    """The process umask, read once at import: setting it is not thread-safe."""
    current = os.umask(0o022)
    os.umask(current)
    return current


_UMASK = _read_umask()


def _remove_quietly(name: str) -> None:
    try:
        os.remove(name)
    except OSError:
        pass
