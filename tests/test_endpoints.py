"""Which source a client talks to when none is given: the option, the environment, the default."""
from __future__ import annotations

import pytest

import full_maja.client
import full_maja.endpoints
from full_maja.endpoints import (
    CATALOGUE_VARIABLE,
    DEFAULT_CATALOGUE,
    DEFAULT_ENDPOINT,
    ENDPOINT_VARIABLE,
    resolve_catalogue,
    resolve_endpoint,
)

GIVEN = "https://given.example/wps"
FROM_ENV = "https://env.example/wps"


@pytest.mark.parametrize("resolve, variable, default", [
    (resolve_endpoint, ENDPOINT_VARIABLE, DEFAULT_ENDPOINT),
    (resolve_catalogue, CATALOGUE_VARIABLE, DEFAULT_CATALOGUE),
])
@pytest.mark.parametrize("url, environ, expected", [
    (GIVEN, {"VAR": FROM_ENV}, GIVEN),
    (None, {"VAR": FROM_ENV}, FROM_ENV),
    (None, {"VAR": ""}, None),
    (None, {}, None),
])
def test_the_option_wins_over_the_environment_which_wins_over_the_default(
        resolve, variable, default, url, environ, expected):
    env = {variable if name == "VAR" else name: value for name, value in environ.items()}
    assert resolve(url, env) == (expected or default)


def test_the_endpoint_variable_does_not_move_the_catalogue():
    assert resolve_catalogue(None, {ENDPOINT_VARIABLE: FROM_ENV}) == DEFAULT_CATALOGUE


@pytest.mark.parametrize("name", ["DEFAULT_CATALOGUE", "DEFAULT_ENDPOINT",
                                  "resolve_catalogue", "resolve_endpoint"])
def test_the_names_full_maja_client_exported_still_import_from_it(name):
    assert name in full_maja.client.__all__
    assert getattr(full_maja.client, name) is getattr(full_maja.endpoints, name)
