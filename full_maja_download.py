#!/usr/bin/env python3
"""Follow FULL_MAJA jobs and download their L2A products: see README.md or --help."""
import sys

from full_maja.cli import download_main

if __name__ == "__main__":
    sys.exit(download_main())
