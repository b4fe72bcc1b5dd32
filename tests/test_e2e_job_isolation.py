"""One job that cannot be checked never stops the others: each is followed on its own."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from conftest import PASSWORD, submit


class Redirecting(BaseHTTPRequestHandler):
    """Answers every GET with a redirect: to itself, or to a local file."""

    target = ""

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.target or self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Stay quiet."""


@pytest.fixture
def redirecting() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def add_broken_job(log: Path, status_url: str) -> None:
    """Put a job whose status document cannot be read first in the log."""
    document = json.loads(log.read_text())
    broken = dict(document["jobs"][0], job_id="666", status_url=status_url)
    document["jobs"].insert(0, broken)
    log.write_text(json.dumps(document))


@pytest.mark.parametrize("target", ["", "file:///etc/passwd"], ids=["loop", "file"])
def test_a_job_that_cannot_be_checked_leaves_the_others_downloaded(
        run, make_emulator, auth_file, redirecting, tmp_path, target, monkeypatch):
    emulator = make_emulator(registration_polls=0, timeline=["FINISHED"])
    submit(run, emulator, auth_file)
    monkeypatch.setattr(Redirecting, "target", target)
    port = redirecting.server_address[1]
    add_broken_job(tmp_path / "job.log", f"http://127.0.0.1:{port}/wps/outputs/pywps-666.xml")

    result = run("download", "-a", auth_file, "-l", "job.log", "-w", "out")

    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and "666" in errors[0], result.stderr
    assert "Traceback" not in result.stderr and PASSWORD not in result.stderr
    assert len(list((tmp_path / "out").glob("*.zip"))) == 9
    assert "Job 666" in result.stdout and "failed (UNREACHABLE)" in result.stdout
