"""Command line: `python -m emulators.ogcapi` serves pygeoapi FULL_MAJA until stopped."""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from ..serving import serve_until_signalled
from .config import REPORT_FORMS, OgcApiConfig
from .server import OgcApiServer


def build_parser() -> argparse.ArgumentParser:
    """The server's command-line options."""
    defaults = OgcApiConfig()
    parser = argparse.ArgumentParser(prog="python -m emulators.ogcapi",
                                     description="Serve FULL_MAJA over OGC API - Processes "
                                                 "with a real pygeoapi.")
    parser.add_argument("--host", default=defaults.host, help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="API port (0: any free port)")
    parser.add_argument("--products-port", type=int, default=0,
                        help="product file server port (0: any free port)")
    parser.add_argument("--user", default=defaults.user, help="basic auth user")
    parser.add_argument("--password", default=defaults.password, help="basic auth password")
    parser.add_argument("--api-key", default=defaults.api_key, help="accepted API key")
    parser.add_argument("--api-key-header", default=defaults.api_key_header,
                        help="header carrying the API key")
    parser.add_argument("--report-form", choices=REPORT_FORMS, default=defaults.report_form,
                        help="how the report output is given in the results")
    parser.add_argument("--user-info", action="store_true", help="wrap the report in USER_INFO")
    parser.add_argument("--run-seconds", type=float, default=10.0,
                        help="how long each job runs")
    parser.add_argument("--queue-seconds", type=float, default=defaults.queue_seconds,
                        help="how long each job stays accepted before it runs")
    parser.add_argument("--fail", default=None, metavar="MESSAGE",
                        help="make every job fail with this message")
    parser.add_argument("--product-size", type=int, default=defaults.product_size,
                        metavar="BYTES", help="size of each product zip")
    parser.add_argument("--work-dir", default=None, metavar="DIR",
                        help="where config, jobs and products live (default: a temporary folder)")
    parser.add_argument("--verbose", action="store_true", help="let pygeoapi log its errors")
    return parser


def config_from(args: argparse.Namespace) -> OgcApiConfig:
    """The server settings the options ask for."""
    return OgcApiConfig(user=args.user, password=args.password, api_key=args.api_key,
                        api_key_header=args.api_key_header, host=args.host, port=args.port,
                        products_port=args.products_port, report_form=args.report_form,
                        user_info=args.user_info, run_seconds=args.run_seconds,
                        queue_seconds=args.queue_seconds, fail=args.fail,
                        product_size=args.product_size, work_dir=args.work_dir,
                        verbose=args.verbose)


def main(argv: Optional[List[str]] = None) -> int:
    """Serve until SIGINT or SIGTERM, then stop quietly with status 0."""
    args = build_parser().parse_args(argv)
    server = OgcApiServer(config_from(args))

    def banner() -> str:
        config = server.config
        return (f"OGC API FULL_MAJA (pygeoapi) listening on {server.url}\n"
                f"products served from {server.products_url}\n"
                f"account: user {config.user} password {config.password}, "
                f"or header {config.api_key_header}: {config.api_key}")

    return serve_until_signalled(server, "python -m emulators.ogcapi", args.host,
                                 banner)


if __name__ == "__main__":
    sys.exit(main())
