#!/usr/bin/env bash
# Distributed evaluation with torchrun, as MMOCR's tools/dist_test.sh.
#
#   tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py options...]
#
# Environment variables and the choice of Python as in tools/dist_train.sh.
set -euo pipefail
if [[ $# -lt 3 ]]; then
  echo "Usage: $0 CONFIG CHECKPOINT NUM_PROCS [test.py options...]" >&2
  exit 2
fi
CONFIG=$1
CHECKPOINT=$2
NUM_PROCS=$3
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
    "$TOOLS/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:4}"
