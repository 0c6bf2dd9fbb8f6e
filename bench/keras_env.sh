#!/usr/bin/env bash
# Creates bench/.keras-venv: a benchmark-only environment with Keras 3 and the backends
# P1 compares against (JAX, TensorFlow's CPU build, PyTorch). CI does not need it; P1 runs
# each Keras backend in its own process from this environment when it exists.
# PyTorch's CPU build is pinned first, as in scripts/setup.sh, so that nothing resolves a
# multi-gigabyte CUDA build of torch. A backend that cannot be installed is skipped.
# Usage: bash bench/keras_env.sh
set -euo pipefail
cd "$(dirname "$0")"
python3 -m venv .keras-venv
pip=".keras-venv/bin/python -m pip"
$pip install -q --upgrade pip >/dev/null
$pip install -q "torch==2.13.0"
$pip install -q "keras==3.*" numpy rich || { echo "keras_env: Keras could not be installed"; exit 1; }
$pip install -q jax || echo "keras_env: JAX could not be installed; its contender is skipped"
$pip install -q tensorflow-cpu || echo "keras_env: TensorFlow could not be installed; its contender is skipped"
.keras-venv/bin/python - <<'PY'
import importlib
for backend in ("jax", "tensorflow", "torch"):
    try:
        module = importlib.import_module(backend)
        print(f"keras_env: {backend} {module.__version__}")
    except Exception as error:  # report what is missing, keep the rest
        print(f"keras_env: {backend} unavailable ({error.__class__.__name__})")
PY
