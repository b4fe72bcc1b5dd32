"""Products: the reference a job lists for each, which file it may become, its date, clouds."""
from __future__ import annotations

import os
import posixpath
import re
import sys
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Optional, Union
from urllib.parse import unquote, urlsplit

from .errors import ProductError
from .masking import mask

SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\.zip")
_DATE_IN_NAME = re.compile(r"(?:^|_)(\d{4})(\d{2})(\d{2})(?=[-T_.]|$)")
_TIME_IN_NAME = re.compile(r"_(\d{8})-(\d{6})-(\d{3})_")
_TILE_IN_NAME = re.compile(r"_T(\d{2}[C-HJ-NP-X][A-HJ-NP-Z][A-HJ-NP-V])(?:_|$)")
_VERSION_PARTS = re.compile(r"\d+")
CLOUDY_MARK = "NOVALD"
# Most file systems allow 255 bytes per name; the temporary NAME.zip.part needs 5 more.
MAX_NAME_LENGTH = 250
_MD5 = re.compile(r"[0-9a-f]{32}")
_REF_TEXT_KEYS = ("name", "md5", "mtd_url", "jpi_url", "skipped")


@dataclass(frozen=True, slots=True)
class ProductRef:
    """One product a job lists: where to fetch it, and what its source says of it.

    A processing service gives the URL only: the name is then the URL's last segment.
    A catalogue also gives the file name (an asset's title: its URLs end with no name),
    the size and MD5 it publishes, whether the file is on tape (`online` False), the
    URLs of the product's metadata files (`mtd_url`, `jpi_url`: read for provenance
    before the zip is on disk), and, for a date skipped for clouds, why (`skipped`).
    """

    url: str
    name: Optional[str] = None
    size: Optional[int] = None
    md5: Optional[str] = None
    online: Optional[bool] = None
    mtd_url: Optional[str] = None
    jpi_url: Optional[str] = None
    skipped: str = ""
    _checked: Optional[str] = field(default=None, init=False, repr=False, compare=False)

    @property
    def label(self) -> str:
        """The name to show: the one given, else the URL's last segment (unchecked, cheap)."""
        if self.name:
            return self.name
        segment = self.url.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1]
        return (unquote(segment) if "%" in segment else segment) or self.url

    @property
    def cloudy(self) -> bool:
        """True for a date skipped for clouds: nothing to download."""
        return bool(self.skipped) or is_cloudy(self.label)

    def file_name(self) -> str:
        """The file this product becomes in the write folder, checked (ProductError if unsafe).

        Checked once: a run asks it of each product several times.
        """
        if self._checked is not None:
            return self._checked
        if self.name is None:
            name = product_name_from_url(self.url)
        else:
            name = checked_name(self.name, f"the product name {self.name!r}")
        object.__setattr__(self, "_checked", name)
        return name

    def as_json(self) -> Union[str, dict[str, Any]]:
        """The reference as kept on disk: a bare URL when that is all it holds."""
        fields = {key: getattr(self, key) for key in _REF_FIELDS}
        fields = {key: value for key, value in fields.items()
                  if value is not None and value != ""}
        return self.url if list(fields) == ["url"] else fields


_REF_FIELDS = tuple(item.name for item in dataclass_fields(ProductRef) if item.init)


def product_ref_from_json(value: Any) -> ProductRef:
    """A reference kept by `as_json` (a URL, or an object); ValueError if it is neither.

    Its URL is one string with the same URL read elsewhere (the verified record's).
    """
    if isinstance(value, str) and value:
        return ProductRef(sys.intern(value))
    if not isinstance(value, dict) or not isinstance(value.get("url"), str):
        raise ValueError("not a product reference")
    size, online = value.get("size"), value.get("online")
    texts = {key: value.get(key) for key in _REF_TEXT_KEYS}
    if (size is not None and (not isinstance(size, int) or isinstance(size, bool))) \
            or not isinstance(online, (bool, type(None))) \
            or not all(isinstance(text, (str, type(None))) for text in texts.values()):
        raise ValueError("not a product reference")
    return ProductRef(sys.intern(value["url"]), texts["name"], size, texts["md5"], online,
                      texts["mtd_url"], texts["jpi_url"], texts["skipped"] or "")


def is_md5(text: str) -> bool:
    """True for an MD5 digest written as 32 lowercase hex digits."""
    return bool(_MD5.fullmatch(text))


def checked_name(name: str, what: str) -> str:
    """`name` if it is a plain product file name (`what` names it in the refusal)."""
    if not SAFE_NAME.fullmatch(name) or ".." in name or len(name) > MAX_NAME_LENGTH:
        raise ProductError(f"refused {what}: it is not a plain product name (letters, "
                           f"digits, _ - . ending in .zip, at most {MAX_NAME_LENGTH} "
                           "characters)", product=name)
    _refuse_secret(name, what)
    return name


def _refuse_secret(name: str, what: str) -> None:
    """Refuse a name holding a secret full-maja sends: it would be written to disk."""
    if mask(name) != name:
        raise ProductError(f"refused {what}: it holds the API key or password full-maja "
                           "sends (a server echoing it), which a file name would keep in "
                           "the write folder", product=mask(name))


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
    _refuse_secret(name, f"the product URL {url!r}")
    return name


def target_path(write_dir: Path, name: str, base: Optional[Path] = None) -> Path:
    """Where product `name` lands, checked to stay inside `write_dir` (`base`: it, resolved).

    A plain name that is not a symbolic link needs no resolving, which costs a
    system call per folder of the path.
    """
    base = base or write_dir.resolve()
    path = base / name
    if name not in ("", ".", "..") and "/" not in name and os.sep not in name \
            and "\0" not in name and not os.path.islink(path):
        return path
    path = path.resolve()
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


def acquisition_time(name: str) -> Optional[datetime]:
    """The acquisition time (UTC, to the millisecond) in a MAJA L2A product name, if any."""
    match = _TIME_IN_NAME.search(name)
    if match is None:
        return None
    try:
        return datetime.strptime(match[1] + match[2] + match[3] + "000",
                                 "%Y%m%d%H%M%S%f").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def tile_in_name(name: str) -> Optional[str]:
    """The MGRS tile a product name carries (`_T31TCJ_`: 31TCJ)."""
    match = _TILE_IN_NAME.search(name)
    return match[1] if match else None


def version_numbers(text: Optional[str]) -> tuple[int, ...]:
    """The numbers of a product version as written (`V4-1`, `4.1`: (4, 1))."""
    return tuple(int(part) for part in _VERSION_PARTS.findall(text or ""))


def version_key(text: Optional[str]) -> Optional[tuple[int, ...]]:
    """A product version as numbers to compare, trailing zeros dropped (`4.0` is `4`)."""
    parts = list(version_numbers(text))
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts) or None


def is_cloudy(name: str) -> bool:
    """True for a result MAJA did not issue because the scene was over 90 % cloudy."""
    return CLOUDY_MARK in name.upper()


def product_stem(name: str) -> str:
    """The product name without `.zip`."""
    return name[:-4] if name.lower().endswith(".zip") else name
