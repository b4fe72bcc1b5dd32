#!/usr/bin/env python3
"""Submit a FULL_MAJA time series (`full-maja submit`'s compatible name): see README.md."""
import shlex
import sys
from pathlib import Path

try:
    from full_maja.cli import process_main
except ModuleNotFoundError as missing:  # run from a clone before installing
    python, here = shlex.quote(sys.executable), shlex.quote(str(Path(__file__).parent))
    sys.exit(f"{Path(__file__).name}: error: the Python package {missing.name} is not "
             f"installed; install full-maja and its dependencies with: "
             f"{python} -m pip install -e {here}")

if __name__ == "__main__":
    sys.exit(process_main())
