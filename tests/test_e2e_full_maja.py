"""End to end: `full-maja SUBCOMMAND` (python -m full_maja) against the emulators, as a user
types it: a whole series, following, resubmitting, the jobs of an OGC API server, a lost
log, and README's cron line under cron's own PATH."""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PASSWORD, ROOT, assert_one_line_error

from full_maja import joblog

PERIOD = ["-d", "2019-03-01", "-f", "2019-05-01"]
VALID = ["-t", "36TWQ", "-o", "64", *PERIOD]


def printed(output: str) -> list[str]:
    """The words after `-m full_maja` of the last command a run printed for the user."""
    [line] = [line for line in output.splitlines() if " -m full_maja " in line][-1:]
    words = shlex.split(line.strip())
    program = words.index("-m")
    assert words[program - 1] == sys.executable and words[program + 1] == "full_maja", words
    return words[program + 2:]


def test_a_series_submitted_downloaded_and_rerun_with_the_subcommands(run, finished,
                                                                      auth_file, tmp_path):
    emulator = finished()
    submitted = run("full-maja", "submit", "-a", auth_file, *VALID, "--url", emulator.url)
    assert submitted.returncode == 0, submitted.stderr
    log = "36TWQ_o064_2019-03-01_2019-05-01.log"
    follow = printed(submitted.stdout)
    assert follow == ["download", "-a", str(auth_file), "-l", log, "-w", "36TWQ"]
    status = run("full-maja", "status", "-a", auth_file, "-l", log, "-w", "36TWQ")
    assert status.returncode == 75 and status.stdout.startswith("TILE")
    downloaded = run("full-maja", *follow)
    assert downloaded.returncode == 0, downloaded.stderr
    assert "The series is complete." in downloaded.stdout
    assert len(list((tmp_path / "36TWQ").glob("*.zip"))) == 9
    again = run("full-maja", *follow, "-q")
    assert again.returncode == 0 and again.stdout.strip().endswith("The series is complete.")
    assert PASSWORD not in submitted.stdout + downloaded.stdout + again.stdout


def test_wait_then_resubmit_in_the_words_of_the_subcommands(cli, make_emulator, auth_file,
                                                            product_cache):
    emulator = make_emulator(registration_polls=0, timeline=["PENDING", "ERROR"],
                             product_size=16 * 1024, products_dir=product_cache)
    assert cli("full-maja", "submit", "-a", auth_file, *VALID, "--url", emulator.url,
               "-l", "job.log").returncode == 0
    waited = cli("full-maja", "wait", "-a", auth_file, "-l", "job.log", "-w", "out",
                 "--poll-interval", "0.05")
    assert waited.returncode == 1, waited.stderr
    [hint] = [line for line in waited.stdout.splitlines() if "To submit it again" in line]
    assert printed(hint) == ["resubmit", "-a", str(auth_file), "-l", "job.log", "-w", "out"]
    emulator.config.timeline = ["FINISHED"]
    revived = cli("full-maja", *printed(hint), "--json")
    assert revived.returncode == 0, revived.stderr
    assert json.loads(revived.stdout)["complete"] is True
    assert "Resubmitted job" in revived.stderr


def test_the_jobs_of_an_ogcapi_server_listed_adopted_and_cancelled(cli, make_ogcapi,
                                                                   auth_file, state_home):
    server = make_ogcapi(run_seconds=30)
    assert cli("full-maja", "submit", "-a", auth_file, *VALID, "--url", server.url,
               "-l", "job.log").returncode == 0
    [job_id] = [job.job_id for job in joblog.read_job_log("job.log").jobs]
    listed = cli("full-maja", "jobs", "-a", auth_file, "--url", server.url, "--json")
    assert [job["job_id"] for job in json.loads(listed.stdout)["jobs"]] == [job_id]
    Path("job.log").unlink()
    (state_home / "full-maja" / "jobs.jsonl").unlink()
    lost = cli("full-maja", "download", "-a", auth_file, "-l", "job.log")
    assert_one_line_error(lost, 2, "job.log does not exist",
                          f"adopt -a {auth_file} JOB_ID -l job.log")
    adopted = cli("full-maja", "adopt", job_id, "-a", auth_file, "--url", server.url,
                  "-l", "job.log")
    assert adopted.returncode == 0, adopted.stderr
    assert printed(adopted.stdout) == ["download", "-a", str(auth_file), "-l", "job.log",
                                       "-w", "products"]
    assert [job.job_id for job in joblog.read_job_log("job.log").jobs] == [job_id]
    cancelled = cli("full-maja", "cancel", "-a", auth_file, "-l", "job.log")
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"Cancelled job {job_id}" in cancelled.stdout
    assert "full-maja resubmit submits them again" in cancelled.stdout


def test_the_readme_cron_line_runs_under_crons_path(run, finished, auth_file, tmp_path):
    readme = (ROOT / "README.md").read_text()
    line = readme.split("```cron\n", 1)[1].split("\n", 1)[0]
    schedule, command = line.split(maxsplit=5)[:5], line.split(maxsplit=5)[5]
    assert len(schedule) == 5
    folder = tmp_path / "maja"
    folder.mkdir()
    command = command.replace("/data/maja", str(folder))
    command = re.sub(r"/\S+/\.venv/bin/", f"{Path(sys.executable).parent}/", command)
    log = re.search(r"-l (\S+)", command).group(1)
    emulator = finished()
    (folder / "peps.txt").write_bytes(auth_file.read_bytes())
    submitted = run("process", "-a", auth_file, "-t", "36TWQ", "-o", "64", "-d",
                    "2019-03-01", "-f", "2019-09-01", "--url", emulator.url,
                    "-l", folder / log)
    assert submitted.returncode == 0, submitted.stderr
    cron = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "SHELL": "/bin/sh",
                               "HOME": os.environ["HOME"], "LOGNAME": "maja",
                               "NO_PROXY": "*", "XDG_STATE_HOME": os.environ["XDG_STATE_HOME"]})
    written = re.search(r">> (\S+)", command).group(1)
    output = (folder / written).read_text()
    assert cron.returncode == 0, (cron.stderr, output)
    assert "The series is complete." in output
    assert list((folder / "36TWQ").glob("*.zip"))


CRON_PATH = "/usr/bin:/bin"
BIN = Path(sys.executable).parent
DOORS = {
    "full-maja": [str(BIN / "full-maja"), "submit"],
    "full-maja-process": [str(BIN / "full-maja-process")],
    "python -m full_maja": [sys.executable, "-m", "full_maja", "submit"],
    "full_maja_process.py": [sys.executable, str(ROOT / "full_maja_process.py")],
}


@pytest.mark.parametrize("door", DOORS)
def test_the_printed_download_command_runs_as_printed_under_crons_path(finished, auth_file,
                                                                       tmp_path, door):
    program = DOORS[door]
    if not Path(program[0]).exists():
        pytest.skip(f"{program[0]} is not installed (make test installs it)")
    folder = tmp_path / "it's my data"
    folder.mkdir()
    cron = {"PATH": CRON_PATH, "HOME": os.environ["HOME"], "NO_PROXY": "*",
            "XDG_STATE_HOME": os.environ["XDG_STATE_HOME"]}
    emulator = finished()
    submitted = subprocess.run([*program, "-a", str(auth_file), *VALID, "--url", emulator.url,
                                "-l", "job.log"], cwd=folder, env=cron, capture_output=True,
                               text=True)
    assert submitted.returncode == 0, submitted.stderr
    line = submitted.stdout.split("run:\n", 1)[1].splitlines()[0].strip()
    followed = subprocess.run(["/bin/sh", "-c", line], cwd=folder, env=cron,
                              capture_output=True, text=True)
    assert followed.returncode == 0, (line, followed.stderr)
    assert "The series is complete." in followed.stdout


def forget_parameters(log: str) -> None:
    """Make the log's job one whose tile and period are not recorded (adopted from a server)."""
    document = json.loads(Path(log).read_text())
    for job in document["jobs"]:
        for name in ("tile", "orbit", "start", "end"):
            job.pop(name, None)
    Path(log).write_text(json.dumps(document))


@pytest.mark.parametrize("case", ["jobs on WPS", "adopted twice", "not a job id",
                                  "resubmit without parameters"])
def test_the_library_names_no_flag_of_the_compatible_script(cli, make_emulator, auth_file,
                                                            case):
    emulator = make_emulator(registration_polls=0, timeline=["ERROR"])
    account = ["-a", str(auth_file)]
    assert cli("full-maja", "submit", *account, *VALID, "--url", emulator.url,
               "-l", "job.log").returncode == 0
    [job_id] = [job.job_id for job in joblog.read_job_log("job.log").jobs]
    if case == "jobs on WPS":
        result, said = cli("full-maja", "jobs", *account, "--url", emulator.url), \
            f"adopt -a {auth_file} JOB_ID -l LOG"
    elif case == "adopted twice":
        result, said = cli("full-maja", "adopt", job_id, "-l", "job.log", "--append"), \
            f"job {job_id} is already in job.log"
    elif case == "not a job id":
        result, said = cli("full-maja", "adopt", "a/b", *account, "--url", emulator.url,
                           "-l", "other.log"), "'a/b' is not a job id"
    else:
        forget_parameters("job.log")
        result, said = cli("full-maja", "resubmit", *account, "-l", "job.log"), \
            "with the submit command"
    assert_one_line_error(result, 2, said)
    for word in ("--adopt", "--server-jobs", "full_maja_process.py"):
        assert word not in result.stderr, word


def test_a_lost_log_is_written_again_and_followed_by_the_commands_printed(run, finished,
                                                                          auth_file):
    emulator = finished()
    submitted = run("full-maja", "submit", "-a", auth_file, *VALID, "--url", emulator.url,
                    "-l", "job.log")
    assert submitted.returncode == 0, submitted.stderr
    [job_id] = [job.job_id for job in joblog.read_job_log("job.log").jobs]
    Path("job.log").unlink()
    lost = run("full-maja", *printed(submitted.stdout))
    assert lost.returncode == 2, lost.stderr
    adopt = [job_id if word == "JOB_ID" else word for word in printed(
        lost.stderr.split("with: ", 1)[1].split(" (the ids", 1)[0])]
    adopted = run("full-maja", *adopt)
    assert adopted.returncode == 0, adopted.stderr
    followed = run("full-maja", *printed(adopted.stdout))
    assert followed.returncode == 0, followed.stderr
    assert "The series is complete." in followed.stdout


def test_auto_that_only_submits_processing_jobs_asks_for_no_catalogue_key(cli, make_geodes,
                                                                         finished, auth_file):
    geodes, processing = make_geodes(), finished()
    result = cli("full-maja", "submit", "--source", "auto", "--catalogue-url", geodes.url,
                 "--url", processing.url, "-a", auth_file, "-t", "36TWK", "-o", "51",
                 "-d", "2023-01-01", "-f", "2023-03-01", "-l", "job.log")
    assert result.returncode == 0, result.stderr
    assert "the catalogue holds no product" in result.stdout
    assert "API key" not in result.stdout
    followed = cli("full-maja", *printed(result.stdout))
    assert followed.returncode == 0, followed.stderr
