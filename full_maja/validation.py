"""The rules FULL_MAJA puts on a request: MGRS tile, relative orbit and period."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Optional, Union

from dateutil.relativedelta import relativedelta

from .capped import read_user_file, reason
from .errors import ValidationError

MIN_START: date = date(2016, 4, 1)
MIN_MONTHS = 2
MAX_MONTHS = 12
MAX_ORBIT = 143

_TILE = re.compile(
    r"[Tt]?([0-9]{2})"
    r"([C-HJ-NP-Xc-hj-np-x][A-HJ-NP-Za-hj-np-z][A-HJ-NP-Va-hj-np-v])")
_TILE_RULE = ("expected zone 01-60, latitude band C-X, then two letters "
              "(column A-Z, row A-V), none of them I or O; e.g. 36TWQ")
_ORBIT = re.compile(r"0*[0-9]{1,3}")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_PERIOD = "--start-date/--end-date"
_ONE_DAY = timedelta(days=1)
MAX_TILES_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class JobRequest:
    """What one FULL_MAJA job asks for: a tile, an optional orbit and a period."""

    tile: str
    orbit: Optional[int]
    start: date
    end: date
    max_cloud: Optional[float] = None
    """A catalogue search only: dates cloudier than this percentage are skipped."""

    def period_label(self) -> str:
        """The period as `START_END`, e.g. 2019-03-01_2019-09-01."""
        return f"{self.start.isoformat()}_{self.end.isoformat()}"


def normalize_tile(text: str) -> str:
    """Check an MGRS tile id such as `T36TWQ` or ` 36twq` and return it as `36TWQ`."""
    match = _TILE.fullmatch(text.strip())
    if not match or not 1 <= int(match.group(1)) <= 60:
        raise ValidationError(f"--tile: {_show(text)} is not an MGRS tile: {_TILE_RULE}")
    return (match.group(1) + match.group(2)).upper()


def parse_orbit(value: Optional[Union[str, int]]) -> Optional[int]:
    """Check an optional relative orbit number (1 to 143); None stays None."""
    if value is None:
        return None
    number = _orbit_number(value)
    if number is None or not 1 <= number <= MAX_ORBIT:
        raise ValidationError(f"--orbit: {_show(value)} is not a relative orbit number: "
                              f"expected a whole number from 1 to {MAX_ORBIT}")
    return number


def parse_date(text: str, option: str) -> date:
    """Parse a `YYYY-MM-DD` date given to `option`."""
    match = _DATE.fullmatch(text.strip())
    if not match:
        raise ValidationError(f"{option}: {_show(text)} is not a date: "
                              "expected YYYY-MM-DD, e.g. 2019-03-01")
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError as exc:
        raise ValidationError(f"{option}: {_show(text)} is not a calendar date: {exc}") from None


def check_period(start: date, end: date) -> None:
    """Check that one job may cover `start` to `end` (both included)."""
    _check_splittable(start, end)
    if _too_long(start, end):
        raise ValidationError(
            f"{_PERIOD}: the period {start} to {end} spans {_span(start, end)}, which is "
            f"longer than {MAX_MONTHS} months; use --split to cut it into several jobs")


def split_period(start: date, end: date) -> list[tuple[date, date]]:
    """Cut a period into the fewest consecutive, nearly equal pieces that each pass."""
    _check_splittable(start, end)
    if not _too_long(start, end):
        return [(start, end)]
    count = _fewest_pieces(start, end)
    while True:
        pieces = _split_in(start, end, count)
        if pieces is not None:
            return pieces
        count += 1


def validate_request(tile: str, orbit: Optional[Union[str, int]],
                     start: Union[str, date], end: Union[str, date], *,
                     split: bool = False, today: Optional[date] = None) -> list[JobRequest]:
    """Check a whole request; return its job, or its jobs when `split` cuts the period."""
    name = normalize_tile(tile)
    number = parse_orbit(orbit)
    first = _as_date(start, "--start-date")
    last = _as_date(end, "--end-date")
    check_started(first, last, today or date.today())
    if split:
        periods = split_period(first, last)
        check_started(periods[-1][0], last, today or date.today(), split=True)
    else:
        check_period(first, last)
        periods = [(first, last)]
    return [JobRequest(name, number, a, b) for a, b in periods]


def validate_search(tile: str, orbit: Optional[Union[str, int]], start: Union[str, date],
                    end: Union[str, date], max_cloud: Optional[Union[str, float]] = None, *,
                    today: Optional[date] = None) -> JobRequest:
    """Check a catalogue search: the tile and orbit rules, a period of any length
    (the start before the end, and not after today) and the cloud limit (0 to 100 %)."""
    name = normalize_tile(tile)
    number = parse_orbit(orbit)
    first = _as_date(start, "--start-date")
    last = _as_date(end, "--end-date")
    if last <= first:
        raise ValidationError(f"--end-date: {last} is not after --start-date {first}")
    check_started(first, last, today or date.today())
    return JobRequest(name, number, first, last, parse_max_cloud(max_cloud))


def parse_max_cloud(value: Optional[Union[str, float]]) -> Optional[float]:
    """Check an optional cloud cover limit, a percentage from 0 to 100; None stays None."""
    if value is None:
        return None
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not 0 <= number <= 100:
        raise ValidationError(f"--max-cloud: {_show(value)} is not a cloud cover: expected "
                              "a percentage from 0 to 100")
    return number + 0.0  # -0 is 0: one search, one id


def check_started(start: date, end: date, today: date, split: bool = False) -> None:
    """Refuse a job whose period starts after `today`: nothing has been acquired yet."""
    if start <= today:
        return
    if split:
        raise ValidationError(f"--end-date: {end} is too far ahead: with --split, a job "
                              f"would start on {start}, after today ({today}); end the "
                              "period at most 12 months after today")
    raise ValidationError(f"--start-date: {start} is after today ({today}); a period "
                          "must start on or before today")


def read_tiles_file(path: str) -> list[str]:
    """Read the tile entries of a file: one a line, `#` comments and blank lines ignored."""
    data = read_user_file(path, "--tiles-file", MAX_TILES_FILE_BYTES, ValidationError)
    try:
        lines = data.decode("utf-8-sig").splitlines()
    except ValueError as exc:
        raise ValidationError(f"--tiles-file: cannot read {_show(path)}: {reason(exc)}") from None
    entries = (line.partition("#")[0].strip() for line in lines)
    return [entry for entry in entries if entry]


def _orbit_number(value: object) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = value.strip() if isinstance(value, str) else ""
    return int(text) if _ORBIT.fullmatch(text) else None


def _as_date(value: Union[str, date], option: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse_date(value, option)


def _check_splittable(start: date, end: date) -> None:
    if start < MIN_START:
        raise ValidationError(f"--start-date: {start} is before {MIN_START}, "
                              "the first date FULL_MAJA processes")
    if end <= start:
        raise ValidationError(f"--end-date: {end} is not after --start-date {start}")
    shortest = _add_months(start, MIN_MONTHS)
    if shortest is None or end < shortest:
        raise ValidationError(
            f"{_PERIOD}: the period {start} to {end} spans {_span(start, end)}, "
            f"shorter than the {MIN_MONTHS} months MAJA needs to initialise")


def _too_long(start: date, end: date) -> bool:
    longest = _add_months(start, MAX_MONTHS)
    return longest is not None and end > longest


def _add_months(day: date, months: int) -> Optional[date]:
    try:
        return day + relativedelta(months=months)
    except (ValueError, OverflowError):
        return None


def _fewest_pieces(start: date, end: date) -> int:
    """How many pieces of at most 12 months cover the period, each as long as allowed."""
    bound, stop, count = start.toordinal(), end.toordinal() + 1, 0
    while bound < stop:
        bound, count = _reach(bound), count + 1
    return count


def _split_in(start: date, end: date, count: int) -> Optional[list[tuple[date, date]]]:
    # Boundaries are ordinals: piece i runs from bounds[i] to bounds[i + 1] - 1.
    first, stop = start.toordinal(), end.toordinal() + 1
    lowest = _lowest_bounds(stop, count)
    if lowest[0] > first:
        return None
    bounds = [first]
    for i in range(1, count):
        target = first + round(i * (stop - first) / count)
        bounds.append(min(max(target, lowest[i]), _reach(bounds[-1])))
    bounds.append(stop)
    pieces = [(date.fromordinal(a), date.fromordinal(b - 1)) for a, b in zip(bounds, bounds[1:])]
    return pieces if all(_passes(a, b) for a, b in pieces) else None


def _lowest_bounds(stop: int, count: int) -> list[int]:
    """For each boundary, the earliest ordinal from which the remaining pieces reach `stop`."""
    lowest = [stop]
    for _ in range(count):
        lowest.append(_earliest_start(lowest[-1] - 1))
    return lowest[::-1]


def _reach(bound: int) -> int:
    """The latest next boundary after a piece starting at `bound`."""
    last = _add_months(date.fromordinal(bound), MAX_MONTHS)
    return date.max.toordinal() + 1 if last is None else last.toordinal() + 1


def _earliest_start(last: int) -> int:
    """The earliest ordinal whose piece of at most 12 months may end on ordinal `last`."""
    guess = date.fromordinal(last) - relativedelta(months=MAX_MONTHS) - 3 * _ONE_DAY
    while _reach(guess.toordinal()) <= last:
        guess += _ONE_DAY
    return guess.toordinal()


def _passes(start: date, end: date) -> bool:
    try:
        check_period(start, end)
    except ValidationError:
        return False
    return True


def _span(start: date, end: date) -> str:
    delta = relativedelta(end, start)
    months, days = delta.years * 12 + delta.months, delta.days
    parts = [f"{months} month{'s' if months != 1 else ''}"] if months else []
    if days or not months:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    return " ".join(parts)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
