"""The cli package on its own: the exit-code map, the runner, the parsers, the settings."""
from __future__ import annotations

import argparse
import dataclasses
import logging
import re
from typing import Callable, Iterator

import pytest
from conftest import ROOT

from full_maja.cli import (
    DownloadSettings,
    ExitCode,
    ProcessSettings,
    download_parser,
    exit_code_for,
    process_parser,
)
from full_maja.cli.options import (
    CommonSettings,
    Parser,
    poll_seconds,
    positive_int,
    timeout_seconds,
)
from full_maja.cli.runner import Command, run
from full_maja.console import Console
from full_maja.errors import (
    AuthenticationError,
    BusyError,
    Cancelled,
    CredentialsError,
    FullMajaError,
    JobLogError,
    NetworkError,
    NotSupported,
    ProductError,
    ServiceError,
    UsageError,
    ValidationError,
)

# -- The exit-code map --------------------------------------------------------------------


@pytest.mark.parametrize("error, code", [
    (UsageError, 2), (ValidationError, 2), (JobLogError, 2), (CredentialsError, 2),
    (NotSupported, 2), (AuthenticationError, 3), (BusyError, 75), (Cancelled, 130),
    (ServiceError, 1), (NetworkError, 1), (ProductError, 1), (FullMajaError, 1),
])
def test_each_error_class_maps_to_its_exit_code(error: type[FullMajaError], code: int) -> None:
    assert exit_code_for(error("x")) == code


def test_the_readme_documents_exactly_the_exit_codes() -> None:
    section = (ROOT / "README.md").read_text().split("## Exit codes", 1)[1].split("\n## ")[0]
    documented = {int(number) for number in re.findall(r"^\| (\d+) \|", section, re.M)}
    assert documented == {int(code) for code in ExitCode}


# -- The runner ---------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def library_logger() -> Iterator[None]:
    """The runner routes the library's logger to its console: put it back afterwards."""
    logger = logging.getLogger("full_maja")
    saved = (list(logger.handlers), logger.propagate, logger.level)
    yield
    logger.handlers, logger.propagate = saved[0], saved[1]
    logger.setLevel(saved[2])


def command_raising(problem: BaseException) -> Command[CommonSettings]:
    """A command with only the common options whose body raises `problem`."""
    def parser(prog: str) -> argparse.ArgumentParser:
        parser = Parser(prog=prog)
        for flag in ("-q", "--debug", "--insecure-http"):
            parser.add_argument(flag, action="store_true")
        parser.add_argument("--auth")
        parser.add_argument("--url")
        return parser

    def body(settings: CommonSettings, console: Console) -> ExitCode:
        raise problem

    return Command("tool", parser, lambda args: CommonSettings(
        auth=args.auth, url=args.url, protocol=None, api_key_file=None,
        api_key_header="X-API-Key", insecure_http=args.insecure_http, quiet=args.q,
        debug=args.debug), body, "stopped; kept")


@pytest.mark.parametrize("problem, code, line", [
    (BusyError("another run holds job.log"), 75, "tool: error: another run holds job.log"),
    (AuthenticationError("HTTP 401"), 3, "tool: error: HTTP 401"),
    (KeyboardInterrupt(), 130, "tool: error: stopped; kept"),
    (RuntimeError("boom"), 1, "tool: error: unexpected RuntimeError: boom; nothing was lost, "
                              "run again with --debug and report the traceback"),
])
def test_the_runner_ends_every_failure_in_one_line_and_its_code(capsys, problem, code,
                                                                line) -> None:
    assert run(command_raising(problem), ["-q"]) == code
    out, err = capsys.readouterr()
    assert (out, err) == ("", line + "\n")


@pytest.mark.parametrize("problem, code, line", [
    (ValidationError("bad"), 2, "tool: error: bad"),
    (BusyError("another run holds job.log"), 75, "tool: error: another run holds job.log"),
    (AuthenticationError("HTTP 401"), 3, "tool: error: HTTP 401"),
    (RuntimeError("boom"), 1, "tool: error: unexpected RuntimeError: boom; nothing was lost, "
                              "run again with --debug and report the traceback"),
])
def test_debug_adds_the_traceback_and_keeps_the_line_and_the_code(capsys, problem, code,
                                                                  line) -> None:
    assert run(command_raising(problem), ["--debug"]) == code
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert f"{type(problem).__name__}: {problem}" in err
    assert err.endswith("\n" + line + "\n")


def test_a_parser_error_is_a_usage_error_of_one_line(capsys) -> None:
    assert run(command_raising(RuntimeError()), ["--frobnicate"]) == ExitCode.USAGE
    [line] = capsys.readouterr().err.splitlines()
    assert line == "tool: error: unrecognized arguments: --frobnicate (see --help)"


# -- Options and settings -----------------------------------------------------------------

@pytest.mark.parametrize("parse, text, value", [
    (positive_int, "3", 3), (timeout_seconds, "0.5", 0.5), (timeout_seconds, "1e3", 1000.0),
    (timeout_seconds, "0.1", 0.1), (poll_seconds, "0.01", 0.01), (poll_seconds, "86400", 86400),
])
def test_positive_numbers_are_read(parse: Callable[[str], float], text: str,
                                   value: float) -> None:
    assert parse(text) == value


@pytest.mark.parametrize("parse, text, words", [
    (positive_int, "0", "must be a positive number"), (positive_int, "1.5", "a whole number"),
    (timeout_seconds, "-1", "from 0.1 to 3600"), (timeout_seconds, "inf", "from 0.1 to 3600"),
    (timeout_seconds, "nan", "from 0.1 to 3600"), (timeout_seconds, "abc", "is not a number"),
    (timeout_seconds, "1e10", "from 0.1 to 3600"), (poll_seconds, "0", "above 0 and up to"),
    (poll_seconds, "86401", "above 0 and up to 86400"),
])
def test_other_numbers_are_refused(parse: Callable[[str], float], text: str,
                                   words: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=words):
        parse(text)


@pytest.mark.parametrize("make_parser, settings", [(process_parser, ProcessSettings),
                                                   (download_parser, DownloadSettings)])
def test_every_option_has_a_settings_field(make_parser, settings) -> None:
    dests = {action.dest for action in make_parser("x")._actions
             if action.dest not in ("help", "version")}
    fields = {field.name for field in dataclasses.fields(settings)}
    assert fields == {"tiles" if dest == "tile" else dest for dest in dests}


def test_process_settings_read_the_options_once() -> None:
    args = process_parser("x").parse_args(
        ["-t", "36TWQ", "T31TCJ", "-d", "2019-03-01", "-e", "2019-05-01", "-g", "a.log", "-q"])
    settings = ProcessSettings.from_args(args)
    assert settings == ProcessSettings(
        auth=None, url=None, protocol=None, api_key_file=None, api_key_header="X-API-Key",
        insecure_http=False, quiet=True, debug=False, tiles=("36TWQ", "T31TCJ"),
        tiles_file=None, orbit=None, start_date="2019-03-01", end_date="2019-05-01",
        log="a.log", append=False, split=False, dry_run=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.log = "b.log"  # type: ignore[misc]


def test_download_settings_take_the_documented_defaults() -> None:
    settings = DownloadSettings.from_args(download_parser("x").parse_args(["-l", "job.log"]))
    assert (settings.log, settings.write_dir, settings.parallel, settings.timeout,
            settings.poll_interval) == ("job.log", ".", 2, 30.0, 900.0)
    assert isinstance(settings.parallel, int) and isinstance(settings.timeout, float)
    assert not any((settings.status, settings.json, settings.wait, settings.resubmit,
                    settings.extract, settings.keep_zip, settings.no_page, settings.quiet))


def test_the_server_jobs_table_stays_aligned_when_it_escapes_server_text() -> None:
    from full_maja.cli.jobs import server_jobs_table
    from full_maja.service import ServerJob
    lines = server_jobs_table([ServerJob("job\x1b[2J", "FULL_MAJA", "running", 35, "t1"),
                               ServerJob("plain-job-id-1", "FULL_MAJA", "accepted", None, "t2")])
    assert "\x1b" not in "".join(lines)
    columns = {line.index("FULL_MAJA") for line in lines[1:]} | {lines[0].index("PROCESS")}
    assert len(columns) == 1, lines
