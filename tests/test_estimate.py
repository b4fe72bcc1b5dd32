"""The expected dates of a period and the end of a job, from MAJA's documented pace."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from full_maja.estimate import (
    estimate_end,
    estimate_text,
    expected_dates,
    format_duration,
    format_time,
    processing_minutes,
    progress_percent,
)
from full_maja.jobrecord import JobRecord
from full_maja.service import JobState
from full_maja.states import JobPhase

NOW = datetime(2026, 11, 23, 20, 14, 3, tzinfo=timezone.utc)
START, END = date(2019, 3, 1), date(2019, 9, 1)


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=timezone.utc)


def ago(hours: float) -> str:
    return (NOW - timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def state(phase: str, *, progress: Optional[str] = None, submitted: Optional[str] = None,
          orbit: Optional[int] = 64, start: Optional[date] = START,
          end: Optional[date] = END) -> JobState:
    job = JobRecord(job_id="1552", status_url="http://h/wps/outputs/pywps-1552.xml",
                    tile="36TWQ", orbit=orbit, start=start, end=end, submitted=submitted)
    server = {JobPhase.QUEUED: "PENDING", JobPhase.PROCESSING: "STALLED",
              JobPhase.FINISHED: "FINISHED", JobPhase.FAILED: "ERROR"}
    return JobState(job, phase, server[phase], progress=progress)


@pytest.mark.parametrize("start, end, orbit, dates", [
    (START, END, 64, 37),
    (START, END, None, 74),
    (date(2019, 3, 1), date(2019, 3, 1), 1, 1),
    (date(2019, 3, 1), date(2019, 3, 5), 1, 1),
    (date(2019, 3, 1), date(2019, 3, 6), 1, 2),
    (date(2019, 1, 1), date(2019, 12, 31), 8, 73),
    (date(2019, 1, 1), date(2019, 12, 31), None, 146),
    (date(2019, 3, 2), date(2019, 3, 1), 1, 0),
])
def test_expected_dates_follow_the_five_day_revisit(start, end, orbit, dates):
    assert expected_dates(start, end, orbit) == dates


@pytest.mark.parametrize("dates, minutes", [
    (0, 0), (-3, 0), (1, 60), (2, 85), (16, 435), (37, 960), (73, 1860),
])
def test_processing_takes_an_hour_then_25_minutes_a_date(dates, minutes):
    assert processing_minutes(dates) == minutes


@pytest.mark.parametrize("job, end", [
    # queued: the whole duration from now (16 h for 37 dates), rounded up to 15 min
    (state(JobPhase.QUEUED, submitted=ago(30)), utc(2026, 11, 24, 12, 15)),
    (state(JobPhase.QUEUED, orbit=None), utc(2026, 11, 25, 3, 45)),
    # processing: the submission bound wins over an optimistic progress figure
    (state(JobPhase.PROCESSING, progress="50%", submitted=ago(4)), utc(2026, 11, 24, 8, 15)),
    (state(JobPhase.PROCESSING, submitted=ago(4)), utc(2026, 11, 24, 8, 15)),
    # ... unless progress says more remains than the clock does
    (state(JobPhase.PROCESSING, progress="10%", submitted=ago(4)), utc(2026, 11, 24, 10, 45)),
    # progress is never trusted alone: no submission time means the full duration
    (state(JobPhase.PROCESSING, progress="90%"), utc(2026, 11, 24, 12, 15)),
    (state(JobPhase.PROCESSING, progress="90%", submitted="yesterday"), utc(2026, 11, 24, 12, 15)),
    # a submission time in the future (clock skew) counts as now
    (state(JobPhase.PROCESSING, submitted=(NOW + timedelta(hours=2)).isoformat()),
     utc(2026, 11, 24, 12, 15)),
    # overdue: still at least the date under way (25 min)
    (state(JobPhase.PROCESSING, progress="99%", submitted=ago(40)), utc(2026, 11, 23, 20, 45)),
    (state(JobPhase.PROCESSING, progress="250 %", submitted=ago(40)), utc(2026, 11, 23, 20, 45)),
])
def test_estimated_end(job, end):
    assert estimate_end(job, NOW) == end


@pytest.mark.parametrize("job", [
    state(JobPhase.FINISHED), state(JobPhase.FAILED), state(JobPhase.QUEUED, start=None, end=None),
    state(JobPhase.PROCESSING, progress="50%", submitted=ago(1), start=None),
])
def test_no_estimate_for_ended_jobs_or_unknown_periods(job):
    assert estimate_end(job, NOW) is None


def test_a_naive_now_is_utc_and_whole_quarters_stay():
    job = state(JobPhase.QUEUED, start=date(2019, 3, 1), end=date(2019, 3, 1))
    assert estimate_end(job, datetime(2026, 1, 1, 12, 0)) == utc(2026, 1, 1, 13, 0)


def test_queued_sentence():
    assert estimate_text(state(JobPhase.QUEUED), NOW) == (
        "About 37 dates expected; MAJA's pace (1 h for the first date, 25 min for each "
        "further one) means about 16 h of processing once the job leaves the queue, so it "
        "may end around 2026-11-24 12:15 UTC at the earliest.")


def test_processing_sentence():
    text = estimate_text(state(JobPhase.PROCESSING, progress="50%", submitted=ago(4)), NOW)
    assert text == ("About 37 dates expected; MAJA's pace (1 h for the first date, 25 min "
                    "for each further one) means about 16 h in all, so it may end around "
                    "2026-11-24 08:15 UTC.")


@pytest.mark.parametrize("job, words", [
    (state(JobPhase.QUEUED, orbit=None), ["About 74 dates", "two orbits assumed", "31 h 25 min"]),
    (state(JobPhase.PROCESSING, start=None, end=None), ["does not record the job's period"]),
    (state(JobPhase.QUEUED, start=date(2019, 3, 1), end=date(2019, 3, 1)),
     ["About 1 date expected"]),
])
def test_sentence_variants_are_one_sentence(job, words):
    text = estimate_text(job, NOW)
    assert text.endswith(".") and text.count(". ") == 0 and "\n" not in text
    for word in words:
        assert word in text


@pytest.mark.parametrize("phase", [JobPhase.FINISHED, JobPhase.FAILED])
def test_no_sentence_once_a_job_has_ended(phase):
    assert estimate_text(state(phase, submitted=ago(1)), NOW) == ""


@pytest.mark.parametrize("figure, value", [
    ("35%", 35.0), ("35.5 %", 35.5), ("120%", 100.0), (None, None), ("", None), ("n/a", None),
])
def test_progress_figures(figure, value):
    assert progress_percent(figure) == value


@pytest.mark.parametrize("minutes, text", [
    (0, "0 min"), (25, "25 min"), (60, "1 h"), (435, "7 h 15 min"), (1860, "31 h"),
])
def test_durations(minutes, text):
    assert format_duration(minutes) == text


def test_times_are_shown_in_utc():
    paris = timezone(timedelta(hours=1))
    assert format_time(datetime(2026, 11, 24, 8, 0, tzinfo=paris)) == "2026-11-24 07:00 UTC"


# -- any period, time and figure a log or a server gives: an estimate or none, never a crash -------

ANY_OFFSET = st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23, minutes=-59),
                                               max_value=timedelta(hours=23, minutes=59)))
SUBMITTED = st.one_of(st.none(), st.text(max_size=30),
                      st.datetimes(timezones=st.one_of(st.none(), ANY_OFFSET))
                      .map(lambda moment: moment.isoformat()),
                      st.sampled_from(["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00",
                                       "9999-12-31T23:59:59Z", "2019-13-01", "yesterday"]))


@given(start=st.one_of(st.none(), st.dates()), end=st.one_of(st.none(), st.dates()),
       orbit=st.one_of(st.none(), st.integers(1, 143)),
       phase=st.sampled_from([JobPhase.QUEUED, JobPhase.PROCESSING, JobPhase.FINISHED]),
       submitted=SUBMITTED, progress=st.one_of(st.none(), st.text(max_size=12)),
       now=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1),
                        timezones=st.just(timezone.utc)))
@settings(max_examples=500, deadline=None)
def test_any_period_time_and_progress_give_an_estimate_or_none(start, end, orbit, phase,
                                                               submitted, progress, now):
    job = state(phase, progress=progress, submitted=submitted, orbit=orbit, start=start,
                end=end)
    moment = estimate_end(job, now)
    text = estimate_text(job, now)
    if phase == JobPhase.FINISHED:
        assert (moment, text) == (None, "")
        return
    assert text
    if moment is not None:
        assert moment >= now and format_time(moment) in text


@pytest.mark.parametrize("submitted", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_a_time_beyond_what_utc_holds_counts_as_no_time(submitted):
    job = state(JobPhase.PROCESSING, submitted=submitted, progress="50%")
    assert estimate_end(job, NOW) == estimate_end(state(JobPhase.PROCESSING, progress="50%"), NOW)
