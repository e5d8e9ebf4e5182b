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
CONFIG=$1
GPUS=$2
if ! [[ "$GPUS" =~ ^[1-9][0-9]*$ ]]; then
  echo "$0: NUM_PROCS must be a positive integer, got '$GPUS'" >&2
  exit 2
fi
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$TOOLS_DIR/find_python.sh"
PYTHON="$(find_mmpse_python)"

PYTHONPATH="$TOOLS_DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$TOOLS_DIR/train.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
