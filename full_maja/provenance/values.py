"""A fact's text read as a value: a time in UTC, a finite number, a whole number; None if not."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

from dateutil.parser import isoparse


def utc_date(text: Optional[str]) -> Optional[datetime]:
    """An ISO 8601 time, in UTC (a time without zone is taken as UTC); None when it cannot
    be read or placed in UTC (year 1 at +01:00, year 9999 at -05:00)."""
    if not text:
        return None
    try:
        moment = isoparse(text.strip())
        if moment.tzinfo is None:
            return moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def finite_float(text: object) -> Optional[float]:
    """A finite number (not a bool, NaN or infinity)."""
    if text is None or isinstance(text, bool):
        return None
    try:
        value = float(str(text).strip())
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def whole_number(text: Optional[str]) -> Optional[int]:
    """A whole number written in decimal."""
    try:
        return int((text or "").strip())
    except ValueError:
        return None
