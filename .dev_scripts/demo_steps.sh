# Sourced by .dev_scripts/run_demo.sh and run_curved_demo.sh: the steps both CPU demos share.
# They read the caller's DEMO (log prefix), START, CONFIG, WORK_DIR, DATA_OPTIONS (array of
# --cfg-options) and MIN_HMEAN, and set PY (demo_environment) and CHECKPOINT (demo_train).

step() { echo "[$DEMO $(date +%H:%M:%S) +$(( $(date +%s) - START ))s] $*" >&2; }
fail() { echo "[$DEMO] ERROR: $*" >&2; exit 1; }
set -E  # the callers' ERR trap also fires inside these functions
trap 'fail "step failed at line $LINENO: $BASH_COMMAND"' ERR

# demo_environment: step 1/5, the Python to run (PY): setup_env.sh's, or with SKIP_SETUP=1 the
# one .dev_scripts/find_python.sh finds.
demo_environment() {
  if [[ "${SKIP_SETUP:-0}" == "1" ]]; then
    source .dev_scripts/find_python.sh
    PY="$(find_mmpse_python)"
    step "1/5 environment: SKIP_SETUP=1, using $PY"
  else
    step "1/5 environment: bash .dev_scripts/setup_env.sh"
    PY="$(bash .dev_scripts/setup_env.sh | tail -n 1)"
  fi
  [[ -x "$PY" ]] || fail ".dev_scripts/setup_env.sh did not print a python path (got '$PY')"
}

# demo_train [tools/train.py arguments...]: step 3/5; the full log goes to $WORK_DIR/train.log,
# the terminal shows one line per logged iteration; sets CHECKPOINT.
demo_train() {
  mkdir -p "$WORK_DIR"
  step "3/5 training $CONFIG on CPU -> $WORK_DIR (log: $WORK_DIR/train.log)"
  if ! "$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" --cfg-options "${DATA_OPTIONS[@]}" "$@" \
      2>&1 | tee "$WORK_DIR/train.log" | { grep --line-buffered -E "Epoch\((train|val)\)" || true; }
  then
    tail -n 30 "$WORK_DIR/train.log" >&2
    fail "training failed (pipefail: tools/train.py exited non-zero)"
  fi
  CHECKPOINT="$(cat "$WORK_DIR/last_checkpoint")"
}

# demo_test: step 4/5, tools/test.py on the held-out split -> $WORK_DIR/test.log.
demo_test() {
  step "4/5 evaluation of $CHECKPOINT on the held-out test split (log: $WORK_DIR/test.log)"
  "$PY" tools/test.py "$CONFIG" "$CHECKPOINT" --work-dir "$WORK_DIR" \
    --cfg-options "${DATA_OPTIONS[@]}" > "$WORK_DIR/test.log" 2>&1 ||
    { tail -n 30 "$WORK_DIR/test.log" >&2; fail "evaluation failed"; }
}

# demo_draw IMAGE_DIR: step 5/5, tools/infer.py draws the predictions -> $WORK_DIR/vis.
demo_draw() {
  step "5/5 predictions drawn on the test images -> $WORK_DIR/vis"
  "$PY" tools/infer.py "$1" --config "$CONFIG" --checkpoint "$CHECKPOINT" \
    --out-dir "$WORK_DIR" > "$WORK_DIR/infer.log" 2>&1 ||
    { tail -n 30 "$WORK_DIR/infer.log" >&2; fail "inference failed"; }
  tail -n 1 "$WORK_DIR/infer.log" >&2
}

# demo_gate HMEAN NAME: fail unless HMEAN >= MIN_HMEAN ("NAME HMEAN is below MIN_HMEAN=...").
demo_gate() {
  if ! awk -v h="$1" -v m="$MIN_HMEAN" 'BEGIN { exit !(h >= m) }'; then
    fail "$2 $1 is below MIN_HMEAN=$MIN_HMEAN"
  fi
}
