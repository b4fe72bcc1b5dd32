"""What both commands share on their command line: the parser, common options, types."""
from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NoReturn, Optional, Sequence

from ..__version__ import __version__
from ..auth import API_KEY_VARIABLE, DEFAULT_API_KEY_HEADER
from ..client import Client
from ..errors import UsageError
from ..states import Protocol


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
        """The common fields, read from parsed options, for a subclass's from_args."""
        return {"auth": args.auth, "url": args.url, "protocol": args.protocol,
                "api_key_file": args.api_key_file, "api_key_header": args.api_key_header,
                "insecure_http": args.insecure_http, "quiet": args.quiet,
                "debug": args.debug}

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


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Add the options of CommonSettings, and --version."""
    parser.add_argument("-a", "--auth", metavar="FILE",
                        help="credentials file: one line, the e-mail, a space, the password "
                             "(default: $PEPS_USER and $PEPS_PASSWORD, then ~/.netrc)")
    parser.add_argument("--url", metavar="URL",
                        help="the FULL_MAJA service: a WPS 1.0.0 endpoint or an OGC API - "
                             "Processes landing page (default: the endpoint the log records, "
                             "else $PEPS_WPS_URL, else https://peps.cnes.fr/resto/wps)")
    parser.add_argument("--protocol", choices=[p.value for p in Protocol if p.processes],
                        help="the protocol the service speaks (default: detected from --url "
                             "with one request; the jobs of a log use the protocol it "
                             "records)")
    parser.add_argument("--api-key-file", metavar="FILE",
                        help=f"a file holding an API key on one line, sent instead of the "
                             f"e-mail and password (default: ${API_KEY_VARIABLE} when set)")
    parser.add_argument("--api-key-header", metavar="NAME", default=DEFAULT_API_KEY_HEADER,
                        help=f"the request header carrying the API key (default: "
                             f"{DEFAULT_API_KEY_HEADER})")
    parser.add_argument("--insecure-http", action="store_true",
                        help="allow a plain http:// endpoint on another machine "
                             "(the password or API key then travels in clear)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print only warnings, errors and the final summary")
    parser.add_argument("--debug", action="store_true",
                        help="show a traceback when something fails")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")


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
    value = getattr(args, option.lstrip("-").replace("-", "_"))
    return value is not None and value is not False


def open_client(settings: CommonSettings, endpoint: str, **tuning: Any) -> Client:
    """The client of `endpoint` with the account, protocol and transport the options give."""
    return Client(endpoint, auth_file=settings.auth, protocol=settings.protocol,
                  api_key_file=settings.api_key_file, api_key_header=settings.api_key_header,
                  insecure_http=settings.insecure_http, **tuning)


def download_command(settings: CommonSettings, log_path: Path, write_dir: str) -> str:
    """The download command that follows `log_path`, as the user should type it."""
    return _download_words(settings, "-l", str(log_path), "-w", write_dir)


def adopt_command(settings: CommonSettings, job_id: str, log_path: Path, append: bool) -> str:
    """The download command that writes `log_path` for a journalled job, as the user types it."""
    return _download_words(settings, "--adopt", job_id, "-l", str(log_path),
                           *(["--append"] if append else []))


def _download_words(settings: CommonSettings, *words: str) -> str:
    script = Path(sys.argv[0]).name
    program = ("full-maja-download" if script.startswith("full-maja")
               else f"python {Path(sys.argv[0]).with_name('full_maja_download.py')}")
    return shlex.join([*shlex.split(program), *settings.account_words(), *words])


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
