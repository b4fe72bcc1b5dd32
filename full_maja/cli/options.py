"""What both commands share on their command line: the parser, common options, types."""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, Callable, NoReturn, Optional

from ..__version__ import __version__
from ..errors import UsageError


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line through the usual error path."""

    def error(self, message: str) -> NoReturn:
        """Raise the usage error the runner prints as one line, exit code 2."""
        raise UsageError(f"{message} (see --help)")


@dataclass(frozen=True)
class CommonSettings:
    """The options both commands take: account, endpoint, transport, verbosity."""

    auth: Optional[str]
    url: Optional[str]
    insecure_http: bool
    quiet: bool
    debug: bool

    @staticmethod
    def common(args: argparse.Namespace) -> dict[str, Any]:
        """The common fields, read from parsed options, for a subclass's from_args."""
        return {"auth": args.auth, "url": args.url, "insecure_http": args.insecure_http,
                "quiet": args.quiet, "debug": args.debug}


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Add the options of CommonSettings, and --version."""
    parser.add_argument("-a", "--auth", metavar="FILE",
                        help="credentials file: one line, the e-mail, a space, the password "
                             "(default: $PEPS_USER and $PEPS_PASSWORD, then ~/.netrc)")
    parser.add_argument("--url", metavar="URL",
                        help="WPS endpoint (default: $PEPS_WPS_URL, else "
                             "https://peps.cnes.fr/resto/wps)")
    parser.add_argument("--insecure-http", action="store_true",
                        help="allow a plain http:// endpoint on another machine "
                             "(the password then travels in clear)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print only warnings, errors and the final summary")
    parser.add_argument("--debug", action="store_true",
                        help="show a traceback when something fails")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")


def _positive(convert: Callable[[str], float], noun: str) -> Callable[[str], float]:
    """An argparse type: a positive, finite number of the given kind."""
    def parse(text: str) -> float:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun}") from None
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
        return value
    return parse


positive_int = _positive(int, "a whole number")
positive_float = _positive(float, "a number")
