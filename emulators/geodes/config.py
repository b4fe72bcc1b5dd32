"""The GEODES emulator's settings and the faults it can be told to inject."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Optional, Tuple, Union

COLLECTION = "THEIA_REFLECTANCE_SENTINEL2_L2A"
FAULT_KINDS = ("none", "http500", "http404", "wrong-bytes", "truncate")
DEFAULT_API_KEY = "demo-api-key"


@dataclass(frozen=True)
class GeodesFault:
    """One misbehaviour, used up by one request to its target ("search" or a zip name).

    `http500` answers 500, `http404` 404 (a file the catalogue lists but lost);
    `wrong-bytes` serves another valid zip of the same size (its MD5 differs, its CRCs
    hold); `truncate` cuts the body after `value` bytes; `none`
    lets one request through, to fault the next one.
    """

    kind: str
    value: Optional[int] = None

    def __post_init__(self) -> None:
        """Refuse unknown kinds early."""
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; known: {', '.join(FAULT_KINDS)}")
        if self.kind == "truncate" and self.value is None:
            raise ValueError("fault 'truncate' needs a value")


@dataclass
class GeodesConfig:
    """Everything the GEODES emulator can be told; every field has a default.

    The catalogue covers `tiles`, each seen from `orbits` every `step_days` from
    `first_date` to `last_date`; acquisitions after `published_until` are not listed
    yet (THEIA publishes days after acquisition: move it to publish more). Every
    `cloudy_every`-th acquisition is listed with metadata only (MAJA wrote no product),
    every `two_versions_every`-th in two product versions, every `offline_every`-th on
    tape (`Is online: false`), refused `tape_refusals` times with `tape_status` before
    it is served.
    """

    host: str = "127.0.0.1"
    port: int = 0
    storage_port: int = 0
    api_key: str = DEFAULT_API_KEY
    api_key_header: str = "X-API-Key"
    tiles: Tuple[str, ...] = ("31TCJ", "31TCH", "36TWQ")
    orbits: Tuple[int, ...] = (51, 8)
    first_date: date = date(2018, 1, 1)
    last_date: date = date(2026, 12, 31)
    published_until: Optional[date] = None
    step_days: int = 5
    cloudy_every: int = 6
    two_versions_every: int = 4
    offline_every: int = 0
    tape_refusals: int = 0
    tape_status: int = 202
    product_size: int = 16 * 1024
    products_dir: Optional[Union[str, Path]] = None
    max_limit: int = 80
    default_limit: int = 20
    bandwidth: Optional[int] = None
    versions: Tuple[str, str] = ("3.1", "4.0")

    def __post_init__(self) -> None:
        """Refuse settings the emulator cannot honour."""
        if self.step_days < 1 or self.max_limit < 1 or self.default_limit < 1:
            raise ValueError("step_days, max_limit and default_limit must be at least 1")
