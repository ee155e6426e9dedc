"""``headshots serve`` on a given port for the browser walk, so a restarted server answers at
the same address the open page uses; each stage's progress report sleeps
HEADSHOTS_TEST_DELAY seconds so the walk can kill the server mid-training."""

from __future__ import annotations

import os
import sys

from headshots.cli import main
from tests.api._serve_driver import _patch

if __name__ == "__main__":
    _patch(float(os.environ.get("HEADSHOTS_TEST_DELAY", "0")))
    main(["serve", "--port", sys.argv[1]])
