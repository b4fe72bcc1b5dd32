"""Credentials: option, then environment, then netrc; the password never shows."""
from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import pytest
from conftest import special_file

from full_maja.credentials import read_auth_file, resolve_credentials
from full_maja.errors import CredentialsError

ENDPOINT = "https://peps.cnes.fr/resto/wps"


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.mark.parametrize("line, user, password", [
    ("me@x.org secret\n", "me@x.org", "secret"),
    ("me@x.org pass with spaces  \n", "me@x.org", "pass with spaces"),
    ("\n  me@x.org  p@ss \r\n", "me@x.org", "p@ss"),
    ("\ufeffme@x.org secret\r\n", "me@x.org", "secret"),  # as Windows editors save it
])
def test_the_file_of_the_original_client(tmp_path, line, user, password):
    found = resolve_credentials(str(write(tmp_path / "peps.txt", line)), ENDPOINT, {})
    assert (found.user, found.password) == (user, password)
    assert "peps.txt" in found.source and password not in repr(found)


@pytest.mark.parametrize("text", ["", "onlyuser\n", "   \n"])
def test_a_file_without_password_is_refused(tmp_path, text):
    with pytest.raises(CredentialsError, match="one line"):
        resolve_credentials(str(write(tmp_path / "peps.txt", text)), ENDPOINT, {})


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(CredentialsError, match=r"--auth: cannot read .*nope.txt"):
        resolve_credentials(str(tmp_path / "nope.txt"), ENDPOINT, {})


def test_order_is_option_then_environment_then_netrc(tmp_path, isolated_env):
    write(isolated_env / ".netrc", "machine peps.cnes.fr login n@x.org password netrc-pw\n")
    env = {"PEPS_USER": "e@x.org", "PEPS_PASSWORD": "env-pw"}
    auth = str(write(tmp_path / "peps.txt", "f@x.org file-pw"))
    assert resolve_credentials(auth, ENDPOINT, env).user == "f@x.org"
    assert resolve_credentials(None, ENDPOINT, env).user == "e@x.org"
    found = resolve_credentials(None, ENDPOINT, {})
    assert (found.user, found.password) == ("n@x.org", "netrc-pw")
    assert ".netrc" in found.source


def test_netrc_entry_must_match_the_endpoint_host(isolated_env):
    write(isolated_env / ".netrc", "machine other.host login n@x.org password pw\n")
    with pytest.raises(CredentialsError, match="PEPS_USER"):
        resolve_credentials(None, ENDPOINT, {})


def test_a_group_readable_file_draws_a_warning(tmp_path, caplog):
    path = write(tmp_path / "peps.txt", "me@x.org secret", 0o644)
    with caplog.at_level(logging.WARNING):
        resolve_credentials(str(path), ENDPOINT, {})
    assert "chmod 600" in caplog.text and "secret" not in caplog.text


def test_a_netrc_that_is_not_utf8_is_a_credentials_error(isolated_env):
    write(isolated_env / ".netrc", "")
    (isolated_env / ".netrc").write_bytes(
        b"machine peps.cnes.fr login n@x.org password caf\xe9-pw\n")
    with pytest.raises(CredentialsError, match="not UTF-8") as exc:
        resolve_credentials(None, ENDPOINT, {})
    assert "caf" not in str(exc.value)


@pytest.mark.parametrize("special", ["fifo", "folder", "device"])
def test_an_auth_file_that_is_not_a_regular_file_is_refused_unread(tmp_path, special):
    path = special_file(tmp_path, special)
    with pytest.raises(CredentialsError, match="not a regular file"):
        resolve_credentials(str(path), ENDPOINT, {})


def test_the_chmod_advice_for_a_file_others_can_read_pastes(tmp_path, caplog):
    path = tmp_path / "it's my account.txt"
    path.write_text("me@example.org secret\n")
    path.chmod(0o644)
    read_auth_file(str(path))
    command = caplog.text.split("protect what it holds with: ", 1)[1].splitlines()[0]
    subprocess.run(["sh", "-c", command], check=True)
    assert path.stat().st_mode & 0o777 == 0o600


def test_an_api_key_file_saved_with_a_byte_order_mark_gives_the_key(tmp_path):
    from full_maja.auth import read_api_key_file
    key = read_api_key_file(str(write(tmp_path / "key.txt", "\ufeffkey-0123456789\r\n")))
    assert key.key == "key-0123456789"
