"""Tests of full_maja.validation: tile, orbit and period rules, splitting, tiles files."""
from __future__ import annotations

import os
import re
import string
import tempfile
from datetime import date, datetime, timedelta
from typing import Optional

import pytest
from conftest import special_file
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from full_maja.errors import ValidationError
from full_maja.validation import (
    MAX_MONTHS,
    MAX_ORBIT,
    MIN_MONTHS,
    MIN_START,
    JobRequest,
    check_period,
    normalize_tile,
    parse_date,
    parse_max_cloud,
    parse_orbit,
    read_tiles_file,
    split_period,
    validate_request,
)

DAY = timedelta(days=1)
FAST = settings(max_examples=150, deadline=None)

# An oracle for the tile grammar, built from the alphabets rather than copied from the module.
ZONES = [f"{zone:02d}" for zone in range(1, 61)]
BANDS = [c for c in string.ascii_uppercase[2:24] if c not in "IO"]
COLUMNS = [c for c in string.ascii_uppercase if c not in "IO"]
ROWS = [c for c in string.ascii_uppercase[:22] if c not in "IO"]


def _either_case(letters: list[str]) -> str:
    return "[" + "".join(letters) + "".join(letters).lower() + "]"


TILE_ORACLE = re.compile(
    r"\s*[Tt]?(" + "|".join(ZONES) + ")("
    + _either_case(BANDS) + _either_case(COLUMNS) + _either_case(ROWS) + r")\s*")


def oracle_tile(text: str) -> Optional[str]:
    """The normalised tile, or None when the grammar refuses `text`."""
    match = TILE_ORACLE.fullmatch(text)
    return (match.group(1) + match.group(2).upper()) if match else None


def oracle_orbit(value: object) -> Optional[int]:
    """The orbit number, or None when it must be refused."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1 <= value <= 143 else None
    text = value.strip() if isinstance(value, str) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 20:
        return None
    return int(text) if 1 <= int(text) <= 143 else None


def oracle_period(start: date, end: date) -> bool:
    """The service's rule, written from the brief with relativedelta."""
    return (start >= date(2016, 4, 1) and end > start
            and start + relativedelta(months=2) <= end <= start + relativedelta(months=12))


def fewest_pieces(start: date, end: date) -> int:
    """Greedy count of pieces, each as long as the 12-month rule allows."""
    count, bound = 0, start
    while bound <= end:
        bound, count = bound + relativedelta(months=12) + DAY, count + 1
    return count


def d(text: str) -> date:
    return date.fromisoformat(text)


def assert_good_split(start: date, end: date, pieces: list[tuple[date, date]]) -> None:
    assert pieces[0][0] == start and pieces[-1][1] == end
    for (_, previous_end), (next_start, _) in zip(pieces, pieces[1:]):
        assert next_start == previous_end + DAY
    for a, b in pieces:
        check_period(a, b)
    lengths = [(b - a).days + 1 for a, b in pieces]
    assert max(lengths) - min(lengths) <= 2


def assert_message(exc: pytest.ExceptionInfo, option: str, *fragments: str) -> None:
    message = str(exc.value)
    assert message.startswith(option + ":")
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


# --- constants and JobRequest -------------------------------------------------------------

def test_constants() -> None:
    assert (d("2016-04-01"), 2, 12, 143) == (MIN_START, MIN_MONTHS, MAX_MONTHS, MAX_ORBIT)


def test_period_label() -> None:
    job = JobRequest("36TWQ", 64, d("2019-03-01"), d("2019-09-01"))
    assert job.period_label() == "2019-03-01_2019-09-01"


# --- tiles ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("36TWQ", "36TWQ"), ("T36TWQ", "36TWQ"), ("t36twq", "36TWQ"), (" 36twq\n", "36TWQ"),
    ("01CAA", "01CAA"), ("60XZV", "60XZV"), ("T01TAA", "01TAA"), ("31tcj", "31TCJ"),
])
def test_tile_accepted(text: str, expected: str) -> None:
    assert normalize_tile(text) == expected


@pytest.mark.parametrize("text", [
    "36IWQ", "36OWQ", "36AWQ", "36BWQ", "36YWQ", "36ZWQ",  # latitude bands
    "00TWQ", "61TWQ", "99TWQ", "6TWQ", "T6TWQ", "136TWQ",  # zones
    "36TIQ", "36TOQ", "36TWI", "36TWO", "36TWW", "36TWZ",  # 100-km square
    "TT36TWQ", "X36TWQ", "36TWQ1", "36 TWQ", "36-TWQ", "", "T", "   ", "T36TWI",
    "\uff13\uff16TWQ",  # full-width digits
])
def test_tile_refused(text: str) -> None:
    with pytest.raises(ValidationError) as exc:
        normalize_tile(text)
    assert_message(exc, "--tile", repr(text), "MGRS", "e.g. 36TWQ")


def test_tile_message_is_short_for_long_input() -> None:
    with pytest.raises(ValidationError) as exc:
        normalize_tile("x" * 1000)
    assert len(str(exc.value)) < 300


def valid_tiles() -> st.SearchStrategy[str]:
    letter = lambda alphabet: st.sampled_from(alphabet).flatmap(  # noqa: E731
        lambda c: st.sampled_from([c, c.lower()]))
    space = st.sampled_from(["", " ", "\t", "\n", " \r\n"])
    return st.builds(lambda *parts: "".join(parts), space, st.sampled_from(["", "T", "t"]),
                     st.sampled_from(ZONES), letter(BANDS), letter(COLUMNS), letter(ROWS),
                     space)


def near_tiles() -> st.SearchStrategy[str]:
    return st.builds(lambda *parts: "".join(parts),
                     st.sampled_from(["", "T", "t", "TT", "X", " ", "0"]),
                     st.integers(0, 130).map(lambda z: f"{z:02d}"),
                     st.text(string.ascii_letters + "0 ", min_size=2, max_size=4))


@FAST
@given(st.one_of(valid_tiles(), near_tiles(), st.text()))
def test_tile_grammar_matches_oracle(text: str) -> None:
    expected = oracle_tile(text)
    if expected is None:
        with pytest.raises(ValidationError):
            normalize_tile(text)
    else:
        assert normalize_tile(text) == expected


@FAST
@given(valid_tiles())
def test_tile_normalisation_is_stable(text: str) -> None:
    tile = normalize_tile(text)
    assert normalize_tile(tile) == tile == tile.upper() and len(tile) == 5


# --- orbits ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (None, None), (1, 1), (143, 143), (64, 64), ("64", 64), (" 64 ", 64), ("1", 1),
    ("143", 143), ("064", 64),
])
def test_orbit_accepted(value: object, expected: Optional[int]) -> None:
    assert parse_orbit(value) == expected


@pytest.mark.parametrize("value", [
    0, 144, -1, "0", "144", "-1", "+64", "6.4", "abc", "", " ", "6 4", "\u0666\u0664",
    True, 6.4, 10 ** 30, "9" * 5000,
])
def test_orbit_refused(value: object) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_orbit(value)
    assert_message(exc, "--orbit", "1 to 143")


@FAST
@given(st.one_of(st.integers(-300, 300), st.from_regex(r"\s?0{0,3}[0-9]{1,4}\s?", fullmatch=True),
                 st.text()))
def test_orbit_matches_oracle(value: object) -> None:
    expected = oracle_orbit(value)
    if expected is None:
        with pytest.raises(ValidationError):
            parse_orbit(value)
    else:
        assert parse_orbit(value) == expected


# --- dates and periods ---------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2019-03-01", d("2019-03-01")), ("2020-02-29", d("2020-02-29")),
    (" 2019-03-01\n", d("2019-03-01")),
])
def test_date_accepted(text: str, expected: date) -> None:
    assert parse_date(text, "--start-date") == expected


@pytest.mark.parametrize("text", [
    "2019-2-1", "2019-02-1", "19-03-01", "2019/03/01", "20190301", "2019-03-01T00:00",
    "", "tomorrow", "\uff12\uff10\uff11\uff19-03-01",
])
def test_date_malformed(text: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_date(text, "--end-date")
    assert_message(exc, "--end-date", repr(text), "YYYY-MM-DD")


@pytest.mark.parametrize("text", ["2019-02-29", "2019-13-01", "2019-04-31", "0000-01-01"])
def test_date_not_on_calendar(text: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_date(text, "--start-date")
    assert_message(exc, "--start-date", repr(text), "calendar")


@pytest.mark.parametrize("start, end", [
    ("2019-03-01", "2019-05-01"),  # 2 months exactly
    ("2019-03-01", "2020-03-01"),  # 12 months exactly
    ("2019-03-01", "2019-09-01"),
    ("2016-04-01", "2016-06-01"),  # first allowed start
    ("2019-01-31", "2019-03-31"),
    ("2019-12-31", "2020-02-29"),  # Dec 31 + 2 months is Feb 29
    ("2020-02-29", "2021-02-28"),  # Feb 29 + 12 months is Feb 28
])
def test_period_accepted(start: str, end: str) -> None:
    check_period(d(start), d(end))


@pytest.mark.parametrize("start, end, option, fragments", [
    ("2019-03-01", "2019-04-30", "--start-date/--end-date", ["1 month 29 days", "2 months"]),
    ("2019-12-31", "2020-02-28", "--start-date/--end-date", ["1 month 28 days"]),
    ("2019-03-01", "2020-03-02", "--start-date/--end-date", ["12 months 1 day", "--split"]),
    ("2020-02-29", "2021-03-01", "--start-date/--end-date", ["12 months 1 day", "--split"]),
    ("2019-03-01", "2021-03-01", "--start-date/--end-date", ["24 months", "--split"]),
    ("2016-03-31", "2016-06-30", "--start-date", ["2016-04-01"]),
    ("2019-03-01", "2019-03-01", "--end-date", ["not after"]),
    ("2019-03-01", "2019-02-01", "--end-date", ["not after"]),
])
def test_period_refused(start: str, end: str, option: str, fragments: list[str]) -> None:
    with pytest.raises(ValidationError) as exc:
        check_period(d(start), d(end))
    assert_message(exc, option, start, *fragments)
    assert end in str(exc.value) or option == "--start-date"


@settings(max_examples=300, deadline=None)
@given(st.dates(date(2015, 10, 1), date(2040, 12, 31)), st.integers(-40, 800))
def test_period_matches_oracle(start: date, days: int) -> None:
    end = start + timedelta(days=days)
    if oracle_period(start, end):
        check_period(start, end)
    else:
        with pytest.raises(ValidationError):
            check_period(start, end)


@FAST
@given(st.dates(), st.dates())
def test_period_never_crashes_on_extreme_dates(start: date, end: date) -> None:
    try:
        check_period(start, end)
    except ValidationError as exc:
        assert "\n" not in str(exc)


# --- splitting ------------------------------------------------------------------------------

@pytest.mark.parametrize("start, end, count", [
    ("2019-03-01", "2020-04-01", 2),  # 13 months
    ("2019-03-01", "2021-03-01", 2),  # 24 months
    ("2019-03-01", "2021-04-01", 3),  # 25 months
    ("2016-04-01", "2020-04-01", 4),  # 48 months
    ("2019-03-01", "2020-03-02", 2),  # 12 months and a day
])
def test_split_counts(start: str, end: str, count: int) -> None:
    pieces = split_period(d(start), d(end))
    assert len(pieces) == count
    assert_good_split(d(start), d(end), pieces)


@pytest.mark.parametrize("start, end", [
    ("2019-03-01", "2019-05-01"), ("2019-03-01", "2020-03-01"), ("2019-03-01", "2019-09-01"),
])
def test_split_keeps_a_valid_period(start: str, end: str) -> None:
    assert split_period(d(start), d(end)) == [(d(start), d(end))]


@pytest.mark.parametrize("start, end, option", [
    ("2019-03-01", "2019-04-30", "--start-date/--end-date"),
    ("2015-03-01", "2019-04-30", "--start-date"),
    ("2019-03-01", "2019-03-01", "--end-date"),
])
def test_split_cannot_fix(start: str, end: str, option: str) -> None:
    with pytest.raises(ValidationError) as exc:
        split_period(d(start), d(end))
    assert_message(exc, option)


def test_split_up_to_the_last_date() -> None:
    pieces = split_period(d("9997-06-01"), date.max)
    assert len(pieces) == 3
    assert_good_split(d("9997-06-01"), date.max, pieces)


@settings(max_examples=200, deadline=None)
@given(st.dates(MIN_START, date(2060, 12, 31)), st.integers(12, 60), st.integers(-40, 40))
def test_split_is_valid_contiguous_and_minimal(start: date, months: int, days: int) -> None:
    end = start + relativedelta(months=months) + timedelta(days=days)
    pieces = split_period(start, end)
    assert_good_split(start, end, pieces)
    assert len(pieces) == fewest_pieces(start, end)


# --- whole requests -------------------------------------------------------------------------

def test_validate_request_one_job() -> None:
    jobs = validate_request(" t36twq ", "64", "2019-03-01", "2019-09-01")
    assert jobs == [JobRequest("36TWQ", 64, d("2019-03-01"), d("2019-09-01"))]


def test_validate_request_accepts_dates_and_no_orbit() -> None:
    jobs = validate_request("31TCJ", None, d("2019-03-01"), datetime(2019, 9, 1, 12, 0))
    assert jobs == [JobRequest("31TCJ", None, d("2019-03-01"), d("2019-09-01"))]


def test_validate_request_too_long_needs_split() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_request("36TWQ", 64, "2019-03-01", "2020-04-01")
    assert_message(exc, "--start-date/--end-date", "--split")


def test_validate_request_split() -> None:
    jobs = validate_request("36TWQ", 64, "2019-03-01", "2021-04-01", split=True)
    assert len(jobs) == 3
    assert {(job.tile, job.orbit) for job in jobs} == {("36TWQ", 64)}
    assert_good_split(d("2019-03-01"), d("2021-04-01"), [(j.start, j.end) for j in jobs])


@pytest.mark.parametrize("args, option", [
    (("36TWI", 64, "2019-03-01", "2019-09-01"), "--tile"),
    (("36TWQ", 144, "2019-03-01", "2019-09-01"), "--orbit"),
    (("36TWQ", 64, "2019-3-01", "2019-09-01"), "--start-date"),
    (("36TWQ", 64, "2019-03-01", "2019-09-31"), "--end-date"),
    (("36TWQ", 64, "2016-03-31", "2016-09-01"), "--start-date"),
])
def test_validate_request_names_the_option(args: tuple, option: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_request(*args, split=True)
    assert_message(exc, option)


@FAST
@given(st.text(), st.one_of(st.none(), st.text(), st.integers()), st.text(), st.text(),
       st.booleans())
def test_random_text_raises_only_validation_errors(tile: str, orbit: object, start: str,
                                                   end: str, split: bool) -> None:
    for call in (lambda: normalize_tile(tile), lambda: parse_orbit(orbit),
                 lambda: parse_date(start, "--start-date"),
                 lambda: validate_request(tile, orbit, start, end, split=split),
                 lambda: validate_request("36TWQ", None, "2019-03-01", end, split=split)):
        try:
            call()
        except ValidationError as exc:
            assert "\n" not in str(exc)


# --- tiles files ----------------------------------------------------------------------------

def test_read_tiles_file(tmp_path) -> None:
    path = tmp_path / "tiles.txt"
    path.write_text("\ufeff# my tiles\n36TWQ\n\n  t31tcj  # Toulouse\n#31TCH\n   \n 32ULU",
                    encoding="utf-8")
    assert read_tiles_file(str(path)) == ["36TWQ", "t31tcj", "32ULU"]


def test_read_tiles_file_empty(tmp_path) -> None:
    path = tmp_path / "tiles.txt"
    path.write_text("# nothing yet\n\n", encoding="utf-8")
    assert read_tiles_file(str(path)) == []


@pytest.mark.parametrize("name", ["missing.txt", ".", "bad\0name"])
def test_read_tiles_file_unreadable(tmp_path, name: str) -> None:
    with pytest.raises(ValidationError) as exc:
        read_tiles_file(str(tmp_path / name) if name != "." else str(tmp_path))
    assert_message(exc, "--tiles-file", "cannot read")


def test_read_tiles_file_names_the_os_reason(tmp_path) -> None:
    with pytest.raises(ValidationError) as exc:
        read_tiles_file(str(tmp_path / "missing.txt"))
    assert os.strerror(2) in str(exc.value)


def test_read_tiles_file_not_text(tmp_path) -> None:
    path = tmp_path / "tiles.bin"
    path.write_bytes(b"36TWQ\n\xff\xfe\x00")
    with pytest.raises(ValidationError) as exc:
        read_tiles_file(str(path))
    assert_message(exc, "--tiles-file")


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200))
def test_read_tiles_file_random_content(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "tiles.txt")
        with open(path, "wb") as stream:
            stream.write(content)
        try:
            entries = read_tiles_file(path)
        except ValidationError as exc:
            assert "\n" not in str(exc)
        else:
            assert all(entry and entry == entry.strip() and "#" not in entry
                       for entry in entries)


# --- periods that have not begun (issue 12) -------------------------------------------------

TODAY = date(2026, 11, 26)


@pytest.mark.parametrize("start, end, split, option", [
    ("2026-11-27", "2027-03-01", False, "--start-date"),
    ("2030-01-01", "2030-06-01", True, "--start-date"),
    ("2016-04-01", "9999-12-31", True, "--end-date"),
    ("2025-06-01", "2028-01-01", True, "--end-date"),
])
def test_a_job_starting_after_today_is_refused(start, end, split, option) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_request("36TWQ", 64, start, end, split=split, today=TODAY)
    assert_message(exc, option, "after today", str(TODAY))


@pytest.mark.parametrize("start, end, split", [
    ("2026-11-26", "2027-03-01", False), ("2025-06-01", "2027-06-01", True),
])
def test_a_period_begun_by_today_is_accepted(start, end, split) -> None:
    jobs = validate_request("36TWQ", 64, start, end, split=split, today=TODAY)
    assert jobs[0].start == d(start) and jobs[-1].start <= TODAY


@pytest.mark.parametrize("kind", ["fifo", "folder", "device"])
def test_a_tiles_file_that_is_not_a_regular_file_is_refused_unread(tmp_path, kind) -> None:
    path = special_file(tmp_path, kind)
    with pytest.raises(ValidationError) as exc:
        read_tiles_file(str(path))
    assert_message(exc, "--tiles-file", "not a regular file")


@pytest.mark.parametrize("given, limit", [("-0", "0"), ("0", "0"), (" 40", "40"),
                                          ("1e2", "100"), ("50.50", "50.5")])
def test_a_cloud_limit_is_one_number_however_written(given, limit):
    from full_maja.service.catalogue import search_job_id
    assert f"{parse_max_cloud(given):g}" == limit
    request = JobRequest("31TCJ", 51, date(2023, 1, 1), date(2023, 2, 1), parse_max_cloud(given))
    assert search_job_id(request).endswith(f"-c{limit}")
