"""The Python API, used directly: the README example, results as data, errors with context."""
from __future__ import annotations

import inspect
import re
import threading
from pathlib import Path

import pytest
from conftest import PASSWORD, ROOT, USER

import full_maja
from emulators import Fault
from full_maja import (
    AuthenticationError,
    Client,
    Credentials,
    JobLogError,
    ProductError,
    SeriesReport,
    ValidationError,
    validate_request,
)

FIRST = "SENTINEL2A_20190301-083751-427_L2A_T36TWQ_C_V2-2.zip"


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Use from Python", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_runs_as_it_is(tmp_path: Path, capsys):
    exec(compile(readme_example(), "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "submitted job" in printed and "complete: True" in printed
    assert "2019-03-16 cloudy" in printed and "2019-03-01 downloaded" in printed
    assert len(list((tmp_path / "L2A_36TWQ").glob("*.zip"))) == 9


def test_every_public_name_is_documented_and_typed():
    for name in full_maja.__all__:
        item = getattr(full_maja, name)
        if not callable(item):
            continue
        assert (item.__doc__ or "").strip(), name
        functions = [item] if inspect.isfunction(item) else [
            member for member_name, member in vars(item).items()
            if inspect.isfunction(member) and not member_name.startswith("_")]
        for function in functions:
            signature = inspect.signature(function)
            assert signature.return_annotation is not inspect.Signature.empty, function
            for parameter in signature.parameters.values():
                if parameter.name not in ("self", "cls"):
                    assert parameter.annotation is not inspect.Parameter.empty, \
                        (function, parameter.name)


@pytest.fixture
def client(make_emulator):
    emulator = make_emulator(registration_polls=0, timeline=["PENDING", "STALLED", "FINISHED"])
    with Client(emulator.url, credentials=Credentials(USER, PASSWORD)) as api:
        api.emulator = emulator
        yield api


def test_submit_check_and_download_as_data(client, capsys):
    [record] = client.submit(validate_request("36TWQ", None, "2019-03-01", "2019-05-01"),
                             "a.log")
    assert record.tile == "36TWQ" and record.job_id in client.emulator.jobs
    [state] = client.check("a.log")
    assert (state.phase, state.server_state) == ("processing", "STALLED")
    events = []
    lock = threading.Lock()

    def on_progress(event):
        with lock:
            events.append(event)

    report = client.download("a.log", "out", on_progress=on_progress)
    assert isinstance(report, SeriesReport) and report.complete
    outcomes = {entry.outcome for entry in report.jobs[0].entries}
    assert outcomes == {"downloaded", "cloudy", "missing"}
    finished = [e.name for e in events if e.kind == "finish" and e.outcome == "downloaded"]
    assert sorted(finished) == sorted(p.name for p in Path("out").glob("*.zip"))
    assert sum(e.step for e in events if e.kind == "advance") == \
        sum(p.stat().st_size for p in Path("out").glob("*.zip"))
    assert capsys.readouterr() == ("", "")


def test_status_reports_without_downloading(client):
    client.submit(validate_request("36TWQ", 64, "2019-03-01", "2019-05-01"), "a.log")
    client.check("a.log")
    report = client.status("a.log", "out")
    assert {entry.outcome for entry in report.jobs[0].entries} == {"ready", "cloudy", "missing"}
    assert not Path("out").exists()


def test_errors_carry_what_a_caller_needs(client, make_emulator):
    with pytest.raises(ValidationError, match="--tile"):
        validate_request("99ZZZ", None, "2019-03-01", "2019-05-01")
    with pytest.raises(JobLogError):
        client.check("missing.log")
    wrong = Client(client.emulator.url, credentials=Credentials(USER, "wrong"))
    with pytest.raises(AuthenticationError):
        wrong.submit(validate_request("36TWQ", 64, "2019-03-01", "2019-05-01"), "b.log")
    client.emulator.config.timeline = ["FINISHED"]
    client.submit(validate_request("36TWQ", 64, "2019-03-01", "2019-05-01"), "c.log")
    client.emulator.add_fault(FIRST, Fault("status", 404))
    report = client.download("c.log", "out")
    [failed] = report.failed_products
    assert failed.name == FIRST and "HTTP 404" in failed.message
    error = ProductError("x", product=FIRST, status=404)
    assert (error.product, error.status) == (FIRST, 404)


def test_cancel_stops_the_downloads_and_keeps_partial_files(make_emulator):
    emulator = make_emulator(registration_polls=0, timeline=["FINISHED"],
                             product_size=2 * 1024 * 1024)
    hold = emulator.hold("*", after=300_000)  # no product can be whole before the cancel
    cancel = threading.Event()

    def on_progress(event):
        if event.kind == "advance" and event.done > 200_000:
            cancel.set()
            hold.release()

    with Client(emulator.url, credentials=Credentials(USER, PASSWORD)) as api:
        api.submit(validate_request("36TWQ", 64, "2019-03-01", "2019-05-01"), "a.log")
        with pytest.raises(full_maja.Cancelled):
            api.download("a.log", "out", parallel=2, on_progress=on_progress, cancel=cancel)
    assert list(Path("out").glob("*.part")) and not list(Path("out").glob("*.zip"))


@pytest.mark.parametrize("fault", [Fault("status", 503), Fault("drop")])
def test_wait_outlives_a_check_that_fails(make_emulator, fault):
    emulator = make_emulator(registration_polls=0, timeline=["FINISHED"])
    naps = []
    with Client(emulator.url, credentials=Credentials(USER, PASSWORD), retries=0) as api:
        api.submit(validate_request("36TWQ", 64, "2019-03-01", "2019-05-01"), "a.log")
        emulator.add_fault("status", fault)
        states = api.wait("a.log", poll_interval=7, sleep=naps.append)
    assert naps == [7]
    assert [state.server_state for state in states] == ["FINISHED"]
