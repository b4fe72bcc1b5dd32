"""Shared fixtures: an isolated environment, the emulator, the real scripts (`run`) and
their entry points in this process (`cli`), both giving a CompletedProcess."""
from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from emulators import Emulator, EmulatorConfig
from full_maja.cli import download_main, main, process_main
from full_maja.masking import forget_secrets

ROOT = Path(__file__).resolve().parent.parent
USER, PASSWORD = "demo@example.com", "s3cret-Pa55word"
API_KEY = "key-0123456789"
SCRIPTS = {"process": ROOT / "full_maja_process.py", "download": ROOT / "full_maja_download.py",
           "full-maja": ROOT / "full_maja" / "__main__.py"}
MAINS = {"process": process_main, "download": download_main, "full-maja": main}
CLEARED_VARIABLES = ("PEPS_USER", "PEPS_PASSWORD", "PEPS_WPS_URL", "NETRC", "FULL_MAJA_API_KEY",
                     "FULL_MAJA_CATALOGUE_URL", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy",
                     "https_proxy", "ALL_PROXY")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME and a journal of its own and no PEPS variables: nothing of the developer's
    (netrc, API key, journal of submissions) leaks in or is written to."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for name in CLEARED_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")
    monkeypatch.chdir(tmp_path)
    return home


@pytest.fixture(autouse=True)
def no_secret_kept() -> Iterator[None]:
    """Each test starts and ends with no secret registered to hide (they are per process)."""
    forget_secrets()
    yield
    forget_secrets()


@pytest.fixture
def state_home(tmp_path: Path) -> Path:
    """The test's own XDG_STATE_HOME, where the journal of submissions goes."""
    return tmp_path / "state"


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., Emulator]]:
    """Start emulators with given settings; all are stopped after the test."""
    started: list[Emulator] = []

    def start(**settings: object) -> Emulator:
        settings.setdefault("user", USER)
        settings.setdefault("password", PASSWORD)
        emulator = Emulator(EmulatorConfig(**settings))
        emulator.start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def make_ogcapi() -> Iterator[Callable[..., Any]]:
    """Start real pygeoapi FULL_MAJA servers with given settings; all stop after the test."""
    from emulators.ogcapi import OgcApiConfig, OgcApiServer  # pygeoapi: heavy import
    started: list[OgcApiServer] = []

    def start(**settings: Any) -> OgcApiServer:
        settings.setdefault("user", USER)
        settings.setdefault("password", PASSWORD)
        settings.setdefault("api_key", API_KEY)
        settings.setdefault("run_seconds", 0.4)
        server = OgcApiServer(OgcApiConfig(**settings)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def make_pywps() -> Iterator[Callable[..., Any]]:
    """Start a real PyWPS FULL_MAJA server with given settings; it stops after the test.

    PyWPS keeps its configuration in a global: one such server per process at a time."""
    from emulators.pywps import PyWpsConfig, PyWpsServer  # pywps: heavy import
    started: list[PyWpsServer] = []

    def start(**settings: Any) -> PyWpsServer:
        settings.setdefault("user", USER)
        settings.setdefault("password", PASSWORD)
        settings.setdefault("register_seconds", 0.4)
        settings.setdefault("run_seconds", 0.6)
        server = PyWpsServer(PyWpsConfig(**settings)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def make_geodes(product_cache: Path) -> Iterator[Callable[..., Any]]:
    """Start GEODES-like catalogues (small products, built once per module); all stop after."""
    from emulators.geodes import GeodesConfig, GeodesServer
    started: list[GeodesServer] = []

    def start(**settings: Any) -> GeodesServer:
        settings.setdefault("api_key", API_KEY)
        settings.setdefault("products_dir", product_cache)
        server = GeodesServer(GeodesConfig(**settings)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def product_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Product zips built once for a whole test module."""
    return tmp_path_factory.mktemp("products")


@pytest.fixture
def finished(make_emulator: Callable[..., Emulator],
             product_cache: Path) -> Callable[..., Emulator]:
    """Start emulators whose jobs are finished at once, with small products."""
    def start(**settings: Any) -> Emulator:
        settings.setdefault("registration_polls", 0)
        settings.setdefault("timeline", ["FINISHED"])
        settings.setdefault("product_size", 16 * 1024)
        settings.setdefault("products_dir", product_cache)
        return make_emulator(**settings)
    return start


@pytest.fixture
def emulator(make_emulator: Callable[..., Emulator]) -> Emulator:
    """An emulator with its default timeline, reachable right away."""
    return make_emulator(registration_polls=0)


class Hostile(BaseHTTPRequestHandler):
    """A server whose GET and POST answers come from `Hostile.answer` (which reads
    `self.command`), and which notes headers seen."""

    answer: Callable[[BaseHTTPRequestHandler], None]
    seen: list

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers))
        try:
            type(self).answer(self)
        except OSError:
            pass

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def hostile() -> Iterator[Callable[[Callable], tuple[str, list]]]:
    """Start hostile servers answering with a given function: (base URL, headers seen)."""
    servers = []

    def start(answer: Callable) -> tuple[str, list]:
        handler = type("Handler", (Hostile,), {"answer": staticmethod(answer), "seen": []})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", handler.seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def special_file(folder: Path, kind: str) -> Path:
    """A file option's nightmare: a FIFO (opening it hangs), a folder, or a character device.

    The device is /dev/zero (reading it never ends); as root, a private node of it in
    `folder`, so that code which replaced a file option by a regular file (the bugs
    these tests guard against) cannot destroy the machine's own.
    """
    path = folder / kind
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif os.geteuid() != 0:
        return Path("/dev/zero")  # a user cannot replace it
    else:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 5))
    return path


@pytest.fixture
def auth_file(tmp_path: Path) -> Path:
    """A credentials file of the original form, readable by its owner only."""
    path = tmp_path / "peps.txt"
    path.write_text(f"{USER} {PASSWORD}\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    """An API key file (`--api-key-file`), readable by its owner only."""
    path = tmp_path / "key.txt"
    path.write_text(API_KEY + "\n")
    path.chmod(0o600)
    return path


# Start a script as a terminal does: Ctrl-C (SIGINT) interrupts it even when this test run
# ignores SIGINT, as any command started in the background (`make test &`, nohup) does and
# hands down to the processes it starts.
_INTERRUPTIBLE = ("import os, runpy, signal, sys; "
                  "signal.signal(signal.SIGINT, signal.default_int_handler); sys.argv.pop(0); "
                  "sys.path[0] = os.path.dirname(sys.argv[0]); "
                  "runpy.run_path(sys.argv[0], run_name='__main__')")


_INTERRUPTIBLE_MODULE = ("import runpy, signal, sys; "
                         "signal.signal(signal.SIGINT, signal.default_int_handler); "
                         "sys.argv.pop(0); runpy.run_module(sys.argv[0], run_name='__main__', "
                         "alter_sys=True)")


def interruptible(name: str, *args: object) -> list[str]:
    """The command line of a script started as from a terminal, for tests that press Ctrl-C."""
    return interruptible_python(SCRIPTS[name], *args)


def interruptible_python(*argv: object) -> list[str]:
    """`python ARGV...` (a script, or `-m MODULE`) started as from a terminal (see above)."""
    words = [str(word) for word in argv]
    if words[0] == "-m":
        return [sys.executable, "-c", _INTERRUPTIBLE_MODULE, *words[1:]]
    return [sys.executable, "-c", _INTERRUPTIBLE, *words]


class Script:
    """Runs a real command-line script as a user would."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd

    def __call__(self, name: str, *args: object, env: dict | None = None,
                 timeout: float = 60) -> subprocess.CompletedProcess:
        environment = dict(os.environ)
        environment.update(env or {})
        program = ["-m", "full_maja"] if name == "full-maja" else [str(SCRIPTS[name])]
        return subprocess.run([sys.executable, *program, *map(str, args)],
                              cwd=self.cwd, env=environment, capture_output=True, text=True,
                              timeout=timeout)


@pytest.fixture
def run(tmp_path: Path) -> Script:
    """Run `process`, `download` or `full-maja` (python -m full_maja) in the test's folder."""
    return Script(tmp_path)


class EntryPoint:
    """Runs a script's entry point in this process, as the script would; results as `Script`."""

    def __init__(self, capsys: pytest.CaptureFixture[str],
                 monkeypatch: pytest.MonkeyPatch) -> None:
        self.capsys = capsys
        self.monkeypatch = monkeypatch

    def __call__(self, name: str, *args: object, env: dict | None = None,
                 timeout: float = 60) -> subprocess.CompletedProcess:
        words = [str(arg) for arg in args]
        logger = logging.getLogger("full_maja")
        saved = (list(logger.handlers), logger.propagate, logger.level)
        try:
            with self.monkeypatch.context() as patch:
                for key, value in (env or {}).items():
                    patch.setenv(key, value)
                patch.setattr(sys, "argv", [str(SCRIPTS[name]), *words])
                code = MAINS[name](words)
        finally:
            logger.handlers, logger.propagate = saved[0], saved[1]
            logger.setLevel(saved[2])
        out, err = self.capsys.readouterr()
        return subprocess.CompletedProcess([name, *words], code, out, err)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> EntryPoint:
    """Run `process`, `download` or `full-maja` in this process, as `run` does."""
    return EntryPoint(capsys, monkeypatch)


def assert_one_line_error(result: subprocess.CompletedProcess, code: int, *words: str) -> None:
    """The run failed with `code`, one error line on stderr naming `words`, no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], (word, errors[0])
    assert PASSWORD not in result.stdout + result.stderr


def submit(run: Script, emulator: Emulator, auth: Path, *extra: object,
           log: str = "job.log") -> subprocess.CompletedProcess:
    """Submit the article's example series (6 months would be slow: 2 months) to `emulator`."""
    result = run("process", "-a", auth, "-t", "36TWQ", "-o", "64", "-d", "2019-03-01",
                 "-f", "2019-05-01", "--url", emulator.url, "-l", log, *extra)
    assert result.returncode == 0, result.stderr
    return result


def wait_until(condition: Callable[[], object], what: str, seconds: float = 120) -> None:
    """Poll until `condition()` holds: the way to wait for a condition made to happen.

    The deadline only keeps a broken test from hanging; no outcome depends on it.
    """
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened within {seconds:.0f} s: {what}")
        time.sleep(0.01)


def file_size(path: Path) -> int:
    """The size of a file, 0 while it does not exist."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def product_requests(emulator: Emulator) -> list:
    """The requests the emulator received for product zips."""
    return [record for record in emulator.requests if record.path.endswith(".zip")]
