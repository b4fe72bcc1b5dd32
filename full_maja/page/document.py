"""The page around the job sections: head with the inline stylesheet, summary, legend, footer."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from importlib import resources

from ..__version__ import __version__
from ..estimate import format_time
from ..quicklooks import QUICKLOOK_DIR
from ..series import SeriesReport
from ..states import DateMark, JobPhase
from .markup import counts_text, escape, mark_counts, plural

STYLESHEET = "series.css"


def document(title: str, summary: str, sections: list[str], moment: datetime,
             stamp: str = "") -> str:
    """The whole page, its summary and sections given, written at `moment`; `stamp`: a head line."""
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="full-maja">',
        *([stamp] if stamp else []),
        f"<title>{escape(title)}</title>",
        f"<style>{stylesheet()}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">Last changed <time id="written" datetime="'
        f'{moment.strftime("%Y-%m-%dT%H:%M:%SZ")}">{escape(format_time(moment))}</time> by '
        f"full-maja {escape(__version__)}; each download run brings it up to date.</p>",
        f'<p class="meta">{escape(summary)}.</p>',
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


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """The page's CSS: `series.css` of this package, its lines joined into one."""
    text = resources.files(__package__).joinpath(STYLESHEET).read_text(encoding="utf-8")
    return "".join(line.strip() for line in text.splitlines())


def summary(phases: list[JobPhase], counts: dict[DateMark, int]) -> str:
    """`2 jobs: 1 queued, 1 finished; dates: 3 downloaded, 1 cloudy`."""
    text = f"{plural(len(phases), 'job')}: " + ", ".join(
        f"{phases.count(phase)} {phase}" for phase in JobPhase if phase in phases)
    if counts:
        text += "; dates: " + counts_text({mark: counts[mark] for mark in DateMark
                                            if counts.get(mark)})
    return text


def report_counts(report: SeriesReport) -> tuple[list[JobPhase], dict[DateMark, int]]:
    """Each job's phase, and how many dates show with each mark, for `summary`."""
    return ([job.state.phase for job in report.jobs],
            mark_counts(entry for job in report.jobs for entry in job.entries))


def _legend() -> str:
    """What each colour of the page means."""
    items = "".join(
        f'<li><span class="swatch o-{mark}" aria-hidden="true"></span>'
        f"<span><b>{escape(mark.label)}</b>: {escape(mark.legend)}</span></li>"
        for mark in DateMark)
    return f'<ul class="legend" aria-label="Legend">{items}</ul>'
