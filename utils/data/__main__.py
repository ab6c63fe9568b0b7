"""``python -m utils.data ...``: runs the command line of :mod:`utils.data.cli`."""

import sys

from utils.data.cli import _main

if __name__ == "__main__":
    sys.exit(_main())
