"""``python -m gnnas``: the ``gnnas`` command line (:mod:`gnnas.cli`)."""

import sys

from gnnas.cli import main

if __name__ == "__main__":
    sys.exit(main())
