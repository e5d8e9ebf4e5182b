#!/usr/bin/env bash
# Distributed evaluation with torchrun. Same arguments and environment variables as MMOCR's
# dist_test.sh:
#
#   tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py options...]
#
# Python is chosen as in tools/dist_train.sh.
set -euo pipefail

if [[ $# -lt 3 ]]; then
  echo "Usage: $0 CONFIG CHECKPOINT NUM_PROCS [test.py options...]" >&2
  exit 2
fi
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
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
    "$TOOLS_DIR/test.py" \
    "$CONFIG" \
    "$CHECKPOINT" \
    --launcher pytorch "${@:4}"
