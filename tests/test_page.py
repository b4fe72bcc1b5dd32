"""series.html: every date of the series, its outcome, quick-look, cloud cover and link."""
from __future__ import annotations

import html
import re
import zipfile
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote, unquote, urlsplit

import pytest
from archives import product_zip
from browser import dump_dom, ensure_chromium, pixel_colours, read_png, screenshot
from conftest import PASSWORD, USER, submit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import full_maja.atomic
from emulators.products import cloud_percent
from full_maja.cli import download_parser
from full_maja.client import Client
from full_maja.credentials import Credentials
from full_maja.estimate import estimate_text
from full_maja.jobrecord import JobRecord
from full_maja.page import PAGE_NAME, QUICKLOOK_DIR, quicklook_name, write_series_page
from full_maja.page.document import stylesheet
from full_maja.products import product_stem
from full_maja.series import JobSeries, SeriesEntry, SeriesReport
from full_maja.service import JobState
from full_maja.service.jobreport import JobReport
from full_maja.states import DateMark, JobPhase, ProductOutcome
from full_maja.validation import JobRequest

NOW = datetime(2026, 11, 23, 20, 14, 3, tzinfo=timezone.utc)
ON_PAGE = {ProductOutcome.DOWNLOADED: "downloaded", ProductOutcome.PRESENT: "downloaded",
           ProductOutcome.CLOUDY: "cloudy", ProductOutcome.MISSING: "missing",
           ProductOutcome.FAILED: "failed", ProductOutcome.READY: "to-come"}
HOSTILE_ZIP = 'SENTINEL2A_20190306"><svg onload=alert(1)>.zip'


class Page(HTMLParser):
    """The parsed page: every tag, the text, the date cards and the timeline marks."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.cards: list[dict[str, Any]] = []
        self.marks: list[dict[str, str]] = []
        self.sections: list[dict[str, Any]] = []
        self.texts: list[str] = []
        self._card: Optional[dict[str, Any]] = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.tags.append((tag, attributes))
        classes = attributes.get("class", "").split()
        if tag == "section":
            self.sections.append({**attributes, "text": []})
        if tag == "li" and "card" in classes:
            self._card = {"date": attributes["data-date"],
                          "outcome": attributes["data-outcome"], "img": [], "href": [],
                          "text": []}
            self.cards.append(self._card)
        if tag == "a" and "mark" in classes:
            self.marks.append(attributes)
        if self._card is not None and tag == "img":
            self._card["img"].append(attributes["src"])
        if self._card is not None and tag == "a":
            self._card["href"].append(attributes["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "li":
            self._card = None

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        if self.sections:
            self.sections[-1]["text"].append(data)
        if self._card is not None:
            self._card["text"].append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.texts).split())


def read_page(path: Path) -> Page:
    return Page(path.read_text(encoding="utf-8"))


@pytest.fixture
def series(make_emulator, tmp_path: Path) -> tuple[SeriesReport, Path]:
    """A two-month series of 36TWQ downloaded from the emulator through the API."""
    emulator = make_emulator(registration_polls=0, timeline=["FINISHED"])
    with Client(emulator.url, credentials=Credentials(USER, PASSWORD)) as client:
        client.submit([JobRequest("36TWQ", 64, date(2019, 3, 1), date(2019, 5, 1))],
                      tmp_path / "job.log")
        report = client.download(tmp_path / "job.log", tmp_path / "out")
    return report, tmp_path / "out"


def record(job_id: str = "1552", **fields: Any) -> JobRecord:
    fields.setdefault("tile", "36TWQ")
    fields.setdefault("orbit", 64)
    fields.setdefault("start", date(2019, 3, 1))
    fields.setdefault("end", date(2019, 5, 1))
    return JobRecord(job_id=job_id, status_url=f"http://h/wps/outputs/pywps-{job_id}.xml",
                     **fields)


def no_temporary_files(folder: Path) -> bool:
    return not [path for path in folder.rglob("*") if path.name.endswith(".tmp")]


def test_every_date_shows_with_its_outcome_quicklook_cloud_and_link(series):
    report, out = series
    path = write_series_page(report, out, title="job.log", now=NOW)
    assert path == out / PAGE_NAME
    page = read_page(path)
    entries = report.jobs[0].entries
    assert {entry.outcome for entry in entries} >= {
        ProductOutcome.DOWNLOADED, ProductOutcome.CLOUDY, ProductOutcome.MISSING}
    expected = [(entry.date.isoformat(), ON_PAGE[entry.outcome]) for entry in entries]
    assert [(card["date"], card["outcome"]) for card in page.cards] == expected
    assert [(mark["data-date"], mark["data-outcome"]) for mark in page.marks] == expected
    for entry, card in zip(entries, page.cards):
        assert entry.date.isoformat() in card["text"]
        if entry.outcome != ProductOutcome.DOWNLOADED:
            assert card["img"] == [] and card["href"] == [], card
            continue
        stem = product_stem(entry.name)
        assert card["img"] == [f"{QUICKLOOK_DIR}/{stem}.jpg"]
        image = out / card["img"][0]
        with zipfile.ZipFile(out / entry.name) as archive:
            assert image.read_bytes() == archive.read(f"{stem}/{stem}_QKL_ALL.jpg")
        assert image.read_bytes()[:2] == b"\xff\xd8"
        assert set(card["href"]) == {entry.name} and (out / entry.name).is_file()
        assert f"Cloud {cloud_percent(entry.name)} %" in " ".join(card["text"])


def test_timeline_marks_run_across_the_period_in_date_order(series):
    report, out = series
    page = read_page(write_series_page(report, out, title="job.log", now=NOW))
    positions = [float(re.fullmatch(r"left:([\d.]+)%", mark["style"]).group(1))
                 for mark in page.marks]
    assert positions == sorted(positions) and positions[0] >= 0 and positions[-1] <= 100
    assert positions[0] == 0.0  # the emulator's first pass is on the first day
    for mark in page.marks:
        label = f"{mark['data-date']}: " + {"to-come": "still to come"}.get(
            mark["data-outcome"], mark["data-outcome"])
        assert mark["title"] == label == mark["aria-label"]
        assert mark["href"].startswith("#")
    ids = {attributes.get("id") for _, attributes in page.tags}
    assert all(mark["href"][1:] in ids for mark in page.marks)
    legend = [attributes["class"] for tag, attributes in page.tags
              if tag == "span" and "swatch" in attributes.get("class", "")]
    assert legend == [f"swatch o-{key}" for key in
                      ("downloaded", "cloudy", "missing", "failed", "to-come")]


def files(folder: Path) -> dict[Path, tuple[int, int]]:
    return {path: (path.stat().st_ino, path.stat().st_mtime_ns) for path in folder.rglob("*")}


def test_a_rerun_with_nothing_new_changes_no_file(series):
    report, out = series
    write_series_page(report, out, title="job.log", now=NOW)
    before = files(out)
    write_series_page(report, out, title="job.log", now=NOW + timedelta(hours=1))
    assert files(out) == before
    assert "2026-11-23 20:14 UTC" in read_page(out / PAGE_NAME).text


def test_a_rewrite_is_atomic_and_keeps_quicklooks_already_there(series, monkeypatch):
    report, out = series
    write_series_page(report, out, title="job.log", now=NOW)
    images = {path: path.stat().st_mtime_ns for path in (out / QUICKLOOK_DIR).iterdir()}
    first = (out / PAGE_NAME).read_text()
    write_series_page(report, out, title="other.log", now=NOW + timedelta(hours=1))
    assert {path: path.stat().st_mtime_ns for path in (out / QUICKLOOK_DIR).iterdir()} \
        == images
    second = (out / PAGE_NAME).read_text()
    assert second != first and "other.log" in second and "2026-11-23 21:14 UTC" in second
    assert no_temporary_files(out)

    def broken_replace(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(full_maja.atomic.os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_series_page(report, out, title="third.log", now=NOW + timedelta(hours=2))
    assert (out / PAGE_NAME).read_text() == second
    assert no_temporary_files(out)


def hostile_report(out: Path) -> SeriesReport:
    hostile_zip = HOSTILE_ZIP
    product_zip(out / hostile_zip)
    finished = JobSeries(JobState(record("1552"), JobPhase.FINISHED, "FINISHED"), [
        SeriesEntry(hostile_zip, date(2019, 3, 6), ProductOutcome.DOWNLOADED, size=10),
        SeriesEntry("<img src=x onerror=alert(2)>.zip", date(2019, 3, 11), ProductOutcome.FAILED,
                    message='HTTP 404 "><script>alert(3)</script>'),
        SeriesEntry("S2A_MSIL1C_20190316\" onmouseover=\"alert(4)", date(2019, 3, 16),
                    ProductOutcome.MISSING),
        SeriesEntry("javascript:alert(5)//NOVALD.zip", date(2019, 3, 21), ProductOutcome.CLOUDY),
    ])
    report = JobReport("ERROR", logs=["https://peps.example/logs/joblog-<b>9</b>.log"])
    broken = JobSeries(JobState(record("9</h2><script>alert(6)</script>",
                                       tile="<i>36TWQ</i>"), JobPhase.FAILED, "ERROR",
                                report=report,
                                message="<script>alert(7)</script> & more"))
    return SeriesReport([finished, broken])


def test_hostile_names_and_messages_cannot_inject_markup(tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    title = "</title><script>alert(8)</script>"
    page_text = write_series_page(hostile_report(out), out, title=title, now=NOW).read_text()
    page = Page(page_text)
    assert "script" not in [tag for tag, _ in page.tags]
    assert not [name for _, attributes in page.tags for name in attributes
                if name.startswith("on")]
    assert "svg" not in [tag for tag, _ in page.tags]
    assert [attributes["src"] for tag, attributes in page.tags if tag == "img"] == [
        f"{QUICKLOOK_DIR}/{quicklook_name(HOSTILE_ZIP)}"]
    assert page.cards[0]["href"] == [quote(HOSTILE_ZIP, safe="")] * 2
    for text in (title, HOSTILE_ZIP, "<img src=x onerror=alert(2)>.zip",
                 "<script>alert(7)</script> & more", 'HTTP 404 "><script>alert(3)</script>',
                 "<i>36TWQ</i>",
                 "https://peps.example/logs/joblog-<b>9</b>.log"):
        assert text in page.text, text
    assert html.escape(title) in page_text and "<i>36TWQ" not in page_text


def test_control_and_direction_characters_a_server_sent_are_shown_escaped(tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    sneaky = "busy \x1b[31m\x9b2Jpwned\u202egpj.exe"
    state = JobState(record("1552"), JobPhase.FAILED, "ERROR", message=sneaky)
    page_text = write_series_page(SeriesReport([JobSeries(state)]), out, title="t",
                                  now=NOW).read_text()
    assert "busy \\x1b[31m\\x9b2Jpwned\\u202egpj.exe" in Page(page_text).text
    assert not {"\x1b", "\x9b", "\u202e"} & set(page_text)


def test_the_page_is_self_contained(tmp_path: Path, series):
    report, out = series
    hostile = hostile_report(out)
    mixed = SeriesReport([*report.jobs, *hostile.jobs])
    page_text = write_series_page(mixed, out, title="job.log", now=NOW).read_text()
    page = Page(page_text)
    tags = [tag for tag, _ in page.tags]
    assert "script" not in tags and "link" not in tags and "iframe" not in tags
    assert ("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}) \
        in page.tags
    assert ("meta", {"charset": "utf-8"}) in page.tags
    for tag, attributes in page.tags:
        for name in ("src", "href"):
            if name in attributes:
                target = urlsplit(attributes[name])
                assert not target.scheme and not target.netloc, (tag, attributes)
                assert "http" not in attributes[name] and not attributes[name].startswith("/")
    style = page_text.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "url(" not in style and "@import" not in style and "http" not in style
    for _, attributes in page.tags:
        if "href" in attributes and not attributes["href"].startswith("#"):
            assert (out / unquote(attributes["href"])).exists(), attributes


def test_a_product_without_quicklook_shows_its_placeholder_cloud_and_link(tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    name = "SENTINEL2A_20190306-083751-427_L2A_T36TWQ_C_V2-2.zip"
    product_zip(out / name, quicklook=None, metadata=(
        b'<Current_Product><QUALITY_INDEX name="CloudPercent">42</QUALITY_INDEX>'
        b"</Current_Product>"))
    series = JobSeries(JobState(record(), JobPhase.FINISHED, "FINISHED"),
                       [SeriesEntry(name, date(2019, 3, 6), ProductOutcome.DOWNLOADED)])
    page = read_page(write_series_page(SeriesReport([series]), out, title="t", now=NOW))
    assert [(card["img"], card["href"]) for card in page.cards] == [([], [name])]
    text = " ".join(page.cards[0]["text"])
    assert "Cloud 42 %" in text and DateMark.ON_DISK.placeholder in text


def test_every_mark_has_its_colours_in_the_stylesheet():
    css = stylesheet()
    for mark in DateMark:
        assert re.search(rf"\.o-{mark}\{{background:#[0-9a-f]{{6}};color:#[0-9a-f]{{6}}\}}", css)
        assert re.search(rf"\.c-{mark}\{{border-top-color:#[0-9a-f]{{6}}\}}", css)
    assert "\n" not in css and css.startswith(":root{") and css.endswith("}}")


def test_products_extracted_by_the_client_keep_their_quicklooks(make_emulator, tmp_path):
    emulator = make_emulator(registration_polls=0, timeline=["FINISHED"])
    with Client(emulator.url, credentials=Credentials(USER, PASSWORD)) as client:
        client.submit([JobRequest("36TWQ", 64, date(2019, 3, 1), date(2019, 5, 1))],
                      tmp_path / "job.log")
        report = client.download(tmp_path / "job.log", tmp_path / "out", extract=True)
    out = tmp_path / "out"
    assert not list(out.glob("*.zip"))
    page = read_page(write_series_page(report, out, title="job.log", now=NOW))
    on_disk = [card for card in page.cards if card["outcome"] == "downloaded"]
    assert on_disk and len(on_disk) == len(list(out.glob("SENTINEL2*")))
    for card in on_disk:
        assert len(card["img"]) == 1 and (out / card["img"][0]).read_bytes()[:2] == b"\xff\xd8"
        assert {href.rstrip("/") for href in card["href"]} <= {
            path.name for path in out.iterdir() if path.is_dir()}
        assert "Cloud " in " ".join(card["text"])


def test_waiting_jobs_show_their_state_progress_and_estimate(tmp_path: Path):
    submitted = (NOW - timedelta(hours=3)).isoformat().replace("+00:00", "Z")
    queued = JobState(record("1", submitted=submitted), JobPhase.QUEUED, "PENDING")
    processing = JobState(record("2", submitted=submitted, orbit=None), JobPhase.PROCESSING,
                          "STALLED", progress="35%")
    report = SeriesReport([JobSeries(queued), JobSeries(processing)])
    page = read_page(write_series_page(report, tmp_path, title="t", now=NOW))
    phases = [section["data-phase"] for section in page.sections]
    assert phases == [JobPhase.QUEUED, JobPhase.PROCESSING]
    for section, state in zip(page.sections, (queued, processing)):
        text = " ".join(" ".join(section["text"]).split())
        assert estimate_text(state, NOW) in text
        assert state.phase in text
    assert "progress 35%" in " ".join(page.sections[1]["text"])
    assert "About 13 dates expected" in page.text and "at the earliest" in page.text
    assert "About 26 dates expected" in page.text
    assert page.cards == [] and page.marks == []
    bands = [attributes for tag, attributes in page.tags
             if "band" in attributes.get("class", "")]
    assert [band["title"] for band in bands] == ["13 dates still to come",
                                                  "26 dates still to come"]


def test_ready_products_are_still_to_come(tmp_path: Path):
    name = "SENTINEL2A_20190301-083751-427_L2A_T36TWQ_C_V2-2.zip"
    series = JobSeries(JobState(record(), JobPhase.FINISHED, "FINISHED"),
                       [SeriesEntry(name, date(2019, 3, 1), ProductOutcome.READY)])
    page = read_page(write_series_page(SeriesReport([series]), tmp_path, title="t", now=NOW))
    assert [(card["outcome"], card["img"], card["href"]) for card in page.cards] == [
        ("to-come", [], [])]
    assert "still to come" in page.text


def test_no_job_no_page(tmp_path: Path):
    assert write_series_page(SeriesReport([]), tmp_path, title="t", now=NOW) is None
    assert list(tmp_path.iterdir()) == [tmp_path / "home"]


def _cli_writes_pages() -> bool:
    return "--no-page" in download_parser("full_maja_download")._option_string_actions


cli_page = pytest.mark.skipif(not _cli_writes_pages(),
                              reason="full_maja_download.py does not write series.html yet")


@cli_page
def test_a_download_run_writes_the_page(make_emulator, auth_file, run, tmp_path: Path):
    emulator = make_emulator(registration_polls=0, timeline=["FINISHED"])
    submit(run, emulator, auth_file)
    result = run("download", "-a", auth_file, "-l", "job.log", "-w", "out")
    assert result.returncode == 0, result.stderr
    page = read_page(tmp_path / "out" / PAGE_NAME)
    zips = sorted(path.name for path in (tmp_path / "out").glob("*.zip"))
    downloaded = [card for card in page.cards if card["outcome"] == "downloaded"]
    assert sorted(card["href"][0] for card in downloaded) == zips
    assert all(card["img"] for card in downloaded)
    assert [card["date"] for card in page.cards] == sorted(card["date"] for card in page.cards)
    assert {card["outcome"] for card in page.cards} == {"downloaded", "cloudy", "missing"}


@cli_page
def test_no_page_turns_the_page_off(make_emulator, auth_file, run, tmp_path: Path):
    emulator = make_emulator(registration_polls=0, timeline=["FINISHED"])
    submit(run, emulator, auth_file)
    result = run("download", "-a", auth_file, "-l", "job.log", "-w", "out", "--no-page")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "out" / PAGE_NAME).exists()
    assert not (tmp_path / "out" / QUICKLOOK_DIR).exists()


@pytest.mark.browser
def test_chromium_renders_the_page_with_every_date(series, tmp_path: Path):
    chromium, why = ensure_chromium()
    if chromium is None:
        pytest.skip(why)
    report, out = series
    path = write_series_page(report, out, title="job.log", now=NOW)
    png = tmp_path / "page.png"
    screenshot(chromium, path, png, window=(1000, 1400))
    width, height, rows = read_png(png)
    assert (width, height) == (1000, 1400)
    colours = pixel_colours(rows)
    background = {(255, 255, 255), (246, 248, 250)}
    drawn = sum(count for colour, count in colours.items() if colour not in background)
    assert len(colours) > 50 and drawn > 0.05 * width * height, (len(colours), drawn)
    green, grey, orange = (0x2E, 0x7D, 0x32), (0x78, 0x90, 0x9C), (0xE6, 0x51, 0x00)
    assert all(colours.get(colour, 0) > 200 for colour in (green, grey, orange)), colours.get
    dom = dump_dom(chromium, path)
    shown = Page(dom).text
    for entry in report.jobs[0].entries:
        assert entry.date.isoformat() in shown
    assert len(Page(dom).cards) == len(report.jobs[0].entries)


# -- any date a server sends: drawn, named, or left off the strip, never a crash -------------------

OUTCOMES = st.sampled_from(list(ProductOutcome))
PHASES = st.sampled_from([(JobPhase.QUEUED, "PENDING"), (JobPhase.PROCESSING, "STALLED"),
                          (JobPhase.FINISHED, "FINISHED"), (JobPhase.FAILED, "ERROR")])


@given(dates=st.lists(st.one_of(st.none(), st.dates()), max_size=8),
       outcomes=st.lists(OUTCOMES, min_size=8, max_size=8),
       start=st.one_of(st.none(), st.dates()), end=st.one_of(st.none(), st.dates()),
       phase=PHASES, orbit=st.one_of(st.none(), st.integers(1, 143)),
       submitted=st.one_of(st.none(), st.text(max_size=40),
                           st.datetimes(timezones=st.builds(
                               timezone, st.timedeltas(min_value=timedelta(hours=-23),
                                                       max_value=timedelta(hours=23))))
                           .map(datetime.isoformat)))
@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_date_of_any_job_renders_each_card_with_its_date_and_marks_inside_the_strip(
        tmp_path: Path, dates, outcomes, start, end, phase, orbit, submitted):
    entries = [SeriesEntry(f"P{number}_x.zip", day, outcome)
               for number, (day, outcome) in enumerate(zip(dates, outcomes))]
    job = record(start=start, end=end, orbit=orbit, submitted=submitted)
    report = SeriesReport([JobSeries(JobState(job, phase[0], phase[1]), entries)])
    page = read_page(write_series_page(report, tmp_path, title="t", now=NOW))
    assert [card["date"] for card in page.cards] == [
        entry.date.isoformat() if entry.date else "(no date)" for entry in entries]
    positions = [float(re.fullmatch(r"left:([\d.]+)%", mark["style"]).group(1))
                 for mark in page.marks]
    assert all(0 <= position <= 100 for position in positions)
    drawn = {mark["data-date"] for mark in page.marks}
    for day in {entry.date for entry in entries if entry.date} - {date.fromisoformat(d)
                                                                  for d in drawn}:
        assert day.isoformat() in page.text  # left off the strip, named under it
    ticks = [attributes for _, attributes in page.tags if "tick" in attributes.get("class", "")]
    assert len(ticks) <= 25


@pytest.mark.parametrize("far", [date(9999, 12, 15), date(1, 1, 1), date(9999, 12, 31)])
def test_a_far_date_keeps_its_card_and_is_named_under_a_strip_of_the_period(tmp_path, far):
    near = date(2019, 3, 6)
    entries = [SeriesEntry("A_20190306.zip", near, ProductOutcome.CLOUDY),
               SeriesEntry("B.zip", far, ProductOutcome.MISSING)]
    series = JobSeries(JobState(record(), JobPhase.FINISHED, "FINISHED"),
                       sorted(entries, key=lambda entry: entry.date))
    path = write_series_page(SeriesReport([series]), tmp_path, title="t", now=NOW)
    page = read_page(path)
    assert sorted(card["date"] for card in page.cards) == sorted([near.isoformat(),
                                                                  far.isoformat()])
    assert [mark["data-date"] for mark in page.marks] == [near.isoformat()]
    assert "Timeline from 2019-03-01 to 2019-05-01" in path.read_text()
    assert f"1 date far outside the period, left off the timeline (see the cards): " \
           f"{far.isoformat()}" in page.text
