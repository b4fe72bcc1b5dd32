"""End to end, hostile input: what a broken or malicious server, a damaged file or a typo
can throw at full_maja_process.py and full_maja_download.py (issue 5).

Every run goes through `checked` (real scripts through `script`; the tables of bad
options, logs and answers through `cli`, the entry points the scripts call, in this process
to save the interpreter start-ups), which fails the test if the password shows in stdout or stderr
or a traceback appears without --debug. After every test, `no_secret_on_disk` walks the
test folder and fails if the password is in any file or file name other than the
credentials file itself.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
from datetime import date
from pathlib import Path
from typing import Callable
from urllib.parse import quote

import pytest
from conftest import PASSWORD, ROOT, USER, assert_one_line_error, product_requests, submit

from emulators import Fault
from full_maja.client import Client
from full_maja.credentials import Credentials
from full_maja.jobmemory import memory_path
from full_maja.validation import JobRequest

FIRST = "SENTINEL2A_20190301-083751-427_L2A_T36TWQ_C_V2-2.zip"
SECOND = "SENTINEL2B_20190306-083752-638_L2A_T36TWQ_C_V2-2.zip"
REQUEST = JobRequest("36TWQ", 64, date(2019, 3, 1), date(2019, 5, 1))
ODD_PASSWORD = 'Zq9 "#%&+ x\\Pa55'  # spaces, quotes, URL and shell specials
UNREACHABLE = "https://no-such-host.invalid"
CREDENTIALS_FILE = "peps.txt"


def secret_forms(user: str, password: str) -> set[str]:
    """The password as it could leak: plain, URL-quoted, or as a basic-auth header."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {password, quote(password), quote(password, safe=""), token}


SECRETS = secret_forms(USER, PASSWORD) | secret_forms(USER, ODD_PASSWORD)


def assert_no_secret_in(folder: Path) -> None:
    """No file or name under `folder` holds the password, except the credentials file."""
    for path in folder.rglob("*"):
        assert not any(secret in path.name for secret in SECRETS), path
        if path.is_file() and path.name != CREDENTIALS_FILE:
            data = path.read_bytes()
            assert not any(secret.encode() in data for secret in SECRETS), path


@pytest.fixture(autouse=True)
def no_secret_on_disk(tmp_path: Path):
    """After each test, failing runs included: the password is nowhere under the test folder."""
    yield
    assert_no_secret_in(tmp_path)


def checked(result: subprocess.CompletedProcess, args: tuple) -> subprocess.CompletedProcess:
    """`result`, once sure it shows no password, and no traceback unless --debug asked."""
    output = result.stdout + result.stderr
    assert not [secret for secret in SECRETS if secret in output], output
    if "--debug" not in args:
        assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture
def script(run) -> Callable[..., subprocess.CompletedProcess]:
    """Run a real script, checked."""
    def call(name: str, *args: object, **kwargs: object) -> subprocess.CompletedProcess:
        return checked(run(name, *args, **kwargs), args)
    return call


@pytest.fixture
def cli(cli) -> Callable[..., subprocess.CompletedProcess]:
    """conftest's `cli`, the entry points the scripts call, run in this process, checked."""
    def call(name: str, *args: object, **kwargs: object) -> subprocess.CompletedProcess:
        return checked(cli(name, *args, **kwargs), args)
    return call


def download(script, auth, *extra, log="job.log", write_dir="out"):
    return script("download", "-a", auth, "-l", log, "-w", write_dir, *extra)


def api(emulator) -> Client:
    return Client(emulator.url, credentials=Credentials(USER, PASSWORD))


def logged(emulator, log: str = "job.log") -> None:
    """Submit the two-month series in-process (faster than the script)."""
    with api(emulator) as client:
        client.submit([REQUEST], log)


def downloaded(emulator) -> dict:
    """Submit and download the whole series in-process; the earlier results to keep.

    The job's remembered final state is dropped, so that the next run asks the server.
    """
    logged(emulator)
    with api(emulator) as client:
        report = client.download("job.log", "out")
    assert not report.failed_products and zips()
    memory_path("job.log").unlink()
    emulator.clear_requests()
    return snapshot()


def snapshot() -> dict:
    """The job log and the products on disk: their bytes and modification times."""
    files = [Path("job.log"), *Path("out").glob("*.zip")]
    return {str(path): (path.read_bytes(), path.stat().st_mtime_ns)
            for path in files if path.exists()}


def zips(folder: str = "out") -> list[str]:
    return sorted(path.name for path in Path(folder).glob("*.zip"))


def remote_log(path: str = "job.log", base: str = UNREACHABLE) -> bytes:
    """A job log of a job on a server that does not exist."""
    content = json.dumps({"format": "full-maja job log", "version": 1, "jobs": [
        {"job_id": "1", "status_url": f"{base}/wps/outputs/pywps-1.xml",
         "endpoint": f"{base}/resto/wps", "tile": "36TWQ", "orbit": 64,
         "start": "2019-03-01", "end": "2019-05-01"}]}).encode()
    Path(path).write_bytes(content)
    return content


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- XML from the network: defusedxml, no DTD, no entity -----------------------------------

WPS_ROOT = "wps:ExecuteResponse"
XML_DECLARATION = re.compile(r"<\?xml[^>]*\?>")


def with_doctype(doctype: str, entity: str = "") -> Callable[[str, str], str]:
    """The real status document behind a DOCTYPE, `entity` used in its first text."""
    def change(xml: str, base: str) -> str:
        body = XML_DECLARATION.sub("", xml, count=1)
        body = body.replace("</wps:ProcessSucceeded>", f"{entity}</wps:ProcessSucceeded>", 1)
        return f'<?xml version="1.0"?>\n{doctype.replace("{base}", base)}\n{body}'
    return change


LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
EXCEPTION_REPORT = (
    '<?xml version="1.0" encoding="utf-8"?><ows:ExceptionReport '
    'xmlns:ows="http://www.opengis.net/ows/1.1" version="1.0.0"><ows:Exception '
    'exceptionCode="NoApplicableCode"><ows:ExceptionText>The computing centre is overloaded'
    '</ows:ExceptionText></ows:Exception></ows:ExceptionReport>')

REFUSED_DTD = "declares a DTD"
STATUS_BODIES = {
    "billion-laughs": (with_doctype(f'<!DOCTYPE {WPS_ROOT} [<!ENTITY lol0 "lol">{LAUGHS}]>',
                                    "&lol9;"), REFUSED_DTD),
    "external-entity": (with_doctype(
        f'<!DOCTYPE {WPS_ROOT} [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;"),
        REFUSED_DTD),
    "external-dtd": (with_doctype(f'<!DOCTYPE {WPS_ROOT} SYSTEM "{{base}}/evil.dtd">'),
                     REFUSED_DTD),
    "not-xml": (lambda xml, base: "PEPS is down for maintenance", "not a valid XML"),
    "truncated": (lambda xml, base: xml[:len(xml) // 2], "not a valid XML"),
    "unknown-encoding": (lambda xml, base: xml.replace('encoding="utf-8"', 'encoding="x-nope"', 1)
                         .replace("encoding='utf-8'", "encoding='x-nope'", 1),
                         "not a valid XML"),
    "exception-report": (lambda xml, base: EXCEPTION_REPORT, "refused the request: "
                         "NoApplicableCode: The computing centre is overloaded"),
    "wrong-root": (lambda xml, base: "<html><body>Maintenance</body></html>", "not a WPS"),
    "bad-report-url": (lambda xml, base: re.sub(r'href="[^"]*"', 'href="http://[x/r.json"', xml),
                       "not a URL"),
}


@pytest.mark.parametrize("kind", STATUS_BODIES)
def test_a_hostile_status_document_fails_the_job_in_one_line(cli, finished, auth_file,
                                                             kind):
    emulator = finished()
    before = downloaded(emulator)
    change, words = STATUS_BODIES[kind]
    emulator.config.status_override = lambda job, xml: change(xml, emulator.base_url)
    result = download(cli, auth_file)
    assert_one_line_error(result, 1, words)
    assert "status document" in result.stderr or kind == "exception-report"
    assert snapshot() == before
    assert product_requests(emulator) == []
    assert not [r for r in emulator.requests if r.path.endswith(".dtd")]


# -- Product file names from the network -----------------------------------------------------

def hostile_names(tmp_path: Path) -> list[str]:
    return ["../evil.zip", "../../evil.zip", "sub/evil.zip", "sub\\evil.zip",
            str(tmp_path / "abs-evil.zip"), "C:\\evil.zip", "", ".zip", ".hidden.zip", "..",
            "evil\x00.zip", "evil\n.zip", "evil\x1b[31m.zip", " evil.zip", "evil.zip.exe",
            "%2e%2e%2fevil.zip", "A" * 300 + ".zip"]


def test_hostile_product_names_are_refused_and_the_rest_lands(script, finished, auth_file,
                                                             tmp_path):
    bad = hostile_names(tmp_path)
    emulator = finished(products=[*bad, FIRST, SECOND])
    logged(emulator)
    around = {folder: sorted(p.name for p in folder.iterdir())
              for folder in (tmp_path, tmp_path.parent)}
    result = download(script, auth_file, "--json")
    assert result.returncode == 1, result.stderr
    assert zips() == [FIRST, SECOND]
    assert not Path("out", "sub").exists() and not list(Path("out").glob("*.part"))
    assert {folder: sorted(p.name for p in folder.iterdir()
                           if p.name not in ("out", memory_path("job.log").name))
            for folder in around} == {folder: [n for n in names if n != "out"]
                                      for folder, names in around.items()}
    assert not Path("/evil.zip").exists() and not (tmp_path / "abs-evil.zip").exists()
    refusals = [line for line in result.stderr.splitlines()
                if ": error: " in line and "refused the product" in line]
    assert len(refusals) == len(bad), result.stderr
    for name in bad:
        assert any(quote(name, safe="") in line for line in refusals), name
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", result.stdout + result.stderr)
    products = json.loads(result.stdout)["jobs"][0]["products"]
    assert sorted(p["outcome"] for p in products) == ["downloaded"] * 2 + ["failed"] * len(bad)
    assert {r.path.rsplit("/", 1)[1] for r in product_requests(emulator)} == {FIRST, SECOND}


# -- Transport: HTTPS by default, plain http only to this machine, no auth after redirect ----

def test_the_default_endpoint_is_https(script):
    result = script("process", "-t", "36TWQ", "-d", "2019-03-01", "-f", "2019-05-01", "-n")
    assert result.returncode == 0, result.stderr
    assert "Would POST to https://peps.cnes.fr/resto/wps" in result.stdout


@pytest.mark.parametrize("name, args", [
    ("process", ["-t", "36TWQ", "-d", "2019-03-01", "-f", "2019-05-01", "-l", "new.log"]),
    ("download", ["-l", "job.log"]),
])
def test_plain_http_to_another_host_is_refused_before_anything_is_sent(cli, auth_file, name,
                                                                       args):
    log = remote_log()
    result = cli(name, "-a", auth_file, *args, "--url", "http://peps.example.org/resto/wps")
    assert_one_line_error(result, 2, "peps.example.org", "in clear", "--insecure-http")
    assert Path("job.log").read_bytes() == log and not Path("new.log").exists()


def test_insecure_http_warns_that_the_password_travels_in_clear(script, auth_file):
    result = script("process", "-a", auth_file, "-t", "36TWQ", "-d", "2019-03-01", "-f",
                    "2019-05-01", "--url", "http://no-such-host.invalid/resto/wps",
                    "--insecure-http")
    warnings = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert any("clear" in line and "no-such-host.invalid" in line for line in warnings), \
        result.stderr
    assert_one_line_error(result, 1, "cannot reach no-such-host.invalid", "DNS")
    assert not list(Path().glob("*.log"))


def test_credentials_do_not_follow_a_redirect_to_another_host(script, finished, auth_file):
    emulator = finished(redirect_products=True)
    logged(emulator)
    result = download(script, auth_file)
    assert result.returncode == 0, result.stderr
    assert len(zips()) == 9
    mirror = [r for r in emulator.requests if r.host.split(":")[0] == "localhost"]
    assert len({r.path for r in mirror}) == 9 and not any(r.has_auth_header for r in mirror)
    redirects = [r for r in emulator.requests if r.path.startswith("/redirect/")]
    assert len({r.path for r in redirects}) == 9 and all(r.authorized for r in redirects)


def product_url_on(host: str) -> Callable:
    """A report override sending the first product's URL to `host`, same port, plain http."""
    def change(job, report):
        info = report["USER_INFO"]
        if info["results"]:
            port = info["results"][0].split("/")[2].rsplit(":", 1)[1]
            info["results"][0] = (f"http://{host}:{port}/cgi-bin/mapcache_results/maja/"
                                  f"{job.id}/{FIRST}")
        return report
    return change


def test_a_product_url_in_plain_http_to_another_host_gets_no_password(script, finished,
                                                                      auth_file):
    # 0.0.0.0 is not a loopback address, yet reaches this machine: the emulator would see it.
    emulator = finished(report_override=product_url_on("0.0.0.0"))
    logged(emulator)
    result = download(script, auth_file)
    assert result.returncode != 0
    assert "refusing plain http to 0.0.0.0" in result.stderr
    assert not [r for r in emulator.requests if r.host.startswith("0.0.0.0")]
    assert not Path("out", FIRST).exists()


@pytest.mark.parametrize("host", ["0.0.0.0", "evil.example.com"])
def test_a_product_url_refused_by_the_transport_rules_fails_only_that_product(
        cli, finished, auth_file, host):
    emulator = finished(report_override=product_url_on(host))
    logged(emulator)
    result = download(cli, auth_file)
    assert result.returncode == 1, result.stderr
    assert len(zips()) == 8 and FIRST not in zips()
    assert "1 product FAILED" in result.stdout


# -- Credentials hygiene -----------------------------------------------------------------------

def test_the_password_never_shows_in_output_or_files(script, finished, tmp_path):
    auth = tmp_path / CREDENTIALS_FILE
    auth.write_text(f"{USER} {ODD_PASSWORD}\n")
    auth.chmod(0o600)
    emulator = finished(password=ODD_PASSWORD, registration_polls=1,
                        timeline=["PENDING", "FINISHED"])
    submit(script, emulator, auth)
    assert download(script, auth, "--status").returncode == 75
    emulator.add_fault("status", Fault("status", 401))
    debug = download(script, auth, "--debug")
    assert debug.returncode != 0 and "Traceback" in debug.stderr
    for _ in range(5):
        emulator.add_fault(FIRST, Fault("truncate", 1000))
    emulator.add_fault(SECOND, Fault("status", 404))
    failing = download(script, auth, "--json")
    assert failing.returncode == 1, failing.stderr
    assert Path("out", FIRST + ".part").exists()
    assert json.loads(failing.stdout)["complete"] is False
    wrong = tmp_path / "wrong.txt"
    wrong.write_text(f"{USER} not-the-password\n")
    wrong.chmod(0o600)
    assert download(script, wrong).returncode == 3
    env = {"PEPS_USER": USER, "PEPS_PASSWORD": ODD_PASSWORD}
    final = script("download", "-l", "job.log", "-w", "out", "--json", env=env)
    assert final.returncode == 0, final.stderr
    assert len(zips()) == 9 and json.loads(final.stdout)["complete"] is True
    assert Path("out", ".full-maja-verified.json").is_file()
    assert_no_secret_in(tmp_path)


@pytest.mark.parametrize("where", ["out/.full-maja-verified.json", "out/x-PASSWORD.zip.part"])
def test_the_secret_check_finds_a_planted_password(tmp_path, where):
    path = tmp_path / where.replace("PASSWORD", quote(ODD_PASSWORD, safe=""))
    path.parent.mkdir()
    path.write_text(json.dumps({"auth": base64.b64encode(f"{USER}:{PASSWORD}".encode())
                                .decode()}) if "PASSWORD" not in where else "")
    with pytest.raises(AssertionError):
        assert_no_secret_in(tmp_path)
    path.unlink()


@pytest.mark.parametrize("name, mode", [("download", 0o644), ("download", 0o640),
                                        ("process", 0o604)])
def test_a_credentials_file_others_can_read_draws_a_chmod_warning(cli, finished,
                                                                   auth_file, name, mode):
    emulator = finished()
    logged(emulator)
    auth_file.chmod(mode)
    if name == "process":
        result = submit(cli, emulator, auth_file, log="new.log")
    else:
        result = download(cli, auth_file, "--status")
    warnings = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert len(warnings) == 1 and "chmod 600" in warnings[0] and str(auth_file) in warnings[0]


def test_a_private_credentials_file_draws_no_warning(script, finished, auth_file):
    emulator = finished()
    logged(emulator)
    result = download(script, auth_file, "--status")
    assert "chmod" not in result.stderr and ": warning: " not in result.stderr


def test_peps_txt_is_ignored_by_git_and_the_example_holds_no_secret():
    ignored = [line.strip() for line in (ROOT / ".gitignore").read_text().splitlines()]
    assert "peps.txt" in ignored or "/peps.txt" in ignored
    lines = [line for line in (ROOT / "peps.txt.example").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert len(lines) == 1
    user, _, password = lines[0].strip().partition(" ")
    assert user.endswith(("@example.org", "@example.com"))
    assert "your" in password.lower() and password not in (PASSWORD, "demo-password")
    if shutil.which("git") and (ROOT / ".git").exists():
        check = subprocess.run(["git", "check-ignore", "-q", "peps.txt"], cwd=ROOT)
        assert check.returncode == 0
        tracked = subprocess.run(["git", "ls-files", "peps.txt"], cwd=ROOT,
                                 capture_output=True, text=True)
        assert tracked.stdout.strip() == ""


# -- Bad options: one line, exit 2, nothing touched ------------------------------------------

def command_line(base: dict, changes: dict, extra: list) -> list[str]:
    options = {**base, **changes}
    return [word for key, value in options.items() if value is not None
            for word in (key, value)] + extra


@pytest.fixture
def earlier(tmp_path) -> dict:
    """A job log and a product already on disk, which a bad run must leave alone."""
    remote_log()
    Path("out").mkdir()
    Path("out", FIRST).write_bytes(b"PK\x05\x06" + b"\0" * 18)
    Path("empty.txt").write_text("")
    Path("binary.txt").write_bytes(b"\xff\xfe\x00\x81 \x00")
    Path("oneword.txt").write_text(f"{USER}\n")
    return snapshot()


DOWNLOAD_BASE = {"-a": "peps.txt", "-l": "job.log", "-w": "out"}
DOWNLOAD_CASES = [
    ({}, ["-j", "0"], "--parallel"), ({}, ["-j", "x"], "--parallel"), ({}, ["-j"], "--parallel"),
    ({}, ["--timeout", "-1"], "--timeout"), ({}, ["--timeout", "abc"], "--timeout"),
    ({}, ["--timeout", "inf"], "--timeout"), ({}, ["--poll-interval", "abc"], "--poll-interval"),
    ({}, ["--poll-interval", "0"], "--poll-interval"), ({}, ["--json=yes"], "--json"),
    ({}, ["--timeout", "1e10"], "--timeout"), ({}, ["--timeout", "0.01"], "--timeout"),
    ({}, ["--timeout", "nan"], "--timeout"), ({}, ["--poll-interval", "1e10"], "--poll-interval"),
    ({}, ["--frobnicate"], "--frobnicate"), ({"-l": None}, [], "--log"),
    ({"-l": "missing.log"}, [], "missing.log"), ({"-l": "out"}, [], "folder"),
    ({}, ["--url", "ftp://peps.example.org/wps"], "http"),
    ({"-a": "missing.txt"}, [], "missing.txt"), ({"-a": "binary.txt"}, [], "--auth"),
    ({"-a": "oneword.txt"}, [], "--auth"),
]


def case_ids(cases: list) -> list[str]:
    """Readable test ids: the changed options, then the extra arguments."""
    return [" ".join(f"{key}={value}" for key, value in changes.items()) + " ".join(extra)
            for changes, extra, _ in cases]


@pytest.mark.parametrize("changes, extra, words", DOWNLOAD_CASES,
                         ids=case_ids(DOWNLOAD_CASES))
def test_a_bad_download_option_exits_2_in_one_line(cli, auth_file, earlier, changes, extra,
                                                   words):
    result = cli("download", *command_line(DOWNLOAD_BASE, changes, extra))
    assert_one_line_error(result, 2, words)
    assert snapshot() == earlier


PROCESS_BASE = {"-a": "peps.txt", "-t": "36TWQ", "-o": "64", "-d": "2019-03-01",
                "-f": "2019-05-01", "--url": f"{UNREACHABLE}/resto/wps", "-l": "new.log"}
PROCESS_CASES = [
    ({"-o": "1.5"}, [], "--orbit"), ({"-o": "x"}, [], "--orbit"), ({"-o": "144"}, [], "--orbit"),
    ({"-d": None}, [], "--start-date"), ({"-d": "2019-02-30"}, [], "--start-date"),
    ({"-f": None}, [], "--end-date"), ({"-f": "2019-04-30"}, [], "2 months"),
    ({"-t": "99ZZZ"}, [], "--tile"), ({"-t": None}, [], "tile"),
    ({"-t": None}, ["--tiles-file", "missing.txt"], "missing.txt"),
    ({}, ["--frobnicate"], "--frobnicate"), ({}, ["--dry-run=yes"], "--dry-run"),
    ({"--url": "ftp://peps.example.org/wps"}, [], "http"), ({"-a": "empty.txt"}, [], "--auth"),
    ({"-l": "no-such-folder/new.log"}, [], "no-such-folder"),
    ({"-l": "job.log"}, [], "--append"),
]


@pytest.mark.parametrize("changes, extra, words", PROCESS_CASES,
                         ids=case_ids(PROCESS_CASES))
def test_a_bad_process_option_exits_2_in_one_line(cli, auth_file, earlier, changes, extra,
                                                  words):
    result = cli("process", *command_line(PROCESS_BASE, changes, extra))
    assert_one_line_error(result, 2, words)
    assert snapshot() == earlier
    assert not Path("new.log").exists()


@pytest.mark.parametrize("name, base, cases", [
    ("download", DOWNLOAD_BASE, [DOWNLOAD_CASES[0], DOWNLOAD_CASES[-1]]),
    ("process", PROCESS_BASE, [PROCESS_CASES[0], PROCESS_CASES[-1]]),
])
def test_the_scripts_themselves_refuse_bad_options_in_one_line(script, auth_file, earlier, name,
                                                               base, cases):
    for changes, extra, words in cases:
        assert_one_line_error(script(name, *command_line(base, changes, extra)), 2, words)
    assert snapshot() == earlier and not Path("new.log").exists()


def test_a_write_folder_that_is_a_file_exits_2(script, finished, auth_file):
    emulator = finished()
    logged(emulator)
    Path("out").write_text("a file, not a folder")
    result = download(script, auth_file)
    assert_one_line_error(result, 2, "--write-dir")
    assert Path("out").read_text() == "a file, not a folder"
    assert product_requests(emulator) == []


# -- Bad job logs --------------------------------------------------------------------------

VALID_LOG = json.dumps({"format": "full-maja job log", "version": 1, "jobs": [
    {"job_id": "1", "status_url": f"{UNREACHABLE}/wps/outputs/pywps-1.xml"}]}).encode()
WPS_NS = 'xmlns:wps="http://www.opengis.net/wps/1.0.0"'
LEGACY_ACCEPTED = (f'<wps:ExecuteResponse {WPS_NS}><wps:Status><wps:ProcessAccepted>accepted'
                   '</wps:ProcessAccepted></wps:Status></wps:ExecuteResponse>').encode()

BAD_LOGS = {
    "empty": (b"", "empty"),
    "text": (b"garbage", "not a job log"),
    "binary": (bytes(range(256)) * 4, "not a text file"),
    "truncated": (VALID_LOG[:len(VALID_LOG) // 2], "not a job log"),
    "huge": (b'{"format": "full-maja job log", "jobs": [' + b" " * (4 * 1024 * 1024) + b"]}",
             "too large"),
    "other-json": (b'{"format": "something else", "jobs": []}', "not a full-maja job log"),
    "no-jobs": (b'{"format": "full-maja job log", "version": 1, "jobs": []}', "no job"),
    "bad-status-url": (b'{"format": "full-maja job log", "version": 1, "jobs": '
                       b'[{"job_id": "1", "status_url": "http://[broken/pywps-1.xml"}]}',
                       "status_url"),
    "deep-nesting": (b"[" * 100_000, "not a job log"),
    "legacy-without-statusLocation": (LEGACY_ACCEPTED, "statusLocation"),
    "legacy-other-root": (b"<wps:x xmlns:wps='u'/>", "WPS"),
    "legacy-billion-laughs": (
        f'<?xml version="1.0"?><!DOCTYPE wps:ExecuteResponse [<!ENTITY lol0 "lol">{LAUGHS}]>'
        .encode() + LEGACY_ACCEPTED.replace(b"accepted<", b"&lol9;<"), REFUSED_DTD),
    "legacy-bad-statusLocation": (LEGACY_ACCEPTED.replace(
        b"<wps:ExecuteResponse ", b'<wps:ExecuteResponse statusLocation="http://[x/p.xml" '),
        "not a URL"),
}


@pytest.mark.parametrize("kind", BAD_LOGS)
def test_a_bad_job_log_exits_2_and_is_left_alone(cli, auth_file, kind):
    content, words = BAD_LOGS[kind]
    Path("bad.log").write_bytes(content)
    result = download(cli, auth_file, "--url", f"{UNREACHABLE}/resto/wps", log="bad.log")
    assert_one_line_error(result, 2, "bad.log", words)
    assert Path("bad.log").read_bytes() == content
    assert not Path("out").exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads every file")
def test_an_unreadable_job_log_exits_2(script, auth_file):
    content = remote_log("locked.log")
    Path("locked.log").chmod(0)
    try:
        result = download(script, auth_file, log="locked.log")
    finally:
        Path("locked.log").chmod(0o600)
    assert_one_line_error(result, 2, "locked.log")
    assert Path("locked.log").read_bytes() == content


@pytest.mark.parametrize("status_url, words", [
    ("file:///etc/passwd", "not an http(s) URL"),
    ("http://evil.example.com/wps/outputs/pywps-1.xml", "refusing plain http"),
])
def test_a_log_pointing_off_http_or_to_plain_http_elsewhere_is_refused(cli, auth_file,
                                                                       status_url, words):
    content = json.dumps({"format": "full-maja job log", "version": 1, "jobs": [
        {"job_id": "1", "status_url": status_url}]}).encode()
    Path("job.log").write_bytes(content)
    result = download(cli, auth_file, "--url", f"{UNREACHABLE}/resto/wps")
    assert_one_line_error(result, 2, words)
    assert Path("job.log").read_bytes() == content


# -- Bad JSON reports ----------------------------------------------------------------------

def user_info(**changes: object) -> Callable:
    def change(job, report):
        return {**report, "USER_INFO": {**report["USER_INFO"], **changes}}
    return change


BAD_REPORTS = {
    "html": (lambda job, report: "<html><body>PEPS</body></html>", "not JSON"),
    "deep-nesting": (lambda job, report: "[" * 100_000, "not JSON"),
    "array": (lambda job, report: "[]", "not a JSON object"),
    "no-job-status": (lambda job, report: {"USER_INFO": {"results": []}}, "job_status"),
    "results-not-list": (user_info(results=5), "results"),
    "unprocessed-text": (user_info(unprocessed="many"), "unprocessed"),
    "process-object": (user_info(process={"done": 1}), "process"),
}


@pytest.mark.parametrize("kind", BAD_REPORTS)
def test_a_bad_report_fails_the_job_in_one_line(cli, finished, auth_file, kind):
    emulator = finished()
    before = downloaded(emulator)
    emulator.config.report_override, words = BAD_REPORTS[kind]
    result = download(cli, auth_file)
    assert_one_line_error(result, 1, "report", words)
    assert snapshot() == before
    assert product_requests(emulator) == []


@pytest.mark.parametrize("target, fault, code, words", [
    ("status", Fault("html"), 1, "not a valid XML"),
    ("status", Fault("status", 400), 1, "HTTP 400"),
    ("status", Fault("status", 401), 3, "401"),
    ("report", Fault("json"), 1, "job_status"),
    ("status", Fault("truncate", 20), 1, "127.0.0.1"),
])
def test_a_spoiled_answer_to_a_status_or_report_request(cli, finished, auth_file,
                                                        target, fault, code, words):
    emulator = finished()
    before = downloaded(emulator)
    emulator.add_fault(target, fault)
    result = download(cli, auth_file)
    assert_one_line_error(result, code, words)
    assert snapshot() == before


def test_a_spoiled_refresh_is_a_warning_and_the_run_goes_on(script, finished, auth_file):
    emulator = finished()
    logged(emulator)
    emulator.add_fault("refresh", Fault("html"))
    result = download(script, auth_file)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert len(warnings) == 1 and "refresh" in warnings[0]
    assert ": error: " not in result.stderr and len(zips()) == 9


# -- Product URLs that answer badly --------------------------------------------------------

@pytest.mark.parametrize("faults, code, words, tries", [
    ([Fault("status", 401)], 3, ["HTTP 401"], 1),
    ([Fault("status", 403)], 1, [FIRST, "HTTP 403"], 1),
    ([Fault("status", 404)], 1, [FIRST, "HTTP 404"], 1),
    ([Fault("html")] * 2, 1, [FIRST, "HTML"], 2),
    ([Fault("json")] * 2, 1, [FIRST, "JSON"], 2),
], ids=["401", "403", "404", "html", "json"])
def test_a_product_that_answers_badly_fails_alone(cli, finished, auth_file, faults, code,
                                                  words, tries):
    emulator = finished()
    before = downloaded(emulator)
    for name in (FIRST, SECOND):
        Path("out", name).unlink()
        del before[str(Path("out", name))]
    for fault in faults:
        emulator.add_fault(FIRST, fault)
    result = download(cli, auth_file, "-q")
    assert_one_line_error(result, code, *words)
    assert not Path("out", FIRST).exists() and not Path("out", FIRST + ".part").exists()
    assert len([r for r in product_requests(emulator) if r.path.endswith(FIRST)]) == tries
    after = snapshot()
    if code == 1:
        assert Path("out", SECOND).is_file() and "1 product FAILED" in result.stdout
        del after[str(Path("out", SECOND))]
    assert {key: value for key, value in after.items() if key in before} == before


def test_products_answering_500_and_503_fail_after_the_retries(script, finished, auth_file):
    emulator = finished()
    before = downloaded(emulator)
    for name, code in ((FIRST, 500), (SECOND, 503)):
        Path("out", name).unlink()
        del before[str(Path("out", name))]
        # Retry-After: 0 would make urllib3 fall back on its backoff: 0+2+4+8+16 seconds.
        for _ in range(6):
            emulator.add_fault(name, Fault("status", code, retry_after=1))
    result = download(script, auth_file, "-q")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    errors = sorted(line for line in result.stderr.splitlines() if ": error: " in line)
    assert len(errors) == 2 and f"{FIRST}: HTTP 500" in errors[0] and \
        f"{SECOND}: HTTP 503" in errors[1], result.stderr
    for name in (FIRST, SECOND):
        assert len([r for r in product_requests(emulator) if r.path.endswith(name)]) == 6
    assert snapshot() == before and "2 products FAILED" in result.stdout


# -- The network fails ---------------------------------------------------------------------

# The submit command meets a DNS failure in test_insecure_http_warns_...
@pytest.mark.parametrize("where, words", [("refused", "refused"), ("dns", "DNS")])
def test_an_endpoint_that_cannot_be_reached_exits_1_in_one_line(cli, auth_file, where, words):
    base = f"http://127.0.0.1:{closed_port()}" if where == "refused" else UNREACHABLE
    log = remote_log(base=base)
    result = download(cli, auth_file)
    assert_one_line_error(result, 1, "cannot reach", words)
    assert "clear" not in result.stderr
    assert Path("job.log").read_bytes() == log and not Path("out").exists()


def test_a_status_request_that_stalls_is_abandoned_after_the_timeout(script, finished,
                                                                     auth_file):
    emulator = finished()
    before = downloaded(emulator)
    emulator.add_fault("status", Fault("stall", 0, stall_seconds=3600))
    result = download(script, auth_file, "--timeout", "1")
    assert_one_line_error(result, 1, "127.0.0.1")
    assert snapshot() == before


def test_a_dropped_status_connection_is_retried(script, finished, auth_file):
    emulator = finished()
    logged(emulator)
    emulator.add_fault("status", Fault("drop"))
    result = download(script, auth_file)
    assert result.returncode == 0, result.stderr
    assert len(zips()) == 9


@pytest.mark.parametrize("fault, words", [
    (Fault("stall", 0, stall_seconds=3600), "timeout"),
    (Fault("truncate", 20), "cut short"),
])
def test_a_broken_status_answer_is_named_plainly(cli, finished, auth_file, fault, words):
    emulator = finished()
    logged(emulator)
    emulator.add_fault("status", fault)
    result = download(cli, auth_file, "--timeout", "1")
    assert_one_line_error(result, 1, words)
    assert "Error)" not in result.stderr


# -- Crash safety of the job log ------------------------------------------------------------

def temp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir()
            if p.name.endswith(".tmp") or p.name.startswith(".job.log.")]


def test_an_appended_submission_leaves_no_temp_file_and_keeps_the_mode(script, finished,
                                                                       auth_file, tmp_path):
    emulator = finished()
    submit(script, emulator, auth_file)
    Path("job.log").chmod(0o640)
    submit(script, emulator, auth_file, "--append")
    assert len(json.loads(Path("job.log").read_text())["jobs"]) == 2
    assert temp_files(tmp_path) == []
    assert Path("job.log").stat().st_mode & 0o777 == 0o640


def test_a_resubmission_leaves_no_temp_file(script, finished, auth_file, tmp_path):
    emulator = finished(timeline=["ERROR"])
    submit(script, emulator, auth_file)
    result = download(script, auth_file, "--resubmit")
    assert result.returncode == 1, result.stderr
    first, second = json.loads(Path("job.log").read_text())["jobs"]
    assert first["replaced_by"] == second["job_id"] and second["replaces"] == first["job_id"]
    assert temp_files(tmp_path) == []
