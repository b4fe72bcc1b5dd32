#!/usr/bin/env python3
"""Submit a FULL_MAJA time series to PEPS: see README.md or --help."""
import sys

from full_maja.cli import process_main

if __name__ == "__main__":
    sys.exit(process_main())
