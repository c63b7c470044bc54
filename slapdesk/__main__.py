import sys

from slapdesk.cli import main

sys.exit(main())
