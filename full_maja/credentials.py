"""Where the PEPS account comes from: option, environment, netrc, in that order."""
from __future__ import annotations

import logging
import netrc
import os
import shlex
import stat
from dataclasses import dataclass, field
from typing import Mapping, Optional
from urllib.parse import urlsplit

from .capped import read_user_file, reason
from .errors import CredentialsError, NoAccountError

log = logging.getLogger(__name__)

USER_VARIABLE = "PEPS_USER"
PASSWORD_VARIABLE = "PEPS_PASSWORD"
MAX_AUTH_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Credentials:
    """A PEPS account and a description of where it was found (never the password)."""

    user: str
    password: str = field(repr=False)
    source: str = ""

    def as_auth(self) -> tuple[str, str]:
        """The (user, password) pair that requests expects."""
        return (self.user, self.password)


def resolve_credentials(auth_file: Optional[str], endpoint: str,
                        environ: Optional[Mapping[str, str]] = None) -> Credentials:
    """Find the account: `auth_file`, else PEPS_USER/PEPS_PASSWORD, else ~/.netrc."""
    env = os.environ if environ is None else environ
    if auth_file:
        return read_auth_file(auth_file)
    if env.get(USER_VARIABLE) and env.get(PASSWORD_VARIABLE):
        return Credentials(env[USER_VARIABLE], env[PASSWORD_VARIABLE],
                           f"the environment variables {USER_VARIABLE} and {PASSWORD_VARIABLE}")
    found = _from_netrc(endpoint, env)
    if found:
        return found
    raise NoAccountError(
        f"no account given for {urlsplit(endpoint).hostname}: use -a FILE (one line: "
        f"e-mail, space, password), or set {USER_VARIABLE} and {PASSWORD_VARIABLE}, or add a "
        f"~/.netrc entry for {urlsplit(endpoint).hostname}; or give an API key with "
        "--api-key-file FILE or $FULL_MAJA_API_KEY")


def basic_account(credentials: Optional[Credentials], auth_file: Optional[str], endpoint: str,
                  has_api_key: bool, catalogue: bool = False) -> Optional[Credentials]:
    """The basic-auth account: given, or resolved; optional only when an API key is set.

    A catalogue gets none: the e-mail and password are a processing service's, never
    sent to a catalogue (found in the environment or netrc, or given).
    """
    if catalogue:
        if credentials is not None or auth_file:
            log.warning("the e-mail and password (%s) are not sent to a catalogue, which "
                        "takes the API key alone", auth_file or "credentials")
        return None
    if credentials is not None:
        return credentials
    if auth_file or not has_api_key:
        return resolve_credentials(auth_file, endpoint)
    return None


def read_auth_file(path: str) -> Credentials:
    """Read the one-line credentials file of the original client."""
    text = read_secret_file(path, "--auth", "the e-mail, one space, the password")
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    user, _, password = line.strip().partition(" ")
    password = password.strip()
    if not user or not password:
        raise CredentialsError(
            f"--auth: {path} must hold one line: the e-mail, one space, the password")
    return Credentials(user, password, f"the file {path}")


def read_secret_file(path: str, option: str, holds: str) -> str:
    """The text of a file holding a secret (a regular file, UTF-8, a byte order mark as
    Windows editors write one ignored); warns if others can read it."""
    data = read_user_file(path, option, MAX_AUTH_FILE_BYTES, CredentialsError)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CredentialsError(f"{option}: {path} is not UTF-8 text; write it again as one "
                               f"line: {holds}") from None
    _warn_if_readable_by_others(path)
    return text


def _warn_if_readable_by_others(path: str) -> None:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s can be read by other users; protect what it holds with: chmod 600 %s",
                    path, shlex.quote(path))


def _from_netrc(endpoint: str, env: Mapping[str, str]) -> Optional[Credentials]:
    host = urlsplit(endpoint).hostname or ""
    path = env.get("NETRC") or os.path.join(os.path.expanduser("~"), ".netrc")
    if not os.path.isfile(path):
        return None
    try:
        entry = netrc.netrc(path).authenticators(host)
    except netrc.NetrcParseError as exc:
        raise CredentialsError(f"cannot read {path}: syntax error at line {exc.lineno}") from None
    except UnicodeDecodeError:
        raise CredentialsError(f"cannot read {path}: it is not UTF-8 text; save it as "
                               "UTF-8, or give the account with -a FILE") from None
    except OSError as exc:
        raise CredentialsError(f"cannot read {path}: {reason(exc)}") from None
    if not entry or not entry[0] or not entry[2]:
        return None
    return Credentials(entry[0], entry[2], f"the {path} entry for {host}")
