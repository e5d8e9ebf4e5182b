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
source "$(dirname "${BASH_SOURCE[0]}")/torchrun_launch.sh"
torchrun_launch test.py "$3" "$1" "$2" --launcher pytorch "${@:4}"
