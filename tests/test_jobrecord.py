"""A job id typed by a user is one plain path segment, or it is refused."""
from __future__ import annotations

import pytest

from full_maja.errors import UsageError
from full_maja.jobrecord import checked_job_id


@pytest.mark.parametrize("job_id", ["a1b2", "job-2026.01_x", "x" * 128])
def test_a_plain_job_id_is_taken_as_typed(job_id):
    assert checked_job_id(job_id) == job_id


@pytest.mark.parametrize("job_id", ["", ".", "..", "a/b", "../x", "a b", "é", "x" * 129,
                                    "a\nb"])
def test_an_id_that_is_not_one_plain_segment_is_refused_by_name(job_id):
    with pytest.raises(UsageError, match="is not a job id"):
        checked_job_id(job_id)
