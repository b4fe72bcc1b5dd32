"""The small pieces every part of the page uses: escaping, and counts of dates by mark."""
from __future__ import annotations

import html
from typing import Iterable

from ..console import printable
from ..series import SeriesEntry
from ..states import DateMark


def escape(value: object) -> str:
    """`value` as text safe in an element or a quoted attribute.

    Control and direction-changing characters a server sent are shown escaped
    (`\\u202e`), as the console shows them: they could hide or reorder what the page says.
    """
    return html.escape(printable(str(value)), quote=True)


def mark_counts(entries: Iterable[SeriesEntry]) -> dict[DateMark, int]:
    """How many entries show with each mark, in legend order, marks with none left out."""
    counts: dict[DateMark, int] = {}
    for entry in entries:
        counts[entry.outcome.mark] = counts.get(entry.outcome.mark, 0) + 1
    return {mark: counts[mark] for mark in DateMark if mark in counts}


def counts_text(counts: dict[DateMark, int]) -> str:
    """`3 downloaded, 1 cloudy`."""
    return ", ".join(f"{count} {mark.label}" for mark, count in counts.items())


def plural(number: int, noun: str) -> str:
    """`1 job`, `2 jobs`."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
