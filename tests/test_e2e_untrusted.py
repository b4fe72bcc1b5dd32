"""End to end, issue 20: what a server sends is judged by what it is, never trusted blindly.

A password or key echoed by the server (item 6); any date (item 7); a zip bomb whose every
CRC is right (item 9); `--timeout` bounds every wait (item 11); a zip labelled `text/plain`
by a raw file host (item 12); a server's list of jobs, long or looping (item 14).
"""
from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from archives import overlapping_zip
from conftest import API_KEY, PASSWORD, USER, assert_one_line_error, submit

from emulators.products import ProductStore, write_product_zip

FIRST = "SENTINEL2A_20190301-083751-427_L2A_T36TWQ_C_V2-2.zip"
SECOND = "SENTINEL2B_20190306-083752-638_L2A_T36TWQ_C_V2-2.zip"
PRODUCT_SIZE = 16 * 1024
BOUND = 120  # seconds: far beyond what a bounded check takes, far below 100 GiB inflated


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


def download(run, auth, *extra, timeout: float = 60):
    return run("download", "-a", auth, "-l", "job.log", "-w", "out", *extra, timeout=timeout)


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


# -- 9. a zip bomb that passes CRCs ----------------------------------------------------------------

@pytest.mark.parametrize("quoted", [True, False], ids=["quoted-overlap", "same-member"])
def test_a_zip_bomb_is_a_failed_product_in_one_line_and_holds_no_run_up(
        run, finished, auth_file, tmp_path, quoted):
    bomb = overlapping_zip(1000, 100 << 20, quoted=quoted)  # about 100 GiB to inflate
    assert len(bomb) < 400 * 1024
    store = tmp_path / "products"
    planted = ProductStore(store).cache_path(FIRST, PRODUCT_SIZE, orbit=64)
    store.mkdir()
    planted.write_bytes(bomb)
    emulator = finished(products=[FIRST, SECOND], product_size=PRODUCT_SIZE, products_dir=store)
    submit(run, emulator, auth_file)
    for _ in range(2):  # the next cron run finds the log free and refuses the bomb again
        result = download(run, auth_file, timeout=BOUND)
        assert result.returncode == 1, result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and ": error: " in lines[0], result.stderr
        assert FIRST in lines[0] and "zip bomb" in lines[0]
        assert sorted(path.name for path in Path("out").iterdir()
                      if not path.name.startswith((".", "series", "catalog", "stac"))) == [SECOND]


# -- 11. --timeout bounds every wait ---------------------------------------------------------------

def log_of_a_job_at(base: str) -> None:
    """A job log whose one job is followed at `base` (a hostile local server)."""
    Path("job.log").write_text(json.dumps({"format": "full-maja job log", "version": 1, "jobs": [
        {"job_id": "1", "status_url": f"{base}/wps/outputs/pywps-1.xml",
         "endpoint": f"{base}/resto/wps", "tile": "36TWQ", "orbit": 64,
         "start": "2019-03-01", "end": "2019-05-01"}]}))


def trickle(handler) -> None:
    """A status document that comes one byte at a time, for ever (until the client goes)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/xml")
    handler.end_headers()
    for _ in range(3000):
        handler.wfile.write(b"<")
        handler.wfile.flush()
        time.sleep(0.2)


def retry_after_an_hour(handler) -> None:
    """Every answer: 503, come back in an hour."""
    handler.send_response(503)
    handler.send_header("Retry-After", "3600")
    handler.send_header("Content-Length", "0")
    handler.end_headers()


@pytest.mark.parametrize("answer, timeout, words", [
    (trickle, "1", "took more than 4 s"),  # the whole document: 4 times --timeout
    (retry_after_an_hour, "0.25", "HTTP 503"),  # 5 retries, each pause 4 times --timeout
], ids=["trickle", "retry-after"])
def test_a_server_that_drags_its_feet_holds_a_run_no_longer_than_the_timeout_says(
        run, hostile, auth_file, answer, timeout, words):
    base, seen = hostile(answer)
    log_of_a_job_at(base)
    started = time.monotonic()
    result = download(run, auth_file, "--timeout", timeout, timeout=BOUND)
    elapsed = time.monotonic() - started
    assert_one_line_error(result, 1, "job 1")
    assert words in result.stderr or "stopped answering" in result.stderr, result.stderr
    assert elapsed < BOUND / 2, elapsed  # 4 s per document; it was 120 s, or an hour
    assert seen


@pytest.mark.parametrize("value", ["1e10", "0", "nan", "3601"])
def test_an_absurd_timeout_is_refused_in_one_line_before_anything_is_sent(run, hostile,
                                                                          auth_file, value):
    base, seen = hostile(trickle)
    log_of_a_job_at(base)
    result = download(run, auth_file, "--timeout", value)
    assert_one_line_error(result, 2, "--timeout", value)
    assert not seen


# -- 14. --server-jobs: every page, each job once, and a word where the list stops -----------------

def fill_with_jobs(server, count: int) -> set[str]:
    """Give the real pygeoapi `count` finished jobs at once, in its own job database."""
    jobs = {str(number): {
        "type": "process", "identifier": f"job-{number:05d}", "process_id": "FULL_MAJA",
        "created": f"2026-11-{1 + number % 28:02d}T10:{number % 60:02d}:00.{number:06d}Z",
        "started": "2026-11-01T10:00:00Z", "updated": "2026-11-01T10:00:00Z",
        "finished": "2026-11-01T10:00:00Z", "status": "successful",
        "location": str(server.work_dir / "outputs" / f"job-{number:05d}"),
        "mimetype": "application/json", "message": "Job complete", "progress": 100}
        for number in range(1, count + 1)}
    (server.work_dir / "jobs.db").write_text(json.dumps({"_default": jobs}))
    return {job["identifier"] for job in jobs.values()}


def test_server_jobs_lists_2500_jobs_of_a_real_pygeoapi_each_once(cli, make_ogcapi,
                                                                   auth_file):
    server = make_ogcapi()
    ids = fill_with_jobs(server, 2500)
    table = cli("download", "-a", auth_file, "--url", server.url, "--server-jobs")
    assert table.returncode == 0 and not table.stderr, table.stderr
    rows = [row.split()[0] for row in table.stdout.splitlines()[1:]]
    assert len(rows) == 2500 and set(rows) == ids
    document = json.loads(cli("download", "-a", auth_file, "--url", server.url,
                              "--server-jobs", "--json").stdout)
    assert len(document["jobs"]) == 2500
    assert (document["complete"], document["stopped"]) == (True, None)


def job_pages(size: int, next_of: Callable[[int], int], total: int = 10 ** 9) -> Callable:
    """An OGC API job list: pages of `size` jobs from `offset`; its next link at `next_of`."""
    def answer(handler) -> None:
        query = parse_qs(urlsplit(handler.path).query)
        offset = int(query.get("offset", ["0"])[0])
        jobs = [{"jobID": f"job-{number}", "status": "successful", "processID": "FULL_MAJA",
                 "created": f"2026-11-01T00:00:00.{number:06d}Z"}
                for number in range(offset, min(offset + size, total))]
        links = [{"rel": "next", "type": "application/json",
                  "href": f"/jobs?offset={next_of(offset)}&limit={size}"}]
        body = json.dumps({"jobs": jobs, "links": links}).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    return answer


@pytest.mark.parametrize("answer, listed, words", [
    (job_pages(10, lambda offset: offset), 10, "lists only jobs already listed"),
    (job_pages(10, lambda offset: offset % 20 + 10), 30, "leads back to a page already read"),
    (job_pages(10, lambda offset: 0 if offset else 10, total=15), 15, "already listed"),
    (job_pages(10, lambda offset: offset + 10), 5000, "more jobs than full-maja reads"),
], ids=["next-is-itself", "two-pages-in-a-loop", "back-to-the-first", "endless"])
def test_server_jobs_says_where_a_looping_or_endless_list_stops(run, hostile, auth_file,
                                                               answer, listed, words):
    base, _ = hostile(answer)
    common = ("download", "-a", auth_file, "--url", base, "--protocol", "ogcapi",
              "--server-jobs")
    table = run(*common)
    assert table.returncode == 0, table.stderr
    rows = [row.split()[0] for row in table.stdout.splitlines()[1:]]
    assert len(rows) == len(set(rows)) == listed
    warnings = table.stderr.splitlines()
    assert len(warnings) == 1 and ": warning: " in warnings[0] and words in warnings[0]
    assert f"{listed} jobs" in warnings[0]
    as_json = run(*common, "--json")
    document = json.loads(as_json.stdout)
    assert len(document["jobs"]) == listed and document["complete"] is False
    assert words in document["stopped"] and as_json.stderr == table.stderr


# -- 7. any date a server sends --------------------------------------------------------------

FAR_CLOUDY = "SENTINEL2A_99991215-083751-427_L2A_T36TWQ_D_V2-2_NOVALD.zip"
FAR_MISSING = ["S2A_MSIL1C_00010101T083751_N0207_R064_T36TWQ_00010101T104510",
               "S2B_MSIL1C_20191340T083751_N0207_R064_T36TWQ_20191340T104510"]


def far_dates(job, report):
    """A finished report listing a cloudy product of 9999-12-15, and unprocessed products of
    0001-01-01 and of a month 13."""
    info = report["USER_INFO"]
    if info["results"]:
        info["results"].append(f"{info['results'][0].rsplit('/', 1)[0]}/{FAR_CLOUDY}")
        info["missing"] = info["missing"] + FAR_MISSING
        info["unprocessed"] = len(info["missing"])
    return report


def test_dates_of_year_9999_and_year_1_are_shown_as_they_are_run_after_run(
        run, finished, auth_file):
    emulator = finished(products=[FIRST], report_override=far_dates)
    submit(run, emulator, auth_file)
    for extra in ((), ("--json",), ("--status",), ("--refresh",)):
        result = download(run, auth_file, *extra)
        assert result.returncode == 0 and not result.stderr, (extra, result.stderr)
        assert "9999-12-15" in result.stdout or extra == ("--status",)
    text = download(run, auth_file, "--refresh").stdout
    assert "Skipped for clouds (1, over 90 % cloudy): 9999-12-15" in text.replace("\n", " ")
    assert "    0001-01-01  " + FAR_MISSING[0] in text
    assert "    (no date)  " + FAR_MISSING[1] in text
    document = json.loads(download(run, auth_file, "--json", "--refresh").stdout)
    days = [product["date"] for product in document["jobs"][0]["products"]]
    assert days == ["2019-03-01", "9999-12-15"]
    assert [item["date"] for item in document["jobs"][0]["missing"]] == ["0001-01-01", None]
    page = Path("out", "series.html").read_text()
    assert 'data-date="9999-12-15"' in page and 'data-date="0001-01-01"' in page
    assert "left off the timeline (see the cards): 0001-01-01, 9999-12-15" in page


def running_job_created(created: str) -> Callable:
    """An OGC API knowing one running job, `j1`, created at `created`."""
    def answer(handler) -> None:
        path = urlsplit(handler.path).path
        status = {"jobID": "j1", "status": "running", "progress": 50, "created": created}
        body = json.dumps(status if path.endswith("/jobs/j1") else {"title": "no"}).encode()
        handler.send_response(200 if path.endswith("/jobs/j1") else 404)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    return answer


@pytest.mark.parametrize("created", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00",
                                     "9999-12-31T23:59:59Z", "the day before yesterday"])
def test_a_job_submitted_at_any_time_gets_its_estimate(run, hostile, auth_file, created):
    base, _ = hostile(running_job_created(created))
    Path("job.log").write_text(json.dumps({"format": "full-maja job log", "version": 1, "jobs": [
        {"job_id": "j1", "status_url": f"{base}/jobs/j1", "endpoint": base,
         "protocol": "ogcapi", "tile": "36TWQ", "orbit": 64, "start": "2019-03-01",
         "end": "2019-05-01", "submitted": created}]}))
    for extra in (("--status",), ()):
        result = download(run, auth_file, *extra)
        assert result.returncode == 75 and not result.stderr, result.stderr
        assert "may end around" in result.stdout
    assert "may end around" in Path("out", "series.html").read_text()


# -- 6. a password or key echoed by the server --------------------------------------------------

TOKEN = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
ECHOES = {"password": f"refused {USER}:{PASSWORD} (Authorization: Basic {TOKEN})",
          "part": f"the password {PASSWORD[:13]}... is not valid here"}


def secrets_everywhere(folder: Path, *secrets: str) -> list[str]:
    """Every file under `folder` (the journal included) holding one of `secrets`."""
    return [str(path) for path in folder.rglob("*") if path.is_file()
            and path.name not in ("peps.txt", "api.key")
            and any(secret.encode() in path.read_bytes() for secret in secrets)]


def echoing(echo: str, state: str) -> Callable:
    """A report override: the job ends in `state`, its message and log URL repeat `echo`."""
    def change(job, report):
        info = report["USER_INFO"]
        if info["job_status"] in ("FINISHED", "ERROR"):
            info.update(job_status=state, message=echo)
            info["logs"] = [f"https://peps.example.org/log?{echo.replace(' ', '+')}"]
            if state == "ERROR":
                info["results"] = []
        return report
    return change


@pytest.mark.parametrize("echo", list(ECHOES), ids=list(ECHOES))
@pytest.mark.parametrize("state", ["ERROR", "FINISHED"])
def test_a_password_echoed_by_the_server_is_hidden_in_all_full_maja_prints_or_writes(
        run, finished, auth_file, tmp_path, echo, state):
    emulator = finished(products=[FIRST], report_override=echoing(ECHOES[echo], state))
    submit(run, emulator, auth_file)
    outputs = []
    for extra in ((), ("--json",), ("--status",), ("--status", "--json"), ("--debug",)):
        result = download(run, auth_file, *extra)
        assert result.returncode == (1 if state == "ERROR" else 0), result.stderr
        outputs.append(result.stdout + result.stderr)
    shown = "\n".join(outputs)
    assert "***" in shown
    secrets = [PASSWORD, PASSWORD[:13], TOKEN]
    assert not [secret for secret in secrets if secret in shown], shown
    assert not secrets_everywhere(tmp_path, *secrets)
    kept = Path("out", "series.html") if state == "ERROR" else Path("job.log.state.json")
    assert "***" in kept.read_text()  # where the message is kept: the page, the memory


def echo_the_key(handler) -> None:
    """An OGC API refusing every request, its answer repeating the key it was sent."""
    key = handler.headers.get("X-API-Key", "")
    body = json.dumps({"title": "Bad Request",
                       "detail": f"the key {key} is not valid for FULL_MAJA"}).encode()
    handler.send_response(400)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.mark.parametrize("extra", [(), ("--debug",), ("--json",)])
def test_an_api_key_echoed_in_an_error_is_hidden_in_the_error_line(run, hostile, tmp_path,
                                                                   extra):
    key_file = tmp_path / "api.key"
    key_file.write_text(API_KEY + "\n")
    key_file.chmod(0o600)
    base, seen = hostile(echo_the_key)
    result = run("download", "--api-key-file", key_file, "--url", base, "--protocol",
                 "ogcapi", "--server-jobs", *extra)
    assert result.returncode == 1 and seen and seen[0]["X-API-Key"] == API_KEY
    assert "the key *** is not valid" in result.stderr
    assert API_KEY not in result.stdout + result.stderr
    assert ("Traceback" in result.stderr) == ("--debug" in extra)
