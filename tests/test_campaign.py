"""Campaign scale (issue 14): jobs checked side by side, finished jobs remembered, linear work."""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from conftest import product_requests

import full_maja.download.verified as verified_module
from emulators import Fault
from emulators.acquisitions import many_products
from full_maja.download.transfer import ProductTransfer
from full_maja.download.verified import RECORD_NAME

TILES = ["36TWQ", "36TXQ", "31TCJ", "31TCK"]


def submit(cli, emulator, auth_file, *tiles):
    result = cli("process", "-a", auth_file, "-t", *tiles, "-d", "2019-03-01",
                 "-f", "2019-05-01", "--url", emulator.url, "-l", "job.log")
    assert result.returncode == 0, result.stderr
    return [job["job_id"] for job in json.loads(Path("job.log").read_text())["jobs"]]


def download(cli, auth_file, *extra):
    return cli("download", "-a", auth_file, "-l", "job.log", "-w", "out", *extra)


def zips() -> list[str]:
    return sorted(path.name for path in Path("out").glob("*.zip"))


def test_jobs_are_checked_side_by_side_and_reported_in_log_order(cli, make_emulator,
                                                                  auth_file):
    emulator = make_emulator(registration_polls=0, timeline=["STALLED"])
    ids = submit(cli, emulator, auth_file, *TILES)
    together = threading.Barrier(len(TILES), timeout=60)  # broken if checked one by one

    def all_at_once(job, xml):
        together.wait()
        return xml

    emulator.config.status_override = all_at_once
    emulator.clear_requests()
    result = download(cli, auth_file)
    assert result.returncode == 75, result.stderr
    assert emulator.max_concurrency() >= len(TILES) and not together.broken
    said = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("Job ")]
    assert said == ids


def test_a_finished_complete_job_is_not_asked_again_until_refresh(cli, finished, auth_file):
    emulator = finished()
    submit(cli, emulator, auth_file, "36TWQ", "36TXQ")
    assert download(cli, auth_file).returncode == 0
    on_disk = {name: Path("out", name).stat().st_mtime_ns for name in zips()}
    emulator.clear_requests()
    again = download(cli, auth_file)
    assert again.returncode == 0, again.stderr
    assert "The series is complete" in again.stdout
    status = download(cli, auth_file, "--status", "--json")
    assert status.returncode == 0 and json.loads(status.stdout)["complete"] is True
    assert emulator.requests == []
    assert {name: Path("out", name).stat().st_mtime_ns for name in zips()} == on_disk
    refreshed = download(cli, auth_file, "--refresh")
    assert refreshed.returncode == 0, refreshed.stderr
    assert emulator.requests and not product_requests(emulator)


def test_a_product_deleted_after_the_job_finished_brings_the_check_back(cli, finished,
                                                                      auth_file):
    emulator = finished()
    submit(cli, emulator, auth_file, "36TWQ")
    assert download(cli, auth_file).returncode == 0
    lost = zips()[0]
    Path("out", lost).unlink()
    emulator.clear_requests()
    result = download(cli, auth_file)
    assert result.returncode == 0, result.stderr
    assert any(record.path.endswith(".json") for record in emulator.requests)
    assert [record.path.rsplit("/", 1)[1] for record in product_requests(emulator)] == [lost]
    emulator.clear_requests()
    assert download(cli, auth_file).returncode == 0 and emulator.requests == []


def test_the_remembered_state_survives_a_crash_while_it_is_written(cli, make_emulator,
                                                                  auth_file, monkeypatch):
    emulator = make_emulator(registration_polls=0, timeline=["STALLED"],
                             product_size=16 * 1024)
    submit(cli, emulator, auth_file, "36TWQ")
    assert download(cli, auth_file).returncode == 75
    before = Path("job.log.state.json").read_bytes()
    assert json.loads(before)["jobs"]
    emulator.set_job_status("FINISHED")
    real_replace = os.replace

    def crash(source, target, *args, **kwargs):
        if str(target).endswith(".state.json"):
            raise OSError(5, "Input/output error")
        return real_replace(source, target, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", crash)
        crashed = download(cli, auth_file)
    assert crashed.returncode == 1 and "Traceback" not in crashed.stderr
    assert "state.json" in crashed.stderr
    assert Path("job.log.state.json").read_bytes() == before
    assert not [path for path in Path().iterdir() if path.name.endswith(".tmp")]
    emulator.clear_requests()
    assert download(cli, auth_file).returncode == 0 and emulator.requests
    emulator.clear_requests()
    assert download(cli, auth_file).returncode == 0 and emulator.requests == []


def test_one_failing_check_leaves_the_others_results_intact(cli, finished, auth_file):
    emulator = finished()
    ids = submit(cli, emulator, auth_file, *TILES)
    bad = ids[1]
    together = threading.Barrier(len(TILES), timeout=60)  # broken if checked one by one

    def one_broken(job, xml):
        together.wait()
        return "<not-xml" if job.id == bad else xml

    emulator.config.status_override = one_broken
    emulator.clear_requests()
    result = download(cli, auth_file)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert emulator.max_concurrency() > 1 and not together.broken
    assert bad in result.stderr and result.stderr.count(": error: ") == 1
    remembered = json.loads(Path("job.log.state.json").read_text())["jobs"]
    assert sorted(job for job, entry in remembered.items() if "final" in entry) == \
        sorted(job for job in ids if job != bad)
    assert zips()


def test_the_verified_record_is_written_in_batches_and_stays_right_when_interrupted(
        cli, finished, auth_file, monkeypatch):
    emulator = finished(products=many_products("36TWQ", 50))
    submit(cli, emulator, auth_file, "36TWQ")
    writes = []
    real_write = verified_module.atomic_write

    def counted(path, data, **options):
        writes.append(path)
        return real_write(path, data, **options)

    real_run, runs = ProductTransfer.run, []

    def interrupted(self):
        runs.append(self.name)
        if len(runs) == 31:
            raise KeyboardInterrupt
        return real_run(self)

    monkeypatch.setattr(verified_module, "atomic_write", counted)
    with monkeypatch.context() as patch:
        patch.setattr(ProductTransfer, "run", interrupted)
        assert download(cli, auth_file, "-j", "1").returncode == 130
    assert len(zips()) == 30 and 1 <= len(writes) <= 2
    record = json.loads(Path("out", RECORD_NAME).read_text())["products"]
    assert sorted(record) == zips()
    for name, entry in record.items():
        stat = Path("out", name).stat()
        assert (entry["size"], entry["mtime_ns"]) == (stat.st_size, stat.st_mtime_ns)
    writes.clear()
    emulator.clear_requests()
    assert download(cli, auth_file, "-j", "4").returncode == 0
    assert len(product_requests(emulator)) == 20 and len(zips()) == 50
    # the batch of products, the facts read once from them (provenance), and the
    # catalogue's (checksums): one save each
    assert 1 <= len(writes) <= 3
    assert sorted(json.loads(Path("out", RECORD_NAME).read_text())["products"]) == zips()


def test_a_running_job_goes_straight_to_its_remembered_report(cli, make_emulator, auth_file):
    emulator = make_emulator(registration_polls=0, timeline=["STALLED"])
    submit(cli, emulator, auth_file, "36TWQ")
    assert download(cli, auth_file).returncode == 75
    emulator.clear_requests()
    again = download(cli, auth_file)
    assert again.returncode == 75, again.stderr
    assert len(emulator.requests) == 2
    assert not [record for record in emulator.requests if record.path.endswith(".xml")]


def test_a_remembered_report_that_fails_falls_back_to_the_status_document(cli, make_emulator,
                                                                        auth_file):
    emulator = make_emulator(registration_polls=0, timeline=["STALLED"])
    submit(cli, emulator, auth_file, "36TWQ")
    assert download(cli, auth_file).returncode == 75
    emulator.add_fault("report", Fault("status", 404))
    emulator.clear_requests()
    again = download(cli, auth_file)
    assert again.returncode == 75, again.stderr
    assert "error" not in again.stderr
    assert [record.path.endswith(".xml") for record in emulator.requests].count(True) == 1


def test_a_remembered_hint_that_is_not_a_url_falls_back_to_the_status_document(
        cli, make_emulator, auth_file):
    emulator = make_emulator(registration_polls=0, timeline=["STALLED"])
    submit(cli, emulator, auth_file, "36TWQ")
    assert download(cli, auth_file).returncode == 75
    memory = Path("job.log.state.json")
    document = json.loads(memory.read_text())
    for entry in document["jobs"].values():
        entry["hint"] = "http://[not a url"
    memory.write_text(json.dumps(document))
    emulator.clear_requests()
    result = download(cli, auth_file)
    assert result.returncode == 75, result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    assert any("pywps-" in record.path for record in emulator.requests)
