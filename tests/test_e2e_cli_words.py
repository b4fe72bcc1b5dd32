"""End to end: what the commands say, and whether a next step they print works as printed
(issue 18's observations; issue 20: one log one endpoint (5), odd paths (8), --json (13),
Ctrl-C during a submission (15)).

They run the compatible scripts, which every observation was made with; the same
bodies serve `full-maja SUBCOMMAND` (tests/test_e2e_full_maja.py).
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from conftest import (
    PASSWORD,
    ROOT,
    SCRIPTS,
    USER,
    assert_one_line_error,
    interruptible_python,
    submit,
)

from full_maja.jobrecord import JobRecord
from full_maja.lock import hold_lock
from full_maja.service import JobState
from full_maja.states import JobPhase
from full_maja.text import state_lines

PERIOD = ["-d", "2019-03-01", "-f", "2019-05-01"]
VALID = ["-t", "36TWQ", "-o", "64", *PERIOD]
CORE = "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core"


def log_jobs(path: str = "job.log") -> list[dict]:
    return json.loads(Path(path).read_text())["jobs"]


def remote_log(endpoint: str, path: str = "job.log") -> None:
    """A log of one job on a remote server that is never reached."""
    Path(path).write_text(json.dumps({"format": "full-maja job log", "version": 1, "jobs": [
        {"job_id": "1", "status_url": f"{endpoint}/jobs/1", "endpoint": endpoint,
         "protocol": "ogcapi", "tile": "36TWQ", "start": "2019-03-01",
         "end": "2019-05-01"}]}))


def error_line(result: subprocess.CompletedProcess) -> str:
    [line] = [line for line in result.stderr.splitlines() if ": error: " in line]
    return line


# -- --debug adds the traceback, and only that ------------------------------------------

@pytest.mark.parametrize("case, code, words", [
    ("missing log", 2, "--log: nope.log does not exist"),
    ("log held by another run", 75, "another full-maja run"),
    ("refused account", 3, "refused the account"),
])
def test_debug_adds_the_traceback_and_keeps_the_exit_code_and_the_line(
        run, finished, auth_file, tmp_path, case, code, words):
    emulator = finished()
    submit(run, emulator, auth_file)
    (tmp_path / "wrong.txt").write_text(f"{USER} not-the-password\n")
    account = "wrong.txt" if case == "refused account" else auth_file
    log = "nope.log" if case == "missing log" else "job.log"
    with hold_lock(Path("job.log")) if case == "log held by another run" else _nothing():
        result = run("download", "-a", account, "-l", log, "-w", "out", "--debug")
    assert result.returncode == code, result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert words in error_line(result)
    assert result.stderr.rstrip().endswith(error_line(result))


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


# -- Words of the server in use ----------------------------------------------------------

def test_a_queued_ogcapi_job_is_not_told_in_peps_words(cli, make_ogcapi, auth_file):
    server = make_ogcapi(queue_seconds=600)
    assert cli("process", "-a", auth_file, *VALID, "--url", server.url, "-l", "job.log"
               ).returncode == 0
    result = cli("download", "-a", auth_file, "-l", "job.log", "-w", "out")
    assert result.returncode == 75, result.stderr
    assert "queued (accepted)" in result.stdout
    assert "PEPS" not in result.stdout + result.stderr
    assert "PEPS" not in (Path("out") / "series.html").read_text()


def test_a_peps_job_is_still_told_in_peps_words():
    job = JobRecord("1", "https://peps.cnes.fr/wps/outputs/pywps-1.xml",
                    endpoint="https://peps.cnes.fr/resto/wps")
    lines = state_lines(JobState(job, JobPhase.QUEUED, "PENDING"))
    assert "PEPS runs at most 10 FULL_MAJA jobs" in lines[1]


def test_a_short_poll_interval_is_refused_without_peps_words(cli):
    remote_log("https://maja.example.org/ogcapi")
    result = cli("download", "-l", "job.log", "--wait", "--poll-interval", "5")
    assert_one_line_error(result, 2, "--poll-interval", "at least 60")
    assert "PEPS" not in result.stderr


def test_no_account_names_every_way_to_give_one(cli, emulator):
    result = cli("process", *VALID, "--url", emulator.url, "-l", "x.log")
    assert_one_line_error(result, 2, "-a FILE", "PEPS_USER", ".netrc", "--api-key-file",
                          "FULL_MAJA_API_KEY")
    assert emulator.requests == [] and not Path("x.log").exists()


# -- The log's own endpoint; one log, one endpoint ----------------------------------------

def test_append_without_url_submits_to_the_logs_endpoint(run, make_emulator, auth_file):
    emulator = make_emulator(registration_polls=0)
    submit(run, emulator, auth_file)
    result = run("process", "-a", auth_file, "-t", "31TCJ", *PERIOD, "-l", "job.log",
                 "--append")
    assert result.returncode == 0, result.stderr
    assert [job["endpoint"] for job in log_jobs()] == [emulator.url, emulator.url]
    assert len([r for r in emulator.requests if r.method == "POST"]) == 2


def test_append_without_url_keeps_the_logs_protocol(cli, make_ogcapi, auth_file):
    server = make_ogcapi()
    assert cli("process", "-a", auth_file, *VALID, "--url", server.url, "-l", "job.log"
               ).returncode == 0
    server.clear_requests()
    result = cli("process", "-a", auth_file, "-t", "31TCJ", *PERIOD, "-l", "job.log",
                 "--append")
    assert result.returncode == 0, result.stderr
    assert not [r for r in server.requests if r.path.endswith("/conformance")]
    assert [job["protocol"] for job in log_jobs()] == ["ogcapi", "ogcapi"]


def test_a_job_of_another_server_is_refused_in_a_log(cli, make_emulator, auth_file, tmp_path):
    first = make_emulator(registration_polls=0)
    second = make_emulator(registration_polls=0, password="account-B-password")
    submit(cli, first, auth_file)
    before = Path("job.log").read_bytes()
    (tmp_path / "B.txt").write_text(f"{USER} account-B-password\n")
    result = cli("process", "-a", "B.txt", "-t", "31TCJ", *PERIOD, "-l", "job.log",
                 "--append", "--url", second.url)
    assert_one_line_error(result, 2, "--url", second.url, "not the endpoint", first.url,
                          "own server")
    assert second.requests == [] and Path("job.log").read_bytes() == before


def test_a_refused_account_names_the_server(cli, make_emulator, auth_file, tmp_path):
    emulator = make_emulator(registration_polls=0)
    submit(cli, emulator, auth_file)
    (tmp_path / "B.txt").write_text(f"{USER} account-B-password\n")
    result = cli("download", "-a", "B.txt", "-l", "job.log", "-w", "out")
    assert_one_line_error(result, 3, emulator.url.rsplit("/", 2)[0], "the file B.txt")


# -- PEPS, the closed default ---------------------------------------------------------

def test_without_a_service_the_closed_default_is_said_and_not_tried(cli, auth_file):
    result = cli("process", "-a", auth_file, *VALID, "-l", "x.log")
    assert_one_line_error(result, 2, "closed on 2026-03-25", "--url", "$PEPS_WPS_URL",
                          "--source catalogue")
    assert not Path("x.log").exists()


def test_a_dry_run_without_a_service_says_the_default_closed(cli):
    result = cli("process", *VALID, "-n")
    assert result.returncode == 0, result.stderr
    assert "Would POST to https://peps.cnes.fr/resto/wps" in result.stdout
    assert "closed on 2026-03-25" in result.stderr and "--url" in result.stderr


def test_a_log_of_the_original_client_without_a_service_asks_for_one(cli):
    Path("old.log").write_text(
        '<wps:ExecuteResponse xmlns:wps="http://www.opengis.net/wps/1.0.0" '
        'statusLocation="https://peps.cnes.fr/wps/outputs/pywps-1.xml"><wps:Status>'
        "<wps:ProcessAccepted/></wps:Status></wps:ExecuteResponse>")
    result = cli("download", "-l", "old.log", "-w", "out")
    assert_one_line_error(result, 2, "old.log", "--url", "closed on 2026-03-25")


# PEPS itself, reached through a proxy that refuses every connection: no DNS, no network.
NO_NETWORK = {"NO_PROXY": "", "HTTPS_PROXY": "http://127.0.0.1:9"}
PEPS = "https://peps.cnes.fr/resto/wps"


def test_peps_that_cannot_be_reached_is_said_to_have_closed(cli, auth_file):
    result = cli("process", "-a", auth_file, *VALID, "--url", PEPS, "--protocol", "wps",
                 "-l", "x.log", env=NO_NETWORK)
    assert_one_line_error(result, 1, "cannot reach peps.cnes.fr", "closed on 2026-03-25",
                          "--url")
    Path("job.log").write_text(json.dumps({"format": "full-maja job log", "version": 1,
                                           "jobs": [{"job_id": "1", "endpoint": PEPS,
                                                     "status_url": f"{PEPS}/pywps-1.xml"}]}))
    followed = cli("download", "-a", auth_file, "-l", "job.log", "-w", "out", env=NO_NETWORK)
    assert followed.returncode == 1, followed.stderr
    assert "closed on 2026-03-25" in followed.stderr


@pytest.mark.parametrize("url, hinted", [("https://maja.example.org/ogcapi", True),
                                         ("https://maja.example.org/", True),
                                         ("https://maja.example.org/resto/wps", False)])
def test_a_dry_run_to_a_url_that_is_not_wps_like_hints_at_the_protocol(cli, url, hinted):
    result = cli("process", *VALID, "--url", url, "-n")
    assert result.returncode == 0, result.stderr
    assert "<wps:Execute" in result.stdout
    assert ("--protocol ogcapi" in result.stderr) == hinted


# -- Following: a state never goes backwards, a line is not repeated ----------------------

def test_waiting_shows_each_change_once_and_never_goes_backwards(run, make_emulator, auth_file,
                                                                 product_cache):
    emulator = make_emulator(registration_polls=2, product_size=16 * 1024,
                             products_dir=product_cache,
                             timeline=["PENDING", "PENDING", "STALLED", "FINISHED"])
    submit(run, emulator, auth_file)
    result = run("download", "-a", auth_file, "-l", "job.log", "-w", "out", "--wait",
                 "--poll-interval", "0.05")
    assert result.returncode == 0, result.stderr
    shown = [line for line in result.stdout.splitlines() if line.startswith("Job ")]
    phases = [re.search(r": (\w+) \(", line).group(1) for line in shown]
    order = ["queued", "processing", "finished"]
    assert [order.index(phase) for phase in phases] == sorted(order.index(p) for p in phases)
    assert all(first != second for first, second in zip(shown, shown[1:])), shown
    assert phases[0] == "queued" and phases[-1] == "finished"


# -- Recovering a lost log leads somewhere ------------------------------------------------

def test_adopting_an_id_the_journal_does_not_know_on_wps_says_what_to_check(cli, emulator,
                                                                           auth_file):
    result = cli("download", "-a", auth_file, "--url", emulator.url, "--adopt", "999",
                 "-l", "new.log")
    assert_one_line_error(result, 2, "job 999 is not in this machine's journal",
                          "check the id")
    assert "--adopt JOB_ID" not in result.stderr and not Path("new.log").exists()


def test_adopting_an_id_the_journal_does_not_know_without_a_service_asks_for_it(cli):
    result = cli("download", "--adopt", "999", "-l", "new.log")
    assert_one_line_error(result, 2, "job 999 is not in this machine's journal", "--url")


def test_adopting_without_a_log_says_which_file_to_give(cli):
    result = cli("download", "--adopt", "42")
    assert_one_line_error(result, 2, "-l", "job 42", "-l 42.log")
    assert "--server-jobs" not in result.stderr


def test_a_deleted_log_says_how_to_write_it_again(cli, auth_file, state_home):
    result = cli("download", "-a", auth_file, "-l", "gone.log", "-w", "out")
    assert_one_line_error(result, 2, "gone.log does not exist", "--adopt JOB_ID -l gone.log",
                          str(state_home / "full-maja" / "jobs.jsonl"))


# -- The printed next step works as printed -----------------------------------------------

def printed_arguments(output: str, script: str = "full_maja_download.py") -> list[str]:
    """The words after the script in the last command a run printed for the user."""
    [line] = [line for line in output.splitlines() if script in line][-1:]
    words = shlex.split(line.strip())
    return words[next(i for i, word in enumerate(words) if word.endswith(script)) + 1:]


def test_the_command_printed_after_a_third_tile_follows_the_whole_log(run, finished,
                                                                      auth_file):
    emulator = finished()
    first = submit(run, emulator, auth_file, "-t", "36TWQ")
    assert printed_arguments(first.stdout)[-2:] == ["-w", "36TWQ"]
    for tile in ("31TCJ", "31TCK"):
        last = run("process", "-a", auth_file, "-t", tile, *PERIOD, "-l", "job.log",
                   "--append", "--url", emulator.url)
        assert last.returncode == 0, last.stderr
    arguments = printed_arguments(last.stdout)
    assert arguments[-2:] == ["-w", "products"]
    assert "36TWQ, 31TCJ, 31TCK" in last.stdout
    result = run("download", *arguments)
    assert result.returncode == 0, result.stderr
    tiles = {re.search(r"_T(\w{5})_", path.name).group(1)
             for path in Path("products").glob("*.zip")}
    assert tiles == {"36TWQ", "31TCJ", "31TCK"}


def copied_scripts(folder: Path) -> dict[str, Path]:
    """The two scripts, copied into `folder` (the package is installed, so they run there)."""
    folder.mkdir()
    return {name: Path(shutil.copy(path, folder)) for name, path in SCRIPTS.items()
            if name in ("process", "download")}


# A normal UTF-8 locale: output that is not UTF-8 is an error (this machine's locales would
# make Python escape it).
UTF8_LOCALE = {"LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8:strict"}


def bash(line: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run a printed line as a user pastes it, `python` being this interpreter."""
    return subprocess.run(["bash", "-c", f"python() {{ {shlex.quote(sys.executable)} \"$@\"; }}"
                           f"; {line}"], cwd=cwd, capture_output=True,
                          env={**os.environ, **UTF8_LOCALE})


@pytest.mark.parametrize("name", ["it's my data", "my data", "donn\udce9es"],
                         ids=["apostrophe", "space", "not-utf-8"])
def test_a_folder_and_a_log_with_an_odd_name_are_printed_so_that_the_command_pastes(
        finished, auth_file, tmp_path, name):
    emulator = finished()
    folder = tmp_path / name
    scripts = copied_scripts(folder)
    shutil.copy(auth_file, folder / "peps.txt")
    submitted = subprocess.run(
        [sys.executable, str(scripts["process"]), "-a", "peps.txt", *VALID, "--url",
         emulator.url, "-l", f"{name}.log"], cwd=folder, capture_output=True,
        env={**os.environ, **UTF8_LOCALE})
    out, err = (stream.decode("utf-8", "surrogateescape")
                for stream in (submitted.stdout, submitted.stderr))
    assert submitted.returncode == 0, err
    assert "unexpected" not in err and "Traceback" not in err
    [printed] = [line.strip() for line in out.splitlines() if "full_maja_download.py" in line]
    followed = bash(printed, folder)
    assert followed.returncode == 0, followed.stderr.decode("utf-8", "surrogateescape")
    assert b"unexpected" not in followed.stderr
    assert len(list((folder / "36TWQ").glob("*.zip"))) == 9
    assert (folder / "36TWQ" / "series.html").exists()


# -- --json: one document on stdout -------------------------------------------------------

def test_json_is_one_document_on_stdout_with_resubmit_and_wait(run, make_emulator, auth_file,
                                                                product_cache):
    emulator = make_emulator(registration_polls=0, timeline=["ERROR"],
                             product_size=16 * 1024, products_dir=product_cache)
    submit(run, emulator, auth_file)
    assert run("download", "-a", auth_file, "-l", "job.log", "-w", "out").returncode == 1
    emulator.config.timeline = ["PENDING", "PENDING", "FINISHED"]
    result = run("download", "-a", auth_file, "-l", "job.log", "-w", "out", "--resubmit",
                 "--wait", "--poll-interval", "0.05", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["complete"] is True
    assert "Resubmitted job" in result.stderr and "queued (PENDING)" in result.stderr


def test_the_server_jobs_give_progress_as_the_series_report_does(cli, make_ogcapi, auth_file):
    server = make_ogcapi()
    assert cli("process", "-a", auth_file, *VALID, "--url", server.url, "-l", "job.log"
               ).returncode == 0
    followed = cli("download", "-a", auth_file, "-l", "job.log", "-w", "out", "--wait",
                   "--poll-interval", "0.1")
    assert followed.returncode == 0, followed.stderr
    series = cli("download", "-a", auth_file, "-l", "job.log", "-w", "out", "--status", "--json")
    assert json.loads(series.stdout)["jobs"][0]["progress"] == "100%"
    listed = cli("download", "-a", auth_file, "--url", server.url, "--server-jobs", "--json")
    assert [job["progress"] for job in json.loads(listed.stdout)["jobs"]] == ["100%"]


# -- Ctrl-C while the server holds its answer to a submission ------------------------------

class HeldSubmission(BaseHTTPRequestHandler):
    """Answers the protocol question, then holds every POST until the test is done."""

    arrived: threading.Event
    release: threading.Event

    def do_GET(self) -> None:
        failed = {"jobID": "1", "status": "failed", "message": "no L1C", "type": "process"}
        body = json.dumps({"conformsTo": [CORE]} if self.path.endswith("/conformance")
                          else failed).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        type(self).arrived.set()
        type(self).release.wait(60)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def held() -> Iterator[tuple[str, threading.Event]]:
    """A server that holds its answer to a submission: (its URL, set once a POST arrived)."""
    handler = type("Handler", (HeldSubmission,), {"arrived": threading.Event(),
                                                  "release": threading.Event()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/ogcapi", handler.arrived
    handler.release.set()
    server.shutdown()
    server.server_close()


def interrupted(command: list, cwd: Path, arrived: threading.Event) -> tuple[int, str]:
    """Run `command`, send Ctrl-C once the server holds its submission: (exit code, stderr)."""
    process = subprocess.Popen(interruptible_python(*command), cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert arrived.wait(30), "the submission never arrived"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert PASSWORD not in out + err and "Traceback" not in err
    assert "check the log" not in err
    return process.returncode, err


@pytest.mark.parametrize("door, protocol, words", [
    ("script", "ogcapi", ["may have received", "full_maja_download.py -a", "--url",
                          "--server-jobs", "--adopt JOB_ID", "-l job.log --append"]),
    ("script", "wps", ["may have received", "cannot list its jobs", "twice"]),
    ("full-maja", "ogcapi", ["may have received", "-m full_maja jobs -a",
                             "-m full_maja adopt -a", "JOB_ID --url", "--append"]),
])
def test_ctrl_c_during_a_submission_says_the_job_may_exist_and_how_to_find_it(
        held, auth_file, tmp_path, door, protocol, words):
    url, arrived = held
    remote_log(url, "job.log")  # the log already holds a job of this server
    program = [str(SCRIPTS["process"])] if door == "script" else ["-m", "full_maja", "submit"]
    code, err = interrupted([*program, "-a", str(auth_file), "-t", "31TCJ", *PERIOD, "--url",
                             url, "--protocol", protocol, "-l", "job.log", "--append"],
                            tmp_path, arrived)
    assert code == 130, err
    line = error_line(subprocess.CompletedProcess([], code, "", err))
    for word in words:
        assert word in line, (word, line)


def test_ctrl_c_during_a_resubmission_says_the_job_may_exist_and_how_to_find_it(
        held, auth_file, tmp_path):
    url, arrived = held
    remote_log(url, "job.log")  # its job failed: --resubmit submits it again
    code, err = interrupted([str(SCRIPTS["download"]), "-a", str(auth_file), "-l", "job.log",
                             "-w", "out", "--resubmit"], tmp_path, arrived)
    assert code == 130, err
    line = error_line(subprocess.CompletedProcess([], code, "", err))
    for word in ("may have received", "--server-jobs", "--adopt JOB_ID", "--url " + url):
        assert word in line, (word, line)


class DroppedSubmission(HeldSubmission):
    """Answers the protocol question, then closes the connection on every POST unanswered."""

    def do_POST(self) -> None:
        self.close_connection = True


@pytest.fixture
def dropped() -> Iterator[str]:
    """An OGC API server that drops its answer to a submission: its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), DroppedSubmission)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/ogcapi"
    server.shutdown()
    server.server_close()


def test_a_lost_answer_to_a_wps_submission_does_not_send_the_user_to_the_servers_jobs(
        cli, make_emulator, auth_file):
    emulator = make_emulator(submit_fault="drop")
    result = cli("full-maja", "submit", "-a", auth_file, *VALID, "--url", emulator.url,
                 "-l", "job.log")
    assert_one_line_error(result, 1, "may exist", "cannot list its jobs", "twice")
    assert "check the server's jobs" not in result.stderr


def test_a_lost_answer_to_an_ogcapi_submission_says_how_to_find_the_job(dropped, cli,
                                                                        auth_file):
    result = cli("full-maja", "submit", "-a", auth_file, *VALID, "--url", dropped,
                 "--protocol", "ogcapi", "-l", "job.log")
    assert_one_line_error(result, 1, "may exist")
    [hint] = [line for line in result.stderr.splitlines() if ": warning: " in line]
    for words in (f"-m full_maja jobs -a {auth_file} --url {dropped}",
                  f"-m full_maja adopt -a {auth_file} JOB_ID --url {dropped} -l job.log"):
        assert words in hint, (words, hint)


def test_a_lost_answer_to_an_ogcapi_resubmission_says_how_to_find_the_job(dropped, cli,
                                                                          auth_file):
    remote_log(dropped, "job.log")  # its job failed: resubmit submits it again
    result = cli("full-maja", "resubmit", "-a", auth_file, "-l", "job.log", "-w", "out")
    assert_one_line_error(result, 1, "may exist")
    [hint] = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert f"-m full_maja adopt -a {auth_file} JOB_ID --url {dropped} -l job.log --append" \
        in hint, hint


def test_a_script_run_before_the_dependencies_are_installed_says_how_to_install_them():
    for script in ("process", "download"):
        result = subprocess.run([sys.executable, "-S", str(SCRIPTS[script]), "--help"],
                                capture_output=True, text=True, cwd=ROOT)
        assert result.returncode == 1, result.stderr
        [line] = result.stderr.splitlines()
        assert "is not installed" in line and "pip install" in line, line
        assert "Traceback" not in result.stderr
