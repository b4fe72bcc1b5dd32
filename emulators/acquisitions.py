"""Which acquisitions a job's period holds, and the L2A and L1C names they get."""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import FrozenSet, List, Optional, Tuple

CLOUDY_MARK = "NOVALD"
_L2A_NAME = re.compile(r"(SENTINEL2[A-D])_(\d{8})-(\d{6})-\d{3}_L2A_(T\w{5})")
_FIRST_PASS = timedelta(hours=8, minutes=37, seconds=51)


@dataclass(frozen=True)
class Acquisition:
    """One Sentinel-2 pass over the tile within the period."""

    index: int
    when: datetime
    platform: str
    tile: str
    orbit: int

    def l2a_name(self, cloudy: bool) -> str:
        """The MAJA L2A zip name; cloudy ones carry the NOVALD mark."""
        stamp = self.when.strftime("%Y%m%d-%H%M%S") + f"-{self.when.microsecond // 1000:03d}"
        base = f"SENTINEL2{self.platform}_{stamp}_L2A_T{self.tile}"
        return f"{base}_D_V2-2_{CLOUDY_MARK}.zip" if cloudy else f"{base}_C_V2-2.zip"

    def l1c_name(self) -> str:
        """The ESA L1C product name this acquisition came from."""
        sensed = self.when.strftime("%Y%m%dT%H%M%S")
        generated = self.when + timedelta(hours=2, minutes=7, seconds=19)
        generated_text = generated.strftime("%Y%m%dT%H%M%S")
        return (f"S2{self.platform}_MSIL1C_{sensed}_N0207_R{self.orbit:03d}"
                f"_T{self.tile}_{generated_text}")


@dataclass
class ProductPlan:
    """What a job will deliver: result names (cloudy ones included) and missing L1C names."""

    results: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    _index: Tuple[int, FrozenSet[str]] = field(default=(0, frozenset()), init=False, repr=False,
                                               compare=False)

    def delivers(self, name: str) -> bool:
        """Whether name is among the results, in constant time however many there are."""
        count, names = self._index
        if count != len(self.results):
            names = frozenset(self.results)
            self._index = (len(self.results), names)
        return name in names


def is_cloudy(name: str) -> bool:
    """Whether a product name is a NOVALD (too cloudy, nothing to download) one."""
    return CLOUDY_MARK in name


def default_orbit(tile: str) -> int:
    """A stable relative orbit for a tile, when the job did not name one."""
    return 1 + zlib.crc32(tile.encode()) % 143


def acquisitions(tile: str, orbit: Optional[int], start: date, end: date,
                 step_days: int) -> List[Acquisition]:
    """The passes over a tile every step_days from start to end, both included."""
    seed = zlib.crc32(tile.encode())
    orbit_number = orbit if orbit is not None else default_orbit(tile)
    passes = []
    day, index = start, 0
    while day <= end:
        offset = timedelta(seconds=index % 3, milliseconds=(seed + 211 * index) % 1000)
        when = datetime.combine(day, datetime.min.time()) + _FIRST_PASS + offset
        platform = "A" if index % 2 == 0 else "B"
        passes.append(Acquisition(index, when, platform, tile, orbit_number))
        day, index = day + timedelta(days=step_days), index + 1
    return passes


def many_products(tile: str, count: int, start: date = date(2019, 1, 1),
                  per_day: int = 16) -> List[str]:
    """count distinct clear L2A names of a tile, per_day passes a day from start."""
    names = []
    for index in range(count):
        day = start + timedelta(days=index // per_day)
        when = datetime.combine(day, datetime.min.time()) + _FIRST_PASS
        pass_ = Acquisition(index, when + timedelta(seconds=index % per_day), "AB"[index % 2],
                            tile, default_orbit(tile))
        names.append(pass_.l2a_name(cloudy=False))
    return names


def _every(index: int, period: int) -> bool:
    """Whether index is the last of each group of period (index 3, 7, ... for 4)."""
    return period > 0 and (index + 1) % period == 0


def plan_products(passes: List[Acquisition], cloudy_every: int,
                  unprocessed_every: int) -> ProductPlan:
    """Sort the passes into results (clear or cloudy) and missing (unprocessed)."""
    plan = ProductPlan()
    for acquisition in passes:
        if _every(acquisition.index, unprocessed_every):
            plan.missing.append(acquisition.l1c_name())
        else:
            cloudy = _every(acquisition.index, cloudy_every)
            plan.results.append(acquisition.l2a_name(cloudy))
    return plan


@dataclass(frozen=True)
class NameFacts:
    """What a product zip's content says of it, read from its name when possible."""

    platform: str
    when: datetime
    tile: str


def facts_from_name(name: str) -> NameFacts:
    """Platform, acquisition time and tile from an L2A name, with stable fallbacks."""
    match = _L2A_NAME.match(name)
    if not match:
        return NameFacts("SENTINEL2A", datetime(2019, 1, 1, 8, 37, 51), "T00XXX")
    platform, day, clock, tile = match.groups()
    try:
        when = datetime.strptime(day + clock, "%Y%m%d%H%M%S")
    except ValueError:
        when = datetime(2019, 1, 1, 8, 37, 51)
    return NameFacts(platform, when, tile)
