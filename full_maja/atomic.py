"""Crash-safe file writes: a reader sees the old content or the new, never half of it."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Union

from .masking import mask


def atomic_write(path: Union[str, Path], data: Union[bytes, str], *,
                 follow_symlinks: bool = True) -> None:
    """Write `data` to a temporary file beside `path`, flush it to disk, rename it over.

    A symlink is followed (the user's log: its target is replaced, the link stays a
    link) unless `follow_symlinks` is False (a file full-maja keeps for itself: a link
    there is replaced, never the file it points to). Text has every secret hidden
    (`masking`); bytes (a quick-look) are written as they are.
    """
    target = Path(os.path.realpath(path)) if follow_symlinks else Path(path)
    payload = mask(data).encode("utf-8") if isinstance(data, str) else data
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                     dir=str(target.parent))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        _keep_mode(target, temp_name)
        os.replace(temp_name, target)
    except BaseException:
        _remove_quietly(temp_name)
        raise
    fsync_directory(target.parent)


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
