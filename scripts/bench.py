#!/usr/bin/env python3
"""Benchmarks of full_maja_download.py against the local emulator; writes BENCHMARKS.md."""
from __future__ import annotations

import argparse
import glob
import hashlib
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Optional

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from emulators import Emulator, EmulatorConfig, Fault  # noqa: E402
from emulators.acquisitions import many_products  # noqa: E402
from emulators.geodes import GeodesConfig, GeodesServer  # noqa: E402
from emulators.products import ProductStore  # noqa: E402
from full_maja import Client  # noqa: E402
from full_maja.download import DEFAULT_SPLIT_POLICY  # noqa: E402
from full_maja.products import ProductRef  # noqa: E402
from full_maja.validation import validate_search  # noqa: E402

MIB = 1024 * 1024
GIB = 1024 * MIB
CACHE = ROOT / ".bench-cache"
REPORT = ROOT / "BENCHMARKS.md"
DOWNLOAD = ROOT / "full_maja_download.py"
PROCESS = ROOT / "full_maja_process.py"
USER, PASSWORD = "bench@example.com", "bench-password"
ORBIT = 64
SUBMIT_ARGS = ("-t", "36TWQ", "-o", str(ORBIT), "-d", "2019-03-01", "-f", "2019-05-01")
PRODUCT_PATH = "/cgi-bin/mapcache_results/maja"
CLEARED = ("PEPS_USER", "PEPS_PASSWORD", "PEPS_WPS_URL", "NETRC", "HTTP_PROXY", "HTTPS_PROXY",
           "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")
POLL_SECONDS = 0.005
DISPLAY_DOWNLOAD = "python full_maja_download.py -a peps.txt -l job.log -w DIR"

BIG, MEDIUM, ROUNDS = GIB, 256 * MIB, 3
SERIES_COUNT, SERIES_SIZE, SERIES_BANDWIDTH, SERIES_ROUNDS = 6, 32 * MIB, 8 * MIB, 2
RESUME_SIZE, RESUME_BANDWIDTH, CUT = 64 * MIB, 16 * MIB, 0.4
RERUN_ROUNDS = 3
RATE_WINDOW_NOTE = f"{DEFAULT_SPLIT_POLICY.rate_window:.1f} s"

CRON_LATENCY, CRON_SIZE, CRON_ROUNDS = 0.2, 16 * 1024, 3
CRON_TILES = tuple(f"36T{column}{row}" for column in "WX" for row in "KLMNPQRSTU")
CAMPAIGN_COUNTS, CAMPAIGN_SIZE, CAMPAIGN_RERUNS, CAMPAIGN_PER_DAY = (960, 4800), 16 * 1024, 3, 80
CAMPAIGN_LIMIT, CAMPAIGN_RERUN_BUDGET = 150.0, 10.0
DISPLAY_CRON = "python full_maja_download.py -q -a peps.txt -l jobs.log -w DIR"
CATALOGUE_TILE, CATALOGUE_START, CATALOGUE_END = "31TCJ", "2023-01-01", "2023-12-31"
CATALOGUE_SIZE, CATALOGUE_ROUNDS, CATALOGUE_KEY = 256 * 1024, 3, "bench-api-key"
DISPLAY_CATALOGUE = ("python full_maja_download.py --api-key-file key.txt -l cat.log -w DIR "
                     "-j 4")

TARGET_CRON_PROCESSING, TARGET_CRON_FINISHED = 3.0, 1.5
TARGET_MS_PER_PRODUCT, TARGET_GROWTH, TARGET_CAMPAIGN_RERUN = 8.0, 1.25, 1.0
TARGET_RATIO, TARGET_RSS_MIB, TARGET_RSS_GROWTH_MIB = 0.9, 60.0, 8.0
TARGET_SPEEDUP, TARGET_RESUMED, TARGET_RERUN = 3.0, 0.65, 1.0
TARGET_CATALOGUE = 1.3


class BenchError(Exception):
    """A scenario could not be measured (a run failed or behaved unexpectedly)."""


@dataclass
class Figure:
    """One benchmark figure with its target and verdict."""

    title: str
    value: str
    target: str
    passed: bool
    notes: list[str] = field(default_factory=list)


@dataclass
class Run:
    """One child process: wall time, exit code, peak resident memory, output."""

    started: float
    seconds: float
    code: int
    max_rss_kib: int
    output: str


@dataclass
class Workspace:
    """The temporary folder of a bench run and the account file the scripts use."""

    root: Path
    auth: Path
    count: int = 0

    def folder(self, label: str) -> Path:
        """A new, not yet existing, folder path inside the workspace."""
        self.count += 1
        return self.root / f"{self.count:02d}-{label}"


class PartWatch:
    """Notes when the .part file appears and when it holds every byte of the product."""

    def __init__(self, part: Path, size: int) -> None:
        """Watch part, expected to reach size bytes."""
        self.part, self.size = part, size
        self.appeared: Optional[float] = None
        self.full: Optional[float] = None

    def __call__(self, proc: subprocess.Popen) -> None:
        """Look at the file once."""
        now, size = time.perf_counter(), file_size(self.part)
        if size is None:
            return
        if self.appeared is None:
            self.appeared = now
        if self.full is None and size >= self.size:
            self.full = now

    def transfer(self, run: Run) -> tuple[float, float]:
        """When the file appeared and when it was full (at the latest, at exit), in seconds."""
        end = run.started + run.seconds
        appeared = end if self.appeared is None else self.appeared
        full = end if self.full is None else self.full
        return appeared - run.started, full - appeared


class Interrupter:
    """Sends SIGINT once, when the part files of a product hold a number of bytes."""

    def __init__(self, folder: Path, name: str, threshold: int) -> None:
        """Interrupt when the part files of name in folder hold threshold bytes."""
        self.folder, self.name, self.threshold = folder, name, threshold
        self.at: Optional[int] = None

    def __call__(self, proc: subprocess.Popen) -> None:
        """Look at the files once; interrupt if they hold enough."""
        size = parts_size(self.folder, self.name)[0]
        if self.at is None and size >= self.threshold:
            proc.send_signal(signal.SIGINT)
            self.at = size


def file_size(path: Path) -> Optional[int]:
    """The size of a file, or None if it is not there."""
    try:
        return path.stat().st_size
    except OSError:
        return None


def parts_size(folder: Path, name: str) -> tuple[int, int]:
    """Bytes held by the part files of a product (main part and split-off tails); how many."""
    paths = [folder / (name + ".part"), *folder.glob(glob.escape(name) + ".*.part")]
    sizes = [size for size in map(file_size, paths) if size is not None]
    return sum(sizes), len(sizes)


def mib(count: float) -> str:
    """Bytes as MiB, one decimal."""
    return f"{count / MIB:.1f} MiB"


def child_env() -> dict[str, str]:
    """The environment of the children: no PEPS variables, no proxy."""
    env = {key: value for key, value in os.environ.items() if key not in CLEARED}
    env["NO_PROXY"] = env["no_proxy"] = "*"
    return env


def run_child(command: list[str], cwd: Path,
              watch: Optional[Callable[[subprocess.Popen], None]] = None) -> Run:
    """Run a command; time it, keep its peak RSS (wait4) and output; watch it if asked."""
    with tempfile.TemporaryFile(dir=cwd) as out:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, env=child_env(), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT)
        status, usage = wait_child(proc, watch)
        seconds = time.perf_counter() - started
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(started, seconds, proc.returncode, usage.ru_maxrss, output)


def wait_child(proc: subprocess.Popen,
               watch: Optional[Callable[[subprocess.Popen], None]]) -> tuple[int, os.struct_rusage]:
    """Wait for the child with wait4, calling watch every few milliseconds meanwhile."""
    while True:
        pid, status, usage = os.wait4(proc.pid, 0 if watch is None else os.WNOHANG)
        if pid:
            return status, usage
        watch(proc)  # type: ignore[misc]
        time.sleep(POLL_SECONDS)


def checked(run: Run, what: str, codes: tuple[int, ...] = (0,)) -> Run:
    """The run, if it exited with an expected code; BenchError otherwise."""
    if run.code not in codes:
        tail = " | ".join(run.output.strip().splitlines()[-3:])
        raise BenchError(f"{what} exited {run.code}: {tail}")
    return run


def product_names(label: str, count: int) -> list[str]:
    """Distinct MAJA L2A product names for one scenario."""
    day = {"big": 1, "medium": 2, "series": 3, "resume": 4}[label]
    return [f"SENTINEL2{'AB'[i % 2]}_201903{day:02d}-0837{i:02d}-{i:03d}_L2A_T36TWQ_C_V2-2.zip"
            for i in range(count)]


def build_cache(names: list[str], size: int) -> None:
    """Create the product zips in the cache once (never timed)."""
    CACHE.mkdir(exist_ok=True)
    (CACHE / ".gitignore").write_text("*\n")
    store = ProductStore(CACHE)
    missing = [name for name in names if not store.cache_path(name, size, ORBIT).exists()]
    if missing:
        began = time.perf_counter()
        for name in missing:
            store.zip_path(name, size, ORBIT)
        say(f"  built {len(missing)} product(s) of {mib(size)} in {CACHE.name}/ "
            f"({time.perf_counter() - began:.1f} s, not timed)")


@contextmanager
def emulator(names: Optional[list[str]], size: int, bandwidth: Optional[int] = None,
             timeline: tuple[str, ...] = ("FINISHED",)) -> Iterator[Emulator]:
    """An emulator of jobs on timeline delivering names (None: their period's), from the cache."""
    config = EmulatorConfig(user=USER, password=PASSWORD, timeline=list(timeline),
                            registration_polls=0, products=names, product_size=size,
                            products_dir=CACHE, bandwidth=bandwidth)
    emu = Emulator(config).start()
    try:
        yield emu
    finally:
        emu.stop()


def submit(ws: Workspace, emu: Emulator, tiles: tuple[str, ...] = ()) -> Path:
    """Submit one job (one per tile, if tiles are given) with the real process script."""
    log = ws.folder("job").with_suffix(".log")
    args = list(SUBMIT_ARGS)
    if tiles:
        args[1:2] = tiles
    command = [sys.executable, str(PROCESS), "-a", str(ws.auth), "--url", emu.url,
               *args, "-l", str(log)]
    checked(run_child(command, ws.root), "full_maja_process.py")
    return log


def download_command(ws: Workspace, log: Path, out: Path, *extra: str) -> list[str]:
    """The download command a user would type."""
    return [sys.executable, str(DOWNLOAD), "-a", str(ws.auth), "-l", str(log), "-w", str(out),
            *extra]


def product_url(emu: Emulator, name: str) -> str:
    """The URL of a product of the emulator's only job."""
    job_id = next(iter(emu.jobs))
    return f"{emu.base_url}{PRODUCT_PATH}/{job_id}/{name}"


def bytes_sent(emu: Emulator, name: str) -> list[int]:
    """The body bytes the emulator sent for each GET of a product, in order."""
    return [record.bytes_sent for record in list(emu.requests)
            if record.method == "GET" and record.path.endswith("/" + name)]


def say(text: str) -> None:
    """Print a progress line at once."""
    print(text, flush=True)


# 1 and 2: one big product, against curl; peak memory --------------------------------------

@dataclass
class BigRun:
    """One timed download of the big product, with its phases seen from the .part file."""

    run: Run
    startup: float
    transfer: float
    finish: float


@dataclass
class CurlRun:
    """One curl fetch: wall time, transfer seen from its output file, then `sync FILE`."""

    seconds: float
    transfer: float
    sync: float


def curl_once(ws: Workspace, url: str, size: int) -> CurlRun:
    """Fetch url with curl into a fresh file, then time `sync FILE` (not part of curl's time)."""
    target = ws.folder("curl")
    watch = PartWatch(target, size)
    settle()
    command = ["curl", "-s", "-o", str(target), "-u", f"{USER}:{PASSWORD}", url]
    run = checked(run_child(command, ws.root, watch), "curl")
    got = file_size(target)
    sync = checked(run_child(["sync", str(target)], ws.root), "sync").seconds
    target.unlink()
    if got != size:
        raise BenchError(f"curl fetched {got} bytes instead of {size}")
    return CurlRun(run.seconds, watch.transfer(run)[1], sync)


def settle() -> None:
    """Flush every dirty page first, so a run does not pay for the previous one's writes."""
    os.sync()


def script_once(ws: Workspace, log: Path, name: str, size: int,
                crc_times: Optional[list[float]] = None) -> BigRun:
    """One whole run of the download script into a fresh folder, with its phases."""
    out = ws.folder("download")
    watch = PartWatch(out / (name + ".part"), size)
    settle()
    run = checked(run_child(download_command(ws, log, out), ws.root, watch), "download")
    final = out / name
    if file_size(final) != size or watch.appeared is None:
        raise BenchError(f"the download did not leave {name} of {size} bytes")
    if crc_times is not None:
        crc_times.extend((time_crc_check(final), time_sha256(final)))
    shutil.rmtree(out)
    startup, transfer = watch.transfer(run)
    return BigRun(run, startup, transfer, run.seconds - startup - transfer)


def time_sha256(path: Path) -> float:
    """Time the SHA-256 of the finished file, read again (what the catalogue once did)."""
    began = time.perf_counter()
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(MIB), b""):
            digest.update(chunk)
    return time.perf_counter() - began


def time_crc_check(path: Path) -> float:
    """Time a full zip check (testzip, every member's CRC) of the finished file."""
    began = time.perf_counter()
    with zipfile.ZipFile(path) as archive:
        if archive.testzip() is not None:
            raise BenchError(f"{path.name} fails its CRC check")
    return time.perf_counter() - began


@dataclass
class BigBench:
    """The curl and script runs on the big product, the CRC check and SHA-256 timed alone."""

    curls: list[CurlRun]
    runs: list[BigRun]
    crc: float
    sha256: float


def bench_big(ws: Workspace) -> BigBench:
    """ROUNDS curl runs and ROUNDS script runs on the 1 GiB product, interleaved."""
    if shutil.which("curl") is None:
        raise BenchError("curl is not installed: it is the reference of figure 1")
    name = product_names("big", 1)[0]
    build_cache([name], BIG)
    curls: list[CurlRun] = []
    runs: list[BigRun] = []
    crc: list[float] = []
    with emulator([name], BIG) as emu:
        log = submit(ws, emu)
        url = product_url(emu, name)
        for index in range(ROUNDS):
            curls.append(curl_once(ws, url, BIG))
            runs.append(script_once(ws, log, name, BIG, crc if index == 0 else None))
            say(f"  round {index + 1}: curl {curls[-1].seconds:.2f} s (transfer "
                f"{curls[-1].transfer:.2f} s), script {runs[-1].run.seconds:.2f} s (transfer "
                f"{runs[-1].transfer:.2f} s)")
    return BigBench(curls, runs, crc[0], crc[1])


def seconds_list(values: list[float]) -> str:
    """Times as a short list."""
    return ", ".join(f"{value:.2f}" for value in values)


def rate(seconds: float) -> str:
    """The big product's size over seconds, in MiB/s."""
    return f"{BIG / MIB / seconds:.0f} MiB/s"


def throughput_figure(big: BigBench) -> Figure:
    """Figure 1: whole-run throughput of the script against curl, with what costs what."""
    curl = min(run.seconds for run in big.curls)
    best = min(big.runs, key=lambda run: run.run.seconds)
    ratio = curl / best.run.seconds
    curl_transfer = min(run.transfer for run in big.curls)
    transfer = min(run.transfer for run in big.runs)
    durable = min(run.seconds + run.sync for run in big.curls)
    notes = [
        f"curl, whole run (best of {len(big.curls)}): {curl:.2f} s = {rate(curl)}; runs "
        f"{seconds_list([run.seconds for run in big.curls])} s",
        f"script, whole run (best of {len(big.runs)}): {best.run.seconds:.2f} s = "
        f"{rate(best.run.seconds)}; runs {seconds_list([run.run.seconds for run in big.runs])} s",
        f"transfer only (first to last byte in the output file, best of each): curl "
        f"{curl_transfer:.2f} s, script {transfer:.2f} s = **{curl_transfer / transfer:.2f} x "
        f"curl**",
        f"phases of the best script run: start-up + job check {best.startup:.2f} s, transfer "
        f"{best.transfer:.2f} s, then fsync + zip directory check + rename + exit "
        f"{best.finish:.2f} s",
        f"its gap to the best curl run, {best.run.seconds - curl:.2f} s = start-up + job check "
        f"{best.startup:.2f} s + fsync/check/rename/exit {best.finish:.2f} s + transfer "
        f"difference {best.transfer - curl_transfer:+.2f} s (curl's own start-up: "
        f"{curl - curl_transfer:.2f} s)",
        "member CRCs are checked while the bytes arrive; a full re-read (testzip of the "
        "finished file, timed alone, which the client skips; write-behind has moved most of "
        f"it out of the page cache) would add {big.crc:.2f} s;"
        f" fsync of 1 GiB on this disk (`sync FILE` after curl): "
        f"{seconds_list([run.sync for run in big.curls])} s",
        "the transfer computes the product's SHA-256 as the bytes arrive (the STAC "
        "catalogue's `file:checksum`: a processing service publishes no MD5); hashing the "
        f"finished file alone, read again as the catalogue did before, takes {big.sha256:.2f} s",
        "the client has the kernel write each 16 MiB back to disk as soon as it is written "
        "(write-behind), so the fsync before the rename finds little left to flush; curl "
        "leaves the whole GiB dirty in the page cache",
        f"against a durable curl (curl, then `sync FILE`; best {durable:.2f} s): "
        f"{durable / best.run.seconds:.2f} x",
        f"timed: `{DISPLAY_DOWNLOAD}` (job submitted beforehand, not timed); "
        "`curl -s -o FILE -u USER:PASS URL`",
    ]
    return Figure("1. one 1 GiB product, whole run (CRC check and fsync included) vs curl",
                  f"{ratio:.2f} x curl", f">= {TARGET_RATIO} x curl", ratio >= TARGET_RATIO,
                  notes)


def bench_medium(ws: Workspace) -> list[Run]:
    """ROUNDS whole runs on the 256 MiB product, for their peak memory."""
    name = product_names("medium", 1)[0]
    build_cache([name], MEDIUM)
    with emulator([name], MEDIUM) as emu:
        log = submit(ws, emu)
        runs = [script_once(ws, log, name, MEDIUM).run for _ in range(ROUNDS)]
    say(f"  256 MiB: {seconds_list([run.seconds for run in runs])} s, peak RSS "
        f"{', '.join(f'{run.max_rss_kib / 1024:.1f}' for run in runs)} MiB")
    return runs


def memory_figure(big_runs: list[BigRun], medium_runs: list[Run]) -> Figure:
    """Figure 2: peak RSS of the download process, and its growth with product size."""
    big = [run.run.max_rss_kib / 1024 for run in big_runs]
    medium = [run.max_rss_kib / 1024 for run in medium_runs]
    growth = max(big) - max(medium)
    passed = max(big) < TARGET_RSS_MIB and growth <= TARGET_RSS_GROWTH_MIB
    notes = [f"peak RSS (`ru_maxrss` of the download process, from `os.wait4`), MiB: 1 GiB "
             f"product {', '.join(f'{value:.1f}' for value in big)}; 256 MiB product "
             f"{', '.join(f'{value:.1f}' for value in medium)}",
             f"growth of the maximum for 4x the size: {growth:+.1f} MiB (flat means at most "
             f"{TARGET_RSS_GROWTH_MIB:.0f} MiB, the run-to-run noise; a buffer that grew with "
             "the product would add hundreds of MiB)"]
    return Figure("2. peak resident memory of the download process", f"{max(big):.1f} MiB",
                  f"< {TARGET_RSS_MIB:.0f} MiB (MiB, stricter than MB), flat with size",
                  passed, notes)


# 3 and 5: a series in parallel, then the re-run ------------------------------------------

def bench_series(ws: Workspace) -> tuple[Figure, Figure]:
    """Six bandwidth-limited products, -j 1 against -j 4, then re-runs once all are there."""
    names = product_names("series", SERIES_COUNT)
    build_cache(names, SERIES_SIZE)
    with emulator(names, SERIES_SIZE, SERIES_BANDWIDTH) as emu:
        log = submit(ws, emu)
        serial: list[float] = []
        parallel: list[float] = []
        for _ in range(SERIES_ROUNDS):
            serial.append(series_once(ws, log, "1", names)[0])
            emu.clear_requests()
            seconds, out = series_once(ws, log, "4", names)
            parallel.append(seconds)
            tails = sum(1 for record in list(emu.requests)
                        if record.method == "GET" and record.range)
            say(f"  6 products: -j 1 {serial[-1]:.2f} s, -j 4 {parallel[-1]:.2f} s "
                f"({tails} split-off tails)")
        rerun = rerun_figure(ws, emu, log, out, names)
    return speedup_figure(serial, parallel, tails), rerun


def series_once(ws: Workspace, log: Path, jobs: str, names: list[str]) -> tuple[float, Path]:
    """Download the whole series into a fresh folder with -j jobs; wall time and folder."""
    out = ws.folder(f"series-j{jobs}")
    settle()
    run = checked(run_child(download_command(ws, log, out, "-j", jobs), ws.root),
                  f"download -j {jobs}")
    landed = sorted(path.name for path in out.glob("*.zip"))
    if landed != sorted(names):
        raise BenchError(f"-j {jobs} left {len(landed)} of {len(names)} products")
    return run.seconds, out


def speedup_figure(serial: list[float], parallel: list[float], tails: int) -> Figure:
    """Figure 3: -j 4 against -j 1 on six bandwidth-limited products."""
    ratio = min(serial) / min(parallel)
    transfer = SERIES_SIZE / SERIES_BANDWIDTH
    rounds = -(-SERIES_COUNT // 4)
    shared = SERIES_COUNT * transfer / 4
    fixed = (min(serial) - SERIES_COUNT * transfer, min(parallel) - shared)
    notes = [
        f"{SERIES_COUNT} products of {mib(SERIES_SIZE)} at {mib(SERIES_BANDWIDTH)}/s per "
        f"connection ({transfer:.1f} s each); best of {len(serial)}: -j 1 {min(serial):.2f} s"
        f" (runs {seconds_list(serial)}), -j 4 {min(parallel):.2f} s "
        f"(runs {seconds_list(parallel)})",
        f"transfer floor: -j 1 {SERIES_COUNT * transfer:.1f} s; -j 4 {shared:.1f} s when the "
        f"4 connections share every byte, i.e. 4.0 x. With one connection per product it "
        f"would be {rounds} rounds = {rounds * transfer:.1f} s, at most "
        f"{SERIES_COUNT / rounds:.1f} x: the last {SERIES_COUNT % 4 or 4} products would "
        "leave connections idle. Instead, a free connection takes the tail of the slowest "
        f"product being fetched: the last -j 4 run made {tails} such tail request(s)",
        f"time above the floor: -j 1 {fixed[0]:.2f} s, -j 4 {fixed[1]:.2f} s (start-up, job "
        f"check, and the {RATE_WINDOW_NOTE} of transfer a product needs before its rate is "
        "known and its tail may be split off)",
        f"timed: `{DISPLAY_DOWNLOAD} -j 1` and `... -j 4`, each into an empty folder",
    ]
    return Figure("3. six products, bandwidth-limited, -j 4 vs -j 1", f"{ratio:.2f} x faster",
                  f">= {TARGET_SPEEDUP:.0f} x faster", ratio >= TARGET_SPEEDUP, notes)


def rerun_figure(ws: Workspace, emu: Emulator, log: Path, out: Path,
                 names: list[str]) -> Figure:
    """Figure 5: re-runs when every product of the series is verified on disk."""
    before = {path.name: path.stat().st_mtime_ns for path in out.iterdir()}
    emu.clear_requests()
    times = [rerun_once(ws, log, out) for _ in range(RERUN_ROUNDS)]
    fetched = sum(len(bytes_sent(emu, name)) for name in names)
    after = {path.name: path.stat().st_mtime_ns for path in out.iterdir()}
    median = statistics.median(times)
    say(f"  re-run: {seconds_list(times)} s, {fetched} product request(s)")
    notes = [f"median of {len(times)} re-runs (all: {seconds_list(times)} s) on the folder of "
             f"the -j 4 run; product requests: {fetched}; files changed: {before != after}",
             f"timed: `{DISPLAY_DOWNLOAD}`"]
    passed = median < TARGET_RERUN and fetched == 0 and before == after
    return Figure("5. re-run with all 6 products verified", f"{median:.2f} s",
                  f"< {TARGET_RERUN:.0f} s, no product fetched", passed, notes)


def rerun_once(ws: Workspace, log: Path, out: Path, *extra: str) -> float:
    """One re-run of the download on a complete folder; its wall time."""
    settle()
    return checked(run_child(download_command(ws, log, out, *extra), ws.root), "re-run").seconds


# 4: resuming a product interrupted at 40 % ----------------------------------------------

def bench_resume(ws: Workspace) -> Figure:
    """Ctrl-C a run at 40 %, then count what the next run needs from the server."""
    name = product_names("resume", 1)[0]
    build_cache([name], RESUME_SIZE)
    with emulator([name], RESUME_SIZE, RESUME_BANDWIDTH) as emu:
        log = submit(ws, emu)
        out = ws.folder("resume")
        first_sent, kept, files = interrupt_at(ws, emu, log, out, name)
        emu.clear_requests()
        checked(run_child(download_command(ws, log, out), ws.root), "resumed run")
        resumed = sum(bytes_sent(emu, name))
        if file_size(out / name) != RESUME_SIZE:
            raise BenchError("the resumed run did not complete the product")
        emu.config.bandwidth = None
        in_run = truncated_in_run(ws, emu, log, name)
    fraction = resumed / RESUME_SIZE
    say(f"  resume: part {kept / RESUME_SIZE:.2f} kept, second run fetched {fraction:.3f}")
    notes = [
        f"{mib(RESUME_SIZE)} product at {mib(RESUME_BANDWIDTH)}/s per connection, default "
        f"-j 2 (so its tail is split off to the second connection); SIGINT when its part "
        f"files reached {part_note(first_sent, kept, files)}",
        f"the next run fetched {resumed} bytes = {fraction:.3f} of the product "
        f"(ideal {1 - kept / RESUME_SIZE:.3f})",
        f"in-run resume (Fault('truncate', {CUT:.0%} of the size), no Ctrl-C): {in_run}",
        f"timed: `{DISPLAY_DOWNLOAD}`, SIGINT (exit 130), then the same command again",
    ]
    return Figure("4. bytes to finish a product interrupted at 40 %",
                  f"{fraction:.3f} of its size", f"<= {TARGET_RESUMED}",
                  fraction <= TARGET_RESUMED, notes)


def interrupt_at(ws: Workspace, emu: Emulator, log: Path, out: Path,
                 name: str) -> tuple[int, int, int]:
    """Run the download and SIGINT it at CUT; bytes sent, bytes kept, part files kept."""
    interrupter = Interrupter(out, name, int(CUT * RESUME_SIZE))
    checked(run_child(download_command(ws, log, out), ws.root, interrupter),
            "interrupted run", (130,))
    kept, files = parts_size(out, name)
    if interrupter.at is None or not files:
        raise BenchError("the run ended before reaching 40 %, or left no .part file")
    return sum(bytes_sent(emu, name)), kept, files


def part_note(sent: int, kept: int, files: int) -> str:
    """What the first run had sent and kept, as fractions of the product."""
    return (f"{CUT:.0%}; the server had sent {sent / RESUME_SIZE:.3f} of the product, "
            f"the {files} part file(s) kept {kept / RESUME_SIZE:.3f}")


def truncated_in_run(ws: Workspace, emu: Emulator, log: Path, name: str) -> str:
    """A run whose first transfer is cut at CUT; what it fetched after the cut."""
    emu.clear_requests()
    emu.add_fault(name, Fault("truncate", int(CUT * RESUME_SIZE)))
    out = ws.folder("truncate")
    checked(run_child(download_command(ws, log, out), ws.root), "truncated run")
    sent = bytes_sent(emu, name)
    shutil.rmtree(out)
    after = sum(sent[1:]) / RESUME_SIZE
    return f"{len(sent)} request(s); fetched after the cut: {after:.3f} of the product"


# 6: cron runs over many jobs, 0.2 s away -------------------------------------------------

@dataclass
class CronRuns:
    """Timed runs of the download over one job log: wall times and requests seen."""

    seconds: list[float]
    requests: list[int]

    @property
    def median(self) -> float:
        """The median wall time."""
        return statistics.median(self.seconds)

    def describe(self) -> str:
        """Median, every run, and the requests of each."""
        return (f"median {self.median:.2f} s (runs {seconds_list(self.seconds)} s; requests "
                f"{', '.join(map(str, self.requests))})")


def cron_runs(ws: Workspace, emu: Emulator, log: Path, out: Path,
              codes: tuple[int, ...]) -> CronRuns:
    """CRON_ROUNDS cron-like runs with the emulator's latency on; time and requests of each."""
    runs = CronRuns([], [])
    emu.config.latency = CRON_LATENCY
    try:
        for _ in range(CRON_ROUNDS):
            emu.clear_requests()
            settle()
            run = checked(run_child(download_command(ws, log, out, "-q"), ws.root),
                          f"cron run over {log.name}", codes)
            runs.seconds.append(run.seconds)
            runs.requests.append(len(emu.requests))
    finally:
        emu.config.latency = 0.0
    return runs


def fill(ws: Workspace, log: Path, out: Path) -> None:
    """Download every product of a log's finished jobs (no latency, not timed)."""
    checked(run_child(download_command(ws, log, out, "-q", "-j", "4"), ws.root),
            f"first download of {log.name}")


def bench_cron(ws: Workspace) -> Figure:
    """Cron runs over 1 and 20 processing jobs, then over 1 and 20 finished complete ones."""
    with emulator(None, CRON_SIZE, timeline=("STALLED",)) as emu:
        logs = {1: submit(ws, emu, CRON_TILES[:1]), 20: submit(ws, emu, CRON_TILES)}
        outs = {count: ws.folder(f"cron-{count}") for count in logs}
        processing = {count: cron_runs(ws, emu, logs[count], outs[count], (0, 75))
                      for count in logs}
        say(f"  processing: 1 job {processing[1].describe()}; 20 jobs "
            f"{processing[20].describe()}")
        emu.set_job_status("FINISHED")
        for count in logs:
            fill(ws, logs[count], outs[count])
        products = sum(1 for _ in outs[20].glob("*.zip"))
        finished = {count: cron_runs(ws, emu, logs[count], outs[count], (0,))
                    for count in logs}
        say(f"  finished: 1 job {finished[1].describe()}; 20 jobs {finished[20].describe()}")
    return cron_figure(processing, finished, products)


def cron_figure(processing: dict[int, CronRuns], finished: dict[int, CronRuns],
                products: int) -> Figure:
    """Figure 6: how the cron run grows with the jobs of the log, processing and finished."""
    grows = processing[20].median / processing[1].median
    again = finished[20].median / finished[1].median
    asked = max(finished[20].requests)
    passed = (grows <= TARGET_CRON_PROCESSING and asked == 0
              and again <= TARGET_CRON_FINISHED)
    notes = [
        f"server {CRON_LATENCY} s away: the emulator holds every answer back {CRON_LATENCY} s "
        f"(`EmulatorConfig.latency`); jobs of 2 months, one per tile "
        f"({', '.join(CRON_TILES[:3])}, ...), products of {CRON_SIZE // 1024} KiB",
        f"jobs still processing (job_status STALLED): 1 job {processing[1].describe()}; "
        f"20 jobs {processing[20].describe()}: **{grows:.2f} x** one job",
        f"jobs finished, every product verified on disk ({products} products for the 20 "
        f"jobs): 1 job {finished[1].describe()}; 20 jobs {finished[20].describe()}: "
        f"**{again:.2f} x** the one-job re-run, {asked} request(s)",
        f"timed: `{DISPLAY_CRON}` (exit 75 while processing, 0 once complete); the jobs are "
        "submitted beforehand with `full_maja_process.py -t TILE ...` (one log of 1 job, one "
        "of 20) and, once finished, downloaded with `-j 4`, without latency (not timed)",
    ]
    value = (f"processing {grows:.2f} x; finished {again:.2f} x, {asked} requests")
    target = (f"processing <= {TARGET_CRON_PROCESSING:.0f} x 1 job; finished: 0 requests, "
              f"<= {TARGET_CRON_FINISHED} x 1 job")
    return Figure(f"6. cron run over 20 jobs vs 1, server {CRON_LATENCY} s away", value,
                  target, passed, notes)


# 7: one job of thousands of small products --------------------------------------------------

class Deadline:
    """Sends SIGINT once, when a run has lasted longer than its time limit."""

    def __init__(self, seconds: float) -> None:
        """Interrupt after seconds from now."""
        self.at = time.perf_counter() + seconds
        self.fired = False

    def __call__(self, proc: subprocess.Popen) -> None:
        """Interrupt the run if its time is up."""
        if not self.fired and time.perf_counter() > self.at:
            proc.send_signal(signal.SIGINT)
            self.fired = True


@dataclass
class Outputs:
    """What the page and the catalogue each cost, built from scratch on a complete folder,
    over a bare run (`--no-page --no-catalogue`) of the same folder."""

    page: Run
    catalogue: Run
    bare: Run

    def describe(self) -> str:
        """The figures, for a note."""
        return (f"built alone on the complete folder: page {self.page_cost:.2f} s (peak RSS "
                f"{mib_of(self.page)}), catalog.json {self.catalogue_cost:.2f} s (peak RSS "
                f"{mib_of(self.catalogue)}, {self.catalogue_memory / 1024:+.1f} MiB over the "
                f"bare run; every Item included), over a bare run of {self.bare.seconds:.2f} s "
                f"(peak RSS {mib_of(self.bare)})")

    @property
    def page_cost(self) -> float:
        """The page's run minus the bare run."""
        return max(0.0, self.page.seconds - self.bare.seconds)

    @property
    def catalogue_cost(self) -> float:
        """The catalogue's run minus the bare run."""
        return max(0.0, self.catalogue.seconds - self.bare.seconds)

    @property
    def catalogue_memory(self) -> int:
        """The catalogue's run's peak RSS over the bare run's, in KiB."""
        return self.catalogue.max_rss_kib - self.bare.max_rss_kib


def mib_of(run: Run) -> str:
    """A run's peak RSS in MiB."""
    return f"{run.max_rss_kib / 1024:.1f} MiB"


@dataclass
class Campaign:
    """First download and no-op re-runs of one job of many small products."""

    count: int
    first: Run
    landed: int
    reruns: list[float]
    fetched: int
    outputs: Optional[Outputs] = None

    @property
    def ms_per_product(self) -> float:
        """The first download's wall time per product (a lower bound if it was cut), in ms."""
        return self.first.seconds * 1000 / self.count

    @property
    def rerun(self) -> float:
        """The median no-op re-run; infinite if the first download was cut."""
        return statistics.median(self.reruns) if self.reruns else float("inf")

    def describe(self) -> str:
        """The figures of this size, for a note."""
        first = (f"{self.count} products: first download {self.first.seconds:.2f} s = "
                 f"{self.ms_per_product:.1f} ms/product (peak RSS "
                 f"{self.first.max_rss_kib / 1024:.1f} MiB)")
        if self.landed < self.count:
            return (f"{first}: **cut** by SIGINT after {CAMPAIGN_LIMIT:.0f} s with "
                    f"{self.landed} products on disk, so at least that much; re-run not "
                    "measured")
        text = (f"{first}; no-op re-run median {self.rerun:.2f} s (runs "
                f"{seconds_list(self.reruns)} s, {self.fetched} product request(s))")
        return text + (f"; {self.outputs.describe()}" if self.outputs else "")


def campaign_names(count: int) -> list[str]:
    """count product names of one tile, CAMPAIGN_PER_DAY a day (shared by both sizes)."""
    return many_products("36TWQ", count, date(2019, 3, 1), CAMPAIGN_PER_DAY)


def campaign_once(ws: Workspace, count: int) -> Campaign:
    """Download a job of count small products into an empty folder, then re-run it."""
    names = campaign_names(count)
    build_cache(names, CAMPAIGN_SIZE)
    with emulator(names, CAMPAIGN_SIZE) as emu:
        log = submit(ws, emu)
        out = ws.folder(f"campaign-{count}")
        settle()
        deadline = Deadline(CAMPAIGN_LIMIT)
        first = checked(run_child(download_command(ws, log, out, "-q", "-j", "4"), ws.root,
                                  deadline), f"download of {count} products", (0, 130))
        landed = sum(1 for _ in out.glob("*.zip"))
        if landed != count and not deadline.fired:
            raise BenchError(f"the download left {landed} of {count} products")
        emu.clear_requests()
        reruns = campaign_reruns(ws, log, out) if landed == count else []
        fetched = sum(1 for record in list(emu.requests) if PRODUCT_PATH in record.path)
        outputs = output_costs(ws, log, out) if landed == count else None
    shutil.rmtree(out)
    campaign = Campaign(count, first, landed, reruns, fetched, outputs)
    say(f"  {campaign.describe()}")
    return campaign


def output_costs(ws: Workspace, log: Path, out: Path) -> Outputs:
    """Rebuild the page alone, then the catalogue alone, on the full folder; then a bare run.

    The SHA-256 of each zip stays in the verified record: the download computed it while
    the bytes arrived, so the catalogue of a first run reads no zip either.
    """
    shutil.rmtree(out / "series-quicklooks", ignore_errors=True)
    (out / "series.html").unlink()
    page = checked(run_child(download_command(ws, log, out, "-q", "--no-catalogue"), ws.root),
                   "page run")
    shutil.rmtree(out / "stac-items")
    (out / "catalog.json").unlink()
    catalogue = checked(run_child(download_command(ws, log, out, "-q", "--no-page"), ws.root),
                        "catalogue run")
    bare = [checked(run_child(download_command(ws, log, out, "-q", "--no-page",
                                               "--no-catalogue"), ws.root), "bare run")
            for _ in range(2)]
    fastest = min(bare, key=lambda run: run.seconds)
    return Outputs(page, catalogue, replace(fastest, max_rss_kib=min(
        run.max_rss_kib for run in bare)))


def campaign_reruns(ws: Workspace, log: Path, out: Path) -> list[float]:
    """Up to CAMPAIGN_RERUNS no-op re-runs, fewer once they take CAMPAIGN_RERUN_BUDGET."""
    reruns: list[float] = []
    while len(reruns) < CAMPAIGN_RERUNS and sum(reruns) < CAMPAIGN_RERUN_BUDGET:
        reruns.append(rerun_once(ws, log, out, "-q"))
    return reruns


def bench_campaign(ws: Workspace) -> Figure:
    """Figure 7: per-product cost of a first download and the no-op re-run, two sizes."""
    small, large = (campaign_once(ws, count) for count in CAMPAIGN_COUNTS)
    growth = large.ms_per_product / small.ms_per_product
    rerun = large.rerun
    outputs = large.outputs
    catalogue_ok = outputs is not None and small.outputs is not None \
        and outputs.catalogue_cost <= max(outputs.page_cost, 0.05) \
        and outputs.catalogue_memory - small.outputs.catalogue_memory \
        <= TARGET_RSS_GROWTH_MIB * 1024
    passed = (large.ms_per_product <= TARGET_MS_PER_PRODUCT and growth <= TARGET_GROWTH
              and rerun < TARGET_CAMPAIGN_RERUN and large.fetched == 0 and catalogue_ok)
    notes = [
        f"one job of {CAMPAIGN_SIZE // 1024} KiB products (real zips, CRCs checked), "
        f"-j 4, loopback, no latency",
        small.describe(), large.describe(),
        f"per-product cost at {large.count} / at {small.count}: **{growth:.2f} x** "
        "(1.00 x is linear)",
        *([catalogue_memory_note(small.outputs, outputs)] if outputs and small.outputs else []),
        f"timed: `{DISPLAY_DOWNLOAD} -q -j 4` into an empty folder, then `{DISPLAY_DOWNLOAD}"
        " -q` again on the complete folder",
    ]
    at_least = ">= " if large.landed < large.count else ""
    rerun_text = f"{rerun:.2f} s" if large.reruns else "not measured"
    value = (f"{at_least}{large.ms_per_product:.1f} ms/product ({at_least}{growth:.2f} x "
             f"{small.count}); re-run {rerun_text}")
    if outputs is not None and small.outputs is not None:
        value += (f"; catalog.json {outputs.catalogue_cost:.2f} s (page "
                  f"{outputs.page_cost:.2f} s), its memory "
                  f"{(outputs.catalogue_memory - small.outputs.catalogue_memory) / 1024:+.1f} "
                  f"MiB from {small.count}")
    target = (f"<= {TARGET_MS_PER_PRODUCT:.0f} ms/product, <= {TARGET_GROWTH} x; re-run "
              f"< {TARGET_CAMPAIGN_RERUN:.0f} s; catalog.json <= the page, its memory flat "
              f"(+{TARGET_RSS_GROWTH_MIB:.0f} MiB at most from {small.count})")
    return Figure(f"7. one job of {small.count} and {large.count} products of "
                  f"{CAMPAIGN_SIZE // 1024} KiB", value, target, passed, notes)


def catalogue_memory_note(small: Outputs, large: Outputs) -> str:
    """How the catalogue's memory and the whole run's grow from the small to the large job."""
    own = (large.catalogue_memory - small.catalogue_memory) / 1024
    whole = (large.catalogue.max_rss_kib - small.catalogue.max_rss_kib) / 1024
    bare = (large.bare.max_rss_kib - small.bare.max_rss_kib) / 1024
    return (f"catalogue's memory (peak RSS of its run over the bare run's): "
            f"{small.catalogue_memory / 1024:+.1f} MiB with the small job, "
            f"{large.catalogue_memory / 1024:+.1f} MiB with the large: **{own:+.1f} MiB** "
            f"(flat: at most {TARGET_RSS_GROWTH_MIB:.0f} MiB, the run-to-run noise); the whole "
            f"catalogue run grows {whole:+.1f} MiB, the bare run {bare:+.1f} MiB (the record and "
            "the report of the larger job)")


# the report --------------------------------------------------------------------------------

def machine() -> list[str]:
    """CPU model, cores, RAM, OS and Python of this machine."""
    return [f"CPU: {cpu_model()}, {os.cpu_count()} cores",
            f"RAM: {mem_total_gib():.1f} GiB",
            f"OS: {platform.system()} {platform.release()}",
            f"Python: {platform.python_version()} ({sys.executable})",
            f"curl: {curl_version()}"]


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_total_gib() -> float:
    """The RAM from /proc/meminfo, in GiB."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / (1024 * 1024)
    except OSError:
        pass
    return 0.0


def curl_version() -> str:
    """The first words of curl --version."""
    result = subprocess.run(["curl", "--version"], capture_output=True, text=True, check=False)
    return " ".join(result.stdout.split()[:2])


def invocation() -> str:
    """The exact command that ran this bench, paths relative to the repository."""
    return shlex.join(relative(word) for word in (sys.executable, *sys.argv))


def relative(word: str) -> str:
    """A path inside the repository, relative to it; anything else as it is."""
    path = Path(word)
    if path.is_absolute() and ROOT in path.parents:
        return str(path.relative_to(ROOT))
    return word


def render(figures: list[Figure], seconds: float, load: tuple[float, float, float]) -> str:
    """BENCHMARKS.md (`load`: the load average when the run began)."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Benchmarks", "",
             "Written by `make bench` (`scripts/bench.py`); each run overwrites this file.", "",
             f"- Date: {stamp}", *(f"- {line}" for line in machine()),
             f"- Load average (1, 5, 15 min): {load_text(load)} when the run began, "
             f"{load_text(os.getloadavg())} when it ended",
             f"- Command: `{invocation()}` (from the repository root)",
             f"- Duration: {seconds:.0f} s", "",
             "| figure | measured | target | result |", "|---|---|---|---|"]
    lines += [f"| {f.title} | {f.value} | {f.target} | {verdict(f)} |" for f in figures]
    lines += ["", "## Details", ""]
    for figure in figures:
        lines += [f"### {figure.title}", "", *(f"- {note}" for note in figure.notes), ""]
    return "\n".join([*lines, *METHOD]) + "\n"


def load_text(load: tuple[float, float, float]) -> str:
    """A load average as three numbers."""
    return ", ".join(f"{value:.2f}" for value in load)


def verdict(figure: Figure) -> str:
    """PASS or FAIL."""
    return "PASS" if figure.passed else "FAIL"


METHOD = [
    "## Method", "",
    "- Server: the project's emulator (`emulators`) on 127.0.0.1, in the bench "
    "process; jobs have the timeline `[\"FINISHED\"]` and `registration_polls=0`. Product "
    "zips are built once into `.bench-cache/` (git-ignored by its own `.gitignore`); "
    "building them is not timed.",
    "- Client: the real `full_maja_download.py`, run as a subprocess like a user would. "
    "The job is submitted first with `full_maja_process.py` (not timed). The package is "
    "byte-compiled first (`compileall`, as `pip install` does), so that no run pays for "
    "compiling it.",
    "- A download time is the **whole run** of the script, from process start to exit: "
    "start-up, job check (status document, refresh, report), transfer, fsync, the zip "
    "check of every member's CRC, the rename and exit. curl only transfers and does not "
    "fsync. The transfer-only time is seen from the disk: from the creation of "
    "`NAME.zip.part` (curl: of its output file) to the moment it holds every byte (polled "
    "every 5 ms). Every timed run starts after `os.sync()` and writes into an empty folder "
    "of a temporary directory on the same disk; timings are best of 3 (figure 5: median), "
    "and all runs are listed, since page-cache writes make figure 1 vary from run to run.",
    "- Peak memory is `ru_maxrss` of the download process itself (`os.wait4`).",
    "- Figure 4 interrupts a run with SIGINT (Ctrl-C) once the product's part files "
    "(`NAME.zip.part` and any split-off `NAME.zip.START.part`) hold 40 % of it, then counts "
    "the body bytes the emulator sends during the next run.",
    "- Figure 5 re-runs the download on the folder of the `-j 4` run; the emulator must "
    "see no product request and no file may change.",
    "- Figure 6 gives the emulator 0.2 s of latency before every answer (a distant server; "
    "it still answers connections side by side) and times cron-like runs (`-q`) over a log "
    "of 1 job and over a log of 20 jobs (one per tile), first while the jobs are processing "
    "(job_status STALLED), then once they are finished and every product is on disk; it "
    "counts every request the emulator sees during each run. Times are medians of 3.",
    "- Figure 7 serves one job of 960, then of 4,800 products of 16 KiB (80 acquisitions a "
    "day; the 960 are the first of the 4,800), times the first download with `-j 4` into an "
    "empty folder (ms per product = wall time / products), then no-op re-runs on the "
    "complete folder (median of 3, or of fewer once they have taken 10 s). A first download "
    "still running after 150 s is interrupted (SIGINT): its cost is then a lower bound and "
    "its re-run is not measured. Then, on the complete folder, the page alone is built from "
    "scratch (`series.html` and `series-quicklooks/` removed, `--no-catalogue`), then the "
    "catalogue alone (`catalog.json` and `stac-items/` removed, `--no-page`; the SHA-256 of "
    "each zip stays in the verified record, where the download put it), then a bare run "
    "(`--no-page --no-catalogue`, twice); each output's cost is its run's time minus the "
    "faster bare run's, the catalogue's memory its run's peak RSS minus the smaller bare "
    "peak, flat when that grows by at most 8 MiB from 960 to 4,800 products.",
    "- Figure 8 serves a year of one tile from the GEODES-like catalogue (`emulators.geodes`, "
    "in the bench process; products of 256 KiB built once into `.bench-cache/`): the search "
    "is recorded with `full_maja_process.py --source catalogue` (not timed), then each "
    "timed download run (best of 3, into an empty folder) searches every page and fetches "
    "every product through the key-guarded redirect; curl fetches the same product URLs "
    "four at a time (`xargs -P 4`, following the redirect) into an empty folder. The cron "
    "re-run on the complete folder counts every request the catalogue and its storage see.",
]


def scenario(name: str, measure: Callable[[], list[Figure]]) -> list[Figure]:
    """Run one scenario; a scenario that cannot be measured yields a failing figure."""
    say(f"{name} ...")
    try:
        return measure()
    except BenchError as exc:
        say(f"  failed: {exc}")
        return [Figure(name, "not measured", "-", False, [str(exc)])]


def big_figures(ws: Workspace) -> list[Figure]:
    """Figures 1 and 2."""
    big = bench_big(ws)
    return [throughput_figure(big), memory_figure(big.runs, bench_medium(ws))]


# 8: a year of one tile from the catalogue ----------------------------------------------------

@dataclass
class CatalogueRuns:
    """The timed runs of figure 8 and what the catalogue saw."""

    script: list[float]
    curl: list[float]
    products: int
    items: int
    pages: int
    searches: list[int]
    rerun_seconds: float
    rerun_requests: int


def catalogue_refs(geodes: GeodesServer) -> list[ProductRef]:
    """The products the catalogue lists for the year (searched from Python, not timed)."""
    request = validate_search(CATALOGUE_TILE, None, CATALOGUE_START, CATALOGUE_END)
    with Client(geodes.url, protocol="catalogue") as client:
        [state] = client.search([request])
    assert state.report is not None
    return [ref for ref in state.report.results if not ref.cloudy]


def catalogue_items(geodes: GeodesServer) -> int:
    """How many items (versions included) the year of the tile holds: `context.matched`."""
    return sum(1 for plan in geodes.plans() if plan.tile == CATALOGUE_TILE
               and CATALOGUE_START <= plan.when.date().isoformat() <= CATALOGUE_END)


def curl_catalogue(ws: Workspace, refs: list[ProductRef]) -> float:
    """curl fetching the same product URLs four at a time (redirects followed), into a folder."""
    out = ws.folder("curl-catalogue")
    out.mkdir()
    listing = ws.root / "curl-list.txt"
    listing.write_text("".join(f"{ref.url} {out / (ref.name or 'x')}\n" for ref in refs))
    settle()
    command = ["xargs", "-a", str(listing), "-P", "4", "-n", "2", "sh", "-c",
               f'curl -sfL -H "X-API-Key: {CATALOGUE_KEY}" -o "$1" "$0"']
    run = checked(run_child(command, ws.root), "curl")
    got = sum(1 for _ in out.glob("*.zip"))
    if got != len(refs):
        raise BenchError(f"curl fetched {got} products instead of {len(refs)}")
    shutil.rmtree(out)
    return run.seconds


def catalogue_once(ws: Workspace, geodes: GeodesServer, log: Path, key: Path,
                   count: int) -> tuple[float, int, Path]:
    """One whole download run of the year into an empty folder: time, searches, folder."""
    out = ws.folder("catalogue")
    settle()
    geodes.clear_requests()
    command = [sys.executable, str(DOWNLOAD), "--api-key-file", str(key), "-l", str(log),
               "-w", str(out), "-j", "4", "-q"]
    run = checked(run_child(command, ws.root), "download of the catalogue's year")
    got = sum(1 for _ in out.glob("*.zip"))
    if got != count:
        raise BenchError(f"the download left {got} products instead of {count}")
    return run.seconds, len(geodes.searches()), out


def bench_catalogue(ws: Workspace) -> Figure:
    """A year of one tile searched and downloaded at -j 4, vs curl; then the cron re-run."""
    CACHE.mkdir(exist_ok=True)
    (CACHE / ".gitignore").write_text("*\n")
    config = GeodesConfig(api_key=CATALOGUE_KEY, products_dir=CACHE,
                          product_size=CATALOGUE_SIZE, tiles=(CATALOGUE_TILE,))
    with GeodesServer(config) as geodes:
        key = ws.root / "key.txt"
        key.write_text(CATALOGUE_KEY + "\n")
        key.chmod(0o600)
        log = ws.root / "cat.log"
        checked(run_child([sys.executable, str(PROCESS), "--source", "catalogue",
                           "--catalogue-url", geodes.url, "-t", CATALOGUE_TILE, "-d",
                           CATALOGUE_START, "-f", CATALOGUE_END, "-l", str(log)], ws.root),
                "full_maja_process.py --source catalogue")
        refs = catalogue_refs(geodes)
        items = catalogue_items(geodes)
        script, searches, curl = [], [], []
        out = ws.root
        for _ in range(CATALOGUE_ROUNDS):
            seconds, asked, out = catalogue_once(ws, geodes, log, key, len(refs))
            script.append(seconds)
            searches.append(asked)
            curl.append(curl_catalogue(ws, refs))
        geodes.clear_requests()
        rerun = checked(run_child([sys.executable, str(DOWNLOAD), "--api-key-file", str(key),
                                   "-l", str(log), "-w", str(out), "-q"], ws.root),
                        "cron re-run")
        runs = CatalogueRuns(script, curl, len(refs), items, -(-items // 80), searches,
                             rerun.seconds, len(geodes.requests))
    say(f"  script {seconds_list(script)} s, curl {seconds_list(curl)} s")
    return catalogue_figure(runs)


def catalogue_figure(runs: CatalogueRuns) -> Figure:
    """Figure 8: the catalogue's year at -j 4 against curl, and its cron re-run."""
    ratio = min(runs.script) / min(runs.curl)
    per_page = max(runs.searches) / runs.pages
    passed = ratio <= TARGET_CATALOGUE and per_page == 1.0 and runs.rerun_requests == 0
    notes = [
        f"the GEODES emulator (`emulators.geodes`) lists {runs.items} items for tile "
        f"{CATALOGUE_TILE} over {CATALOGUE_START}..{CATALOGUE_END} (two orbits, some dates "
        f"in two versions, some with metadata only): {runs.pages} search pages of at most "
        f"80; {runs.products} products of {CATALOGUE_SIZE // 1024} KiB to download",
        f"search requests per run: {', '.join(map(str, runs.searches))} for {runs.pages} "
        f"pages: **{per_page:.2f} request(s) per page** (paged by number, no `next` link "
        "followed, no page asked twice)",
        f"whole download run (search, {runs.products} downloads through the key-guarded "
        f"redirect, MD5 and CRC checks, fsync, rename), best of {CATALOGUE_ROUNDS}: "
        f"{min(runs.script):.2f} s (runs {seconds_list(runs.script)}); curl fetching the same "
        f"URLs four at a time (`xargs -P 4 curl -L`): {min(runs.curl):.2f} s (runs "
        f"{seconds_list(runs.curl)}): **{ratio:.2f} x curl**",
        f"cron re-run on the complete folder (the period is over): {runs.rerun_seconds:.2f} s, "
        f"**{runs.rerun_requests} request(s)**",
        f"timed: `{DISPLAY_CATALOGUE}` into an empty folder (the search was recorded "
        "beforehand with `full_maja_process.py --source catalogue`, not timed)",
    ]
    value = (f"{ratio:.2f} x curl; {per_page:.2f} request/page; re-run "
             f"{runs.rerun_requests} requests")
    target = f"<= {TARGET_CATALOGUE} x curl; 1 request/page; re-run 0 requests"
    return Figure("8. a year of one tile from the catalogue, -j 4, vs curl", value, target,
                  passed, notes)


SCENARIOS: dict[str, tuple[str, Callable[[Workspace], list[Figure]]]] = {
    "big": ("1-2. one 1 GiB product (and a 256 MiB one)", big_figures),
    "series": ("3, 5. six products, -j 1 / -j 4, re-run", lambda ws: list(bench_series(ws))),
    "resume": ("4. resume after Ctrl-C at 40 %", lambda ws: [bench_resume(ws)]),
    "cron": ("6. cron runs over 1 and 20 jobs, 0.2 s away", lambda ws: [bench_cron(ws)]),
    "campaign": ("7. one job of 960 and 4,800 small products",
                 lambda ws: [bench_campaign(ws)]),
    "catalogue": ("8. a year of one tile from the catalogue", lambda ws: [bench_catalogue(ws)]),
}


def all_figures(ws: Workspace, names: list[str]) -> list[Figure]:
    """The figures of the named scenarios, in the order of the targets."""
    figures: list[Figure] = []
    for name in names:
        title, measure = SCENARIOS[name]
        figures += scenario(title, lambda measure=measure: measure(ws))
    return sorted(figures, key=lambda figure: figure.title)


@contextmanager
def workspace() -> Iterator[Workspace]:
    """A temporary folder with an account file, removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="full-maja-bench-"))
    try:
        auth = root / "peps.txt"
        auth.write_text(f"{USER} {PASSWORD}\n")
        auth.chmod(0o600)
        yield Workspace(root, auth)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    """The command line: every scenario by default, or some with --only (nothing written)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", action="append", choices=sorted(SCENARIOS),
                        help="run only this scenario (repeatable); BENCHMARKS.md is not written")
    return parser.parse_args(argv)


def compile_package() -> None:
    """Byte-compile the client as an installation would (PYTHONDONTWRITEBYTECODE may be set)."""
    for target in ("full_maja", DOWNLOAD.name, PROCESS.name):
        checked(run_child([sys.executable, "-m", "compileall", "-q", target], ROOT),
                "compileall")


def main(argv: Optional[list[str]] = None) -> int:
    """Run the benchmarks, print them and write BENCHMARKS.md; 1 if a target is missed."""
    args = parse_args(argv)
    began, load = time.perf_counter(), os.getloadavg()
    compile_package()
    with workspace() as ws:
        figures = all_figures(ws, args.only or list(SCENARIOS))
    say("")
    for figure in figures:
        say(f"{verdict(figure)}  {figure.title}: {figure.value} (target {figure.target})")
        if args.only:
            for note in figure.notes:
                say(f"    {note}")
    if not args.only:
        REPORT.write_text(render(figures, time.perf_counter() - began, load))
        say(f"written to {REPORT.relative_to(ROOT)}")
    return 0 if all(figure.passed for figure in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
