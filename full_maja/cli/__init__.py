"""The two commands: submit a time series, then follow and download it.

`runner` runs either command and maps errors to `status.ExitCode`; `options` holds what
both share on the command line; `process` and `download` each read their options into a
settings object once and do their work from it.
"""
from .download import DownloadSettings, download_main, download_parser
from .process import ProcessSettings, process_main, process_parser
from .status import ExitCode, exit_code_for

__all__ = ["DownloadSettings", "ExitCode", "ProcessSettings", "download_main",
           "download_parser", "exit_code_for", "process_main", "process_parser"]
