"""The job memory (`LOG.state.json`) keeps product references and still reads older files."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from full_maja.jobmemory import JobMemory, memory_path
from full_maja.jobrecord import JobRecord
from full_maja.products import ProductRef
from full_maja.service import JobState
from full_maja.service.jobreport import JobReport
from full_maja.states import JobPhase

JOB = JobRecord("job-1", "https://h/status/1", tile="31TCJ", start=date(2023, 1, 1),
                end=date(2023, 2, 1))
PLAIN = "https://h/p/SENTINEL2A_20230106-105907-758_L2A_T31TCJ_C_V2-2.zip"
RICH = ProductRef("https://g/api/download/URN:x/files/0123456789abcdef0123456789abcdef",
                  name="SENTINEL2A_20230111-105907-758_L2A_T31TCJ_C_V4-0.zip", size=12,
                  md5="0123456789abcdef0123456789abcdef", online=True,
                  mtd_url="https://g/mtd", skipped="")


def finished(*refs: ProductRef, may_grow: bool = False) -> JobState:
    return JobState(JOB, JobPhase.FINISHED, "FOUND", report=JobReport("FOUND",
                                                                      results=list(refs)),
                    may_grow=may_grow)


def test_references_survive_the_memory_and_plain_urls_stay_plain(tmp_path: Path):
    log = tmp_path / "a.log"
    memory = JobMemory.load(log)
    memory.learn(finished(ProductRef(PLAIN), RICH), complete=True)
    memory.save()
    stored = json.loads(memory_path(log).read_text())
    results = stored["jobs"]["job-1"]["final"]["report"]["results"]
    assert results[0] == PLAIN and results[1]["md5"] == RICH.md5
    state = JobMemory.load(log).final_state(JOB)
    assert state is not None and state.report is not None
    assert state.report.results == [ProductRef(PLAIN), RICH]


def test_a_memory_written_before_references_is_read_as_it_was(tmp_path: Path):
    log = tmp_path / "a.log"
    memory_path(log).write_text(json.dumps({
        "format": "full-maja job memory", "version": 1,
        "jobs": {"job-1": {"status_url": JOB.status_url, "final": {
            "phase": "finished", "server_state": "FINISHED", "progress": "100%",
            "message": "", "report": {"job_status": "FINISHED", "results": [PLAIN],
                                      "unprocessed": 2}}}}}))
    state = JobMemory.load(log).final_state(JOB)
    assert state is not None and state.report is not None
    assert state.report.results == [ProductRef(PLAIN)] and state.report.unprocessed == 2


def test_a_result_that_is_no_reference_makes_the_run_ask_again(tmp_path: Path):
    log = tmp_path / "a.log"
    memory_path(log).write_text(json.dumps({
        "format": "full-maja job memory", "version": 1,
        "jobs": {"job-1": {"status_url": JOB.status_url, "final": {
            "phase": "finished", "server_state": "FOUND", "progress": "100%", "message": "",
            "report": {"job_status": "FOUND", "results": [{"name": "no url"}]}}}}}))
    assert JobMemory.load(log).final_state(JOB) is None


def test_a_search_whose_period_may_still_grow_is_never_remembered_as_final(tmp_path: Path):
    log = tmp_path / "a.log"
    memory = JobMemory.load(log)
    memory.learn(finished(RICH, may_grow=True), complete=True)
    memory.save()
    assert JobMemory.load(log).final_state(JOB) is None
