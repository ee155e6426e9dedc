#!/usr/bin/env bash
# Install (with dev tools) and run every check: ruff, mypy, import-linter, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --dev
# the browser tests drive Debian's Chromium (Playwright never downloads a browser build)
if [ ! -x /usr/bin/chromium ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1
.venv/bin/ruff check src tests bench
.venv/bin/mypy
.venv/bin/lint-imports
# two workers for two cores; tests that must not overlap share an xdist_group
.venv/bin/python -m pytest -q -p no:cacheprovider -n 2 --dist loadgroup "$@"
