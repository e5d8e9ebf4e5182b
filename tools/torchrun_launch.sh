# Sourced by tools/dist_train.sh and tools/dist_test.sh: `torchrun_launch SCRIPT NUM_PROCS ARGS...`
# replaces the shell with `python -m torch.distributed.run … tools/SCRIPT ARGS…`.
# Reads MMOCR's variables: NNODES (1), NODE_RANK (0), PORT (29500), MASTER_ADDR (127.0.0.1).
# Python is chosen by tools/find_python.sh; the repository root goes first on PYTHONPATH.
TORCHRUN_TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$TORCHRUN_TOOLS_DIR/find_python.sh"

torchrun_launch() {
  local script=$1 num_procs=$2
  shift 2
  if ! [[ "$num_procs" =~ ^[1-9][0-9]*$ ]]; then
    echo "$0: NUM_PROCS must be a positive integer, got '$num_procs'" >&2
    exit 2
  fi
  local python
  python="$(find_mmpse_python)"
  PYTHONPATH="$TORCHRUN_TOOLS_DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
  exec "$python" -m torch.distributed.run \
      --nnodes="${NNODES:-1}" \
      --node_rank="${NODE_RANK:-0}" \
      --master_addr="${MASTER_ADDR:-127.0.0.1}" \
      --nproc_per_node="$num_procs" \
      --master_port="${PORT:-29500}" \
      "$TORCHRUN_TOOLS_DIR/$script" \
      "$@"
}
