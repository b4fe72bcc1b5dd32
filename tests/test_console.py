"""The one writer to the terminal: a server's words never reach it raw."""
from __future__ import annotations

import io

import pytest
from conftest import submit

from emulators import Fault
from full_maja.console import Console, printable

ANSI = "\x1b[2J\x1b[31mpwned\x1b[0m"


@pytest.mark.parametrize("raw, shown", [
    ("plain text, unchanged", "plain text, unchanged"),
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
    ("bell\x07 and DEL\x7f", "bell\\x07 and DEL\\x7f"),
    ("C1 \x9b CSI", "C1 \\x9b CSI"),
    ("right-to-left \u202e override", "right-to-left \\u202e override"),
    ("tab\tand\nnewline stay", "tab\tand\nnewline stay"),
    ("accents: é, €, 東京", "accents: é, €, 東京"),
])
def test_printable_escapes_control_characters_only(raw, shown):
    assert printable(raw) == shown


@pytest.mark.parametrize("method, stream", [("info", "out"), ("result", "out"),
                                            ("warning", "err"), ("error", "err")])
def test_every_kind_of_message_is_escaped(method, stream):
    out, err = io.StringIO(), io.StringIO()
    console = Console("prog", stdout=out, stderr=err)
    getattr(console, method)(f"server says {ANSI}")
    written = {"out": out, "err": err}[stream].getvalue()
    assert "\x1b" not in written and "\\x1b[2J" in written


FAILED_JOB = {"job_status": "ERROR", "message": ANSI, "logs": [f"http://127.0.0.1/{ANSI}.log"]}
RUNNING_JOB = {"job_status": "STALLED", "process": f"35%{ANSI}"}


@pytest.mark.parametrize("info, options, code", [
    (FAILED_JOB, [], 1), (RUNNING_JOB, [], 75), (RUNNING_JOB, ["--status"], 75),
], ids=["failed", "processing", "status"])
def test_server_text_with_escape_sequences_is_shown_escaped(
        run, make_emulator, auth_file, info, options, code):
    emulator = make_emulator(registration_polls=0, timeline=[info["job_status"]],
                             report_override=lambda job, data: {"USER_INFO": info})
    submit(run, emulator, auth_file)
    result = run("download", "-a", auth_file, "-l", "job.log", "-w", "out", *options)
    assert result.returncode == code, result.stderr
    assert "\x1b" not in result.stdout + result.stderr
    assert "\\x1b[2J\\x1b[31mpwned\\x1b[0m" in result.stdout


def test_a_path_holding_bytes_that_are_not_utf8_is_shown_escaped_on_a_strict_stream():
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", errors="strict")
    Console("prog", stdout=out).info("Job log: donn\udce9es/job.log")
    assert raw.getvalue() == b"Job log: donn\\udce9es/job.log\n"


def test_json_mode_keeps_stdout_for_the_document():
    out, err = io.StringIO(), io.StringIO()
    console = Console("prog", stdout=out, stderr=err)
    console.json_mode()
    console.info("Resubmitted job 1 as job 2.")
    console.result("Summary: ...")
    console.document('{"complete": true}')
    assert out.getvalue() == '{"complete": true}\n'
    assert err.getvalue() == "Resubmitted job 1 as job 2.\nSummary: ...\n"


def test_a_warning_carrying_escape_sequences_from_the_server_is_shown_escaped(
        run, make_emulator, auth_file):
    """XML 1.0 cannot carry ESC itself: a WPS server's text can carry C1 controls (CSI)."""
    emulator = make_emulator(registration_polls=0, timeline=["FINISHED"],
                             product_size=16 * 1024)
    submit(run, emulator, auth_file)
    emulator.add_fault("refresh", Fault("exception", text="busy \x9b2J\x9b31mpwned\u202e"))
    result = run("download", "-a", auth_file, "-l", "job.log", "-w", "out")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert len(warnings) == 1 and "refresh" in warnings[0]
    assert "busy \\x9b2J\\x9b31mpwned\\u202e" in warnings[0]
    assert not {"\x9b", "\u202e"} & set(result.stdout + result.stderr)
