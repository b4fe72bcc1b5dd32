"""Command line: `python -m emulators` serves the emulator until SIGINT or SIGTERM."""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from .config import JOB_ID_STYLES, EmulatorConfig
from .server import Emulator
from .serving import serve_until_signalled


def build_parser() -> argparse.ArgumentParser:
    """The emulator's command-line options."""
    defaults = EmulatorConfig()
    parser = argparse.ArgumentParser(prog="python -m emulators",
                                     description="Serve a local emulator of PEPS FULL_MAJA.")
    parser.add_argument("--host", default=defaults.host, help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    parser.add_argument("--user", default=defaults.user, help="account e-mail")
    parser.add_argument("--password", default=defaults.password, help="account password")
    parser.add_argument("--timeline", type=_states, default=defaults.timeline,
                        help="job_status steps, comma-separated, e.g. PENDING,STALLED,FINISHED")
    parser.add_argument("--product-size", type=int, default=defaults.product_size,
                        metavar="BYTES", help="size of each product zip")
    parser.add_argument("--all-bands", action="store_true",
                        help="products hold every band and mask as real GeoTIFFs, not SRE_B4 "
                             "alone")
    parser.add_argument("--bandwidth", type=int, default=None, metavar="BYTES_PER_S",
                        help="download rate limit per connection")
    parser.add_argument("--latency", type=_seconds, default=defaults.latency, metavar="SECONDS",
                        help="delay added before each answer, e.g. 0.2 for a distant server")
    parser.add_argument("--no-range", action="store_true", help="ignore Range requests")
    parser.add_argument("--registration-polls", type=int, default=defaults.registration_polls,
                        metavar="N", help="status GETs before the report is referenced")
    parser.add_argument("--job-id-style", choices=JOB_ID_STYLES, default=defaults.job_id_style)
    parser.add_argument("--products-dir", default=None, metavar="DIR",
                        help="where product zips are cached (default: a temporary folder)")
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    return parser


def _states(text: str) -> List[str]:
    """A comma-separated timeline as a list of job_status values."""
    states = [state.strip().upper() for state in text.split(",") if state.strip()]
    if not states:
        raise argparse.ArgumentTypeError("the timeline needs at least one job_status")
    return states


def _seconds(text: str) -> float:
    """A duration of 0 or more seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("the latency must be 0 or more seconds")
    return value


def config_from(args: argparse.Namespace) -> EmulatorConfig:
    """The emulator settings the options ask for."""
    return EmulatorConfig(user=args.user, password=args.password, host=args.host,
                          port=args.port, timeline=args.timeline,
                          product_size=args.product_size, all_bands=args.all_bands,
                          bandwidth=args.bandwidth,
                          latency=args.latency,
                          range_support=not args.no_range,
                          registration_polls=args.registration_polls,
                          job_id_style=args.job_id_style, products_dir=args.products_dir,
                          verbose=args.verbose)


def main(argv: Optional[List[str]] = None) -> int:
    """Serve until SIGINT or SIGTERM, then stop quietly with status 0."""
    args = build_parser().parse_args(argv)
    emulator = Emulator(config_from(args))
    return serve_until_signalled(
        emulator, "python -m emulators", f"{args.host}:{args.port}",
        lambda: f"PEPS emulator listening on {emulator.url} (user {emulator.config.user})")


if __name__ == "__main__":
    sys.exit(main())
