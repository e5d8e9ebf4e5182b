#!/usr/bin/env bash
# Training on a Slurm cluster, as MMOCR's tools/slurm_train.sh: srun starts one task per GPU and
# mmengine's `--launcher slurm` reads the rank and world size from Slurm's variables.
#
#   tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options...]
#   GPUS=16 GPUS_PER_NODE=8 CPUS_PER_TASK=5 SRUN_ARGS="--quotatype=auto" tools/slurm_train.sh ...
#
# Python: $PYTHON, else an active venv's, else the venv .dev_scripts/setup_env.sh made, else python3.
set -euo pipefail
if [[ $# -lt 4 ]]; then
  echo "Usage: $0 PARTITION JOB_NAME CONFIG WORK_DIR [train.py options...]" >&2
  exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
read -r -a SRUN_EXTRA <<<"${SRUN_ARGS:-}"
TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$TOOLS/../.dev_scripts/find_python.sh"
PYTHON="$(find_mmpse_python)"

PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
exec srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres="gpu:$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    "${SRUN_EXTRA[@]}" \
    "$PYTHON" -u "$TOOLS/train.py" "$CONFIG" --work-dir="$WORK_DIR" --launcher=slurm "${@:5}"
