"""``python -m hall.web …``: see hall.web.cli."""

import sys

from hall.web.cli import main

sys.exit(main())
