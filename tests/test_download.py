"""Downloads that survive faults: resume, verification, retries, stalls, lock, re-runs."""
from __future__ import annotations

import errno
import fcntl
import json
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
import requests
from conftest import (
    PASSWORD,
    SCRIPTS,
    USER,
    assert_one_line_error,
    file_size,
    interruptible,
    product_requests,
    submit,
    wait_until,
)

from emulators import Fault
from full_maja.atomic import open_own
from full_maja.client import Client
from full_maja.credentials import Credentials
from full_maja.lock import hold_lock

FIRST = "SENTINEL2A_20190301-083751-427_L2A_T36TWQ_C_V2-2.zip"
SIZE = 256 * 1024
HELD = 500_000  # the server holds a product's body after this many bytes
ON_DISK = HELD - 64 * 1024  # what must be on disk by then (the writer may buffer the rest)
DRIP = 256 * 1024  # bytes a second once released


@pytest.fixture
def series(run, make_emulator, auth_file):
    """A finished two-month job, submitted; returns the emulator."""
    emulator = make_emulator(registration_polls=0, timeline=["FINISHED"], product_size=SIZE)
    submit(run, emulator, auth_file)
    return emulator


def download(run, auth_file, *extra):
    return run("download", "-a", auth_file, "-l", "job.log", "-w", "out", *extra)


def product_url(emulator, name=FIRST) -> str:
    job_id = next(iter(emulator.jobs))
    return f"{emulator.base_url}/cgi-bin/mapcache_results/maja/{job_id}/{name}"


def real_bytes(emulator, name=FIRST) -> bytes:
    """The product's bytes as the server serves them (the request is then forgotten)."""
    content = requests.get(product_url(emulator, name), auth=(USER, PASSWORD), timeout=5).content
    emulator.clear_requests()
    return content


def requests_for(emulator, name=FIRST) -> list:
    return [r for r in product_requests(emulator) if r.path.endswith(name)]


def test_a_partial_file_is_resumed_with_a_range_request(run, series, auth_file):
    content = real_bytes(series)
    Path("out").mkdir()
    Path("out", FIRST + ".part").write_bytes(content[:100_000])
    result = download(run, auth_file)
    assert result.returncode == 0, result.stderr
    assert Path("out", FIRST).read_bytes() == content
    [record] = requests_for(series)
    assert record.range == "bytes=100000-"
    assert record.bytes_sent == len(content) - 100_000
    assert not Path("out", FIRST + ".part").exists()


def test_a_damaged_partial_file_is_fetched_again_from_the_start(run, series, auth_file):
    content = real_bytes(series)
    damaged = bytearray(content[:100_000])
    damaged[300] ^= 0xFF
    Path("out").mkdir()
    Path("out", FIRST + ".part").write_bytes(bytes(damaged))
    result = download(run, auth_file)
    assert result.returncode == 0, result.stderr
    assert "damaged; starting over" in result.stderr
    assert Path("out", FIRST).read_bytes() == content
    assert [r.range for r in requests_for(series)] == ["bytes=100000-", None]


def test_a_resume_answered_from_another_byte_starts_the_product_over(run, series, auth_file):
    content = real_bytes(series)
    Path("out").mkdir()
    Path("out", FIRST + ".part").write_bytes(content[:100_000])
    series.add_fault(FIRST, Fault("wrong-range", 99_000))  # 206, but from byte 99000
    result = download(run, auth_file)
    assert result.returncode == 0, result.stderr
    assert f"{FIRST}: the server's Content-Range does not match; starting over" in result.stderr
    assert "corrupt" not in result.stderr and "damaged" not in result.stderr
    assert Path("out", FIRST).read_bytes() == content
    assert [r.range for r in requests_for(series)] == ["bytes=100000-", None]


def test_a_server_ignoring_range_makes_the_product_start_over(run, make_emulator, auth_file):
    emulator = make_emulator(registration_polls=0, timeline=["FINISHED"], product_size=SIZE,
                             range_support=False)
    submit(run, emulator, auth_file)
    content = real_bytes(emulator)
    Path("out").mkdir()
    Path("out", FIRST + ".part").write_bytes(content[:100_000])
    result = download(run, auth_file)
    assert result.returncode == 0, result.stderr
    assert Path("out", FIRST).read_bytes() == content


def test_a_truncated_body_is_resumed_in_the_same_run(run, series, auth_file):
    content = real_bytes(series)
    series.add_fault(FIRST, Fault("truncate", 50_000))
    result = download(run, auth_file)
    assert result.returncode == 0, result.stderr
    assert Path("out", FIRST).read_bytes() == content
    ranges = [r.range for r in requests_for(series)]
    assert ranges == [None, "bytes=50000-"]


@pytest.mark.parametrize("kind, words", [("corrupt", "corrupt"), ("html", "HTML"),
                                         ("json", "JSON")])
def test_a_bad_body_is_discarded_and_fetched_once_more(run, series, auth_file, kind, words):
    content = real_bytes(series)
    series.add_fault(FIRST, Fault(kind))
    result = download(run, auth_file)
    assert result.returncode == 0, result.stderr
    assert FIRST in result.stderr and words in result.stderr
    assert Path("out", FIRST).read_bytes() == content
    assert len(requests_for(series)) == 2


@pytest.mark.parametrize("kind", ["corrupt", "html"])
def test_a_body_bad_twice_fails_that_product_only(run, series, auth_file, kind):
    series.add_fault(FIRST, Fault(kind))
    series.add_fault(FIRST, Fault(kind))
    result = download(run, auth_file)
    assert result.returncode == 1
    assert f"{FIRST}: " in result.stderr and "giving up" in result.stderr
    assert not Path("out", FIRST).exists() and not Path("out", FIRST + ".part").exists()
    assert len(list(Path("out").glob("*.zip"))) == 8


def test_a_503_is_retried_then_succeeds(run, series, auth_file):
    series.add_fault(FIRST, Fault("status", 503))
    result = download(run, auth_file)
    assert result.returncode == 0, result.stderr
    assert [r.range for r in requests_for(series)] == [None, None]


@pytest.mark.parametrize("code", [401, 404])
def test_401_and_404_on_a_product_are_not_retried(run, series, auth_file, code):
    series.add_fault(FIRST, Fault("status", code))
    result = download(run, auth_file)
    assert result.returncode == (3 if code == 401 else 1)
    assert len(requests_for(series)) == 1


def test_a_stalled_transfer_is_abandoned_and_resumed(run, series, auth_file):
    content = real_bytes(series)
    series.add_fault(FIRST, Fault("stall", 70_000, stall_seconds=3600))  # run() times out first
    result = download(run, auth_file, "--timeout", "1")
    assert result.returncode == 0, result.stderr
    assert "no data received for too long" in result.stderr
    assert Path("out", FIRST).read_bytes() == content
    assert "bytes=70000-" in [r.range for r in requests_for(series)]  # resumed where it stalled


def test_a_second_run_on_the_same_log_exits_75_at_once(run, series, auth_file):
    with hold_lock("job.log"):
        result = download(run, auth_file)
    assert_one_line_error(result, 75, "another full-maja run", "job.log")
    assert series.requests and product_requests(series) == []
    assert download(run, auth_file).returncode == 0


def test_a_verified_product_deleted_or_changed_is_fetched_again(run, series, auth_file):
    assert download(run, auth_file).returncode == 0
    other = "SENTINEL2B_20190306-083752-638_L2A_T36TWQ_C_V2-2.zip"
    good = Path("out", other).read_bytes()
    Path("out", FIRST).unlink()
    Path("out", other).write_bytes(good[:1000] + b"x" * (len(good) - 1000))
    series.clear_requests()
    result = download(run, auth_file)
    assert result.returncode == 0, result.stderr
    assert sorted(r.path.rsplit("/", 1)[1] for r in product_requests(series)) == \
        sorted([FIRST, other])
    assert Path("out", other).read_bytes() == good


def test_a_product_changed_on_disk_at_the_same_size_is_not_counted_as_on_disk(run, series,
                                                                             auth_file):
    assert download(run, auth_file).returncode == 0
    path = Path("out", FIRST)
    good, stat = path.read_bytes(), path.stat()
    path.write_bytes(good[:1000] + bytes(len(good) - 1000))  # same size, other bytes
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    series.clear_requests()
    status = download(run, auth_file, "--status", "--json")
    assert status.returncode == 75, status.stderr
    [job] = json.loads(status.stdout)["jobs"]
    outcomes = {product["name"]: product["outcome"] for product in job["products"]}
    assert outcomes.pop(FIRST) == "ready" and set(outcomes.values()) == {"already present",
                                                                         "cloudy"}
    assert product_requests(series) == [] and path.stat().st_size == len(good)


def test_a_verified_product_is_trusted_without_reading_it(run, series, auth_file):
    assert download(run, auth_file).returncode == 0
    record = json.loads(Path("out", ".full-maja-verified.json").read_text())
    assert FIRST in record["products"]
    path = Path("out", FIRST)
    stat = path.stat()
    with open(path, "r+b") as handle:
        handle.seek(SIZE // 2)
        handle.write(b"\0")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    series.clear_requests()
    assert download(run, auth_file).returncode == 0
    assert product_requests(series) == []


def test_ctrl_c_keeps_the_partial_file_and_the_next_run_resumes(run, make_emulator, auth_file):
    emulator = make_emulator(registration_polls=0, timeline=["FINISHED"],
                             product_size=4 * 1024 * 1024)
    submit(run, emulator, auth_file)
    hold = emulator.hold(FIRST, after=HELD)
    process = subprocess.Popen(interruptible("download", "-a", auth_file, "-l", "job.log",
                                             "-w", "out", "-j", "1"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    part = Path("out", FIRST + ".part")
    wait_until(lambda: file_size(part) >= ON_DISK, "the part file holds the bytes sent")
    process.send_signal(signal.SIGINT)
    hold.release(rate=DRIP)  # the rest would take a dozen seconds: the run stops long before
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    kept = part.stat().st_size
    assert ON_DISK <= kept < 4 * 1024 * 1024 and not Path("out", FIRST).exists()
    emulator.clear_requests()
    result = download(run, auth_file)
    assert result.returncode == 0, result.stderr
    assert requests_for(emulator)[0].range == f"bytes={kept}-"


@pytest.mark.parametrize("parallel", ["1", "2"])
@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_ctrl_c_stops_a_download_whose_server_went_silent(run, make_emulator, auth_file,
                                                          sent, parallel):
    emulator = make_emulator(registration_polls=0, timeline=["FINISHED"],
                             product_size=1024 * 1024)
    submit(run, emulator, auth_file)
    hold = emulator.hold("*", after=HELD)  # every body goes silent there until the signal
    process = subprocess.Popen(interruptible("download", "-a", auth_file, "-l", "job.log",
                                             "-w", "out", "-j", parallel, "--timeout", "3600"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: [file_size(part) >= ON_DISK for part in Path("out").glob("*.part")]
               == [True] * int(parallel), "each connection's part file holds the bytes sent")
    process.send_signal(sent)
    try:  # silent for 3600 s: only closing its connections stops the run before that
        out, err = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"-j {parallel}: the run still waited for its silent server 120 s after "
                    f"{sent.name}")
    hold.release()
    stopped = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    assert_one_line_error(stopped, 130, "interrupted; partial downloads are kept")
    assert "resuming" not in err
    kept = {path.name[:-len(".part")]: path.stat().st_size for path in Path("out").glob("*.part")}
    assert FIRST in kept and all(ON_DISK <= size <= HELD for size in kept.values()), kept
    assert not list(Path("out").glob("*.zip"))
    emulator.clear_requests()
    result = download(run, auth_file)
    assert result.returncode == 0, result.stderr
    fetched = {name: requests_for(emulator, name) for name in kept}
    for name, size in kept.items():
        records = fetched[name]
        assert records and all(record.range and int(record.range[6:].split("-")[0]) >= size
                               for record in records), (name, size, records)
        content = real_bytes(emulator, name)
        assert sum(record.bytes_sent for record in records) == len(content) - size
        assert Path("out", name).read_bytes() == content


def test_parallel_downloads_fetch_everything(run, series, auth_file):
    result = download(run, auth_file, "-j", "4")
    assert result.returncode == 0, result.stderr
    assert len(list(Path("out").glob("*.zip"))) == 9


def test_progress_bars_only_on_a_terminal(series, auth_file, tmp_path):
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen([sys.executable, str(SCRIPTS["download"]), "-a", str(auth_file),
                                "-l", "job.log", "-w", "out"], stdout=slave, stderr=slave,
                               cwd=tmp_path)
    os.close(slave)
    output = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=30) == 0
    text = output.decode(errors="replace")
    assert "series" in text and "B/s" in text and "\r" in text


def test_no_bars_and_quiet_output_without_a_terminal(run, series, auth_file):
    result = download(run, auth_file, "-q")
    assert result.returncode == 0
    assert "\r" not in result.stdout and "B/s" not in result.stdout
    assert result.stdout.count("\n") == 1 and result.stdout.startswith("Summary:")


def test_wait_follows_the_jobs_until_they_end_then_downloads(run, make_emulator, auth_file):
    emulator = make_emulator(registration_polls=1, timeline=["PENDING", "STALLED", "FINISHED"])
    submit(run, emulator, auth_file)
    result = download(run, auth_file, "--wait", "--poll-interval", "0.1")
    assert result.returncode == 0, result.stderr
    assert "queued" in result.stdout and "processing" in result.stdout
    assert len(list(Path("out").glob("*.zip"))) == 9


def test_a_short_poll_interval_is_refused_for_a_remote_server(run, auth_file):
    Path("job.log").write_text(json.dumps({"format": "full-maja job log", "version": 1, "jobs": [
        {"job_id": "1", "status_url": "https://peps.cnes.fr/wps/outputs/pywps-1.xml",
         "endpoint": "https://peps.cnes.fr/resto/wps"}]}))
    result = download(run, auth_file, "--wait", "--poll-interval", "5")
    assert_one_line_error(result, 2, "--poll-interval", "60")


def test_a_full_disk_removes_the_partial_file_and_keeps_the_log(series, auth_file, tmp_path,
                                                                monkeypatch):
    log_before = Path("job.log").read_bytes()
    real_open = open_own

    class FullDisk:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def write(self, chunk):
            self.handle.write(chunk[:10])
            raise OSError(errno.ENOSPC, "No space left on device")

    def fake_open(path, mode="rb"):
        handle = real_open(path, mode)
        return FullDisk(handle) if str(path).endswith(".part") else handle

    import full_maja.download.transfer as module
    monkeypatch.setattr(module, "open_own", fake_open)
    with Client(series.url, credentials=Credentials(USER, PASSWORD)) as client:
        report = client.download("job.log", "out", parallel=1)
    failed = report.failed_products
    assert failed and all("disk is full" in entry.message for entry in failed)
    assert list(Path("out").glob("*.part")) == [] and list(Path("out").glob("*.zip")) == []
    assert Path("job.log").read_bytes() == log_before
