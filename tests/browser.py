"""Headless Chromium for the page check: find or install it, render a page, read the PNG.

Also a small command that makes the README screenshot from a 6-month emulator series:

    python tests/browser.py docs/series-page.png
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Optional

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_VARIABLES = ("CI", "FULL_MAJA_INSTALL_CHROMIUM")
WINDOW = (1000, 1400)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--hide-scrollbars",
         "--force-device-scale-factor=1", "--mute-audio")


def find_chromium() -> Optional[str]:
    """The path of a Chromium on PATH, or None."""
    return next((path for path in map(shutil.which, CANDIDATES) if path), None)


def ensure_chromium() -> tuple[Optional[str], str]:
    """Chromium's path, installing Debian's package when allowed; else None and why.

    It installs (`apt-get update`, then `apt-get install -y chromium`) only when
    running as root with $CI or $FULL_MAJA_INSTALL_CHROMIUM set, so a developer's
    machine is never changed behind their back.
    """
    found = find_chromium()
    if found:
        return found, ""
    allowed = [name for name in INSTALL_VARIABLES if os.environ.get(name)]
    if not allowed:
        return None, ("chromium is not installed; install Debian's `chromium` package, or "
                      "set FULL_MAJA_INSTALL_CHROMIUM=1 (as root) to let the test install it")
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get"):
        return None, ("chromium is not installed, and installing it needs root and "
                      "apt-get: run `apt-get install -y chromium` as root")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        result = subprocess.run(command, env=environment, capture_output=True, text=True,
                                timeout=900)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:]
            return None, f"`{' '.join(command)}` failed: {' '.join(tail)}"
    found = find_chromium()
    return (found, "") if found else (None, "apt-get installed chromium, but it is not on PATH")


def _run(chromium: str, page: Path, extra: list[str], profile: Path,
         timeout: float) -> subprocess.CompletedProcess:
    command = [chromium, *FLAGS, f"--user-data-dir={profile}", *extra,
               page.resolve().as_uri()]
    return subprocess.run(command, capture_output=True, timeout=timeout,
                          env={**os.environ, "HOME": str(profile)})


def screenshot(chromium: str, page: Path, png: Path, *, window: tuple[int, int] = WINDOW,
               timeout: float = 90) -> None:
    """Render `page` to `png` at `window` size (width, height)."""
    with tempfile.TemporaryDirectory(prefix="full-maja-chromium-") as profile:
        result = _run(chromium, page, [f"--screenshot={png.resolve()}",
                                       f"--window-size={window[0]},{window[1]}"],
                      Path(profile), timeout)
    if not png.is_file():
        raise RuntimeError(f"chromium made no screenshot (exit {result.returncode}): "
                           + result.stderr.decode("utf-8", "replace")[-2000:])


def dump_dom(chromium: str, page: Path, *, timeout: float = 90) -> str:
    """The DOM of `page` once Chromium has rendered it, serialized as HTML."""
    with tempfile.TemporaryDirectory(prefix="full-maja-chromium-") as profile:
        result = _run(chromium, page, ["--dump-dom"], Path(profile), timeout)
    if result.returncode != 0 or not result.stdout.strip():
        raise RuntimeError(f"chromium --dump-dom failed (exit {result.returncode}): "
                           + result.stderr.decode("utf-8", "replace")[-2000:])
    return result.stdout.decode("utf-8", "replace")


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and the RGB rows of an 8-bit RGB or RGBA PNG, with the stdlib only."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    offset, chunks, header = 8, [], b""
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        offset += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"{path}: only 8-bit non-interlaced RGB/RGBA PNGs are read here")
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        _unfilter(kind, line, previous, channels)
        rgb = line if channels == 3 else bytearray(
            value for index, value in enumerate(line) if index % 4 != 3)
        rows.append(bytes(rgb))
        previous = line
    return width, height, rows


def _unfilter(kind: int, line: bytearray, previous: bytearray, bpp: int) -> None:
    if kind == 0:
        return
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = previous[i]
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
        elif kind == 4:
            corner = previous[i - bpp] if i >= bpp else 0
            estimate = left + up - corner
            pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
            best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[i] = (line[i] + best) & 0xFF
        else:
            raise ValueError(f"unknown PNG filter {kind}")


def pixel_colours(rows: list[bytes]) -> dict[tuple[int, int, int], int]:
    """How many pixels of each RGB colour an image holds."""
    counts: dict[tuple[int, int, int], int] = {}
    for row in rows:
        for i in range(0, len(row), 3):
            key = (row[i], row[i + 1], row[i + 2])
            counts[key] = counts.get(key, 0) + 1
    return counts


def demo(png: Path) -> None:
    """Screenshot the page of a 6-month series downloaded from the emulator."""
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    from datetime import date

    from emulators import Emulator, EmulatorConfig
    from full_maja.client import Client
    from full_maja.credentials import Credentials
    from full_maja.page import write_series_page
    from full_maja.validation import JobRequest

    chromium, why = ensure_chromium()
    if not chromium:
        raise SystemExit(why)
    user, password = "demo@example.com", "demo-password"
    emulator = Emulator(EmulatorConfig(user=user, password=password, registration_polls=0,
                                       timeline=["FINISHED"]))
    emulator.start()
    try:
        with tempfile.TemporaryDirectory(prefix="full-maja-demo-") as work:
            folder = Path(work) / "36TWQ"
            log = Path(work) / "36TWQ.log"
            with Client(emulator.url, credentials=Credentials(user, password)) as client:
                client.submit([JobRequest("36TWQ", 64, date(2019, 3, 1), date(2019, 9, 1))],
                              log)
                report = client.download(log, folder)
            page = write_series_page(report, folder, title="36TWQ.log")
            assert page is not None
            png.parent.mkdir(parents=True, exist_ok=True)
            screenshot(chromium, page, png)
    finally:
        emulator.stop()


if __name__ == "__main__":
    demo(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/series-page.png"))
