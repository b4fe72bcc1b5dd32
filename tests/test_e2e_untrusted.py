"""End to end, issue 20: what a server sends is judged by what it is, never trusted blindly.

A zip labelled `text/plain` by a raw file host (item 12).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from conftest import submit

from emulators.products import write_product_zip

FIRST = "SENTINEL2A_20190301-083751-427_L2A_T36TWQ_C_V2-2.zip"


def products_moved_to(base: str) -> Callable:
    """A report override moving every product URL to `base`, keeping its path."""
    def change(job, report):
        info = report["USER_INFO"]
        info["results"] = [f"{base}/{url.split('/', 3)[3]}" for url in info["results"]]
        return report
    return change


def serve_file(path: Path, content_type: str) -> Callable:
    """A hostile server's answer: the bytes of `path`, under `content_type`, for any GET."""
    def answer(handler) -> None:
        data = path.read_bytes()
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
    return answer


def download(run, auth, *extra):
    return run("download", "-a", auth, "-l", "job.log", "-w", "out", *extra)


# -- 12. the body decides, not the Content-Type ---------------------------------------------------

def test_a_zip_labelled_text_plain_is_downloaded_and_an_html_page_as_zip_is_refused(
        run, finished, hostile, auth_file, tmp_path):
    real = tmp_path / "real.zip"
    write_product_zip(real, FIRST, 16 * 1024)
    page = tmp_path / "page.html"
    page.write_bytes(b"<!DOCTYPE html><html><body>Quota exceeded</body></html>")
    raw_host, _ = hostile(serve_file(real, "text/plain; charset=utf-8"))
    error_host, _ = hostile(serve_file(page, "application/zip"))
    emulator = finished(products=[FIRST], report_override=products_moved_to(raw_host))
    submit(run, emulator, auth_file)
    result = download(run, auth_file, "--json")
    assert result.returncode == 0, result.stderr
    assert Path("out", FIRST).read_bytes() == real.read_bytes()
    assert json.loads(result.stdout)["complete"] is True

    other = finished(products=[FIRST], report_override=products_moved_to(error_host))
    submit(run, other, auth_file, log="other.log")
    refused = run("download", "-a", auth_file, "-l", "other.log", "-w", "elsewhere")
    assert refused.returncode == 1, refused.stderr
    errors = [line for line in refused.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and "HTML page" in errors[0] and FIRST in errors[0], refused.stderr
    assert not Path("elsewhere", FIRST).exists()
