"""`full-maja SUBCOMMAND`: one parser, a subcommand per thing to do, all through one runner.

The table of subcommands lives with each family (`submit.SUBMIT_SUBCOMMAND`,
`download.SUBCOMMANDS`); this module only puts them under one parser, with the short
manual `full-maja --help` prints, and hands the settings to the family's body.
"""
from __future__ import annotations

import argparse
import textwrap
from typing import Optional, Sequence

from ..__version__ import __version__
from ..auth import API_KEY_VARIABLE
from ..console import Console
from ..credentials import PASSWORD_VARIABLE, USER_VARIABLE
from ..endpoints import CATALOGUE_VARIABLE, DEFAULT_CATALOGUE, ENDPOINT_VARIABLE
from .download import SUBCOMMANDS, follow
from .following import DownloadSettings
from .nextstep import PROGRAM, SCRIPTS
from .options import CommonSettings, Parser, check_conflicts, shared_parents
from .runner import Command, run
from .status import MEANINGS, ExitCode
from .submit import SUBMIT_SUBCOMMAND, SubmitSettings, submit

ALL_SUBCOMMANDS = (SUBMIT_SUBCOMMAND, *SUBCOMMANDS)
_BY_VERB = {subcommand.verb.value: subcommand for subcommand in ALL_SUBCOMMANDS}

MANUAL = """\
Get MAJA L2A time series of Sentinel-2 tiles: from the GEODES catalogue, which
publishes the products THEIA has made (--source catalogue), or processed on demand by
a FULL_MAJA service (WPS 1.0.0 or OGC API - Processes).

A series takes two steps: `full-maja submit` searches the catalogue or sends one job
per tile and period, and records the search or the jobs in a job log; `full-maja
download`, run by hand or hourly from cron, follows the log and downloads the products.
`full-maja SUBCOMMAND --help` lists the options of one subcommand."""


def _epilog() -> str:
    codes = "\n".join(textwrap.fill(meaning, 86, initial_indent=f"  {int(code):<4} ",
                                   subsequent_indent=" " * 7)
                     for code, meaning in MEANINGS.items())
    return f"""\
account:
  -a FILE (one line: e-mail, space, password), else ${USER_VARIABLE} and
  ${PASSWORD_VARIABLE}, else a ~/.netrc entry for the service's host; or an API key:
  --api-key-file FILE or ${API_KEY_VARIABLE}. Sent only to the service's own origin,
  never printed nor written. Searching the catalogue needs no account; downloading its
  products needs the API key of a GEODES account.

service:
  --url URL, else the endpoint the log records, else ${ENDPOINT_VARIABLE}. PEPS, the
  former default, closed on 2026-03-25. The catalogue: --catalogue-url URL, else
  ${CATALOGUE_VARIABLE}, else {DEFAULT_CATALOGUE}.

exit codes:
{codes}

compatible names:
  {SCRIPTS['submit']} (full-maja-process) is `{PROGRAM} submit`; {SCRIPTS['follow']}
  (full-maja-download) is `{PROGRAM} download`, with --status, --wait, --resubmit,
  --cancel, --server-jobs and --adopt as flags."""


def full_maja_parser(prog: str) -> argparse.ArgumentParser:
    """The parser of `full-maja`: --version, and one subparser per subcommand."""
    parser = Parser(prog=prog, description=MANUAL, epilog=_epilog(),
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    verbs = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True,
                                  title="subcommands")
    for subcommand in ALL_SUBCOMMANDS:
        own = verbs.add_parser(subcommand.verb.value, help=subcommand.summary,
                               description=subcommand.summary[0].upper()
                               + subcommand.summary[1:] + ".",
                               parents=shared_parents(protocol=subcommand.protocol,
                                                      helps=subcommand.helps))
        subcommand.add_to(own)
    return parser


def _settings(args: argparse.Namespace) -> CommonSettings:
    subcommand = _BY_VERB[args.subcommand]
    check_conflicts(args, (), subcommand.needs)
    return subcommand.settings(args)


def _body(settings: CommonSettings, console: Console) -> ExitCode:
    if isinstance(settings, SubmitSettings):
        return submit(settings, console)
    assert isinstance(settings, DownloadSettings)
    return follow(settings, console)


FULL_MAJA = Command(PROGRAM, full_maja_parser, _settings, _body,
                    "interrupted; nothing is lost: partial downloads resume on the next run")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of `full-maja` and `python -m full_maja`."""
    return run(FULL_MAJA, argv)
