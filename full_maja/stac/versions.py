"""The versions of one acquisition: THEIA reprocesses products, and a folder can hold
several versions of one date of a tile (`_V4-0`, then `_V4-1`). The catalogue gives each
acquisition one Item, the latest version's; the older stay on disk, without an Item.

An acquisition is a tile and an acquisition time to the second, as the product's provenance
gives them, else its name (the Item's `datetime` and tile): a name's time has milliseconds
that the metadata may not, and its tile no `T`. The latest of its versions: the highest
product version when every one has a version; then, among those left, the latest
production date when every one has a date. Products still tied are all kept (never
guessed), with a warning. A product whose tile or time is unknown has its own Item.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Optional

from ..mgrs import tile_grid
from ..products import acquisition_time, tile_in_name, version_key
from ..provenance import Provenance

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Version:
    """One product as a version of its acquisition: its name, product version, production."""

    name: str
    version: Optional[tuple[int, ...]]
    produced: Optional[datetime]


def acquired(name: str, facts: Provenance) -> Optional[datetime]:
    """The acquisition time: the metadata's, else the name's; None if neither gives one."""
    return facts.acquisition_date or acquisition_time(name)


def _tile(name: str, facts: Provenance) -> Optional[str]:
    """The tile as one name whichever gives it (the metadata's `T31TCJ`, a name's `31TCJ`)."""
    grid = tile_grid(facts.tile or tile_in_name(name) or "")
    return grid.tile if grid is not None else None


def superseded(products: Iterable[tuple[str, Provenance]]) -> set[str]:
    """The names of the products an other version of their acquisition supersedes."""
    groups: dict[tuple[str, datetime], list[Version]] = {}
    for name, facts in products:
        tile, moment = _tile(name, facts), acquired(name, facts)
        if tile and moment:
            groups.setdefault((tile, moment.replace(microsecond=0)), []).append(
                Version(name, version_key(facts.product_version), facts.production_date))
    older: set[str] = set()
    for group in groups.values():
        if len(group) > 1:
            kept = latest(group)
            older.update(version.name for version in group if version not in kept)
    return older


def latest(group: list[Version]) -> list[Version]:
    """The latest versions of one acquisition: one, unless nothing tells them apart."""
    if all(version.version is not None for version in group):
        top = max(version.version or () for version in group)
        group = [version for version in group if version.version == top]
    if len(group) > 1 and all(version.produced is not None for version in group):
        last = max(version.produced for version in group if version.produced is not None)
        group = [version for version in group if version.produced == last]
    if len(group) > 1:
        log.warning("%s: versions of one acquisition with nothing telling which is the "
                    "latest (product version, production date); each keeps its Item",
                    ", ".join(version.name for version in group))
    return group
