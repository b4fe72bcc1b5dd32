"""The one place that writes what users read: messages, warnings, progress bars.

Every line goes through `masking.mask` (no secret a server echoed reaches the terminal),
then has its control characters escaped; `--debug`'s traceback too.
"""
from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from typing import Optional, TextIO

from tqdm import tqdm

from .masking import mask
from .states import Progress, ProgressKind

# Control characters (C0 but newline and tab, DEL, C1) and the bidirectional overrides
# that could rewrite a terminal or hide text: a server's words never reach it raw.
# Lone surrogates (bytes of a path that are not UTF-8, as os.fsdecode gives them) too.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
                          "\ud800-\udfff]")


class Console:
    """Prints messages on stdout, problems on stderr; quiet mode keeps only what matters."""

    def __init__(self, prog: str, *, quiet: bool = False, stdout: Optional[TextIO] = None,
                 stderr: Optional[TextIO] = None) -> None:
        self.prog = prog
        self.quiet = quiet
        self.out = stdout or sys.stdout
        self.err = stderr or sys.stderr
        self.stdout = self.out

    def info(self, text: str = "") -> None:
        """A normal message, left out in quiet mode."""
        if not self.quiet:
            self._write(self.out, text)

    def result(self, text: str) -> None:
        """A message printed even in quiet mode (the final summary)."""
        self._write(self.out, text)

    def json_mode(self) -> None:
        """Keep stdout for the one JSON document (`document`): every other line goes to stderr."""
        self.out = self.err

    def document(self, text: str) -> None:
        """The one document a --json run prints, on stdout."""
        self._write(self.stdout, text)

    def warning(self, text: str) -> None:
        """A problem that does not stop the run."""
        self._write(self.err, f"{self.prog}: warning: {text}")

    def error(self, text: str) -> None:
        """The one line that says why the run failed."""
        self._write(self.err, f"{self.prog}: error: {text}")

    def _write(self, stream: TextIO, text: str) -> None:
        tqdm.write(printable(mask(text)), file=stream)
        stream.flush()

    def traceback(self) -> None:
        """The traceback of the exception being handled (`--debug`), secrets hidden."""
        self._write(self.err, traceback.format_exc().rstrip("\n"))

    def capture_library_warnings(self) -> None:
        """Route the library's logged warnings and errors to this reporter."""
        logger = logging.getLogger("full_maja")
        logger.handlers = [_ReporterHandler(self)]
        logger.setLevel(logging.WARNING)
        logger.propagate = False

    def progress_bars(self) -> Optional[ProgressBars]:
        """Progress bars when stdout is a terminal and not quiet, else None."""
        isatty = getattr(self.out, "isatty", lambda: False)
        if self.quiet or not isatty():
            return None
        return ProgressBars(self.out)


class _ReporterHandler(logging.Handler):
    def __init__(self, reporter: Console) -> None:
        super().__init__(logging.WARNING)
        self.reporter = reporter

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            self.reporter.error(record.getMessage())
        else:
            self.reporter.warning(record.getMessage())


class ProgressBars:
    """One tqdm bar per product being fetched, and one for the whole series."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lock = threading.Lock()
        self.bars: dict[str, tqdm] = {}
        self.total = tqdm(total=0, unit="B", unit_scale=True, unit_divisor=1024,
                          desc="series", file=stream, position=0, leave=True)

    def __call__(self, event: Progress) -> None:
        with self.lock:
            if event.kind == ProgressKind.START:
                self._start(event)
            elif event.kind == ProgressKind.ADVANCE and event.name in self.bars:
                self.bars[event.name].update(event.step)
                self.total.update(event.step)
            elif event.kind == ProgressKind.FINISH:
                self._finish(event)

    def _start(self, event: Progress) -> None:
        old = self.bars.pop(event.name, None)
        if old is not None:
            self.total.total = max(0, (self.total.total or 0) - (old.total or 0))
            self.total.n = max(0, self.total.n - old.n)
            old.close()
        remaining = (event.total or 0)
        self.total.total = (self.total.total or 0) + remaining
        self.total.update(event.done)
        self.total.refresh()
        self.bars[event.name] = tqdm(total=event.total, initial=event.done, unit="B",
                                     unit_scale=True, unit_divisor=1024,
                                     desc=_short(event.name), file=self.stream, leave=False,
                                     position=len(self.bars) + 1)

    def _finish(self, event: Progress) -> None:
        bar = self.bars.pop(event.name, None)
        if bar is not None:
            bar.close()

    def close(self) -> None:
        """Remove the bars from the screen."""
        for bar in self.bars.values():
            bar.close()
        self.total.close()


def printable(text: str) -> str:
    """`text` with every control character shown escaped (`\\x1b`), newlines kept."""
    return _UNPRINTABLE.sub(lambda match: match.group().encode("unicode_escape").decode(), text)


def _short(name: str) -> str:
    return name if len(name) <= 40 else name[:37] + "..."
