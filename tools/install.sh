#!/usr/bin/env bash
# Create .venv and install SlapDesk with its test tools. Safe to run again.
#
# torch is installed first and pinned: a bare "torch" requirement on a machine without a
# GPU would otherwise pull a multi-GB CUDA build. Users with a GPU can install their own
# CUDA torch into .venv before running this; the project only asks for torch>=2.4.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    .venv/bin/pip install --quiet "torch==2.13.0"
fi
.venv/bin/pip install --quiet -e ".[dev]"
