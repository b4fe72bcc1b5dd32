"""The FULL_MAJA process plugin for pygeoapi: checks inputs, runs a while, writes products."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Dict, Optional, Set, Tuple

from pygeoapi.process.base import (  # type: ignore[import-untyped]
    BaseProcessor,
    JobNotFoundError,
    ProcessorExecuteError,
)
from pygeoapi.process.manager.tinydb_ import TinyDBManager  # type: ignore[import-untyped]

from ..acquisitions import ProductPlan, acquisitions, is_cloudy, plan_products
from ..execute import ExecuteRequest, WpsError, full_maja_params
from ..products import write_product_zip

PROCESS_ID = "FULL_MAJA"
REPORT_FILE = "report.json"
CHECK_SECONDS = 0.2
_TEXT = {"type": "string"}

PROCESS_METADATA: Dict[str, Any] = {
    "version": "1.0.0",
    "id": PROCESS_ID,
    "title": "FULL_MAJA",
    "description": "MAJA L2A processing of a Sentinel-2 tile over a period (test server).",
    "jobControlOptions": ["sync-execute", "async-execute", "dismiss"],
    "keywords": ["MAJA", "Sentinel-2", "L2A"],
    "links": [],
    "inputs": {
        "tileid": {"title": "MGRS tile, no leading T",
                   "schema": {**_TEXT, "pattern": "^[0-9]{2}[C-X][A-Z]{2}$"},
                   "minOccurs": 1, "maxOccurs": 1},
        "startDate": {"title": "First day, YYYY-MM-DD", "schema": {**_TEXT, "format": "date"},
                      "minOccurs": 1, "maxOccurs": 1},
        "completionDate": {"title": "Last day, YYYY-MM-DD",
                           "schema": {**_TEXT, "format": "date"}, "minOccurs": 1, "maxOccurs": 1},
        "relativeOrbitNumber": {"title": "Relative orbit, 1 to 143",
                                "schema": {"type": "integer", "minimum": 1, "maximum": 143},
                                "minOccurs": 0, "maxOccurs": 1},
    },
    "outputs": {
        "report": {"title": "The FULL_MAJA report: job_status, results, unprocessed, missing",
                   "schema": {"type": "object", "contentMediaType": "application/json"}},
    },
    "example": {"inputs": {"tileid": "36TWQ", "startDate": "2019-03-01",
                           "completionDate": "2019-09-01", "relativeOrbitNumber": 64}},
}


class JobDismissed(Exception):
    """The job was deleted, or the server is stopping, while it ran."""


@dataclass
class ServerLink:
    """What one server shares with the jobs it runs: a stop signal and their threads."""

    stopping: threading.Event = field(default_factory=threading.Event)
    threads: Set[threading.Thread] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def running(self) -> int:
        """How many jobs are running now."""
        with self.lock:
            return sum(thread.is_alive() for thread in self.threads)

    def join(self, timeout: float) -> None:
        """Ask running jobs to stop and wait a bounded time for them."""
        self.stopping.set()
        with self.lock:
            threads = list(self.threads)
        for thread in threads:
            thread.join(timeout)


_LINKS: Dict[str, ServerLink] = {}
_LINKS_GUARD = threading.Lock()


def link_for(settings_path: str) -> ServerLink:
    """The link of the server whose settings file is at settings_path."""
    with _LINKS_GUARD:
        return _LINKS.setdefault(settings_path, ServerLink())


def forget_link(settings_path: str) -> None:
    """Drop a stopped server's link."""
    with _LINKS_GUARD:
        _LINKS.pop(settings_path, None)


def checked_inputs(data: Dict[str, Any]) -> Dict[str, Any]:
    """The inputs checked by the WPS emulator's rules; a ProcessorExecuteError if refused."""
    texts = {key: str(value) for key, value in data.items() if value is not None}
    try:
        return full_maja_params(ExecuteRequest(PROCESS_ID, texts))
    except WpsError as error:
        raise ProcessorExecuteError(error.text) from None


def now_text() -> str:
    """The current time as pygeoapi writes it in its job records."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FullMajaProcessor(BaseProcessor):
    """FULL_MAJA: a MAJA time series of one tile, made of real MAJA-named zips."""

    def __init__(self, processor_def: Dict[str, Any]) -> None:
        """Keep where this server's settings file is."""
        super().__init__(processor_def, PROCESS_METADATA)
        self.settings_path = str(processor_def["settings"])
        self.job_id = ""

    def set_job_id(self, job_id: str) -> None:
        """Remember the job id pygeoapi gave this run."""
        self.job_id = job_id

    def execute(self, data: Dict[str, Any], outputs: Optional[Dict[str, Any]] = None
                ) -> Tuple[str, Any]:
        """Check the inputs, run with progress, write the products, give the report."""
        params = checked_inputs(data)
        settings = {**json.loads(Path(self.settings_path).read_text()),
                    "settings_path": self.settings_path}
        link = link_for(self.settings_path)
        with link.lock:
            link.threads.add(threading.current_thread())
        try:
            run = Run(self.job_id, settings, link)
            run.follow()
            report = run.deliver(params)
        finally:
            with link.lock:
                link.threads.discard(threading.current_thread())
        return "application/json", report


class Run:
    """One job's life after its inputs were checked."""

    def __init__(self, job_id: str, settings: Dict[str, Any], link: ServerLink) -> None:
        """A run of job_id under settings, stopped early by link."""
        self.job_id = job_id or "sync"
        self.settings = settings
        self.link = link
        self.manager = TinyDBManager({"name": "TinyDB", "connection": settings["db"],
                                      "output_dir": settings["output_dir"]})

    def follow(self) -> None:
        """Wait queued, then run in steps with progress; fail half way if told to.

        A hold in the settings keeps the job queued, or running at its first step,
        for as long as the settings file says so (read again while waiting).
        """
        self._wait(float(self.settings["queue_seconds"]))
        self._wait_while_held("queued")
        steps = int(self.settings["progress_steps"])
        for step in range(steps):
            progress = 10 + 80 * step // steps
            self._update({"status": "running", "progress": progress,
                          "message": f"MAJA processing, step {step + 1} of {steps}"})
            if step == 0:
                self._wait_while_held("running")
            if self.settings["fail"] and step >= steps // 2:
                raise ProcessorExecuteError(str(self.settings["fail"]))
            self._wait(float(self.settings["run_seconds"]) / steps)
        self._update({"status": "running", "progress": 90, "message": "Publishing products"})

    def _wait(self, seconds: float) -> None:
        """Sleep in short slices, ending with JobDismissed once the job is gone or stopped."""
        deadline = time.monotonic() + seconds
        while True:
            if self.job_id != "sync" and not self._exists():
                raise JobDismissed(f"job {self.job_id} was dismissed")
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self.link.stopping.wait(min(left, CHECK_SECONDS)):
                raise JobDismissed("the server is stopping")

    def _wait_while_held(self, phase: str) -> None:
        """Stay in `phase` while the server's settings hold jobs there."""
        while self._held_in() == phase:
            self._wait(CHECK_SECONDS)

    def _held_in(self) -> Optional[str]:
        """The phase the server's settings hold jobs in now, if any."""
        try:
            hold = json.loads(Path(self.settings["settings_path"]).read_text()).get("hold")
        except (OSError, ValueError):
            return None  # the server is gone: hold nothing
        return hold if isinstance(hold, str) else None

    def _exists(self) -> bool:
        """Whether the job is still in the job store (DELETE removes it)."""
        try:
            self.manager.get_job(self.job_id)
        except JobNotFoundError:
            return False
        return True

    def _update(self, fields: Dict[str, Any]) -> None:
        """Update the job record, if it is an asynchronous job."""
        if self.job_id != "sync":
            self.manager.update_job(self.job_id, {**fields, "updated": now_text()})

    def deliver(self, params: Dict[str, Any]) -> Any:
        """Write the products, the log and the report; the results in the configured form."""
        plan = self._plan(params)
        folder = Path(self.settings["products_dir"]) / self.job_id
        folder.mkdir(parents=True, exist_ok=True)
        for name in plan.results:
            if not is_cloudy(name):
                write_product_zip(folder / name, name, int(self.settings["product_size"]),
                                  orbit=params.get("orbit"))
        log_name = f"joblog-{self.job_id}.log"
        (folder / log_name).write_text(self._log_text(params, plan))
        report = self._report(params, plan, log_name)
        (folder / REPORT_FILE).write_text(json.dumps(report, indent=2))
        return shaped(report, str(self.settings["report_form"]), self._url(REPORT_FILE))

    def _plan(self, params: Dict[str, Any]) -> ProductPlan:
        """The products of the period, as the WPS emulator plans them."""
        passes = acquisitions(params["tile"], params["orbit"], date.fromisoformat(params["start"]),
                              date.fromisoformat(params["end"]),
                              int(self.settings["acquisition_step_days"]))
        return plan_products(passes, int(self.settings["cloudy_every"]),
                             int(self.settings["unprocessed_every"]))

    def _url(self, name: str) -> str:
        """The URL of a file of this job on the product server."""
        return f"{self.settings['products_url']}/{self.job_id}/{name}"

    def _report(self, params: Dict[str, Any], plan: ProductPlan, log_name: str) -> Dict[str, Any]:
        """The PEPS-like report, wrapped in USER_INFO if configured."""
        report = {"job_status": "FINISHED", "process": "100%",
                  "results": [self._url(name) for name in plan.results],
                  "unprocessed": len(plan.missing), "missing": list(plan.missing),
                  "logs": [self._url(log_name)], "message": "",
                  "tileid": params["tile"], "startDate": params["start"],
                  "completionDate": params["end"]}
        return {"USER_INFO": report} if self.settings["user_info"] else report

    def _log_text(self, params: Dict[str, Any], plan: ProductPlan) -> str:
        """A few plain-text lines of processing log."""
        lines = [f"{now_text()} INFO job {self.job_id}: FULL_MAJA tile {params['tile']} "
                 f"from {params['start']} to {params['end']}"]
        lines += [f"{now_text()} INFO product {name}" for name in plan.results]
        lines += [f"{now_text()} WARNING not processed: {name}" for name in plan.missing]
        return "\n".join(lines) + "\n"


def shaped(report: Dict[str, Any], form: str, href: str) -> Any:
    """The results document holding the report in one of the four forms."""
    if form == "value":
        return {"report": {"value": report}}
    if form == "href":
        return {"report": {"href": href, "type": "application/json"}}
    if form == "id":
        return {"id": "report", "value": report}
    return {"report": report}
