"""Secrets hidden in all full-maja prints or writes: whole, encoded, or in part."""
from __future__ import annotations

import base64
import html
import io
import json
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from full_maja.atomic import atomic_write
from full_maja.auth import ApiKey, EndpointAuth
from full_maja.console import Console
from full_maja.credentials import Credentials
from full_maja.masking import MASK, MIN_PART, Secrets, forms_of, mask

ODD = 'Zq9 "#%&+ x\\Pa55 é<ü>'
KEY = "k3y-7f0c2b9d4e1a"
ODD_TOKEN = base64.b64encode(f"me@example.org:{ODD}".encode()).decode()


@pytest.fixture
def secrets() -> Secrets:
    registry = Secrets()
    registry.register_account("me@example.org", ODD)
    registry.register(KEY)
    return registry


@pytest.mark.parametrize("form", [*sorted(forms_of(ODD)), ODD_TOKEN])
def test_every_form_a_server_may_give_a_secret_in_is_hidden(secrets, form):
    assert secrets.mask(f"you sent [{form}], refused") == f"you sent [{MASK}], refused"


@pytest.mark.parametrize("form", [quote(ODD, safe=""), quote_plus(ODD),
                                  json.dumps(ODD)[1:-1], html.escape(ODD)])
def test_the_encoded_forms_differ_from_the_secret_itself(form):
    assert form != ODD


@pytest.mark.parametrize("piece", [KEY[:MIN_PART], KEY[-MIN_PART:], KEY[2:2 + MIN_PART + 1],
                                   KEY[1:]])
def test_a_part_of_twelve_characters_or_more_is_hidden(secrets, piece):
    assert secrets.mask(f"key {piece}... refused") == f"key {MASK}... refused"


@pytest.mark.parametrize("piece", [KEY[:MIN_PART - 1], KEY[-4:], "Pa55"])
def test_a_shorter_piece_is_left_as_it_is(secrets, piece):
    assert secrets.mask(f"key {piece}... refused") == f"key {piece}... refused"


def test_a_secret_shorter_than_four_characters_is_not_hidden():
    registry = Secrets()
    registry.register_account("me", "abc")
    registry.register("xyz")
    assert registry.mask("abc xyz") == "abc xyz"


def test_nothing_registered_nothing_changed_and_forget_forgets(secrets):
    assert Secrets().mask(f"{KEY} {ODD}") == f"{KEY} {ODD}"
    secrets.forget()
    assert secrets.mask(KEY) == KEY


@given(secret=st.text(min_size=4, max_size=30).filter(lambda text: text.strip()),
       before=st.text(max_size=20), after=st.text(max_size=20),
       cut=st.integers(min_value=0, max_value=30), ascii_only=st.booleans())
@settings(max_examples=400, deadline=None)
def test_a_json_document_stays_json_and_keeps_no_secret(secret, before, after, cut,
                                                        ascii_only):
    registry = Secrets()
    registry.register(secret)
    part = secret[cut:] if len(secret) - cut >= MIN_PART else secret
    document = {"message": before + secret + after, "log": f"x{part}y", "n": [1, before]}
    text = json.dumps(document, ensure_ascii=ascii_only)
    masked = registry.mask(text)
    decoded = json.loads(masked)
    assert secret not in json.dumps(decoded, ensure_ascii=False)
    assert secret not in masked


def test_the_account_on_the_wire_registers_what_it_sends_and_the_console_hides_it():
    EndpointAuth("https://h/", Credentials("me@example.org", ODD, "the file p.txt"),
                 ApiKey(KEY, source="the file k.txt"))
    out, err = io.StringIO(), io.StringIO()
    console = Console("prog", stdout=out, stderr=err)
    console.info(f"message: {ODD}")
    console.error(f"refused {KEY} (Basic {ODD_TOKEN})")
    assert out.getvalue() == f"message: {MASK}\n"
    assert err.getvalue() == f"prog: error: refused {MASK} (Basic {MASK})\n"
    assert mask(KEY) == MASK


def test_text_files_are_written_masked_and_bytes_as_they_are(tmp_path):
    EndpointAuth("https://h/", None, ApiKey(KEY))
    atomic_write(tmp_path / "t.json", json.dumps({"m": KEY}))
    atomic_write(tmp_path / "b.jpg", KEY.encode())
    assert json.loads((tmp_path / "t.json").read_text()) == {"m": MASK}
    assert (tmp_path / "b.jpg").read_bytes() == KEY.encode()
