"""`full-maja SUBCOMMAND` on its own: the manual, each subcommand's options, the modes they
fix, the printed commands' quoting, and a package whose every module imports."""
from __future__ import annotations

import importlib
import pkgutil
import subprocess

import pytest
from conftest import assert_one_line_error

import full_maja
from full_maja.cli import DownloadSettings, ExitCode, download_parser, full_maja_parser
from full_maja.cli.main import ALL_SUBCOMMANDS
from full_maja.cli.nextstep import quote

VERBS = ["submit", "download", "status", "wait", "resubmit", "cancel", "jobs", "adopt"]
ACCOUNT = {"auth", "url", "api_key_file", "api_key_header", "insecure_http", "quiet", "debug"}
# What each subcommand takes besides the account, endpoint and output options.
OWN_OPTIONS = {
    "download": {"log", "write_dir", "parallel", "timeout", "json", "extract", "keep_zip",
                 "no_page", "no_catalogue", "refresh"},
    "status": {"log", "write_dir", "timeout", "json", "refresh"},
    "wait": {"log", "write_dir", "parallel", "timeout", "json", "extract", "keep_zip",
             "no_page", "no_catalogue", "refresh", "poll_interval"},
    "resubmit": {"log", "write_dir", "parallel", "timeout", "json", "extract", "keep_zip",
                 "no_page", "no_catalogue", "refresh", "wait", "poll_interval"},
    "cancel": {"log", "timeout"},
    "jobs": {"protocol", "timeout", "json"},
    "adopt": {"protocol", "adopt", "log", "write_dir", "append", "timeout"},
    "submit": {"protocol", "tile", "tiles_file", "orbit", "start_date", "end_date", "log",
               "append", "split", "dry_run", "source", "catalogue_url", "max_cloud"},
}
MODES = {"download": {}, "status": {"status": True}, "wait": {"wait": True},
         "resubmit": {"resubmit": True}, "cancel": {"cancel": True},
         "jobs": {"server_jobs": True}, "adopt": {"adopt": "42"}}


def subparser(verb: str):
    parser = full_maja_parser("full-maja")
    [action] = [a for a in parser._actions if a.dest == "subcommand"]
    return action.choices[verb]


def test_the_subcommands_are_the_documented_ones() -> None:
    assert [subcommand.verb.value for subcommand in ALL_SUBCOMMANDS] == VERBS


@pytest.mark.parametrize("verb", VERBS)
def test_each_subcommand_takes_only_the_options_that_fit_it(verb: str) -> None:
    dests = {action.dest for action in subparser(verb)._actions if action.dest != "help"}
    assert dests == ACCOUNT | OWN_OPTIONS[verb]


@pytest.mark.parametrize("verb, mode", MODES.items())
def test_each_subcommand_fixes_its_mode(verb: str, mode: dict) -> None:
    words = [verb, *(["42"] if verb == "adopt" else []), *([] if verb == "jobs" else
                                                           ["-l", "job.log"])]
    args = full_maja_parser("full-maja").parse_args(words)
    settings = DownloadSettings.from_args(args)
    modes = ("status", "wait", "resubmit", "cancel", "server_jobs")
    assert {name: getattr(settings, name) for name in modes if getattr(settings, name)} | \
        ({"adopt": settings.adopt} if settings.adopt else {}) == mode


@pytest.mark.parametrize("words, said", [
    (["status", "-l", "job.log", "--wait"], "unrecognized arguments: --wait"),
    (["cancel", "-l", "job.log", "--json"], "unrecognized arguments: --json"),
    (["jobs", "-l", "job.log"], "unrecognized arguments: -l"),
    (["download"], "required: -l/-g/--log"),
    (["-q", "status", "-l", "job.log"], "unrecognized arguments: -q"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["resubmit", "-l", "job.log", "--poll-interval", "60"], "--poll-interval only works with "
                                                               "--wait"),
    ([], "required: SUBCOMMAND"),
])
def test_what_a_subcommand_does_not_take_is_one_line_exit_2(cli, words, said) -> None:
    assert_one_line_error(cli("full-maja", *words), 2, said)


def test_full_maja_help_reads_like_a_short_manual(run) -> None:
    result = run("full-maja", "--help")
    assert result.returncode == 0, result.stderr
    for verb in VERBS:
        assert f"\n    {verb} " in result.stdout, verb
    codes = result.stdout.split("exit codes:", 1)[1]
    for code in ExitCode:
        assert f"\n  {int(code):<4} " in codes, code
    for source in ("-a FILE", "$PEPS_USER", "~/.netrc", "--api-key-file", "$FULL_MAJA_API_KEY",
                   "full_maja_download.py", "closed on 2026-03-25", "--source catalogue",
                   "$FULL_MAJA_CATALOGUE_URL", "SIGTERM"):
        assert source in result.stdout, source


@pytest.mark.parametrize("verb", VERBS)
def test_each_subcommand_has_its_help(run, verb: str) -> None:
    result = run("full-maja", verb, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: full-maja {verb} ")


def test_every_module_of_the_package_imports() -> None:
    names = [module.name for module in pkgutil.walk_packages(full_maja.__path__, "full_maja.")]
    assert "full_maja.cli.main" in names and "full_maja.__main__" in names
    for name in names:
        importlib.import_module(name)


@pytest.mark.parametrize("word", ["plain.log", "it's here/job.log", "a b", "x'\"$`\\!*",
                                  "caf\udce9/job.log", "tab\there", "esc\x1b[2J", "é-ü", ""])
def test_a_printed_word_pastes_back_into_bash_as_it_was(word: str, tmp_path) -> None:
    line = f"printf %s {quote(word)} > out"
    subprocess.run(["bash", "-c", line], cwd=tmp_path, check=True)
    assert (tmp_path / "out").read_bytes() == word.encode("utf-8", "surrogateescape")
    assert quote(word).isprintable()


def test_the_poll_interval_is_read_with_its_default_when_not_given() -> None:
    parser = full_maja_parser("full-maja")
    for words, expected in ((["wait", "-l", "job.log"], 900.0),
                            (["wait", "-l", "job.log", "--poll-interval", "60"], 60.0),
                            (["resubmit", "-l", "job.log", "--wait"], 900.0)):
        assert DownloadSettings.from_args(parser.parse_args(words)).poll_interval == expected


def test_the_script_still_takes_a_poll_interval_without_wait() -> None:
    args = download_parser("full_maja_download").parse_args(
        ["-l", "job.log", "--poll-interval", "60"])
    assert DownloadSettings.from_args(args).poll_interval == 60.0
