"""What the commands share on their command line: the parser, each option defined once, types.

Every option is written here once (`OPTIONS`); a parser takes the ones it needs by
name (`add_options`), so a subcommand of `full-maja` and the compatible scripts say
the same words. The options every subcommand takes (account, endpoint, verbosity) come
as `parents=` parsers put on each subcommand only, never on the top parser as well:
argparse lets a subcommand's default overwrite an option given before the verb.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NoReturn, Optional, Sequence

from ..__version__ import __version__
from ..auth import API_KEY_VARIABLE, DEFAULT_API_KEY_HEADER
from ..client import MAX_POLL_INTERVAL, Client
from ..endpoints import ENDPOINT_VARIABLE
from ..errors import UsageError
from ..session import MAX_TIMEOUT, MIN_TIMEOUT
from ..states import Protocol
from .nextstep import Verb


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line through the usual error path."""

    def error(self, message: str) -> NoReturn:
        """Raise the usage error the runner prints as one line, exit code 2."""
        raise UsageError(f"{message} (see --help)")


@dataclass(frozen=True)
class CommonSettings:
    """The options both commands take: account, endpoint, protocol, transport, verbosity."""

    auth: Optional[str]
    url: Optional[str]
    protocol: Optional[str]
    api_key_file: Optional[str]
    api_key_header: str
    insecure_http: bool
    quiet: bool
    debug: bool

    @staticmethod
    def common(args: argparse.Namespace) -> dict[str, Any]:
        """The common fields, read from parsed options, for a subclass's from_args.

        A subcommand that does not take an option (`--protocol` to follow a log) leaves
        it at its default.
        """
        return {"auth": getattr(args, "auth", None), "url": getattr(args, "url", None),
                "protocol": getattr(args, "protocol", None),
                "api_key_file": getattr(args, "api_key_file", None),
                "api_key_header": getattr(args, "api_key_header", DEFAULT_API_KEY_HEADER),
                "insecure_http": getattr(args, "insecure_http", False),
                "quiet": getattr(args, "quiet", False), "debug": getattr(args, "debug", False)}

    def account_words(self) -> list[str]:
        """The account options to repeat in a command printed for the user (never a secret)."""
        words = ["-a", self.auth] if self.auth else []
        if self.api_key_file:
            words += ["--api-key-file", self.api_key_file]
        if self.api_key_header != DEFAULT_API_KEY_HEADER:
            words += ["--api-key-header", self.api_key_header]
        if self.insecure_http:
            words.append("--insecure-http")
        return words


Option = tuple[tuple[str, ...], dict[str, Any]]


def _option(*flags: str, **settings: Any) -> Option:
    return flags, settings


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


def _seconds(low: float, high: float, *, low_allowed: bool = True) -> Callable[[str], float]:
    """An argparse type: a number of seconds from `low` (or just above it) to `high`."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (low <= value if low_allowed else low < value) or not value <= high:
            span = f"from {low:g} to" if low_allowed else f"above {low:g} and up to"
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds {span} "
                                             f"{high:g}")
        return value
    return parse


positive_int = _positive(int, "a whole number")
timeout_seconds = _seconds(MIN_TIMEOUT, MAX_TIMEOUT)
poll_seconds = _seconds(0, MAX_POLL_INTERVAL, low_allowed=False)

OPTIONS: dict[str, Option] = {
    # The account and the service: every command.
    "auth": _option("-a", "--auth", metavar="FILE",
                    help="credentials file: one line, the e-mail, a space, the password "
                         "(default: $PEPS_USER and $PEPS_PASSWORD, then ~/.netrc)"),
    "url": _option("--url", metavar="URL",
                   help="the FULL_MAJA service: a WPS 1.0.0 endpoint or an OGC API - Processes "
                        f"landing page (default: the endpoint the log records, else "
                        f"${ENDPOINT_VARIABLE}; PEPS, the former default, closed on "
                        "2026-03-25)"),
    "protocol": _option("--protocol", choices=[p.value for p in Protocol if p.processes],
                        help="the protocol the service speaks (default: detected from --url "
                             "with one request; the jobs of a log use the protocol it "
                             "records)"),
    "api_key_file": _option("--api-key-file", metavar="FILE",
                            help="a file holding an API key on one line, sent instead of the "
                                 f"e-mail and password (default: ${API_KEY_VARIABLE} when "
                                 "set)"),
    "api_key_header": _option("--api-key-header", metavar="NAME",
                              default=DEFAULT_API_KEY_HEADER,
                              help="the request header carrying the API key (default: "
                                   f"{DEFAULT_API_KEY_HEADER})"),
    "insecure_http": _option("--insecure-http", action="store_true",
                             help="allow a plain http:// endpoint on another machine "
                                  "(the password or API key then travels in clear)"),
    "quiet": _option("-q", "--quiet", action="store_true",
                     help="print only warnings, errors and the final summary"),
    "debug": _option("--debug", action="store_true",
                     help="add the traceback to an error (the exit code and the error line "
                          "stay the same)"),
    # Following a log and downloading its products.
    "log": _option("-l", "-g", "--log", metavar="FILE",
                   help="the job log written by the submit command"),
    "write_dir": _option("-w", "--write-dir", metavar="DIR", default=".",
                         help="where products go (default: the current folder)"),
    "parallel": _option("-j", "--parallel", metavar="N", type=positive_int, default=2,
                        help="connections at once (default: 2); when no product is left to "
                             "start, a free one takes the tail of the slowest product"),
    "timeout": _option("--timeout", metavar="SECONDS", type=timeout_seconds, default=30.0,
                       help="abandon and resume a transfer silent for this long, and a "
                            "document (status, report) taking 4 times this to arrive "
                            "(0.1 to 3600, default 30)"),
    "status": _option("--status", action="store_true",
                      help="print one row per job and download nothing"),
    "json": _option("--json", action="store_true",
                    help="print the report as one JSON document on stdout (everything else "
                         "goes to stderr)"),
    "wait": _option("--wait", action="store_true",
                    help="keep following the jobs until each has ended, then download"),
    "poll_interval": _option("--poll-interval", metavar="SECONDS", type=poll_seconds,
                             default=argparse.SUPPRESS,
                             help="seconds between checks while waiting (default 900, at "
                                  "least 60 for a remote server, at most 86400)"),
    "resubmit": _option("--resubmit", action="store_true",
                        help="submit again every job that failed or was cancelled (ERROR, "
                             "CANCELED, failed, dismissed)"),
    "extract": _option("-x", "--extract", action="store_true",
                       help="unzip each verified product into the write folder (and remove "
                            "the zip unless --keep-zip)"),
    "keep_zip": _option("--keep-zip", action="store_true",
                        help="with --extract, keep the zip beside the extracted product"),
    "no_page": _option("--no-page", action="store_true",
                       help="do not write series.html, the series at a glance, in the "
                            "write folder"),
    "no_catalogue": _option("--no-catalogue", action="store_true",
                            help="do not write catalog.json, the STAC catalogue of the "
                                 "products in the write folder"),
    "refresh": _option("--refresh", action="store_true",
                       help="ask the server about every job again, even those remembered as "
                            "finished with every product on disk"),
    "append": _option("--append", action="store_true",
                      help="add the job(s) to a log that already holds jobs (of the same "
                           "endpoint)"),
}

ACCOUNT = ("auth", "url", "api_key_file", "api_key_header", "insecure_http")
OUTPUT = ("quiet", "debug")


def add_options(parser: argparse._ActionsContainer, *names: str,
                required: Sequence[str] = (), helps: Optional[Mapping[str, str]] = None) -> None:
    """Add the options `names` of OPTIONS; `required` must be given, `helps` rewords some."""
    for name in names:
        flags, settings = OPTIONS[name]
        if helps and name in helps:
            settings = {**settings, "help": helps[name]}
        if name in required:
            settings = {**settings, "required": True}
        parser.add_argument(*flags, **settings)


@dataclass(frozen=True)
class Subcommand:
    """One subcommand of `full-maja`: its verb, what it does, its options, what it runs.

    `options` are names in OPTIONS (`own` adds the others, such as a positional);
    `mode` gives the settings fields the subcommand fixes, `protocol` whether it takes
    --protocol (only commands that reach a server without a log do), `needs` the options
    that only work with another (option, what it needs).
    """

    verb: Verb
    summary: str
    settings: Callable[[argparse.Namespace], CommonSettings]
    options: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    helps: Mapping[str, str] = field(default_factory=dict)
    mode: Mapping[str, Any] = field(default_factory=dict)
    protocol: bool = False
    own: Optional[Callable[[argparse.ArgumentParser], None]] = None
    needs: tuple[tuple[str, str], ...] = ()

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        """Put this subcommand's own options on its parser."""
        if self.own is not None:
            self.own(parser)
        add_options(parser, *self.options, required=self.required, helps=self.helps)
        parser.set_defaults(**self.mode)


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Add the options of CommonSettings, and --version (the compatible scripts)."""
    add_options(parser, *ACCOUNT[:2], "protocol", *ACCOUNT[2:], *OUTPUT)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")


def shared_parents(*, protocol: bool,
                   helps: Optional[Mapping[str, str]] = None) -> list[Parser]:
    """The options every subcommand takes, as `parents=` for one subcommand's parser."""
    account = Parser(add_help=False)
    account_group = account.add_argument_group("account and service")
    add_options(account_group, *ACCOUNT[:2], *(["protocol"] if protocol else []),
                *ACCOUNT[2:], helps=helps)
    output = Parser(add_help=False)
    add_options(output.add_argument_group("output"), *OUTPUT)
    return [account, output]


def check_conflicts(args: argparse.Namespace, conflicts: Sequence[tuple[str, str]],
                    needs: Sequence[tuple[str, str]]) -> None:
    """Refuse, in one line, two options that contradict or one that needs another.

    Options are named as the user writes them (`--keep-zip`); `conflicts` holds
    pairs that cannot be given together, `needs` pairs (option, what it needs).
    """
    for first, second in conflicts:
        if _given(args, first) and _given(args, second):
            raise UsageError(f"{first} and {second} contradict each other; give one of them")
    for option, needed in needs:
        if _given(args, option) and not _given(args, needed):
            raise UsageError(f"{option} only works with {needed}")


def _given(args: argparse.Namespace, option: str) -> bool:
    value = getattr(args, option.lstrip("-").replace("-", "_"), None)
    return value is not None and value is not False


def open_client(settings: CommonSettings, endpoint: str, protocol: Optional[str] = None,
                **tuning: Any) -> Client:
    """The client of `endpoint` with the account, protocol (`protocol` if given) and
    transport the options give."""
    return Client(endpoint, auth_file=settings.auth, protocol=protocol or settings.protocol,
                  api_key_file=settings.api_key_file, api_key_header=settings.api_key_header,
                  insecure_http=settings.insecure_http, **tuning)
