"""Product names: which file a URL may become, its acquisition date, whether it is cloudy."""
from __future__ import annotations

import os
import posixpath
import re
from datetime import date
from pathlib import Path
from typing import Optional
from urllib.parse import unquote, urlsplit

from .errors import ProductError

SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\.zip")
_DATE_IN_NAME = re.compile(r"(?:^|_)(\d{4})(\d{2})(\d{2})(?=[-T_.]|$)")
CLOUDY_MARK = "NOVALD"
# Most file systems allow 255 bytes per name; the temporary NAME.zip.part needs 5 more.
MAX_NAME_LENGTH = 250


def product_name_from_url(url: str) -> str:
    """The decoded last path segment of a product URL, if it is a safe zip name."""
    try:
        path = urlsplit(url).path
    except ValueError:
        raise ProductError(f"refused the product URL {url!r}: it is not a URL",
                           product=url) from None
    raw = path.rsplit("/", 1)[-1]
    name = unquote(raw)
    if any(unquote(segment) in (".", "..") for segment in path.split("/")):
        raise ProductError(f"refused the product URL {url!r}: its path holds a . or .. "
                           "segment, which could name a file other than the one listed",
                           product=name or raw)
    if not SAFE_NAME.fullmatch(name) or ".." in name or len(name) > MAX_NAME_LENGTH:
        raise ProductError(f"refused the product URL {url!r}: its file name {name!r} is not "
                           "a plain product name (letters, digits, _ - . ending in .zip, "
                           f"at most {MAX_NAME_LENGTH} characters)",
                           product=name or raw)
    return name


def target_path(write_dir: Path, name: str, base: Optional[Path] = None) -> Path:
    """Where product `name` lands, checked to stay inside `write_dir` (`base`: it, resolved).

    A plain name that is not a symbolic link needs no resolving, which costs a
    system call per folder of the path.
    """
    base = base or write_dir.resolve()
    if name not in ("", ".", "..") and not any(c in name for c in ("/", os.sep, "\0")) \
            and not os.path.islink(base / name):
        return base / name
    path = (base / name).resolve()
    if path.parent != base:
        raise ProductError(f"refused the product {name!r}: it would land outside {write_dir}",
                           product=name)
    return path


def acquisition_date(name: str) -> Optional[date]:
    """The acquisition date in a MAJA L2A or an L1C product name, if it has one."""
    stem = posixpath.basename(name)
    for match in _DATE_IN_NAME.finditer(stem):
        try:
            return date(*(int(group) for group in match.groups()))
        except ValueError:
            continue
    return None


def is_cloudy(name: str) -> bool:
    """True for a result MAJA did not issue because the scene was over 90 % cloudy."""
    return CLOUDY_MARK in name.upper()


def product_stem(name: str) -> str:
    """The product name without `.zip`."""
    return name[:-4] if name.lower().endswith(".zip") else name
