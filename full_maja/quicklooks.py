"""Quick-looks and cloud cover of the products on disk, read from their zips or folders.

Only a product's `*_QKL_ALL.jpg` and `*_MTD_ALL.xml` are read, each under a size cap;
the quick-look is copied into `series-quicklooks/` beside the products, and the metadata
is parsed with defusedxml (no entity, no DTD). A product that cannot be read has no
preview: a broken archive never raises.
"""
from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional
from urllib.parse import quote

from defusedxml import ElementTree as SafeET

from .atomic import FolderWrites, atomic_write
from .download.verified import VerifiedRecord
from .errors import ProductError
from .products import product_stem, target_path

QUICKLOOK_DIR = "series-quicklooks"
MAX_QUICKLOOK_BYTES = 32 * 1024 * 1024
MAX_METADATA_BYTES = 16 * 1024 * 1024
JPEG_MAGIC = b"\xff\xd8"
QUICKLOOK_SUFFIX = "_QKL_ALL.JPG"
METADATA_SUFFIX = "_MTD_ALL.XML"
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9_.-]")
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, KeyError,
               ValueError, NotImplementedError, RuntimeError, OSError)


@dataclass(frozen=True)
class Preview:
    """What can be shown of a product on disk: its quick-look, cloud cover and link."""

    image: Optional[str] = None
    cloud: Optional[float] = None
    link: Optional[str] = None


class Previews:
    """Finds each product's quick-look and cloud cover, in its zip or extracted folder.

    Each quick-look copied is on disk under its name when `of` returns, unless `batched`:
    then they are flushed side by side (`atomic.FolderWrites`), and `close` (or the end
    of a `with` block) waits until each is.
    """

    def __init__(self, write_dir: Path, record: Optional[VerifiedRecord] = None, *,
                 batched: bool = False) -> None:
        """`record`: the folder's record of verified products, if the caller holds it."""
        self.write_dir = write_dir
        self.record = record if record is not None else VerifiedRecord(write_dir)
        self.batched = batched
        self._writes: Optional[FolderWrites] = None

    def __enter__(self) -> Previews:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        self.close(raise_failure=kind is None)

    def close(self, raise_failure: bool = True) -> None:
        """Wait for the quick-looks copied to be on disk; OSError if one could not be."""
        if self._writes is not None:
            writes, self._writes = self._writes, None
            writes.close(raise_failure)

    def of(self, name: str) -> Preview:
        """The preview of product `name` in the write folder; empty if there is none."""
        try:
            zip_path = target_path(self.write_dir, name)
        except ProductError:
            return Preview()
        if zip_path.is_file():
            image, cloud = self._from_zip(zip_path, name)
            return Preview(image, cloud, quote(zip_path.name, safe=""))
        extracted = self._extracted_folder(name)
        return self._from_folder(name, extracted) if extracted else Preview()

    def _extracted_folder(self, name: str) -> Optional[str]:
        """The folder the verified record says product `name` was extracted into."""
        extracted = (self.record.entry(name) or {}).get("extracted")
        if isinstance(extracted, list) and extracted and isinstance(extracted[0], str):
            extracted = extracted[0]
        return extracted if isinstance(extracted, str) and extracted else None

    def _from_zip(self, path: Path, name: str) -> tuple[Optional[str], Optional[float]]:
        """The quick-look path and cloud cover read from the zip at `path`."""
        image = cloud = None
        try:
            with zipfile.ZipFile(path) as archive:
                members = [info for info in archive.infolist() if not info.is_dir()]
                quicklook = _member_ending(members, QUICKLOOK_SUFFIX)
                metadata = _member_ending(members, METADATA_SUFFIX)
                if quicklook is not None and quicklook.file_size <= MAX_QUICKLOOK_BYTES:
                    image = self._save_quicklook(
                        name, quicklook.file_size, lambda: archive.read(quicklook))
                if metadata is not None and metadata.file_size <= MAX_METADATA_BYTES:
                    cloud = cloud_percent(archive.read(metadata))
        except ZIP_ERRORS:
            pass
        return image, cloud

    def _from_folder(self, name: str, extracted: str) -> Preview:
        """The preview of a product extracted into `write_dir/extracted`."""
        try:
            folder = (self.write_dir / extracted).resolve()
            if folder.parent != self.write_dir.resolve() or not folder.is_dir():
                return Preview()
            files = sorted(path for pattern in ("*", "*/*") for path in folder.glob(pattern)
                           if path.is_file())
        except OSError:
            return Preview()
        quicklook = _file_ending(files, QUICKLOOK_SUFFIX)
        metadata = _file_ending(files, METADATA_SUFFIX)
        image = cloud = None
        try:
            if quicklook is not None and quicklook.stat().st_size <= MAX_QUICKLOOK_BYTES:
                image = self._save_quicklook(name, quicklook.stat().st_size,
                                             quicklook.read_bytes)
            if metadata is not None and metadata.stat().st_size <= MAX_METADATA_BYTES:
                cloud = cloud_percent(metadata.read_bytes())
        except OSError:
            pass
        return Preview(image, cloud, quote(folder.name, safe="") + "/")

    def _save_quicklook(self, name: str, size: int,
                        read: Callable[[], bytes]) -> Optional[str]:
        """Copy a JPEG quick-look into `series-quicklooks/` unless there already; its path."""
        file_name = quicklook_name(name)
        target = self.write_dir / QUICKLOOK_DIR / file_name
        link = f"{QUICKLOOK_DIR}/{quote(file_name, safe='')}"
        try:
            if target.is_file() and target.stat().st_size == size:
                return link
        except OSError:
            pass
        data = read()
        if not data.startswith(JPEG_MAGIC):
            return None
        target.parent.mkdir(exist_ok=True)
        if not self.batched:
            atomic_write(target, data, follow_symlinks=False)
            return link
        if self._writes is None:
            self._writes = FolderWrites(target.parent)
        self._writes.write(file_name, data)
        return link


def _member_ending(members: list[zipfile.ZipInfo], suffix: str) -> Optional[zipfile.ZipInfo]:
    """The first zip member whose name ends with `suffix`, in any case."""
    return next((info for info in members if info.filename.upper().endswith(suffix)), None)


def _file_ending(files: list[Path], suffix: str) -> Optional[Path]:
    """The first file whose name ends with `suffix`, in any case."""
    return next((path for path in files if path.name.upper().endswith(suffix)), None)


def quicklook_name(name: str) -> str:
    """The file name of a product's quick-look in `series-quicklooks/`: `<stem>.jpg`."""
    stem = product_stem(name)
    safe = _UNSAFE_FILE_CHARS.sub("_", stem).lstrip(".")[:150]
    if safe != stem or not safe:
        safe = f"{safe or 'product'}-{zlib.crc32(name.encode('utf-8')):08x}"
    return f"{safe}.jpg"


def cloud_percent(metadata: bytes) -> Optional[float]:
    """The CloudPercent index of a MAJA `_MTD_ALL.xml`: the current product's, else any."""
    try:
        root = SafeET.fromstring(metadata)
    except (ValueError, SyntaxError):
        return None
    current = [element for element in root.iter() if _local(element.tag) == "Current_Product"]
    for scope in [*current, root]:
        for element in scope.iter():
            if _local(element.tag) == "QUALITY_INDEX" \
                    and element.get("name", "").lower() == "cloudpercent":
                value = _number(element.text)
                if value is not None:
                    return value
    return None


def _local(tag: object) -> str:
    """An XML tag without its namespace."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _number(text: Optional[str]) -> Optional[float]:
    """A percentage from 0 to 100 in `text`, or None."""
    try:
        value = float((text or "").strip())
    except ValueError:
        return None
    return value if 0 <= value <= 100 else None
