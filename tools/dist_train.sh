#!/usr/bin/env bash
# Distributed training with torchrun (one process per GPU; on a CPU-only machine, one per core
# group, using gloo). Same arguments and environment variables as MMOCR's dist_train.sh:
#
#   tools/dist_train.sh CONFIG NUM_PROCS [train.py options...]
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 PORT=29500 tools/dist_train.sh CONFIG 8
#
# Python: $PYTHON if set, else the active venv's python, else the venv made by tools/setup_env.sh
# (~/.cache/mmpse_ext/venv-py3X, or $MMPSE_VENV), else python3.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "Usage: $0 CONFIG NUM_PROCS [train.py options...]" >&2
  exit 2
fi
source "$(dirname "${BASH_SOURCE[0]}")/torchrun_launch.sh"
torchrun_launch train.py "$2" "$1" --launcher pytorch "${@:3}"
