"""End to end, issue 12: the user's files, the account's reach, and requests refused early."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest
from conftest import USER, assert_one_line_error, product_requests, special_file, submit

EURO_PASSWORD = "zone-€uro pass"
DOWNLOAD_TIMEOUT = 30


# -- 5. a password outside Latin-1 ---------------------------------------------------------------

def test_a_password_with_a_euro_sign_submits_and_follows(run, make_emulator, tmp_path):
    emulator = make_emulator(registration_polls=0, password=EURO_PASSWORD)
    auth = tmp_path / "peps.txt"
    auth.write_text(f"{USER} {EURO_PASSWORD}\n", encoding="utf-8")
    auth.chmod(0o600)
    submit(run, emulator, auth)
    result = run("download", "-a", auth, "-l", "job.log", "--status")
    assert result.returncode in (0, 75), result.stderr
    assert all(record.authorized for record in emulator.requests)
    assert EURO_PASSWORD not in result.stdout + result.stderr


# -- 4. logs are the user's files -----------------------------------------------------------------

def test_a_log_behind_a_symlink_gets_the_job_and_stays_a_link(run, emulator, auth_file,
                                                             tmp_path):
    (tmp_path / "logs").mkdir()
    submit(run, emulator, auth_file, log="logs/real.log")
    Path("link.log").symlink_to("logs/real.log")
    submit(run, emulator, auth_file, "--append", log="link.log")
    assert Path("link.log").is_symlink()
    jobs = json.loads(Path("logs/real.log").read_text())["jobs"]
    assert len(jobs) == 2
    assert sorted(p.name for p in Path("logs").iterdir()) == ["real.log", "real.log.lock"]


@pytest.mark.parametrize("kind", ["fifo", "device"])
@pytest.mark.parametrize("option", ["-l", "-a", "--tiles-file"])
def test_a_file_option_that_is_not_a_regular_file_is_refused_untouched(
        run, emulator, auth_file, tmp_path, option, kind):
    path = special_file(tmp_path, kind)
    files = {"-l": "job.log", "-a": str(auth_file), "--tiles-file": None}
    files[option] = str(path)
    args = ["-a", files["-a"], "-l", files["-l"], "-d", "2019-03-01", "-f", "2019-05-01",
            "--url", emulator.url]
    args += ["--tiles-file", str(path)] if option == "--tiles-file" else ["-t", "36TWQ"]
    result = run("process", *args, timeout=DOWNLOAD_TIMEOUT)
    assert_one_line_error(result, 2, option, str(path), "not a regular file")
    assert not emulator.requests
    assert path.is_fifo() if kind == "fifo" else path.is_char_device()


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_download_log_that_is_not_a_regular_file_is_refused(run, auth_file, tmp_path, kind):
    path = special_file(tmp_path, kind)
    result = run("download", "-a", auth_file, "-l", path, "--url", "http://127.0.0.1:9/w",
                 timeout=DOWNLOAD_TIMEOUT)
    assert_one_line_error(result, 2, "--log", "not a regular file")


# -- 6. the account goes only to its origin -------------------------------------------------------

def results_on(base: Callable[[str], str]) -> Callable:
    """A report override moving every product URL to the base URL `base(port)`."""
    def change(job, report):
        info = report["USER_INFO"]
        info["results"] = [base(url.split("/")[2].rsplit(":", 1)[1]) + url.split("/", 3)[3]
                           for url in info["results"]]
        return report
    return change


def test_products_on_another_host_are_fetched_without_the_account(run, finished, auth_file):
    emulator = finished(report_override=results_on(lambda port: f"http://localhost:{port}/"))
    submit(run, emulator, auth_file)
    result = run("download", "-a", auth_file, "-l", "job.log", "-w", "out")
    assert result.returncode == 0, result.stderr
    products = product_requests(emulator)
    assert products and all(r.host.startswith("localhost:") for r in products)
    assert not any(r.has_auth_header for r in products)
    others = [r for r in emulator.requests if r not in products]
    assert others and all(r.authorized for r in others)


def test_a_401_from_another_server_fails_those_products_and_blames_that_server(
        run, finished, make_emulator, auth_file):
    other = make_emulator(registration_polls=0)
    other_port = other.url.split("/")[2].rsplit(":", 1)[1]
    emulator = finished(report_override=results_on(
        lambda port: f"http://127.0.0.1:{other_port}/"))
    submit(run, emulator, auth_file)
    result = run("download", "-a", auth_file, "-l", "job.log", "-w", "out")
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert errors and all("not the endpoint" in line and f"127.0.0.1:{other_port}" in line
                          for line in errors), result.stderr
    assert "peps.txt" not in result.stderr and "Traceback" not in result.stderr
    assert "FAILED" in result.stdout
    assert other.requests and not any(r.has_auth_header for r in other.requests)


# -- 9. a netrc that is not UTF-8; 13. a period not begun -----------------------------------------

def test_a_netrc_that_is_not_utf8_is_one_line_exit_2(run, emulator, isolated_env):
    netrc = isolated_env / ".netrc"
    netrc.write_bytes(b"machine 127.0.0.1 login " + USER.encode() + b" password caf\xe9\n")
    netrc.chmod(0o600)
    result = run("process", "-t", "36TWQ", "-d", "2019-03-01", "-f", "2019-05-01",
                 "--url", emulator.url, "-l", "job.log")
    assert_one_line_error(result, 2, ".netrc", "UTF-8")
    assert "caf" not in result.stderr and not emulator.requests


@pytest.mark.parametrize("start, end, split, option", [
    ("2016-04-01", "9999-12-31", "--split", "--end-date"),
    ("2099-01-01", "2099-06-01", "-n", "--start-date"),
])
def test_a_period_that_has_not_begun_is_refused(run, auth_file, start, end, split, option):
    result = run("process", "-a", auth_file, "-t", "36TWQ", "-d", start, "-f", end, split,
                 "-n", "--url", "http://127.0.0.1:9/resto/wps")
    assert_one_line_error(result, 2, option, "after today")
    assert not result.stdout


# -- 7. documents read within caps ----------------------------------------------------------------

def padded(job, text: str) -> str:
    """The status document with 5 MiB of blank space inside (a well-formed, huge document)."""
    return text.replace("</wps:ExecuteResponse>", " " * (5 * 1024 * 1024) +
                        "</wps:ExecuteResponse>")


def test_a_status_document_beyond_the_size_cap_fails_that_job_in_one_line(
        run, finished, auth_file):
    emulator = finished()
    submit(run, emulator, auth_file)
    emulator.config.status_override = padded
    result = run("download", "-a", auth_file, "-l", "job.log", "-w", "out")
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if "larger than" in line]
    assert len(lines) == 1 and "/wps/outputs/pywps-" in lines[0], result.stderr
