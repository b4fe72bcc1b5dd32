"""The parts of the page each log sharing a write folder keeps (`.full-maja-page.json`)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from full_maja.page.logparts import PARTS_NAME, LogPart, held_parts, log_key
from full_maja.states import DateMark, JobPhase


def part(key: str, number: int, inputs: str = "i") -> LogPart:
    return LogPart(key=key, title=Path(key).name, number=number, inputs=inputs,
                   written="2026-11-23T20:14:03+00:00", phases=[JobPhase.FINISHED],
                   marks={DateMark.ON_DISK: 3}, sections=[f"<section>{key}</section>"])


def test_parts_are_kept_in_order_and_come_back_as_saved(tmp_path: Path):
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    for log in logs:
        log.write_text("{}")
    with held_parts(tmp_path) as parts:
        for log in logs:
            parts.put(part(log_key(log, log.name, tmp_path), parts.next_number()))
        parts.save()
    with held_parts(tmp_path) as parts:
        assert parts.current() == [part("a.log", 1), part("b.log", 2)]
        assert not parts.changed


def test_the_part_of_a_log_that_is_gone_is_dropped_and_numbers_stay(tmp_path: Path):
    logs = [tmp_path / "logs" / "a.log", tmp_path / "logs" / "b.log"]
    logs[0].parent.mkdir()
    for log in logs:
        log.write_text("{}")
    out = tmp_path / "out"
    out.mkdir()
    with held_parts(out) as parts:
        parts.put(part(log_key(logs[0], "a.log", out), 1))
        parts.put(part(log_key(logs[1], "b.log", out), 2))
        parts.save()
    logs[0].unlink()
    with held_parts(out) as parts:
        assert [each.number for each in parts.current()] == [2]
        assert parts.next_number() == 3 and parts.changed
        parts.save()
    document = json.loads((out / PARTS_NAME).read_text())
    assert [entry["key"] for entry in document["logs"]] == ["../logs/b.log"]


def test_a_page_written_without_a_log_is_keyed_by_its_title(tmp_path: Path):
    assert log_key(None, "job.log", tmp_path) == "title:job.log"
    with held_parts(tmp_path) as parts:
        parts.put(part("title:job.log", 1))
        assert [each.key for each in parts.current()] == ["title:job.log"]


@pytest.mark.parametrize("text", ["not json", "[]", '{"format": "other", "logs": []}',
                                  '{"format": "full-maja page parts", "logs": [{"key": 1}]}',
                                  '{"format": "full-maja page parts", "logs": [{"key": "k", '
                                  '"title": "t", "number": 1, "inputs": "i", "written": "w", '
                                  '"phases": ["nonsense"], "marks": {}, "sections": []}]}'])
def test_parts_that_cannot_be_read_count_as_none(tmp_path: Path, text):
    (tmp_path / PARTS_NAME).write_text(text)
    with held_parts(tmp_path) as parts:
        assert parts.current() == [] and parts.next_number() == 1
