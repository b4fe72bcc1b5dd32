"""The JSON report of a job: tolerant of absent fields, strict on wrong types."""
from __future__ import annotations

import json

import pytest

from full_maja.errors import ServiceError
from full_maja.service.jobreport import parse_report


def report(**info: object) -> bytes:
    return json.dumps({"USER_INFO": {"job_status": "FINISHED", **info}}).encode()


def test_a_full_report_is_read():
    result = parse_report(report(process="100%", results=["u1", "u2"], unprocessed=2,
                                 missing=["S2A_MSIL1C_20190310T083751_N0207"],
                                 logs=["l"], message=""))
    assert result.state == "FINISHED"
    assert result.urls == ["u1", "u2"]
    assert (result.unprocessed, result.missing, result.logs) == (2, result.missing, ["l"])
    assert result.progress_percent == 100.0


def test_absent_fields_are_empty():
    result = parse_report(report())
    assert (result.urls, result.unprocessed, result.missing, result.progress) == \
        ([], None, [], None)


@pytest.mark.parametrize("value, count", [(3, 3), ("4", 4), (2.0, 2), (["a", "b"], 2)])
def test_unprocessed_count_in_its_several_forms(value, count):
    assert parse_report(report(unprocessed=value)).unprocessed == count


@pytest.mark.parametrize("content", [
    b"not json", b"[1, 2]", b'{"USER_INFO": 3}', b'{"USER_INFO": {}}',
    report(results="u")[:-3], report(results={"a": 1}), report(results=[1, 2]),
    report(unprocessed="many"), report(unprocessed=True), report(logs=5),
    report(process={"x": 1}), b"\xff\xfe\x00",
])
def test_reports_that_make_no_sense_raise_service_error(content):
    with pytest.raises(ServiceError):
        parse_report(content)


def test_state_is_normalised_to_upper_case():
    assert parse_report(report(job_status=" stalled ")).state == "STALLED"
