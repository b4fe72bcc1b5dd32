"""The digest computed while a product's bytes arrive: on its own thread, in order."""
from __future__ import annotations

import gc
import hashlib
import threading

import pytest

from full_maja.download.digest import PIECES_AHEAD, StreamDigest

PIECES = [bytes([n]) * (1024 * 1024 + n) for n in range(3 * PIECES_AHEAD)]


def digest_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "full-maja-digest"]


def test_the_sha256_is_of_every_piece_in_order():
    digest = StreamDigest()
    for piece in PIECES:
        digest.feed(piece)
    assert digest.seen == sum(map(len, PIECES))
    assert digest.sha256 == hashlib.sha256(b"".join(PIECES)).hexdigest()
    assert digest.mismatch() is None


@pytest.mark.parametrize("published, problem", [
    (hashlib.md5(b"".join(PIECES)).hexdigest().upper(), None),
    ("0" * 32, "do not match the MD5 the catalogue publishes"),
])
def test_a_published_md5_is_checked(published: str, problem):
    digest = StreamDigest(published)
    for piece in PIECES:
        digest.feed(piece)
    found = digest.mismatch()
    assert found is None if problem is None else problem in found
    assert digest.sha256 is None


def test_pieces_fed_after_a_reading_are_counted_too():
    digest = StreamDigest()
    digest.feed(PIECES[0])
    assert digest.sha256 == hashlib.sha256(PIECES[0]).hexdigest()
    digest.feed(PIECES[1])
    assert digest.sha256 == hashlib.sha256(PIECES[0] + PIECES[1]).hexdigest()


def test_a_digest_dropped_unread_leaves_no_thread_behind():
    before = len(digest_threads())
    digest = StreamDigest()
    for piece in PIECES:
        digest.feed(piece)
    worker = digest_threads()[-1]
    del digest
    gc.collect()
    worker.join(timeout=60)
    assert not worker.is_alive() and len(digest_threads()) == before
