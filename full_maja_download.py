#!/usr/bin/env python3
"""Follow FULL_MAJA jobs, download their products (`full-maja download`'s compatible name)."""
import shlex
import sys
from pathlib import Path

try:
    from full_maja.cli import download_main
except ModuleNotFoundError as missing:  # run from a clone before installing
    python, here = shlex.quote(sys.executable), shlex.quote(str(Path(__file__).parent))
    sys.exit(f"{Path(__file__).name}: error: the Python package {missing.name} is not "
             f"installed; install full-maja and its dependencies with: "
             f"{python} -m pip install -e {here}")

if __name__ == "__main__":
    sys.exit(download_main())
