"""Building pygeoapi's own Flask WSGI app for one server, from a config written on disk."""
from __future__ import annotations

import importlib.util
import itertools
import json
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator

from pygeoapi.openapi import generate_openapi_document  # type: ignore[import-untyped]

from .process import PROCESS_ID

_ENV_LOCK = threading.Lock()
_COUNTER = itertools.count(1)


def pygeoapi_config(url: str, work: Path, settings: Path, verbose: bool) -> Dict[str, Any]:
    """pygeoapi's configuration: one FULL_MAJA process and the TinyDB job manager."""
    return {
        "server": {
            "bind": {"host": "127.0.0.1", "port": 0}, "url": url,
            "mimetype": "application/json; charset=UTF-8", "encoding": "utf-8",
            "languages": ["en-US"], "pretty_print": True,
            "limits": {"default_items": 10, "max_items": 100},
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                    "attribution": "OpenStreetMap"},
            "manager": {"name": "TinyDB", "connection": str(work / "jobs.db"),
                        "output_dir": str(work / "outputs")},
        },
        "logging": {"level": "ERROR" if verbose else "CRITICAL"},
        "metadata": _metadata(url),
        "resources": {PROCESS_ID: {
            "type": "process",
            "processor": {"name": "emulators.ogcapi.process.FullMajaProcessor",
                          "settings": str(settings)}}},
    }


def _metadata(url: str) -> Dict[str, Any]:
    """The service metadata pygeoapi's landing page and OpenAPI document need."""
    return {
        "identification": {"title": "FULL_MAJA test server", "description":
                           "pygeoapi serving FULL_MAJA for full-maja's tests",
                           "keywords": ["MAJA"], "keywords_type": "theme",
                           "terms_of_service": url, "url": url},
        "license": {"name": "CC-BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
        "provider": {"name": "full-maja", "url": url},
        "contact": {"name": "full-maja", "position": "tests", "address": "-", "city": "-",
                    "stateorprovince": "-", "postalcode": "-", "country": "-",
                    "phone": "-", "fax": "-", "email": "tests@example.com", "url": url,
                    "hours": "-", "instructions": "-", "role": "pointOfContact"},
    }


def write_documents(config: Dict[str, Any], work: Path) -> Dict[str, Path]:
    """Write pygeoapi's config (JSON, which is YAML) and OpenAPI document; paths by env var."""
    config_path = work / "pygeoapi-config.yml"
    config_path.write_text(json.dumps(config, indent=2))
    openapi_path = work / "pygeoapi-openapi.json"
    openapi_path.write_text(generate_openapi_document(config_path, "json"))
    return {"PYGEOAPI_CONFIG": config_path, "PYGEOAPI_OPENAPI": openapi_path}


@contextmanager
def _environment(values: Dict[str, Path]) -> Iterator[None]:
    """Set environment variables for a while, then put the old values back."""
    old = {name: os.environ.get(name) for name in values}
    os.environ.update({name: str(path) for name, path in values.items()})
    try:
        yield
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def flask_app(documents: Dict[str, Path]) -> Any:
    """A fresh copy of pygeoapi.flask_app built from these documents; its WSGI app.

    pygeoapi.flask_app reads its config once, at import: each server loads its own copy
    of the module under a private name, so servers of different configs can coexist.
    """
    spec = importlib.util.find_spec("pygeoapi.flask_app")
    if spec is None or spec.origin is None:
        raise RuntimeError("pygeoapi is not installed")
    name = f"_full_maja_pygeoapi_app_{next(_COUNTER)}"
    copy = importlib.util.spec_from_file_location(name, spec.origin)
    if copy is None or copy.loader is None:
        raise RuntimeError("cannot load pygeoapi.flask_app")
    module = importlib.util.module_from_spec(copy)
    with _ENV_LOCK, _environment(documents):
        copy.loader.exec_module(module)
    return module.APP
