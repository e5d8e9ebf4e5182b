#!/usr/bin/env bash
# The CPU demo, end to end, from a fresh clone:
#   set up the environment -> generate the synthetic ICDAR2015-format set -> train a small PSENet
#   on CPU -> evaluate it on the held-out test split (ICDAR2015 protocol) -> draw its predictions.
#
#   bash .dev_scripts/run_demo.sh
#
# Environment variables (all optional):
#   WORK_DIR   outputs (default work_dirs/demo): train.log, test.log, epoch_*.pth,
#              vis/*.jpg (predictions drawn), preds/*.json, submit/res_img_*.txt
#   DATA_ROOT  where the synthetic set is written (default data/synthetic_icdar2015)
#   MIN_HMEAN  the run fails if the test hmean is below this (default 0.70)
#   CONFIG     the demo config (default configs/pse_r18_synthetic_demo.py)
#   SKIP_SETUP=1  skip .dev_scripts/setup_env.sh and use $PYTHON or the venv it made (.dev_scripts/find_python.sh)
# Extra arguments are passed to tools/train.py, e.g. --cfg-options train_cfg.max_epochs=2.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
WORK_DIR="${WORK_DIR:-work_dirs/demo}"
DATA_ROOT="${DATA_ROOT:-data/synthetic_icdar2015}"
MIN_HMEAN="${MIN_HMEAN:-0.70}"
CONFIG="${CONFIG:-configs/pse_r18_synthetic_demo.py}"
START=$(date +%s)

step() { echo "[run_demo $(date +%H:%M:%S) +$(( $(date +%s) - START ))s] $*" >&2; }
fail() { echo "[run_demo] ERROR: $*" >&2; exit 1; }
trap 'fail "step failed at line $LINENO: $BASH_COMMAND"' ERR

if [[ "${SKIP_SETUP:-0}" == "1" ]]; then
  source .dev_scripts/find_python.sh
  PY="$(find_mmpse_python)"
  step "1/5 environment: SKIP_SETUP=1, using $PY"
else
  step "1/5 environment: bash .dev_scripts/setup_env.sh"
  PY="$(bash .dev_scripts/setup_env.sh | tail -n 1)"
fi
[[ -x "$PY" ]] || fail ".dev_scripts/setup_env.sh did not print a python path (got '$PY')"

step "2/5 synthetic data -> $DATA_ROOT"
"$PY" tools/dataset_converters/make_synthetic_icdar15.py --out "$DATA_ROOT"

DATA_OPTIONS=(train_dataloader.dataset.data_root="$DATA_ROOT"
              val_dataloader.dataset.data_root="$DATA_ROOT"
              test_dataloader.dataset.data_root="$DATA_ROOT")
mkdir -p "$WORK_DIR"

step "3/5 training $CONFIG on CPU -> $WORK_DIR (log: $WORK_DIR/train.log)"
# the full log goes to the file; the terminal shows one line per logged iteration
if ! "$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" --cfg-options "${DATA_OPTIONS[@]}" "$@" \
    2>&1 | tee "$WORK_DIR/train.log" | { grep --line-buffered -E "Epoch\((train|val)\)" || true; }
then
  tail -n 30 "$WORK_DIR/train.log" >&2
  fail "training failed (pipefail: tools/train.py exited non-zero)"
fi
CHECKPOINT="$(cat "$WORK_DIR/last_checkpoint")"

step "4/5 evaluation of $CHECKPOINT on the held-out test split (log: $WORK_DIR/test.log)"
"$PY" tools/test.py "$CONFIG" "$CHECKPOINT" --work-dir "$WORK_DIR" \
  --cfg-options "${DATA_OPTIONS[@]}" > "$WORK_DIR/test.log" 2>&1 ||
  { tail -n 30 "$WORK_DIR/test.log" >&2; fail "evaluation failed"; }
METRICS="$(grep -oE "icdar2015/precision: [0-9.]+ +icdar2015/recall: [0-9.]+ +icdar2015/hmean: [0-9.]+" \
  "$WORK_DIR/test.log" | tail -n 1)"
[[ -n "$METRICS" ]] || fail "no icdar2015/* metrics in $WORK_DIR/test.log"
grep "ICDAR2015 (all predictions" "$WORK_DIR/test.log" | tail -n 1 | sed 's/^.* - INFO - //' >&2 || true

step "5/5 predictions drawn on the test images -> $WORK_DIR/vis"
"$PY" tools/infer.py "$DATA_ROOT/ch4_test_images" --config "$CONFIG" --checkpoint "$CHECKPOINT" \
  --out-dir "$WORK_DIR" > "$WORK_DIR/infer.log" 2>&1 ||
  { tail -n 30 "$WORK_DIR/infer.log" >&2; fail "inference failed"; }
tail -n 1 "$WORK_DIR/infer.log" >&2

# METRICS = "icdar2015/precision: P  icdar2015/recall: R  icdar2015/hmean: H"
PRECISION="$(echo "$METRICS" | awk '{print $2}')"
RECALL="$(echo "$METRICS" | awk '{print $4}')"
HMEAN="$(echo "$METRICS" | awk '{print $6}')"
ELAPSED=$(( $(date +%s) - START ))
echo "============================================================"
echo "PSENet CPU demo on the synthetic ICDAR2015 test split (ICDAR2015 protocol)"
printf "precision %s  recall %s  hmean %s\n" "$PRECISION" "$RECALL" "$HMEAN"
printf "total time %dm%02ds; checkpoint %s; pictures %s/vis/*.jpg\n" \
  $((ELAPSED / 60)) $((ELAPSED % 60)) "$CHECKPOINT" "$WORK_DIR"
echo "============================================================"
if ! awk -v h="$HMEAN" -v m="$MIN_HMEAN" 'BEGIN { exit !(h >= m) }'; then
  fail "hmean $HMEAN is below MIN_HMEAN=$MIN_HMEAN"
fi
