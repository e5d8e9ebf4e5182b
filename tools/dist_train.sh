#!/usr/bin/env bash
# Distributed training with torchrun, as MMOCR's tools/dist_train.sh: one process per GPU (on a
# machine without CUDA, CPU processes that talk over gloo).
#
#   tools/dist_train.sh CONFIG NUM_PROCS [train.py options...]
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 PORT=29500 tools/dist_train.sh CONFIG 8
#
# Python: $PYTHON, else an active venv's, else the venv .dev_scripts/setup_env.sh made, else python3.
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "Usage: $0 CONFIG NUM_PROCS [train.py options...]" >&2
  exit 2
fi
CONFIG=$1
NUM_PROCS=$2
TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! [[ "$NUM_PROCS" =~ ^[1-9][0-9]*$ ]]; then
  echo "$0: NUM_PROCS must be a positive integer, got '$NUM_PROCS'" >&2
  exit 2
fi
source "$TOOLS/../.dev_scripts/find_python.sh"
PYTHON="$(find_mmpse_python)"

PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$NUM_PROCS" \
    --master_port="${PORT:-29500}" \
    "$TOOLS/train.py" "$CONFIG" --launcher pytorch "${@:3}"
