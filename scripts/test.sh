#!/usr/bin/env bash
# The test command: the whole suite, offline, with warnings as errors (pyproject.toml).
# Slow benchmarks are marked and skipped; pass --runslow to include them.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m pytest "$@"
