"""The secrets full-maja knows, hidden in everything it prints or writes.

A server may repeat a password or an API key in what it answers (a failure message, a
report, a URL): full-maja then must not print it, nor write it into `series.html`, the
job log, its remembered states, the record of verified products or the journal. The
account on the wire (`auth.EndpointAuth`) registers each secret it may send; the one
writer to the terminal (`console.Console`) and the writers of files
(`atomic.atomic_write`, the journal) pass all their text through `mask`.

What is hidden, shown as `***`:
- a secret of at least `MIN_SECRET` characters wherever it stands, and the forms a
  server may give it in: URL-encoded, JSON-escaped, HTML-escaped, and the basic-auth
  token of the e-mail and password;
- any `MIN_PART` or more characters in a row of such a form (a key cut short, or
  quoted in part): a shorter piece tells little of a key and would match ordinary
  words. A secret shorter than `MIN_SECRET` characters is not hidden: it cannot be
  told from ordinary text, and protects nothing anyway.
A hidden stretch is widened to whole escape sequences (`\\"`, `\\u00e9`), so that a
JSON document stays valid. Text goes through unchanged while no secret is registered.
"""
from __future__ import annotations

import base64
import html
import json
import threading
from typing import Iterable, Optional
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_SECRET = 4
MIN_PART = 12
_BLOCK = MIN_PART // 2
_HEX = frozenset("0123456789abcdefABCDEF")
Span = tuple[int, int]


class Secrets:
    """The registered secrets, in every form they may come back in; safe across threads."""

    def __init__(self) -> None:
        self._forms: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def register(self, secret: Optional[str]) -> None:
        """Hide `secret` (and its encoded forms) from now on."""
        if secret and len(secret) >= MIN_SECRET:
            self._add(forms_of(secret))

    def register_account(self, user: str, password: str) -> None:
        """Hide a password, and the basic-auth token that carries it with the e-mail."""
        self.register(password)
        if password and len(password) >= MIN_SECRET:
            self._add({base64.b64encode(f"{user}:{password}".encode()).decode("ascii")})

    def forget(self) -> None:
        """Hide nothing any more (a new run, a new test)."""
        with self._lock:
            self._forms = frozenset()

    def mask(self, text: str) -> str:
        """`text` with every registered secret, and every long enough part of one, as ***."""
        forms = self._forms
        if not forms or not text:
            return text
        found = _merged(span for form in forms for span in _found(text, form))
        if not found:
            return text
        pieces, last = [], 0
        for start, end in _merged(_whole_escapes(text, span) for span in found):
            pieces += [text[last:start], MASK]
            last = end
        pieces.append(text[last:])
        return "".join(pieces)

    def _add(self, forms: Iterable[str]) -> None:
        with self._lock:
            self._forms = self._forms | {form for form in forms if len(form) >= MIN_SECRET}


def forms_of(secret: str) -> set[str]:
    """The ways a server may write `secret` back: as it is, URL-encoded, JSON, HTML."""
    return {secret, quote(secret, safe=""), quote(secret), quote_plus(secret),
            json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
            html.escape(secret), html.escape(secret, quote=False)}


def _found(text: str, form: str) -> Iterable[Span]:
    """Where `form`, or a run of at least MIN_PART of its characters, stands in `text`.

    Any such run holds one of the blocks of _BLOCK characters that start at multiples
    of _BLOCK in `form`: each block is looked for, then its match widened both ways.
    """
    if len(form) < MIN_PART:
        start = text.find(form)
        while start >= 0:
            yield start, start + len(form)
            start = text.find(form, start + 1)
        return
    for block in range(0, len(form) - _BLOCK + 1, _BLOCK):
        piece = form[block:block + _BLOCK]
        found = text.find(piece)
        while found >= 0:
            span = _widened(text, form, found, block)
            if span[1] - span[0] >= MIN_PART:
                yield span
            found = text.find(piece, found + 1)


def _widened(text: str, form: str, found: int, block: int) -> Span:
    """The longest stretch of `text` around a block found there that `form` also holds."""
    left = 0
    while left < min(found, block) and text[found - left - 1] == form[block - left - 1]:
        left += 1
    right, end = 0, found + _BLOCK
    while end + right < len(text) and block + _BLOCK + right < len(form) \
            and text[end + right] == form[block + _BLOCK + right]:
        right += 1
    return found - left, end + right


def _merged(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _whole_escapes(text: str, span: Span) -> Span:
    """`span` widened so that it cuts no escape sequence (`\\"`, `\\\\`, `\\u00e9`) in two."""
    start, end = span
    escape = _escape_around(text, start)
    if escape is not None and escape[0] < start < escape[1]:
        start = escape[0]
    escape = _escape_around(text, end - 1)
    if escape is not None and escape[0] <= end - 1 < escape[1] - 1:
        end = escape[1]
    return start, end


def _escape_around(text: str, index: int) -> Optional[Span]:
    """The escape sequence holding the character at `index`, if any."""
    for begin in range(index, max(-1, index - 6), -1):
        if text[begin] != "\\" or _escaped(text, begin):
            continue
        digits = text[begin + 2:begin + 6]
        length = 6 if text[begin + 1:begin + 2] == "u" and len(digits) == 4 \
            and set(digits) <= _HEX else 2
        return (begin, begin + length) if begin + length > index else None
    return None


def _escaped(text: str, index: int) -> bool:
    """True when the character at `index` follows an odd run of backslashes."""
    count = 0
    while index - count - 1 >= 0 and text[index - count - 1] == "\\":
        count += 1
    return count % 2 == 1


SECRETS = Secrets()
register_secret = SECRETS.register
register_account = SECRETS.register_account
forget_secrets = SECRETS.forget
mask = SECRETS.mask
