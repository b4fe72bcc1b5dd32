"""One product over several connections: tails split off, absorbed in order, resumed."""
from __future__ import annotations

import errno
import signal
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Optional

import pytest
import requests
from conftest import (
    PASSWORD,
    USER,
    file_size,
    interruptible,
    product_requests,
    submit,
    wait_until,
)

import full_maja.download.parts as parts
import full_maja.download.transfer as transfer
from emulators import Fault, Hold
from full_maja.client import Client
from full_maja.credentials import Credentials
from full_maja.download import DEFAULT_SPLIT_POLICY, SplitPolicy

NAME = "SENTINEL2A_20190301-083751-427_L2A_T36TWQ_C_V2-2.zip"
KIB, MIB = 1024, 1024 * 1024
# Split thresholds small enough for products of a few MiB (in-process runs only).
QUICK_SPLITS = SplitPolicy(min_bytes=256 * KIB, min_seconds=0.4, rate_window=0.15)
HELD = 1 * MIB  # where the server holds each answer of a product, until released


def start_series(run, make_emulator, auth_file, size: int, bandwidth: Optional[int]):
    """A finished job of one bandwidth-limited product; the emulator and the product's bytes."""
    emulator = make_emulator(registration_polls=0, timeline=["FINISHED"], products=[NAME],
                             product_size=size, bandwidth=bandwidth)
    submit(run, emulator, auth_file)
    job_id = next(iter(emulator.jobs))
    url = f"{emulator.base_url}/cgi-bin/mapcache_results/maja/{job_id}/{NAME}"
    emulator.config.bandwidth = None
    content = requests.get(url, auth=(USER, PASSWORD), timeout=10).content
    emulator.config.bandwidth = bandwidth
    emulator.clear_requests()
    return emulator, content


def ranges(emulator) -> list:
    return [record.range for record in product_requests(emulator)]


def range_start(header: str) -> int:
    return int(header.split("=")[1].split("-")[0])


def part_files() -> list[Path]:
    return sorted(Path("out").glob(NAME + "*.part"))


def leave_parts(head: bytes, tail_start: Optional[int] = None, tail: bytes = b"") -> None:
    """Part files as an interrupted run leaves them: the main part and one tail."""
    Path("out").mkdir()
    Path("out", NAME + ".part").write_bytes(head)
    if tail_start is not None:
        Path("out", f"{NAME}.{tail_start}.part").write_bytes(tail)


def download(run, auth_file, *extra):
    return run("download", "-a", auth_file, "-l", "job.log", "-w", "out", *extra)


def download_in_process(emulator, parallel: int, policy: SplitPolicy = DEFAULT_SPLIT_POLICY,
                        on_progress=None):
    with Client(emulator.url, credentials=Credentials(USER, PASSWORD)) as client:
        return client.download("job.log", "out", parallel=parallel, split_policy=policy,
                               on_progress=on_progress)


def release_once(hold: Hold, condition: Callable[[], object]) -> threading.Thread:
    """Release the hold, from a thread of its own, once the condition holds."""
    def release() -> None:
        try:
            wait_until(condition, "the condition that releases the hold")
        finally:
            hold.release()
    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    return thread


class ReadCounter:
    """The pieces the client read of each product answer (a tally, the reads unchanged)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answers: list[list[int]] = []
        real = transfer.body_chunks

        def counted(response):
            pieces: list[int] = []
            self.answers.append(pieces)
            for chunk in real(response):
                pieces.append(len(chunk))
                yield chunk

        monkeypatch.setattr(transfer, "body_chunks", counted)

    def all_but_last_piece(self) -> int:
        """Bytes read, each answer's last piece left out: what the client used for sure."""
        return sum(sum(pieces[:-1]) for pieces in self.answers)


def test_the_script_splits_a_slow_product_over_its_two_connections(run, make_emulator,
                                                                  auth_file):
    emulator, content = start_series(run, make_emulator, auth_file, 12 * MIB, None)
    hold = emulator.hold(NAME, after=HELD)  # slow: nothing more comes until a helper asks
    release_once(hold, lambda: len(product_requests(emulator)) == 2)
    result = download(run, auth_file)
    assert result.returncode == 0, result.stderr
    assert Path("out", NAME).read_bytes() == content
    first, *others = product_requests(emulator)
    assert first.range is None and len(others) == 1
    middle = range_start(others[0].range)
    assert 0 < middle < len(content) and others[0].range == f"bytes={middle}-{len(content) - 1}"
    assert others[0].bytes_sent == len(content) - middle
    assert part_files() == []


def test_four_connections_share_one_product_without_fetching_a_byte_twice(
        run, make_emulator, auth_file, monkeypatch):
    emulator, content = start_series(run, make_emulator, auth_file, 3 * MIB, None)
    hold = emulator.hold(NAME, after=64 * KIB)  # every answer waits there: splits pay off
    release_once(hold, lambda: hold.waiting == 4)  # the main part and three tails
    reads, written = ReadCounter(monkeypatch), []
    report = download_in_process(emulator, parallel=4, policy=QUICK_SPLITS,
                                 on_progress=lambda event: written.append(event.step))
    assert [entry.outcome for entry in report.jobs[0].entries] == ["downloaded"]
    assert Path("out", NAME).read_bytes() == content
    helpers = [header for header in ranges(emulator) if header]
    starts = [range_start(header) for header in helpers]
    assert len(starts) >= 3 and len(set(starts)) == len(starts)
    assert all(not header.endswith("-") for header in helpers)
    assert sum(written) == len(content)  # no byte written twice
    # A connection cut by a split reads at most one piece past its end, never more.
    assert reads.all_but_last_piece() <= len(content)
    assert part_files() == []


def test_parts_split_by_an_earlier_run_are_resumed_where_each_stopped(run, make_emulator,
                                                                      auth_file):
    emulator, content = start_series(run, make_emulator, auth_file, 1 * MIB, None)
    head, side, side_have = 200_000, 600_000, 150_000
    leave_parts(content[:head], side, content[side:side + side_have])
    result = download(run, auth_file, "-j", "1")
    assert result.returncode == 0, result.stderr
    assert Path("out", NAME).read_bytes() == content
    assert ranges(emulator) == [f"bytes={head}-{side - 1}", f"bytes={side + side_have}-"]
    sent = sum(record.bytes_sent for record in product_requests(emulator))
    assert sent == len(content) - head - side_have
    assert part_files() == []


def test_a_main_part_cut_while_absorbing_a_tail_is_clipped_and_finished(run, make_emulator,
                                                                       auth_file):
    emulator, content = start_series(run, make_emulator, auth_file, 1 * MIB, None)
    side, side_have, copied = 500_000, 300_000, 120_000
    leave_parts(content[:side + copied], side, content[side:side + side_have])
    result = download(run, auth_file)
    assert result.returncode == 0, result.stderr
    assert Path("out", NAME).read_bytes() == content
    assert ranges(emulator) == [f"bytes={side + side_have}-"]
    assert part_files() == []


def test_a_tail_part_that_does_not_belong_is_caught_and_the_product_fetched_again(
        run, make_emulator, auth_file):
    _, content = start_series(run, make_emulator, auth_file, 1 * MIB, None)
    leave_parts(content[:400_000], 400_000, b"\0" * 100_000)
    result = download(run, auth_file)
    assert result.returncode == 0, result.stderr
    assert NAME in result.stderr and "fetching it once more" in result.stderr
    assert Path("out", NAME).read_bytes() == content
    assert part_files() == []


def test_a_helper_whose_range_is_ignored_leaves_the_tail_to_the_main_connection(
        run, make_emulator, auth_file):
    emulator, content = start_series(run, make_emulator, auth_file, 2 * MIB, 1 * MIB)
    emulator.add_fault(NAME, Fault("none"))
    emulator.add_fault(NAME, Fault("no-range"))
    report = download_in_process(emulator, parallel=2, policy=QUICK_SPLITS)
    assert [entry.outcome for entry in report.jobs[0].entries] == ["downloaded"]
    assert Path("out", NAME).read_bytes() == content
    first, helper, rest = product_requests(emulator)
    assert first.range is None
    assert rest.range == f"bytes={range_start(helper.range)}-"
    assert part_files() == []


def test_ctrl_c_during_a_split_download_then_the_next_run_fetches_only_what_is_missing(
        run, make_emulator, auth_file):
    emulator, content = start_series(run, make_emulator, auth_file, 12 * MIB, None)
    hold = emulator.hold(NAME, after=HELD)  # the main part, then its tail, wait there
    command = interruptible("download", "-a", auth_file, "-l", "job.log", "-w", "out", "-q")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until(lambda: len(part_files()) == 2 and all(
        file_size(path) >= HELD - 64 * KIB for path in part_files()), "two parts on disk")
    process.send_signal(signal.SIGINT)
    hold.release(rate=256 * KIB)  # the rest would take half a minute: the run stops first
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    kept = sum(path.stat().st_size for path in part_files())
    assert len(part_files()) == 2 and 2 * (HELD - 64 * KIB) <= kept < len(content)
    emulator.clear_requests()
    result = download(run, auth_file)
    assert result.returncode == 0, result.stderr
    assert Path("out", NAME).read_bytes() == content
    assert sum(record.bytes_sent for record in product_requests(emulator)) == len(content) - kept
    assert part_files() == []


@pytest.mark.parametrize("copied", [None, 0, 70_000])
def test_parts_that_already_hold_every_byte_are_checked_not_fetched_again(
        run, make_emulator, auth_file, copied):
    emulator, content = start_series(run, make_emulator, auth_file, 1 * MIB, None)
    if copied is None:
        leave_parts(content)
    else:
        leave_parts(content[:600_000 + copied], 600_000, content[600_000:])
    result = download(run, auth_file)
    assert result.returncode == 0, result.stderr
    assert "starting over" not in result.stderr
    assert Path("out", NAME).read_bytes() == content
    assert ranges(emulator) == [f"bytes={len(content)}-"]
    assert part_files() == []


def test_a_full_disk_while_absorbing_a_tail_fails_that_product_and_keeps_its_parts(
        run, make_emulator, auth_file, monkeypatch):
    emulator, content = start_series(run, make_emulator, auth_file, 1 * MIB, None)
    leave_parts(content[:600_000], 600_000, content[600_000:700_000])

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(parts.PartFiles, "append_to_head", full_disk)
    report = download_in_process(emulator, parallel=2)
    [failed] = report.failed_products
    assert "disk is full" in failed.message and "kept for the next run" in failed.message
    assert Path("out", f"{NAME}.600000.part").read_bytes() == content[600_000:700_000]
    assert product_requests(emulator) == []


def test_part_files_left_beside_a_verified_product_are_removed(run, make_emulator, auth_file):
    emulator, content = start_series(run, make_emulator, auth_file, 1 * MIB, None)
    Path("out").mkdir()
    Path("out", NAME).write_bytes(content)
    Path("out", NAME + ".part").write_bytes(content[:10])
    Path("out", f"{NAME}.300000.part").write_bytes(b"\0" * 10)
    result = download(run, auth_file)
    assert result.returncode == 0, result.stderr
    assert part_files() == [] and Path("out", NAME).read_bytes() == content
    assert product_requests(emulator) == []


class Overlong(BaseHTTPRequestHandler):
    """Sends a product with its true Content-Length, then keeps going (chunked)."""

    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(self.body)))
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in (self.body, b"\0" * 4096):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args: object) -> None:
        """Stay quiet."""


def test_a_body_longer_than_announced_is_treated_as_broken(run, make_emulator, auth_file,
                                                           monkeypatch):
    emulator, content = start_series(run, make_emulator, auth_file, 64 * KIB, None)
    monkeypatch.setattr(Overlong, "body", content)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Overlong)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/maja/1/{NAME}"
    emulator.config.report_override = lambda job, report: {
        "USER_INFO": {**report["USER_INFO"], "results": [url]}}
    try:
        result = run("download", "-a", auth_file, "-l", "job.log", "-w", "out")
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 1, result.stderr
    assert f"{NAME}: the server sent more than the {len(content)} bytes it announced" \
        in result.stderr
    assert not Path("out", NAME).exists() and not part_files()
