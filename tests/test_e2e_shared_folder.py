"""Issue 20, items 1, 4 and 16: a write folder shared with others (people, logs, runs).

Whatever someone planted where full-maja keeps its files (a link, a FIFO) is refused and
left alone, never followed; two logs share one page; a run that leaves a product to
another run never says the series is complete.
"""
from __future__ import annotations

import json
import os
from html.parser import HTMLParser
from pathlib import Path
from typing import Optional

import pytest
from conftest import submit

from emulators.acquisitions import many_products
from full_maja.lock import hold_file_lock

NAMES = many_products("36TWQ", 2)
PRODUCT = NAMES[0]
PRECIOUS = b"the user's own notes, never to be overwritten\n" * 40

# Where full-maja keeps a file of its own in the write folder, and whether a refusal
# there fails one product (the others go on) or the run's own files.
PLANTED = {
    "main part": (f"{PRODUCT}.part", "product"),
    "tail part": (f"{PRODUCT}.8192.part", "product"),
    "product lock": (f"{PRODUCT}.part.lock", "product"),
    "product zip": (PRODUCT, "product"),
    "verified record": (".full-maja-verified.json", "run"),
    "record lock": (".full-maja-verified.json.lock", "run"),
    "page": ("series.html", "page"),
    "page parts": (".full-maja-page.json", "page"),
    "page parts lock": (".full-maja-page.json.lock", "page"),
}


def download(run, auth_file, *extra):
    return run("download", "-a", auth_file, "-l", "job.log", "-w", "out", "-j", "2", *extra)


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if ": error: " in line]


def assert_refused(result, planted: str, scope: str) -> None:
    """Exit 1, one error line naming the planted file, no traceback; never `complete`."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    errors = error_lines(result)
    assert len(errors) == 1 and planted in errors[0] and "refused" in errors[0], errors
    if scope != "page":
        assert "The series is complete" not in result.stdout


@pytest.mark.parametrize("where", list(PLANTED))
@pytest.mark.parametrize("aim", ["a file of the user's", "nowhere yet"])
def test_a_link_planted_where_full_maja_writes_is_refused_never_followed(
        run, cli, finished, auth_file, tmp_path, where, aim):
    emulator = finished(products=NAMES)
    submit(cli, emulator, auth_file)
    Path("out").mkdir()
    planted, scope = PLANTED[where]
    mine = tmp_path / "out" / "mine.txt" if where == "product zip" else tmp_path / "mine.txt"
    if aim == "a file of the user's":
        mine.write_bytes(PRECIOUS)
    Path("out", planted).symlink_to(mine)
    result = download(run, auth_file)
    assert_refused(result, planted, scope)
    assert os.path.islink(Path("out", planted)) and os.readlink(Path("out", planted)) == str(mine)
    if aim == "a file of the user's":
        assert mine.read_bytes() == PRECIOUS
    else:
        assert not os.path.lexists(mine)
    others = NAMES[1:] if scope == "product" else NAMES
    assert all(Path("out", name).is_file() for name in others)


def test_a_link_planted_as_the_quicklooks_folder_is_refused(run, cli, finished, auth_file,
                                                            tmp_path):
    emulator = finished(products=NAMES)
    submit(cli, emulator, auth_file)
    Path("out").mkdir()
    mine = tmp_path / "photos"
    mine.mkdir()
    (mine / "holiday.jpg").write_bytes(PRECIOUS)
    Path("out", "series-quicklooks").symlink_to(mine)
    result = download(run, auth_file)
    assert_refused(result, "series-quicklooks", "page")
    assert [path.name for path in mine.iterdir()] == ["holiday.jpg"]
    assert (mine / "holiday.jpg").read_bytes() == PRECIOUS
    assert not Path("out", "series.html").exists()


@pytest.mark.parametrize("planted", [f"{PRODUCT}.part", f"{PRODUCT}.part.lock",
                                     ".full-maja-verified.json.lock"])
def test_a_fifo_planted_where_full_maja_writes_is_refused_without_hanging(
        run, cli, finished, auth_file, planted):
    emulator = finished(products=NAMES)
    submit(cli, emulator, auth_file)
    Path("out").mkdir()
    os.mkfifo(Path("out", planted))
    result = download(run, auth_file)
    assert_refused(result, planted, "product" if PRODUCT in planted else "run")
    assert Path("out", planted).is_fifo()


def test_a_product_another_run_is_writing_is_not_called_complete(run, cli, finished,
                                                                 auth_file):
    emulator = finished(products=NAMES)
    submit(cli, emulator, auth_file)
    Path("out").mkdir()
    with hold_file_lock(Path("out", f"{PRODUCT}.part.lock")):  # the other run, writing it
        result = download(run, auth_file)
        assert result.returncode == 75, (result.stdout, result.stderr)
        assert "The series is complete" not in result.stdout
        [summary] = [line for line in result.stdout.splitlines() if line.startswith("Summary")]
        assert "1 product being written by another run" in summary
        assert "the series is not complete yet" in summary
        assert not Path("out", PRODUCT).exists() and Path("out", NAMES[1]).is_file()
    again = download(run, auth_file)
    assert again.returncode == 0, (again.stdout, again.stderr)
    assert "The series is complete" in again.stdout and Path("out", PRODUCT).is_file()


class Anchors(HTMLParser):
    """The jobs of a page (`data-job` of its sections), its ids and its in-page links."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.jobs: list[str] = []
        self.ids: list[str] = []
        self.links: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        attributes = dict(attrs)
        if tag == "section" and attributes.get("data-job"):
            self.jobs.append(attributes["data-job"] or "")
        if attributes.get("id"):
            self.ids.append(attributes["id"] or "")
        if (attributes.get("href") or "").startswith("#"):
            self.links.append((attributes["href"] or "")[1:])


def job_id(log: str) -> str:
    return json.loads(Path(log).read_text())["jobs"][0]["job_id"]


def page() -> tuple[Anchors, str]:
    text = Path("out", "series.html").read_text(encoding="utf-8")
    return Anchors(text), text


def test_two_logs_sharing_a_folder_share_one_page(run, cli, finished, auth_file):
    emulator = finished()
    for log, tile in (("a.log", "36TWQ"), ("b.log", "31TCJ")):
        submitted = cli("process", "-a", auth_file, "-t", tile, "-d", "2019-03-01",
                        "-f", "2019-05-01", "--url", emulator.url, "-l", log)
        assert submitted.returncode == 0, submitted.stderr
    for log in ("a.log", "b.log", "a.log"):
        result = run("download", "-a", auth_file, "-l", log, "-w", "out")
        assert result.returncode == 0, (result.stdout, result.stderr)
    anchors, text = page()
    assert anchors.jobs == [job_id("a.log"), job_id("b.log")]
    assert "Log a.log" in text and "Log b.log" in text and "<title>a.log, b.log</title>" in text
    assert len(anchors.ids) == len(set(anchors.ids)) and set(anchors.links) <= set(anchors.ids)
    before = Path("out", "series.html").stat()
    assert run("download", "-a", auth_file, "-l", "b.log", "-w", "out").returncode == 0
    after = Path("out", "series.html").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    Path("b.log").unlink()
    assert run("download", "-a", auth_file, "-l", "a.log", "-w", "out").returncode == 0
    anchors, text = page()
    assert anchors.jobs == [job_id("a.log")] and "b.log" not in text
