"""One run at a time per job log, with an OS lock that dies with its process.

A lock file is full-maja's own: it is opened with `atomic.open_own_fd`, never through a
symbolic link, so a link planted where a lock goes is refused, never followed.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Union

from .atomic import open_own_fd
from .errors import BusyError, JobLogError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt


def lock_path_for(log_path: Union[str, Path], follow_symlinks: bool = True) -> Path:
    """The lock file that guards a file: beside it (beside its target, a symlink followed).

    A file full-maja keeps for itself (`follow_symlinks` False) has its lock beside its
    own name: a link planted there never moves the lock out of its folder.
    """
    path = Path(os.path.realpath(log_path)) if follow_symlinks else Path(log_path)
    return path.with_name(path.name + ".lock")


@contextmanager
def hold_lock(log_path: Union[str, Path], *, wait: bool = False,
              follow_symlinks: bool = True) -> Iterator[None]:
    """Hold the lock of a file; if another run holds it, wait or raise BusyError at once."""
    path = lock_path_for(log_path, follow_symlinks)
    try:
        fd = open_own_fd(path, os.O_RDWR | os.O_CREAT)
    except OSError as exc:
        raise JobLogError(f"cannot create the lock file {path}: {exc.strerror}") from None
    try:
        _acquire(fd, path, log_path, wait)
        yield
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, log_path: Union[str, Path], wait: bool) -> None:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        else:
            msvcrt.locking(fd, msvcrt.LK_LOCK if wait else msvcrt.LK_NBLCK, 1)
    except OSError:
        raise BusyError(f"another full-maja run is working on {log_path} "
                        f"(it holds {path}); try again when it has finished") from None


@contextmanager
def hold_file_lock(path: Union[str, Path]) -> Iterator[None]:
    """Hold the lock file `path` itself, or raise BusyError at once; it is removed on release.

    A lock file removed by its holder may have been opened by another run in the
    meantime: a lock is only held when the file locked is still the one at `path`.
    """
    target = Path(path)
    fd = _locked_file(target)
    try:
        yield
    finally:
        try:
            os.unlink(str(target))
        except OSError:
            pass
        os.close(fd)


def remove_stale_locks(folder: Path, suffix: str) -> None:
    """Remove the lock files ending in `suffix` that no run holds (left by a killed run)."""
    try:
        names = [name for name in os.listdir(folder) if name.endswith(suffix)]
    except OSError:
        return
    for name in names:
        try:
            with hold_file_lock(folder / name):
                pass
        except (BusyError, JobLogError, OSError):  # held, or not a lock of ours: left alone
            continue


def _locked_file(target: Path) -> int:
    fd = open_own_fd(target, os.O_RDWR | os.O_CREAT)
    try:
        _acquire(fd, target, target, wait=False)
        if os.fstat(fd).st_ino != _inode(target):
            raise BusyError(f"{target} was released while this run took it")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _inode(path: Path) -> int:
    try:
        return os.lstat(str(path)).st_ino
    except FileNotFoundError:
        return -1
