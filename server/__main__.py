"""``python -m server [serve|migrate|seed]`` — run, migrate or seed the server."""

from __future__ import annotations

import sys

from server.cli import main

sys.exit(main(sys.argv[1:]))
