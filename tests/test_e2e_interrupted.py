"""Issue 20, item 2: SIGTERM (timeout, systemd, a shutdown) is Ctrl-C, and what an
extraction killed outright left is removed by the next run.

The moment is made, never waited for by the clock: the test holds the lock of the
verified record, so the run stops with its extraction complete in its hidden folder,
just before placing it (it records the entries first), until the test lets go.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import Callable

import pytest
from conftest import SCRIPTS, submit

from emulators.acquisitions import many_products
from full_maja.download.verified import RECORD_NAME
from full_maja.lock import hold_lock

NAMES = many_products("36TWQ", 1)
PRODUCT = NAMES[0]
INTERRUPTED = "interrupted; partial downloads are kept and resume on the next run"


def until(condition: Callable[[], bool], what: str, seconds: float = 120) -> None:
    """Wait for a condition the test made happen; fail (never hang) if it never does."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.02)


def temporary_folders() -> list[Path]:
    return sorted(Path("out").glob(f".{PRODUCT}.*"))


def extracted_in_hiding() -> bool:
    """The product's zip is in place and every member is out in a hidden folder of the run."""
    archive = Path("out", PRODUCT)
    folders = temporary_folders()
    if not archive.is_file() or len(folders) != 1:
        return False
    with zipfile.ZipFile(archive) as zipped:
        files = [info for info in zipped.infolist() if not info.is_dir()]
    return all((folders[0] / info.filename).is_file()
               and (folders[0] / info.filename).stat().st_size == info.file_size
               for info in files)


def start_download(auth_file: Path, tmp_path: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(SCRIPTS["download"]), "-a", str(auth_file),
                             "-l", "job.log", "-w", "out", "-x", *extra], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop_during_extraction(auth_file: Path, tmp_path: Path, sent: signal.Signals,
                           *extra: str) -> subprocess.CompletedProcess:
    """Run `download -x`, send `sent` while its extraction waits to be placed; its result."""
    Path("out").mkdir()
    with hold_lock(Path("out", RECORD_NAME), wait=True, follow_symlinks=False):
        process = start_download(auth_file, tmp_path, *extra)
        until(lambda: extracted_in_hiding() or process.poll() is not None,
              "the extraction, out in its hidden folder")
        assert process.poll() is None, process.communicate()
        process.send_signal(sent)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.parametrize("parallel", ["1", "2"])
def test_sigterm_during_extraction_is_ctrl_c_and_leaves_nothing_behind(run, cli, finished,
                                                                      auth_file, tmp_path,
                                                                      parallel):
    emulator = finished(products=NAMES)
    submit(cli, emulator, auth_file)
    stopped = stop_during_extraction(auth_file, tmp_path, signal.SIGTERM, "-j", parallel)
    assert stopped.returncode == 130, (stopped.returncode, stopped.stderr)
    assert INTERRUPTED in stopped.stderr and "Traceback" not in stopped.stderr
    assert temporary_folders() == []
    assert Path("out", PRODUCT).is_file() and not Path("out", PRODUCT[:-4]).exists()
    again = run("download", "-a", auth_file, "-l", "job.log", "-w", "out", "-x")
    assert again.returncode == 0, (again.stdout, again.stderr)
    assert "The series is complete" in again.stdout
    assert Path("out", PRODUCT[:-4]).is_dir() and not Path("out", PRODUCT).exists()


def test_what_a_killed_extraction_left_is_removed_by_the_next_run_and_nothing_else(
        run, cli, finished, auth_file, tmp_path):
    emulator = finished(products=NAMES)
    submit(cli, emulator, auth_file)
    killed = stop_during_extraction(auth_file, tmp_path, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    [left] = temporary_folders()
    assert ".full-maja-extract-" in left.name
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine")
    decoys = [Path("out", f".{PRODUCT}.notes"), Path("out", f".{PRODUCT}.full-maja-extract")]
    for decoy in decoys:
        decoy.mkdir()
        (decoy / "keep.txt").write_text("mine")
    planted = Path("out", ".OTHER.zip.full-maja-extract-abcdefgh")
    planted.symlink_to(mine)
    again = run("download", "-a", auth_file, "-l", "job.log", "-w", "out", "-x")
    assert again.returncode == 0, (again.stdout, again.stderr)
    assert not left.exists() and Path("out", PRODUCT[:-4]).is_dir()
    assert all((decoy / "keep.txt").read_text() == "mine" for decoy in decoys)
    assert planted.is_symlink() and (mine / "keep.txt").read_text() == "mine"


def test_sigterm_while_the_server_holds_its_answer_is_ctrl_c_for_the_submit_command(
        hostile, auth_file, tmp_path):
    arrived, release = threading.Event(), threading.Event()

    def hold(handler) -> None:
        arrived.set()
        release.wait(60)

    base, _ = hostile(hold)
    process = subprocess.Popen([sys.executable, str(SCRIPTS["process"]), "-a", str(auth_file),
                                "-t", "36TWQ", "-d", "2019-03-01", "-f", "2019-05-01",
                                "--url", f"{base}/wps", "-l", "job.log"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert arrived.wait(60), process.communicate()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        release.set()
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not Path(tmp_path, "job.log").exists()
