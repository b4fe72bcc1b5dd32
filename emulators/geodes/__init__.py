"""A GEODES-like STAC catalogue of MAJA L2A products, for tests and demos.

`GeodesServer(GeodesConfig(...))` serves, on loopback, what /work/shared/geodes-catalogue.md
describes of CNES's GEODES: a STAC API (`/api/stac`: landing page, conformance,
collections, `POST /api/stac/search`) whose collection THEIA_REFLECTANCE_SENTINEL2_L2A
lists MAJA L2A products:

- search bodies with GEODES's query operators (`eq`, `neq`, `in`, `contains` as a
  substring match, `lte`, `gte`), `sortBy`, and page-number paging (`page`, `limit`)
  capped at 80 items a page; `context` says `returned`, `limit` and `matched`; the
  `next` link points at the collection's unfiltered items with another limit (as
  GEODES's do: a client that follows it gets the wrong items);
- items with opaque URN ids; the product's name only in `properties.identifier` and
  in asset titles (asset hrefs end with an MD5); size, tape status and MD5 only in the
  assets' description text, one per paragraph; some acquisitions in two product
  versions (same identifier), some with metadata only (MAJA wrote no product);
- downloads (`/api/download/<URN>/files/<MD5>`) that need the API key header (401
  without it, 403 with a wrong one) and redirect to a storage server on another port
  (another origin) serving byte ranges; products on tape refused a number of times;
- faults: a 500 to the search, a product served with other valid bytes once (its MD5
  differs), a product cut short.

The zips come from the shared product builder (`emulators.products`); a product's
metadata assets are the members of its zip. `python -m emulators.geodes` serves it from
the shell. It imports nothing from full_maja.
"""
from __future__ import annotations

from .config import COLLECTION, DEFAULT_API_KEY, GeodesConfig, GeodesFault
from .handler import GeodesRequest
from .server import GeodesServer

__all__ = ["COLLECTION", "DEFAULT_API_KEY", "GeodesConfig", "GeodesFault", "GeodesRequest",
           "GeodesServer"]
