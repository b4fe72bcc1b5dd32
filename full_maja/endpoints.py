"""Where the sources are by default, and the environment variables that name others."""
from __future__ import annotations

import os
from typing import Mapping, Optional

DEFAULT_ENDPOINT = "https://peps.cnes.fr/resto/wps"
ENDPOINT_VARIABLE = "PEPS_WPS_URL"
DEFAULT_CATALOGUE = "https://geodes-portal.cnes.fr/api/stac"
CATALOGUE_VARIABLE = "FULL_MAJA_CATALOGUE_URL"


def resolve_endpoint(url: Optional[str] = None,
                     environ: Optional[Mapping[str, str]] = None) -> str:
    """The processing endpoint: `url`, else $PEPS_WPS_URL, else the PEPS default."""
    env = os.environ if environ is None else environ
    return url or env.get(ENDPOINT_VARIABLE) or DEFAULT_ENDPOINT


def resolve_catalogue(url: Optional[str] = None,
                      environ: Optional[Mapping[str, str]] = None) -> str:
    """The catalogue: `url`, else $FULL_MAJA_CATALOGUE_URL, else GEODES's STAC API."""
    env = os.environ if environ is None else environ
    return url or env.get(CATALOGUE_VARIABLE) or DEFAULT_CATALOGUE
