#!/usr/bin/env bash
# Install headshots into .venv/ at the repo root. `--dev` adds the test and lint tools.
# torch goes first, pinned to the 2.13.0 CPU wheel, so no resolver ever reaches for a CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
pipi() {  # pip install, quiet, hiding this machine's harmless "location is ignored" warnings
  .venv/bin/python -m pip install -q --disable-pip-version-check "$@" 2> >(grep -v "is ignored" >&2)
}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
pipi --upgrade "pip>=24"
pipi "torch==2.13.0"
extra=""
[ "${1:-}" = "--dev" ] && extra="[dev]"
pipi -e ".${extra}"
.venv/bin/python -c "import torch; assert torch.__version__.startswith('2.13.0'), torch.__version__"
echo "installed $(.venv/bin/headshots --version) with torch $(.venv/bin/python -c 'import torch; print(torch.__version__)') in .venv/"
