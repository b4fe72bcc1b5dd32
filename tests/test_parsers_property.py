"""Parsers of what the network and the disk hand us: a result or a FullMajaError, nothing else.

Each parser is fed random bytes or text and mutated valid documents (slices deleted,
duplicated or replaced, JSON values given another type). Whatever comes in, it must
return a result or raise a `FullMajaError` subclass whose message is one line: the CLI
turns those into one clear error line, anything else into an "unexpected" failure.
"""
from __future__ import annotations

import copy
import json
import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from full_maja.errors import FullMajaError
from full_maja.joblog import JobLog, read_job_log
from full_maja.jobrecord import JobRecord
from full_maja.products import (
    SAFE_NAME,
    ProductRef,
    acquisition_date,
    product_name_from_url,
    target_path,
)
from full_maja.series import SeriesReport, build_series
from full_maja.service import JobState
from full_maja.service.jobreport import JobReport, parse_report
from full_maja.service.wps import (
    ACCEPTED,
    FAILED,
    STARTED,
    SUCCEEDED,
    WpsStatus,
    parse_execute_response,
)
from full_maja.states import JobPhase
from full_maja.text import series_lines, status_table, summary_line

FAST = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

WPS = 'xmlns:wps="http://www.opengis.net/wps/1.0.0"'
OWS = 'xmlns:ows="http://www.opengis.net/ows/1.1"'
XLINK = 'xmlns:xlink="http://www.w3.org/1999/xlink"'
LOCATION = "https://peps.cnes.fr/wps/outputs/pywps-155237461814.xml"
STATUS_DOCUMENTS = [
    f'<?xml version="1.0" encoding="utf-8"?><wps:ExecuteResponse {WPS} {OWS} service="WPS" '
    f'version="1.0.0" statusLocation="{LOCATION}"><wps:Process><ows:Identifier>FULL_MAJA'
    '</ows:Identifier></wps:Process><wps:Status creationTime="2019-03-01T10:00:00Z">'
    '<wps:ProcessAccepted>Process FULL_MAJA accepted</wps:ProcessAccepted></wps:Status>'
    '</wps:ExecuteResponse>',
    f'<wps:ExecuteResponse {WPS} statusLocation="{LOCATION}"><wps:Status><wps:ProcessStarted '
    'percentCompleted="35">Registering the job</wps:ProcessStarted></wps:Status>'
    '</wps:ExecuteResponse>',
    f'<wps:ExecuteResponse {WPS} {OWS} {XLINK} statusLocation="{LOCATION}"><wps:Status>'
    '<wps:ProcessSucceeded>registered</wps:ProcessSucceeded></wps:Status><wps:ProcessOutputs>'
    '<wps:Output><ows:Identifier>FULL_MAJA_report</ows:Identifier><wps:Reference href="https:'
    '//peps.cnes.fr/wps/outputs/FULL_MAJA_155237461814.json" mimeType="application/json"/>'
    '</wps:Output></wps:ProcessOutputs></wps:ExecuteResponse>',
    f'<wps:ExecuteResponse {WPS} {OWS}><wps:Status><wps:ProcessFailed><wps:ExceptionReport>'
    '<ows:Exception exceptionCode="NoApplicableCode" locator="tileid"><ows:ExceptionText>'
    'MAJA processing failed</ows:ExceptionText></ows:Exception></wps:ExceptionReport>'
    '</wps:ProcessFailed></wps:Status></wps:ExecuteResponse>',
    f'<?xml version="1.0"?><ows:ExceptionReport {OWS} version="1.0.0"><ows:Exception '
    'exceptionCode="NoApplicableCode"><ows:ExceptionText>The CNES computing centre cannot be '
    'reached</ows:ExceptionText></ows:Exception></ows:ExceptionReport>',
]
STATUS_BYTES = [document.encode("utf-8") for document in STATUS_DOCUMENTS]

PRODUCT = "SENTINEL2A_20190301-083751-427_L2A_T36TWQ_C_V2-2.zip"
PRODUCTS_URL = "https://peps.cnes.fr/cgi-bin/mapcache_results/maja/155237461814/"
REPORT = {"USER_INFO": {
    "job_status": "FINISHED", "process": "100%",
    "results": [PRODUCTS_URL + PRODUCT,
                PRODUCTS_URL + "SENTINEL2B_20190316-083751-060_L2A_T36TWQ_D_V2-2_NOVALD.zip"],
    "unprocessed": 1,
    "missing": ["S2A_MSIL1C_20190331T083751_N0207_R064_T36TWQ_20190331T104510"],
    "logs": ["https://peps.cnes.fr/cgi-bin/mapcache_results/logs/joblog-155237461814.log"],
    "message": "", "tileid": "36TWQ"}}

JOB_LOG = {"format": "full-maja job log", "version": 1, "jobs": [
    {"job_id": "155237461814", "status_url": LOCATION,
     "endpoint": "https://peps.cnes.fr/resto/wps", "tile": "36TWQ", "orbit": 64,
     "start": "2019-03-01", "end": "2019-09-01", "submitted": "2026-11-23T20:15:02Z",
     "replaced_by": "155237461815"},
    {"job_id": "155237461815", "status_url": LOCATION.replace("814", "815"),
     "tile": "36TWQ", "orbit": 64, "start": "2019-03-01", "end": "2019-09-01",
     "replaces": "155237461814"}]}
LOG_BYTES = [json.dumps(JOB_LOG, indent=2).encode("utf-8"), STATUS_BYTES[0],
             b"\xef\xbb\xbf" + STATUS_BYTES[1]]

# Pieces a hostile or broken server (or a cut file) is likely to produce.
TOKENS = [b"", b"<", b">", b"/>", b"&", b"&lol;", b'"', b"'", b"=", b"{", b"}", b"[", b"]",
          b",", b":", b"null", b"true", b"-1", b"1e400", b"NaN", b"Infinity", b"inf", b"nan",
          b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\n", b"]]>", b"<!--", b"-->", b"<![CDATA[",
          b"http://[", b"%2F..%2F", b"..", b"/", b"\\",
          b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>',
          b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
          b'<!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd">',
          b'<?xml version="1.0" encoding="x-no-such-encoding"?>',
          b'percentCompleted="1e400"', b'percentCompleted="nan"', b'percentCompleted="-7"',
          b'statusLocation="http://[::1/pywps-.xml"', b'statusLocation=""',
          b'href="http://[x/y.json"', b'"orbit": true', b'"start": "2019-02-30"',
          b'"jobs": {}', b'"results": "x"', b'"unprocessed": 1.5', b'"process": []']

# Values that broke or could break a parser: bad URLs, numbers out of range, control characters.
HOSTILE_TEXT = ["", " ", "http://[x/pywps-1.xml", "http://[::1/y.json", "https://h/", "1e400",
                "inf", "-inf", "nan", "-7", "99999999999999999999", "2019-02-30", "../../x.zip",
                "a\nb", "\x00", "\x1b[31m", "&lol;", "FINISHED", "None"]
QUOTED = re.compile(rb'"[^"<>]*"')

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    | st.sampled_from(HOSTILE_TEXT),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6)


@st.composite
def mutated(draw: Callable, documents: list[bytes]) -> bytes:
    """A valid document with 1 to 4 slices deleted, duplicated, replaced or inserted."""
    data = bytearray(draw(st.sampled_from(documents)))
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(data)))
        end = draw(st.integers(start, min(len(data), start + 80)))
        operation = draw(st.sampled_from(["delete", "duplicate", "replace", "insert", "value"]))
        quoted = list(QUOTED.finditer(data))
        if operation == "value" and quoted:
            match = draw(st.sampled_from(quoted))
            value = draw(st.sampled_from(HOSTILE_TEXT)).encode("utf-8")
            data[match.start():match.end()] = b'"' + value + b'"'
        elif operation == "delete":
            del data[start:end]
        elif operation == "duplicate":
            data[end:end] = data[start:end]
        elif operation == "replace":
            data[start:end] = draw(st.sampled_from(TOKENS) | st.binary(max_size=12))
        else:
            data[start:start] = draw(st.sampled_from(TOKENS))
    return bytes(data)


@st.composite
def swapped(draw: Callable, documents: list[bytes]) -> bytes:
    """A valid document with 1 to 3 of its quoted values replaced by hostile text."""
    data = draw(st.sampled_from(documents))
    for _ in range(draw(st.integers(1, 3))):
        quoted = list(QUOTED.finditer(data))
        match = draw(st.sampled_from(quoted))
        value = draw(st.sampled_from(HOSTILE_TEXT)).encode("utf-8")
        data = data[:match.start()] + b'"' + value + b'"' + data[match.end():]
    return data


def _paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every key path inside a JSON value, containers included."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


@st.composite
def retyped(draw: Callable, document: dict) -> bytes:
    """A JSON document where 1 to 3 values were deleted or given another type."""
    doc = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(_paths(doc))))
        new_value = draw(JSON_VALUES)
        if not path:
            doc = new_value
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = new_value
        if not isinstance(doc, (dict, list)):
            break
    return json.dumps(doc).encode("utf-8")


def refused_or(call: Callable[..., Any], *args: Any) -> Any:
    """The result of `call`, or None when it refused the input with a one-line FullMajaError."""
    try:
        return call(*args)
    except FullMajaError as exc:
        assert str(exc).strip() and "\n" not in str(exc), repr(str(exc))
        return None


def check_status(status: object) -> None:
    if status is not None:
        assert isinstance(status, WpsStatus)
        assert status.state in (ACCEPTED, STARTED, SUCCEEDED, FAILED)
        assert status.percent is None or isinstance(status.percent, int)


@FAST
@given(st.binary(max_size=300) | mutated(STATUS_BYTES) | swapped(STATUS_BYTES))
def test_parse_execute_response_returns_a_status_or_refuses(content):
    check_status(refused_or(parse_execute_response, content, "the status document"))


@FAST
@given(st.text(max_size=200).map(lambda text: text.encode("utf-8")))
def test_parse_execute_response_on_random_text(content):
    check_status(refused_or(parse_execute_response, content))


@pytest.mark.parametrize("document", STATUS_BYTES)
def test_the_valid_status_documents_parse(document):
    if document.startswith(b"<?xml version=\"1.0\"?><ows:ExceptionReport"):
        with pytest.raises(FullMajaError, match="refused the request"):
            parse_execute_response(document)
    else:
        check_status(parse_execute_response(document))


def check_report(report: object) -> None:
    if report is not None:
        assert isinstance(report, JobReport)
        assert isinstance(report.state, str) and report.state
        assert all(isinstance(url, str) for url in report.urls + report.logs)
        assert report.unprocessed is None or report.unprocessed >= 0


@FAST
@given(st.binary(max_size=300) | mutated([json.dumps(REPORT).encode("utf-8")]))
def test_parse_report_returns_a_report_or_refuses(content):
    check_report(refused_or(parse_report, content, "the report"))


@FAST
@given(retyped(REPORT) | retyped(REPORT["USER_INFO"]) | JSON_VALUES.map(
    lambda value: json.dumps(value).encode("utf-8")))
def test_parse_report_survives_values_of_the_wrong_type(content):
    check_report(refused_or(parse_report, content, "the report"))


def test_the_valid_report_parses():
    report = parse_report(json.dumps(REPORT).encode("utf-8"))
    assert (report.state, report.unprocessed, len(report.results)) == ("FINISHED", 1, 2)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def read_log_bytes(folder: Path, content: bytes) -> object:
    path = folder / "job.log"
    path.write_bytes(content)
    log = refused_or(read_job_log, path)
    if log is not None:
        assert isinstance(log, JobLog) and log.jobs
        assert all(isinstance(job.job_id, str) and job.job_id for job in log.jobs)
        assert all(isinstance(job.status_url, str) for job in log.jobs)
    return log


@FAST
@given(content=st.binary(max_size=300) | mutated(LOG_BYTES) | swapped(LOG_BYTES))
def test_read_job_log_returns_a_log_or_refuses(folder, content):
    read_log_bytes(folder, content)


@FAST
@given(content=retyped(JOB_LOG))
def test_read_job_log_survives_values_of_the_wrong_type(folder, content):
    read_log_bytes(folder, content)


@pytest.mark.parametrize("content", LOG_BYTES)
def test_the_valid_logs_read(folder, content):
    assert read_log_bytes(folder, content) is not None


def url_segments() -> st.SearchStrategy[str]:
    """Last path segments: random text, percent-encoded random bytes, near-product names."""
    return st.one_of(
        st.text(max_size=40),
        st.binary(max_size=30).map(lambda raw: quote(raw, safe="")),
        st.text(max_size=40).map(lambda text: quote(text, safe="/")),
        mutated([PRODUCT.encode()]).map(lambda raw: quote(raw, safe="")),
        st.integers(240, 300).map(lambda size: "A" * size + ".zip"))


@FAST
@given(st.one_of(st.text(max_size=80), st.builds("{}{}".format, st.sampled_from(
    ["https://peps.cnes.fr/x/", "http://[::1]/a/", "http://[x/", "https://h/a/?q=/", "", "//",
     "file:///", "https://h:99999/", "https://u:p@h/a/"]), url_segments())))
def test_product_name_from_url_gives_a_plain_name_or_refuses(url):
    name = refused_or(product_name_from_url, url)
    if name is not None:
        assert SAFE_NAME.fullmatch(name) and name.endswith(".zip")
        assert not set(name) & set("/\\\x00") and ".." not in name
        assert len(name.encode()) + len(".part") <= 255
        base = Path(tempfile.gettempdir()).resolve()
        assert target_path(base, name).parent == base


@FAST
@given(st.text(max_size=80) | mutated([PRODUCT.encode(), b"S2B_MSIL1C_20190315T083751_N0207"])
       .map(lambda raw: raw.decode("utf-8", "replace")))
def test_acquisition_date_is_a_date_or_none(name):
    day = refused_or(acquisition_date, name)
    assert day is None or isinstance(day, date)


@given(stamps=st.lists(st.from_regex(r"\A[0-9]{8}\Z"), min_size=1, max_size=6),
       cloudy=st.lists(st.booleans(), min_size=6, max_size=6))
@FAST
def test_any_date_a_report_gives_is_shown_as_it_is_in_date_order(stamps, cloudy):
    names = [f"SENTINEL2A_{stamp}-083751-427_L2A_T36TWQ_C_V2-2{'_NOVALD' if dark else ''}.zip"
             for stamp, dark in zip(stamps, cloudy)]
    job = JobRecord(job_id="1", status_url="http://h/wps/outputs/pywps-1.xml", tile="36TWQ",
                    orbit=64, start=date(2019, 3, 1), end=date(2019, 5, 1))
    report = JobReport("FINISHED", results=[ProductRef(f"http://h/p/{name}") for name in names],
                       missing=[f"S2A_MSIL1C_{stamp}T083751_N0207_R064_T36TWQ_X"
                                for stamp in stamps])
    series = build_series(JobState(job, JobPhase.FINISHED, "FINISHED", report=report), [])
    days = [entry.date for entry in series.entries]
    assert [day for day in days if day] == sorted(day for day in days if day)
    text = "\n".join(series_lines(series) + status_table(SeriesReport([series]))
                     + [summary_line(SeriesReport([series]))])
    document = json.dumps(SeriesReport([series]).as_json())
    for day in filter(None, days):
        assert day.isoformat() in text and day.isoformat() in document
