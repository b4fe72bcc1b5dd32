"""`python -m full_maja SUBCOMMAND`: the `full-maja` command."""
import sys

from full_maja.cli import main

if __name__ == "__main__":
    sys.exit(main())
