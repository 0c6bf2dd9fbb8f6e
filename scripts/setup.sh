#!/usr/bin/env bash
# Creates .venv and installs reglab into it. PyTorch's CPU build is pinned first so that
# resolving `torch>=2.4` for reglab never pulls a multi-gigabyte CUDA build.
# Usage: bash scripts/setup.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q "torch==2.13.0"
if [ "${1:-}" = "--dev" ]; then
    .venv/bin/python -m pip install -q -e ".[dev]"
else
    .venv/bin/python -m pip install -q -e .
fi
