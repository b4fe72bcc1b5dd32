"""Command line: `python -m emulators.geodes` serves the GEODES-like catalogue until signalled."""
from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import List, Optional

from ..serving import serve_until_signalled
from .config import GeodesConfig
from .server import GeodesServer


def build_parser() -> argparse.ArgumentParser:
    """The emulator's options."""
    defaults = GeodesConfig()
    parser = argparse.ArgumentParser(prog="python -m emulators.geodes",
                                     description="Serve a local GEODES-like STAC catalogue.")
    parser.add_argument("--host", default=defaults.host, help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="the API's port (0: any free)")
    parser.add_argument("--api-key", default=defaults.api_key, help="the key downloads need")
    parser.add_argument("--tiles", nargs="+", default=list(defaults.tiles), metavar="TILE",
                        help="the tiles the catalogue covers")
    parser.add_argument("--product-size", type=int, default=defaults.product_size,
                        metavar="BYTES", help="size of each product zip")
    parser.add_argument("--published-until", type=date.fromisoformat, default=None,
                        metavar="YYYY-MM-DD", help="list no acquisition after this day")
    parser.add_argument("--offline-every", type=int, default=0, metavar="N",
                        help="every N-th acquisition is on tape")
    parser.add_argument("--tape-refusals", type=int, default=0, metavar="N",
                        help="refuse each product on tape N times before serving it")
    parser.add_argument("--products-dir", default=None, metavar="DIR",
                        help="where product zips are cached (default: a temporary folder)")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Serve until SIGINT or SIGTERM."""
    args = build_parser().parse_args(argv)
    config = GeodesConfig(host=args.host, port=args.port, api_key=args.api_key,
                          tiles=tuple(args.tiles), product_size=args.product_size,
                          published_until=args.published_until,
                          offline_every=args.offline_every, tape_refusals=args.tape_refusals,
                          products_dir=args.products_dir)
    server = GeodesServer(config)
    return serve_until_signalled(
        server, "python -m emulators.geodes", f"{args.host}:{args.port}",
        lambda: f"GEODES-like catalogue at {server.url} (storage at {server.storage_url}); "
                f"API key {config.api_key!r} in the header {config.api_key_header}")


if __name__ == "__main__":
    sys.exit(main())
