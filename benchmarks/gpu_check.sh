#!/usr/bin/env bash
# The project's CUDA paths in one go, on a machine with CUDA and torch (no TensorFlow, no
# network needed): the torch CUDA parity tests, `dlparity train --device cuda` briefly and
# `dlparity bench --device cuda --quick`, within 8 minutes; writes OUT/gpu-check.json and
# OUT/gpu-check.md (docs/gpu/README.md says what to commit).
#
#   bash benchmarks/gpu_check.sh [OUT]          # OUT defaults to gpu-check-out
#
# Installs this checkout in place first (pip, offline, no dependencies) when `import
# dlparity` fails. Exit status: 0 when no step failed (skipped steps do not count), else 1.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-gpu-check-out}"
PY="${PYTHON:-python3}"
if ! "$PY" -c "import dlparity" 2>/dev/null; then
  "$PY" -m pip install -q --no-deps --no-build-isolation --no-index -e . \
    || { echo "gpu_check.sh: could not install dlparity offline (needs setuptools)" >&2; exit 1; }
fi
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
exec "$PY" -m dlparity.benchmarks.gpu_check --out "$OUT" --budget "${GPU_CHECK_BUDGET:-480}"
