"""The split policy: which stretch a free connection takes, and when splitting pays off."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from full_maja.download.parts import Segment
from full_maja.download.policy import SplitPolicy

MIB = 1024 * 1024
POLICY = SplitPolicy(min_bytes=MIB, min_seconds=2.0, rate_window=0.5)
NOW = 100.0


def fetching(start: int = 0, have: int = 0, end: object = None, began: float = NOW - 1.0,
             fetched: int = MIB) -> Segment:
    """A stretch being fetched since `began`, `fetched` bytes so far on its connection."""
    return Segment(start, Path("part"), have=have, end=end, fetch_began=began, fetched=fetched)


@pytest.mark.parametrize("segment, total, seconds", [
    (fetching(), 9 * MIB, 9.0),
    (fetching(have=MIB), 9 * MIB, 8.0),
    (fetching(start=4 * MIB, end=8 * MIB), 9 * MIB, 4.0),
    (fetching(fetched=2 * MIB), 9 * MIB, 4.5),
    (fetching(began=NOW - 0.5), 9 * MIB, 4.5),
])
def test_the_time_left_is_the_rest_at_the_rate_measured(segment, total, seconds):
    assert POLICY.seconds_left(segment, total, NOW) == pytest.approx(seconds)


@pytest.mark.parametrize("segment, total", [
    (fetching(began=0.0), 9 * MIB),
    (fetching(began=NOW - 0.4), 9 * MIB),
    (fetching(fetched=0), 9 * MIB),
    (fetching(), None),
    (fetching(have=8 * MIB + 1), 9 * MIB),
])
def test_the_time_left_is_unknown_before_a_rate_is_measured_or_for_a_short_rest(segment,
                                                                                 total):
    assert POLICY.seconds_left(segment, total, NOW) == 0.0


def test_the_candidate_is_the_stretch_with_the_most_time_left():
    slow, slower = fetching(end=4 * MIB), fetching(start=4 * MIB, end=9 * MIB)
    assert POLICY.candidate([slow, slower], 9 * MIB, NOW) == (slower, pytest.approx(5.0))


def test_of_two_stretches_as_slow_the_first_is_the_candidate():
    first, second = fetching(end=4 * MIB), fetching(start=4 * MIB, end=8 * MIB)
    assert POLICY.candidate([first, second], 8 * MIB, NOW)[0] is first


@pytest.mark.parametrize("min_seconds, split", [(3.0, True), (3.0001, False)])
def test_no_candidate_when_the_rest_takes_less_than_the_minimum(min_seconds, split):
    policy = SplitPolicy(min_bytes=MIB, min_seconds=min_seconds)
    segment = fetching(end=3 * MIB)
    assert (policy.candidate([segment], 3 * MIB, NOW) is not None) is split


def test_a_policy_cannot_be_changed_once_handed_out():
    with pytest.raises(dataclasses.FrozenInstanceError):
        POLICY.min_bytes = 1  # type: ignore[misc]
