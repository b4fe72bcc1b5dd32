"""The PyWPS processes FULL_MAJA and PROCESSING_STATUS, and the "computing centre" behind them.

FULL_MAJA is asynchronous: PyWPS runs it in a child process (its default
`multiprocessing` mode) and writes its status documents. It checks the inputs,
"registers" the job for a while (ProcessStarted with a percentCompleted), then
succeeds with one output, `report`, a ComplexOutput always given by reference: PyWPS
stores the JSON report under its outputs folder and puts its URL in a wps:Reference.
From then on the job lives in the centre: a job record on disk whose state follows the
clock (PENDING, STALLED, FINISHED or ERROR). PROCESSING_STATUS (synchronous, input
`wps_id`) rewrites the stored report from that record, as PEPS refreshed its reports;
when the job is finished it first writes the product zips to the product server's
folder, once.
"""
from __future__ import annotations

import json
import re
import threading
import time
from datetime import date, datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any, Dict

from pywps import ComplexOutput, Format, LiteralInput, LiteralOutput, Process  # type: ignore[import-untyped]
from pywps.app.exceptions import ProcessError  # type: ignore[import-untyped]

from ..acquisitions import ProductPlan, acquisitions, is_cloudy, plan_products
from ..execute import ExecuteRequest, WpsError, full_maja_params
from ..products import write_product_zip

FULL_MAJA, PROCESSING_STATUS = "FULL_MAJA", "PROCESSING_STATUS"
REPORT_FILE = "report.json"
JSON = Format("application/json", extension=".json")
_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")
_DELIVERY = threading.Lock()
HOLD_POLL_SECONDS = 0.05


def load_settings(path: str) -> Dict[str, Any]:
    """The server's settings file: job timings, folders and the product server's URL."""
    settings: Dict[str, Any] = json.loads(Path(path).read_text())
    return settings


def write_json(path: Path, document: Any) -> None:
    """Write a JSON file whole (readers never see half of it)."""
    partial_path = path.with_name(path.name + ".part")
    partial_path.write_text(json.dumps(document, indent=2))
    partial_path.replace(path)


def full_maja_process(settings_path: str) -> Process:
    """The asynchronous FULL_MAJA process."""
    inputs = [LiteralInput("startDate", "First day, YYYY-MM-DD", data_type="string"),
              LiteralInput("completionDate", "Last day, YYYY-MM-DD", data_type="string"),
              LiteralInput("tileid", "MGRS tile without the leading T", data_type="string"),
              LiteralInput("relativeOrbitNumber", "Relative orbit, 1 to 143",
                           data_type="string", min_occurs=0)]
    outputs = [ComplexOutput("report", "The FULL_MAJA report (USER_INFO)",
                             supported_formats=[JSON], as_reference=True)]
    return Process(partial(register_job, settings_path), FULL_MAJA, "FULL_MAJA",
                   abstract="MAJA L2A processing of a Sentinel-2 tile over a period "
                            "(test server).", version="1.0.0", inputs=inputs, outputs=outputs,
                   store_supported=True, status_supported=True)


def processing_status_process(settings_path: str) -> Process:
    """The synchronous PROCESSING_STATUS process that refreshes a job's report."""
    return Process(partial(refresh_report, settings_path), PROCESSING_STATUS,
                   "PROCESSING_STATUS", abstract="Refresh the report of a FULL_MAJA job.",
                   version="1.0.0",
                   inputs=[LiteralInput("wps_id", "The job id", data_type="string")],
                   outputs=[LiteralOutput("job_status", "The job's status",
                                          data_type="string")],
                   store_supported=False, status_supported=False)


def register_job(settings_path: str, request: Any, response: Any) -> Any:
    """FULL_MAJA's handler: check, register for a while, hand the report over."""
    settings = load_settings(settings_path)
    texts = {name: str(values[0].data) for name, values in request.inputs.items() if values}
    try:
        params = full_maja_params(ExecuteRequest(FULL_MAJA, texts))
    except WpsError as error:
        raise ProcessError(error.text) from None
    steps = int(settings["register_steps"])
    for step in range(steps):
        response.update_status(f"Registering the job, step {step + 1} of {steps}",
                               10 + 80 * step // steps)
        time.sleep(float(settings["register_seconds"]) / steps)
    while _registration_held(settings_path):
        time.sleep(HOLD_POLL_SECONDS)
    if settings["register_fail"]:
        raise ProcessError(str(settings["register_fail"]))
    job_id = str(response.uuid)
    record = {"job_id": job_id, "registered": time.time(), "params": params}
    write_json(Path(settings["jobs_dir"]) / f"{job_id}.json", record)
    # PyWPS copies this file to {outputs}/{job_id}/report.json, the file refreshes rewrite.
    report_path = Path(settings["jobs_dir"]) / job_id / REPORT_FILE
    report_path.parent.mkdir(parents=True, exist_ok=True)
    write_json(report_path, Centre(settings).report(record))
    response.outputs["report"].file = str(report_path)
    return response


def _registration_held(settings_path: str) -> bool:
    """Whether the server's settings hold registrations now (False once the server is gone)."""
    try:
        return bool(load_settings(settings_path).get("hold_registration"))
    except (OSError, ValueError):
        return False


def refresh_report(settings_path: str, request: Any, response: Any) -> Any:
    """PROCESSING_STATUS's handler: bring the stored report of job `wps_id` up to date."""
    settings = load_settings(settings_path)
    job_id = str(request.inputs["wps_id"][0].data).strip()
    record_path = Path(settings["jobs_dir"]) / f"{job_id}.json"
    if not _JOB_ID.fullmatch(job_id) or not record_path.is_file():
        raise ProcessError(f"no FULL_MAJA job {job_id[:64]}")
    record = json.loads(record_path.read_text())
    report = Centre(settings).report(record)
    folder = Path(settings["outputs_dir"]) / job_id
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / REPORT_FILE, report)
    response.outputs["job_status"].data = report["USER_INFO"]["job_status"]
    return response


class Centre:
    """Where a registered job stands, by the clock; products written once it is finished."""

    def __init__(self, settings: Dict[str, Any]) -> None:
        """The centre under these settings."""
        self.settings = settings

    def report(self, record: Dict[str, Any]) -> Dict[str, Any]:
        """The JSON report PEPS published for the job, as it stands now."""
        queue, run = float(self.settings["queue_seconds"]), float(self.settings["run_seconds"])
        elapsed = time.time() - float(record["registered"])
        job_id, params = str(record["job_id"]), record["params"]
        info: Dict[str, Any] = {"job_status": "PENDING", "process": "0%", "results": [],
                                "unprocessed": 0, "missing": [], "logs": [], "message": "",
                                "tileid": params["tile"], "startDate": params["start"],
                                "completionDate": params["end"]}
        if self.settings["fail"] and elapsed >= queue + run / 2:
            log_name = self._write_log(job_id, params, None)
            info.update(job_status="ERROR", process="50%", message=str(self.settings["fail"]),
                        logs=[self._url(job_id, log_name)])
        elif queue <= elapsed < queue + run:
            # PEPS's figure was known to be optimistic: so is this one.
            share = (elapsed - queue) / run if run else 1.0
            info.update(job_status="STALLED", process=f"{min(99, int(20 + 90 * share))}%")
        elif elapsed >= queue + run:
            plan = self._deliver(job_id, params)
            log_name = self._write_log(job_id, params, plan)
            info.update(job_status="FINISHED", process="100%",
                        results=[self._url(job_id, name) for name in plan.results],
                        unprocessed=len(plan.missing), missing=list(plan.missing),
                        logs=[self._url(job_id, log_name)])
        return {"USER_INFO": info}

    def _plan(self, params: Dict[str, Any]) -> ProductPlan:
        passes = acquisitions(params["tile"], params["orbit"], date.fromisoformat(params["start"]),
                              date.fromisoformat(params["end"]),
                              int(self.settings["acquisition_step_days"]))
        return plan_products(passes, int(self.settings["cloudy_every"]),
                             int(self.settings["unprocessed_every"]))

    def _deliver(self, job_id: str, params: Dict[str, Any]) -> ProductPlan:
        """Write the job's product zips (NOVALD ones have none), once."""
        plan = self._plan(params)
        folder = Path(self.settings["products_dir"]) / job_id
        with _DELIVERY:
            folder.mkdir(parents=True, exist_ok=True)
            for name in plan.results:
                target = folder / name
                if is_cloudy(name) or target.exists():
                    continue
                part = folder / (name + ".part")
                write_product_zip(part, name, int(self.settings["product_size"]),
                                  orbit=params.get("orbit"))
                part.replace(target)
        return plan

    def _write_log(self, job_id: str, params: Dict[str, Any], plan: Any) -> str:
        """The plain-text job log beside the products; its file name."""
        folder = Path(self.settings["products_dir"]) / job_id
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines = [f"{stamp} INFO job {job_id}: FULL_MAJA tile {params['tile']} "
                 f"from {params['start']} to {params['end']}"]
        if plan is None:
            lines.append(f"{stamp} ERROR {self.settings['fail']}")
        else:
            lines += [f"{stamp} INFO product {name}" for name in plan.results]
            lines += [f"{stamp} WARNING not processed: {name}" for name in plan.missing]
        name = f"joblog-{job_id}.log"
        (folder / name).write_text("\n".join(lines) + "\n")
        return name

    def _url(self, job_id: str, name: str) -> str:
        return f"{self.settings['products_url']}/{job_id}/{name}"
