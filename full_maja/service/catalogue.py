"""MAJA L2A products a catalogue already holds (GEODES's STAC API), as jobs that end at once.

A search is a job: submitting it searches and records it (its id is made of the tile,
orbit, period and cloud limit, so the same search has the same id); checking it is
finished at once, with the products as its report. While the period is not over, and
for PUBLICATION_DELAY after its end (THEIA publishes days after acquisition), the
state says its results may grow, so every run searches again; afterwards a run that
finds every product on disk trusts the remembered state and sends nothing. A catalogue
runs no job: cancelling or listing jobs is not supported.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from datetime import date, datetime, timedelta, timezone
from typing import Any, Optional

from ..auth import FORBIDDEN
from ..errors import NetworkError, NotSupported, ServiceError
from ..jobrecord import JobRecord, new_record
from ..session import RETRY_STATUSES, Document, PepsSession
from ..states import JobPhase, Protocol
from ..validation import JobRequest
from .base import JobState, ServerJobList, Service
from .jobreport import JobReport
from .stacapi import (
    PAGE_LIMIT,
    Item,
    is_last_page,
    products_of,
    read_item,
    read_page,
    search_body,
)

log = logging.getLogger(__name__)

FOUND = "FOUND"
"""The server state of a catalogue search."""
PUBLICATION_DELAY = timedelta(days=30)
"""How long after a period's end the catalogue may still publish products of it."""
MAX_PAGES = 125
"""At most 10,000 items a search: far more than a tile holds in ten years."""
FRESH_SECONDS = 60.0
"""A search this service made this recently is not sent again (submit, then check)."""
SEARCH_ATTEMPTS = 3
RETRY_PAUSE = 0.5
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/geo+json"}
NO_CANCEL = ("a catalogue search is not a job running on a server: there is nothing to "
             "cancel (remove its entry from the log to stop following it)")
NO_LISTING = ("a catalogue keeps no jobs: only a processing service (OGC API) lists its "
              "jobs")
NO_LOOKUP = ("a catalogue search is recorded only in its log and the local journal; "
             "search again with the submit command's --source catalogue")


def search_job_id(request: JobRequest) -> str:
    """The id of a search, made of what it asks: the same search, the same id."""
    orbit = f"o{request.orbit:03d}" if request.orbit is not None else "oall"
    cloud = f"-c{request.max_cloud:g}" if request.max_cloud is not None else ""
    return (f"catalogue-{request.tile}-{orbit}-{request.start:%Y%m%d}-{request.end:%Y%m%d}"
            f"{cloud}")


def search_url(endpoint: str) -> str:
    """Where searches are POSTed: `{catalogue}/search`."""
    return endpoint.rstrip("/") + "/search"


def searched_until(end: date) -> date:
    """The last day the catalogue may publish products of a period ending on `end`."""
    try:
        return end + PUBLICATION_DELAY
    except OverflowError:  # a period ending in year 9999
        return date.max


def may_grow(job: JobRecord, today: date) -> bool:
    """True while the catalogue may still publish products of the job's period."""
    return job.end is None or searched_until(job.end) >= today


class CatalogueService(Service):
    """A STAC API listing MAJA L2A products (GEODES): searches recorded as jobs."""

    protocol = Protocol.CATALOGUE.value
    needs_account = False

    def __init__(self, session: PepsSession, endpoint: str) -> None:
        super().__init__(session, endpoint)
        self._found: dict[str, tuple[float, JobReport]] = {}
        self._lock = threading.Lock()

    def submission_text(self, request: JobRequest) -> str:
        """The body of the search's first page, as it would be POSTed."""
        return self.submission_text_of(request)

    @staticmethod
    def submission_text_of(request: JobRequest) -> str:
        """The body of a search's first page (no service needed: a dry run sends nothing)."""
        return json.dumps(search_body(request, 1), indent=2)

    def submit(self, request: JobRequest) -> JobRecord:
        """Search the catalogue and return the search's record; its report is kept for `check`."""
        job_id = search_job_id(request)
        if self._cached(job_id) is None:
            self.search(request, job_id)
        return new_record(request, job_id, search_url(self.endpoint), self.endpoint,
                          self.protocol)

    def check(self, job: JobRecord, hint: Optional[str] = None) -> JobState:
        """The search's products: searched again, unless this service searched it just now."""
        request = job.request
        if request is None:
            raise ServiceError(f"job {job.job_id}: the log does not record the tile and "
                               "period of this search", job_id=job.job_id)
        report = self._cached(job.job_id) or self.search(request, job.job_id)
        growing = may_grow(job, datetime.now(timezone.utc).date())
        notes = [f"the catalogue may still publish products of this period (THEIA "
                 f"publishes days after acquisition): runs search again until "
                 f"{searched_until(job.end) if job.end else 'the period is known'}"] \
            if growing else []
        notes += [report.message] if report.message else []
        return JobState(job, JobPhase.FINISHED, FOUND, report=report, progress="100%",
                        notes=notes, may_grow=growing)

    def results(self, job: JobRecord) -> JobReport:
        """The search's products, searched again."""
        return self.check(job).report or JobReport(FOUND)

    def search(self, request: JobRequest, job_id: Optional[str] = None) -> JobReport:
        """Every page of the search, one product per acquisition (see `stacapi.products_of`).

        Pages are read until all the items the catalogue matched are listed, whatever
        its page size (else until a short page); a page listing only items of earlier
        pages ends the search: a catalogue that ignores `page` repeats its first one.
        """
        items: dict[str, Item] = {}
        skipped: list[str] = []
        seen: set[str] = set()
        listed, matched = 0, None
        for number in range(1, MAX_PAGES + 1):
            page = read_page(self._page(request, number, job_id), self._what(request, number))
            matched = page.matched if page.matched is not None else matched
            listed += len(page.features)
            if not self._take(page.features, seen, items, skipped) and page.features:
                _check_not_stuck(request, number, len(seen), matched, job_id)
                break
            if is_last_page(listed, PAGE_LIMIT, page):
                break
        else:
            raise ServiceError(f"the catalogue lists more than {MAX_PAGES * PAGE_LIMIT} items "
                               f"for tile {request.tile}; search shorter periods",
                               job_id=job_id)
        refs = products_of(list(items.values()), request, request.max_cloud)
        report = JobReport(FOUND, progress="100%", results=refs,
                           message=_message(len(seen), matched, skipped))
        with self._lock:
            self._found[job_id or search_job_id(request)] = (time.monotonic(), report)
        return report

    def _take(self, features: list[Any], seen: set[str], items: dict[str, Item],
              skipped: list[str]) -> int:
        """Read the features not seen on an earlier page into `items`; how many were new."""
        new = 0
        for feature in features:
            key = _feature_key(feature)
            if key in seen:
                continue
            seen.add(key)
            new += 1
            item, why = read_item(feature, search_url(self.endpoint))
            if item is None:
                skipped.append(why)
            else:
                items.setdefault(item.item_id or f"{item.identifier}/{item.version}", item)
        return new

    def cancel(self, job: JobRecord) -> None:
        """A catalogue runs no job."""
        self.check_cancellable()

    def check_cancellable(self) -> None:
        """A catalogue runs no job: say so plainly."""
        raise NotSupported(NO_CANCEL)

    def check_searchable(self) -> None:
        """A catalogue can be searched."""
        return None

    def list_jobs(self) -> ServerJobList:
        """A catalogue keeps no jobs."""
        raise NotSupported(NO_LISTING)

    def job_record(self, job_id: str) -> JobRecord:
        """A catalogue cannot look a search up."""
        raise NotSupported(NO_LOOKUP)

    def _cached(self, job_id: str) -> Optional[JobReport]:
        """The report of a search this service made moments ago, if any."""
        with self._lock:
            found = self._found.get(job_id)
        if found is None or time.monotonic() - found[0] > FRESH_SECONDS:
            return None
        return found[1]

    def _page(self, request: JobRequest, number: int, job_id: Optional[str]) -> Any:
        """One page of the search, asked again on a server error (a search changes nothing)."""
        what = self._what(request, number)
        url = search_url(self.endpoint)
        for attempt in range(1, SEARCH_ATTEMPTS + 1):
            try:
                answer = self.session.request_document(
                    "POST", url, what, data=json.dumps(search_body(request, number)),
                    headers=JSON_HEADERS)
            except NetworkError:
                if attempt == SEARCH_ATTEMPTS:
                    raise
                time.sleep(RETRY_PAUSE * attempt)
                continue
            if answer.status_code in RETRY_STATUSES and attempt < SEARCH_ATTEMPTS:
                time.sleep(RETRY_PAUSE * attempt)
                continue
            self._raise_if_key_refused(answer)
            return _json(answer, what, job_id)
        raise AssertionError("unreachable")

    def _raise_if_key_refused(self, answer: Document) -> None:
        """A 403 to a search that carried the API key is the key's refusal (exit 3)."""
        account = self.session.account
        if answer.status_code == FORBIDDEN and account is not None \
                and account.api_key is not None and account.applies_to(answer.url):
            raise account.refusal(FORBIDDEN, answer.url)

    @staticmethod
    def _what(request: JobRequest, number: int) -> str:
        return f"page {number} of the catalogue's products of tile {request.tile}"


def _json(answer: Document, what: str, job_id: Optional[str]) -> Any:
    if answer.status_code != 200:
        advice = "check --catalogue-url" if 400 <= answer.status_code < 500 \
            else "the catalogue may be in trouble, run again later"
        raise ServiceError(f"{what}: the catalogue answered HTTP {answer.status_code}; "
                           f"{advice}", job_id=job_id, status=answer.status_code)
    try:
        return json.loads(answer.content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ServiceError(f"{what} is not JSON; the catalogue may be in trouble, run again "
                           "later", job_id=job_id) from None


def _feature_key(feature: Any) -> str:
    """What tells a feature from another: its id, else its whole text."""
    if isinstance(feature, dict) and isinstance(feature.get("id"), str) and feature["id"]:
        return "id:" + feature["id"]
    return json.dumps(feature, sort_keys=True, default=str)


def _check_not_stuck(request: JobRequest, number: int, read: int, matched: Optional[int],
                     job_id: Optional[str]) -> None:
    """A page repeating earlier ones ends the search; short of `matched`, as an error."""
    if matched is not None and read < matched:
        raise ServiceError(f"page {number} of the catalogue's products of tile "
                           f"{request.tile} lists only items of earlier pages ({read} read of "
                           f"the {matched} it matched): it does not page by number (`page`) "
                           "as GEODES does; check --catalogue-url", job_id=job_id)


def _message(listed: int, matched: Optional[int], skipped: list[str]) -> str:
    notes = []
    if matched is not None and listed < matched:
        notes.append(f"the catalogue matched {matched} items but listed {listed}")
    if skipped:
        notes.append(f"{len(skipped)} item(s) left out: {skipped[0]}")
    return "; ".join(notes)
