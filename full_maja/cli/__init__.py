"""The commands: `full-maja SUBCOMMAND`, and the compatible scripts full_maja_process.py
and full_maja_download.py.

`main` builds `full-maja`'s parser from the subcommand tables of each family (`submit`;
`download` with `status`, `wait`, `resubmit`; `jobs` with `cancel`, `adopt`); `options`
holds every option once and what all commands share; `runner` runs any command and maps
errors to `status.ExitCode`; `nextstep` words the commands printed for the user to run.
"""
from .download import download_main, download_parser
from .following import DownloadSettings
from .main import full_maja_parser, main
from .status import ExitCode, exit_code_for
from .submit import SubmitSettings, process_main, process_parser

ProcessSettings = SubmitSettings
"""The settings of the submit command, under the name of its compatible script."""

__all__ = ["DownloadSettings", "ExitCode", "ProcessSettings", "SubmitSettings",
           "download_main", "download_parser", "exit_code_for", "full_maja_parser", "main",
           "process_main", "process_parser"]
