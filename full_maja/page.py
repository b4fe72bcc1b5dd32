"""`series.html`: the whole series of a log at a glance, in a page any browser opens offline.

The page is plain HTML with inline CSS: no script, no network resource, nothing but
relative links to the product zips and to the quick-looks saved beside it in
`series-quicklooks/`. Every text that comes from the server or the log is escaped.
"""
from __future__ import annotations

import html
import re
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Optional
from urllib.parse import quote

from defusedxml import ElementTree as SafeET

from .__version__ import __version__
from .atomic import atomic_write
from .download import VerifiedRecord
from .errors import ProductError
from .estimate import estimate_text, format_time, job_dates
from .products import product_stem, target_path
from .series import JobSeries, SeriesEntry, SeriesReport
from .service import JobState
from .states import DateMark, JobPhase, ProductOutcome

PAGE_NAME = "series.html"
QUICKLOOK_DIR = "series-quicklooks"
MAX_QUICKLOOK_BYTES = 32 * 1024 * 1024
MAX_METADATA_BYTES = 16 * 1024 * 1024
JPEG_MAGIC = b"\xff\xd8"

LEGEND = {DateMark.ON_DISK: "the L2A product is on disk",
          DateMark.CLOUDY: "over 90 % cloudy, not issued (NOVALD)",
          DateMark.MISSING: "not processed (split acquisition, or tape robot overloaded)",
          DateMark.FAILED: "could not be downloaded: run again",
          DateMark.TO_COME: "not processed or not downloaded yet"}
_PLACEHOLDER = {DateMark.CLOUDY: "over 90 % cloudy: no product", DateMark.MISSING: "not processed",
                DateMark.FAILED: "download failed", DateMark.TO_COME: "not downloaded yet",
                DateMark.ON_DISK: "no quick-look in the product"}
COLOURS = {DateMark.ON_DISK: ("#2e7d32", "#ffffff"), DateMark.CLOUDY: ("#78909c", "#ffffff"),
           DateMark.MISSING: ("#e65100", "#ffffff"), DateMark.FAILED: ("#c62828", "#ffffff"),
           DateMark.TO_COME: ("#ffffff", "#1f2328")}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
           "Dec")
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9_.-]")
_WRITTEN = re.compile(r'<time id="written"[^>]*>[^<]*</time>')


def page_outcome(entry: SeriesEntry) -> str:
    """The page's outcome of a series entry: downloaded, cloudy, missing, failed, to-come."""
    return entry.outcome.mark


@dataclass(frozen=True)
class Preview:
    """What the page shows of a product on disk: its quick-look, cloud cover and link."""

    image: Optional[str] = None
    cloud: Optional[float] = None
    link: Optional[str] = None


def write_series_page(report: SeriesReport, write_dir: Path, *, title: str,
                      now: Optional[datetime] = None) -> Optional[Path]:
    """Write `write_dir/series.html` atomically and return its path; None if no job.

    A page that would differ from the one on disk only by its time is not rewritten.
    Quick-looks of the products on disk are copied out of their zips (only the
    `*_QKL_ALL.jpg` member is read) into `write_dir/series-quicklooks/`. An OSError
    (disk full, folder not writable) propagates: the caller decides whether a page
    that cannot be written matters.
    """
    if not report.jobs:
        return None
    folder = Path(write_dir)
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    previews = _Previews(folder)
    sections = [_job_section(index, series, previews, moment)
                for index, series in enumerate(report.jobs, 1)]
    page = _document(title, report, sections, moment)
    target = folder / PAGE_NAME
    if not _same_page(target, page):
        atomic_write(target, page)
    return target


def _same_page(target: Path, page: str) -> bool:
    """True when `target` already says what `page` says, but for the time it was written.

    A cron rerun that finds nothing new then leaves the page (and its time) alone.
    """
    try:
        if target.stat().st_size > 4 * len(page.encode("utf-8")):
            return False
        old = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return _WRITTEN.sub("", old) == _WRITTEN.sub("", page)


# Quick-looks and cloud cover -------------------------------------------------------


class _Previews:
    """Finds each product's quick-look and cloud cover, in its zip or extracted folder."""

    def __init__(self, write_dir: Path) -> None:
        self.write_dir = write_dir
        self.record = VerifiedRecord(write_dir)

    def for_entry(self, entry: SeriesEntry) -> Preview:
        if page_outcome(entry) != DateMark.ON_DISK:
            return Preview()
        try:
            zip_path = target_path(self.write_dir, entry.name)
        except ProductError:
            return Preview()
        if zip_path.is_file():
            image, cloud = self._from_zip(zip_path, entry.name)
            return Preview(image, cloud, quote(zip_path.name, safe=""))
        extracted = (self.record.entry(entry.name) or {}).get("extracted")
        if isinstance(extracted, list) and extracted and isinstance(extracted[0], str):
            extracted = extracted[0]
        if isinstance(extracted, str) and extracted:
            return self._from_folder(entry.name, extracted)
        return Preview()

    def _from_zip(self, path: Path, name: str) -> tuple[Optional[str], Optional[float]]:
        image = cloud = None
        try:
            with zipfile.ZipFile(path) as archive:
                members = [info for info in archive.infolist() if not info.is_dir()]
                quicklook = _member_ending(members, "_QKL_ALL.JPG")
                metadata = _member_ending(members, "_MTD_ALL.XML")
                if quicklook is not None and quicklook.file_size <= MAX_QUICKLOOK_BYTES:
                    image = self._save_quicklook(
                        name, quicklook.file_size, lambda: archive.read(quicklook))
                if metadata is not None and metadata.file_size <= MAX_METADATA_BYTES:
                    cloud = cloud_percent(archive.read(metadata))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, KeyError,
                ValueError, NotImplementedError, RuntimeError, OSError):
            pass
        return image, cloud

    def _from_folder(self, name: str, extracted: str) -> Preview:
        try:
            folder = (self.write_dir / extracted).resolve()
            if folder.parent != self.write_dir.resolve() or not folder.is_dir():
                return Preview()
            files = [path for pattern in ("*", "*/*") for path in folder.glob(pattern)
                     if path.is_file()]
        except OSError:
            return Preview()
        quicklook = next((path for path in sorted(files)
                          if path.name.upper().endswith("_QKL_ALL.JPG")), None)
        metadata = next((path for path in sorted(files)
                         if path.name.upper().endswith("_MTD_ALL.XML")), None)
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
        file_name = quicklook_name(name)
        target = self.write_dir / QUICKLOOK_DIR / file_name
        try:
            if target.is_file() and target.stat().st_size == size:
                return f"{QUICKLOOK_DIR}/{quote(file_name, safe='')}"
        except OSError:
            pass
        data = read()
        if not data.startswith(JPEG_MAGIC):
            return None
        target.parent.mkdir(exist_ok=True)
        atomic_write(target, data)
        return f"{QUICKLOOK_DIR}/{quote(file_name, safe='')}"


def _member_ending(members: list[zipfile.ZipInfo], suffix: str) -> Optional[zipfile.ZipInfo]:
    return next((info for info in members if info.filename.upper().endswith(suffix)), None)


def quicklook_name(name: str) -> str:
    """The file name of a product's quick-look in `series-quicklooks/`: `<stem>.jpg`."""
    stem = product_stem(name)
    safe = _UNSAFE_FILE_CHARS.sub("_", stem).lstrip(".")[:150]
    if safe != stem or not safe:
        safe = f"{safe or 'product'}-{zlib.crc32(name.encode('utf-8')):08x}"
    return f"{safe}.jpg"


def cloud_percent(metadata: bytes) -> Optional[float]:
    """The CloudPercent quality index of a MAJA `_MTD_ALL.xml`, if it gives one.

    The current product's index is preferred over those of the contextual products
    some MUSCATE files also list. Parsed with defusedxml: no entity, no DTD.
    """
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
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _number(text: Optional[str]) -> Optional[float]:
    try:
        value = float((text or "").strip())
    except ValueError:
        return None
    return value if 0 <= value <= 100 else None


# The page --------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _document(title: str, report: SeriesReport, sections: list[str],
              moment: datetime) -> str:
    counts = _counts(entry for job in report.jobs for entry in job.entries)
    jobs = len(report.jobs)
    summary = (f"{jobs} job{'' if jobs == 1 else 's'}: " + ", ".join(
        f"{sum(job.state.phase == phase for job in report.jobs)} {phase}"
        for phase in JobPhase
        if any(job.state.phase == phase for job in report.jobs)))
    if counts:
        summary += "; dates: " + _counts_text(counts)
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="full-maja">',
        f"<title>{_e(title)}</title>",
        f"<style>{_css()}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">Last changed <time id="written" datetime="'
        f'{moment.strftime("%Y-%m-%dT%H:%M:%SZ")}">{_e(format_time(moment))}</time> by '
        f"full-maja {_e(__version__)}; each download run brings it up to date.</p>",
        f'<p class="meta">{_e(summary)}.</p>',
        _legend(),
        "</header>",
        "<main>",
        *sections,
        "</main>",
        "<footer><p class=\"meta\">Quick-looks are copies of the products' "
        f"<code>_QKL_ALL.jpg</code>, kept in <code>{QUICKLOOK_DIR}/</code> beside this "
        "page.</p></footer>",
        "</body>",
        "</html>",
        "",
    ])


def _legend() -> str:
    items = "".join(
        f'<li><span class="swatch o-{key}" aria-hidden="true"></span>'
        f"<span><b>{_e(key.label)}</b>: {_e(LEGEND[key])}</span></li>"
        for key in DateMark)
    return f'<ul class="legend" aria-label="Legend">{items}</ul>'


def _job_section(index: int, series: JobSeries, previews: _Previews,
                 moment: datetime) -> str:
    state = series.state
    job = state.job
    parts = [f'<section class="job" id="job-{index}" data-job="{_e(job.job_id)}" '
             f'data-phase="{_e(state.phase)}">',
             f"<h2>{_e(_job_title(state))}</h2>",
             f'<p class="state">Job {_e(job.job_id)}: '
             f'<b class="phase-{_e(state.phase)}">{_e(_state_text(state))}</b></p>']
    if not state.ended:
        parts.append(_waiting_notice(state, moment))
    elif state.phase == JobPhase.FAILED:
        parts.append(_failure_notice(state))
    else:
        parts.append(_series_counts(series))
    dated = [entry for entry in series.entries if entry.date is not None]
    period = _period(state, dated)
    if period is not None and (dated or not state.ended):
        parts.append(_timeline(index, series, period))
    if series.entries:
        cards = "".join(_card(index, number, entry, previews.for_entry(entry))
                        for number, entry in enumerate(series.entries, 1))
        parts.append(f'<ol class="cards">{cards}</ol>')
    parts.extend(f'<p class="note">Note: {_e(note)}</p>' for note in state.notes)
    parts.append("</section>")
    return "\n".join(parts)


def _job_title(state: JobState) -> str:
    job = state.job
    words = [f"Tile {job.tile}" if job.tile else "Tile not recorded"]
    words.append(f"orbit {job.orbit}" if job.orbit is not None else "all orbits")
    if job.start and job.end:
        words.append(f"{job.start.isoformat()} to {job.end.isoformat()}")
    return " · ".join(words)


def _state_text(state: JobState) -> str:
    text = f"{state.phase} ({state.server_state})"
    if not state.ended and state.progress:
        text += f", progress {state.progress}"
    return text


def _waiting_notice(state: JobState, moment: datetime) -> str:
    if state.phase == JobPhase.QUEUED:
        first = ("The job is queued: PEPS runs at most 10 FULL_MAJA jobs at once for all "
                 "its users and the job waits its turn.")
    else:
        progress = f" The server's progress figure is {state.progress}, which runs well " \
                   "ahead of reality." if state.progress else ""
        first = f"The job is processing.{progress}"
    return (f'<div class="notice"><p>{_e(first)}</p>'
            f'<p class="estimate">{_e(estimate_text(state, moment))}</p>'
            "<p>The dates appear here once the job has ended.</p></div>")


def _failure_notice(state: JobState) -> str:
    lines = [f"<p>Server message: {_e(state.message or 'none given')}</p>"]
    logs = state.report.logs if state.report else []
    lines += [f"<p>Processing log: <code>{_e(url)}</code></p>" for url in logs]
    lines.append("<p>Run the download command with <code>--resubmit</code> to submit the "
                 "job again.</p>")
    return f'<div class="notice problem">{"".join(lines)}</div>'


def _series_counts(series: JobSeries) -> str:
    counts = _counts(series.entries)
    text = _counts_text(counts) if counts else "no product"
    parts = [f'<p class="counts">{len(series.entries)} dates: {_e(text)}.</p>']
    listed = len(series.with_outcome(ProductOutcome.MISSING))
    if series.unprocessed and series.unprocessed > listed:
        unlisted = series.unprocessed - listed
        parts.append(f'<p class="counts">{unlisted} more product'
                     f"{'' if unlisted == 1 else 's'} not processed; the server does not "
                     "say which dates.</p>")
    return "".join(parts)


def _counts(entries: Iterable[SeriesEntry]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in entries:
        key = page_outcome(entry)
        counts[key] = counts.get(key, 0) + 1
    return {key: counts[key] for key in DateMark if key in counts}


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {key.label}" for key, count in counts.items())


def _period(state: JobState, dated: list[SeriesEntry]) -> Optional[tuple[date, date]]:
    job = state.job
    if job.start and job.end and job.start <= job.end:
        start, end = job.start, job.end
        if dated:
            start = min(start, *(entry.date for entry in dated if entry.date))
            end = max(end, *(entry.date for entry in dated if entry.date))
        return start, end
    days = [entry.date for entry in dated if entry.date]
    return (min(days), max(days)) if days else None


def _position(day: date, period: tuple[date, date]) -> float:
    start, end = period
    span = (end - start).days
    if span <= 0:
        return 50.0
    return min(100.0, max(0.0, (day - start).days * 100.0 / span))


def _timeline(index: int, series: JobSeries, period: tuple[date, date]) -> str:
    state = series.state
    marks = []
    if not state.ended:
        dates = job_dates(state)
        label = (f"{dates} dates still to come" if dates else "dates still to come")
        marks.append(f'<span class="band" title="{_e(label)}" aria-label="{_e(label)}">'
                     "</span>")
    for number, entry in enumerate(series.entries, 1):
        if entry.date is None:
            continue
        outcome = page_outcome(entry)
        label = f"{entry.date.isoformat()}: {outcome.label}"
        marks.append(f'<a class="mark o-{outcome}" href="#j{index}-{number}" '
                     f'style="left:{_position(entry.date, period):.2f}%" '
                     f'title="{_e(label)}" aria-label="{_e(label)}" '
                     f'data-date="{entry.date.isoformat()}" data-outcome="{outcome}"></a>')
    start, end = period
    ticks = "".join(
        f'<span class="tick{" odd" if number % 2 else ""}" '
        f'style="left:{_position(day, period):.2f}%">{_e(text)}</span>'
        for number, (day, text) in enumerate(_month_ticks(period)))
    return ("<div class=\"timeline\">"
            f'<div class="strip" aria-label="Timeline from {start.isoformat()} to '
            f'{end.isoformat()}">{"".join(marks)}</div>'
            f'<div class="axis" aria-hidden="true">{ticks}</div>'
            f'<div class="ends"><span>{start.isoformat()}</span>'
            f"<span>{end.isoformat()}</span></div></div>")


def _month_ticks(period: tuple[date, date]) -> list[tuple[date, str]]:
    start, end = period
    ticks: list[tuple[date, str]] = []
    day = date(start.year, start.month, 1)
    while day <= end:
        if day >= start and 4.0 <= _position(day, period) <= 96.0:
            text = _MONTHS[day.month - 1]
            if day.month == 1 or not ticks:
                text += f" {day.year}"
            ticks.append((day, text))
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return ticks


def _card(index: int, number: int, entry: SeriesEntry, preview: Preview) -> str:
    outcome = page_outcome(entry)
    day = entry.date.isoformat() if entry.date else "(no date)"
    parts = [f'<li class="card c-{outcome}" id="j{index}-{number}" data-date="{_e(day)}" '
             f'data-outcome="{outcome}">',
             f'<div class="head"><time>{_e(day)}</time>'
             f'<span class="badge o-{outcome}">{_e(outcome.label)}</span></div>']
    if preview.image:
        image = (f'<img src="{_e(preview.image)}" alt="Quick-look of {_e(day)}" '
                 'width="160" height="160">')
        parts.append(f'<a class="thumb" href="{_e(preview.link)}">{image}</a>'
                     if preview.link else f'<div class="thumb">{image}</div>')
    else:
        parts.append(f'<div class="thumb empty">{_e(_PLACEHOLDER[outcome])}</div>')
    if preview.cloud is not None:
        parts.append(f'<p class="cloud">Cloud {_e(_percent(preview.cloud))} %</p>')
    if preview.link:
        parts.append(f'<p class="name"><a href="{_e(preview.link)}">{_e(entry.name)}</a></p>')
    else:
        parts.append(f'<p class="name">{_e(entry.name)}</p>')
    if entry.message and outcome == DateMark.FAILED:
        parts.append(f'<p class="message">{_e(entry.message)}</p>')
    parts.append("</li>")
    return "".join(parts)


def _percent(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def _css() -> str:
    colours = "".join(
        f".o-{key}{{background:{back};color:{fore}}}.c-{key}{{border-top-color:"
        f"{back if key != DateMark.TO_COME else '#6e7781'}}}"
        for key, (back, fore) in COLOURS.items())
    return (
        ":root{color-scheme:light}*{box-sizing:border-box}"
        "body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,"
        "Arial,sans-serif;color:#1f2328;background:#f6f8fa}"
        "header,main,footer{max-width:1100px;margin:0 auto;padding:10px 16px}"
        "h1{font-size:1.45em;margin:.3em 0}h2{font-size:1.15em;margin:0 0 .2em}"
        ".meta{color:#57606a;margin:.2em 0}code{font-size:.9em;overflow-wrap:anywhere}"
        ".legend{display:flex;flex-wrap:wrap;gap:4px 18px;list-style:none;padding:0;"
        "margin:.7em 0;font-size:.9em}"
        ".legend li{display:flex;align-items:center;gap:6px}"
        ".swatch{display:inline-block;flex:none;width:14px;height:14px;border-radius:3px}"
        ".job{background:#fff;border:1px solid #d0d7de;border-radius:8px;"
        "padding:14px 16px;margin:0 0 18px}"
        ".state,.counts,.note{margin:.2em 0}"
        ".notice{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;"
        "padding:4px 12px;margin:.6em 0}.notice.problem{background:#ffebe9;"
        "border-color:#cf222e}.estimate{font-weight:600}"
        ".timeline{margin:14px 0 4px}"
        ".strip{position:relative;height:36px;background:#eef1f4;border-radius:4px;"
        "margin:0 6px}"
        ".mark{position:absolute;top:4px;bottom:4px;width:clamp(4px,1.2%,12px);"
        "transform:translateX(-50%);border-radius:2px;text-decoration:none}"
        ".mark.o-to-come,.swatch.o-to-come,.badge.o-to-come{box-shadow:inset 0 0 0 2px "
        "#6e7781}"
        ".band{position:absolute;inset:4px 0;border:1px dashed #6e7781;border-radius:3px;"
        "background:repeating-linear-gradient(135deg,#fff 0 6px,#e1e4e8 6px 12px)}"
        ".axis{position:relative;height:1.5em;margin:0 6px;font-size:.78em;color:#57606a}"
        ".tick{position:absolute;top:2px;transform:translateX(-50%);white-space:nowrap;"
        "border-left:1px solid #afb8c1;padding-left:3px}"
        ".ends{display:flex;justify-content:space-between;font-size:.8em;color:#57606a}"
        ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));"
        "gap:10px;list-style:none;padding:0;margin:14px 0 0}"
        ".card{border:1px solid #d0d7de;border-top:5px solid #d0d7de;border-radius:6px;"
        "padding:6px 8px;background:#fff;min-width:0}"
        ".head{display:flex;justify-content:space-between;align-items:center;gap:4px;"
        "flex-wrap:wrap;font-weight:600}"
        ".badge{font-size:.72em;font-weight:600;padding:1px 7px;border-radius:10px}"
        ".thumb{display:flex;align-items:center;justify-content:center;margin:6px 0;"
        "aspect-ratio:1/1;background:#eef1f4;border-radius:4px;overflow:hidden;"
        "color:#57606a;font-size:.8em;text-align:center;padding:0}"
        ".thumb.empty{padding:8px}"
        ".thumb img{display:block;width:100%;height:100%;object-fit:cover}"
        ".cloud{margin:.1em 0;font-size:.9em}"
        ".name,.message{margin:.2em 0 0;font-size:.72em;color:#57606a;"
        "overflow-wrap:anywhere}.message{color:#a40e26}"
        f"{colours}"
        "@media (max-width:520px){body{font-size:14px}header,main,footer{padding:8px}"
        ".job{padding:10px}.cards{grid-template-columns:repeat(auto-fill,"
        "minmax(120px,1fr));gap:8px}.tick.odd{display:none}}"
    )
