import sys

from slapdesk.cli import main

# The guard matters: scan's worker processes (spawn) import this module as __mp_main__.
if __name__ == "__main__":
    sys.exit(main())
