#!/usr/bin/env bash
# The curved-text CPU demo, end to end:
#   set up the environment -> generate the synthetic curved-text set (CTW1500 and Total-Text
#   layouts) -> train a small PSENet on CPU with `poly` output -> evaluate it on the held-out
#   test split with Total-Text's DetEval and the IoU protocol -> draw its predictions.
#
#   bash .dev_scripts/run_curved_demo.sh
#
# Environment variables (all optional):
#   WORK_DIR   outputs (default work_dirs/curved_demo): train.log, test.log, epoch_*.pth,
#              vis/*.jpg (predictions drawn), preds/*.json
#   DATA_ROOT  where the synthetic set is written (default data/synthetic_curved)
#   MIN_HMEAN  the run fails if the DetEval hmean is below this (default 0.80)
#   CONFIG     the demo config (default configs/pse_r18_synthetic_curved_demo.py)
#   DATA_ARGS  extra arguments of make_synthetic_curved.py (e.g. "--num-train 40 --num-test 8")
#   SKIP_SETUP=1  skip .dev_scripts/setup_env.sh and use $PYTHON or the venv it made
# Extra arguments are passed to tools/train.py, e.g. --cfg-options train_cfg.max_epochs=2.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
WORK_DIR="${WORK_DIR:-work_dirs/curved_demo}"
DATA_ROOT="${DATA_ROOT:-data/synthetic_curved}"
MIN_HMEAN="${MIN_HMEAN:-0.80}"
CONFIG="${CONFIG:-configs/pse_r18_synthetic_curved_demo.py}"
read -r -a DATA_EXTRA <<< "${DATA_ARGS:-}"
START=$(date +%s)

step() { echo "[run_curved_demo $(date +%H:%M:%S) +$(( $(date +%s) - START ))s] $*" >&2; }
fail() { echo "[run_curved_demo] ERROR: $*" >&2; exit 1; }
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

step "2/5 synthetic curved data -> $DATA_ROOT"
"$PY" tools/dataset_converters/make_synthetic_curved.py --out "$DATA_ROOT" ${DATA_EXTRA[@]+"${DATA_EXTRA[@]}"}

DATA_OPTIONS=(train_dataloader.dataset.data_root="$DATA_ROOT"
              val_dataloader.dataset.data_root="$DATA_ROOT"
              test_dataloader.dataset.data_root="$DATA_ROOT")
mkdir -p "$WORK_DIR"

step "3/5 training $CONFIG on CPU -> $WORK_DIR (log: $WORK_DIR/train.log)"
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
metric() {  # metric KEY -> the last value of KEY in test.log
  grep -oE "$1: [0-9.]+" "$WORK_DIR/test.log" | tail -n 1 | awk '{print $2}'
}
for prefix in totaltext_deteval iou; do
  for key in precision recall hmean; do
    [[ -n "$(metric "$prefix/$key")" ]] || fail "no $prefix/$key in $WORK_DIR/test.log"
  done
done

step "5/5 predictions drawn on the test images -> $WORK_DIR/vis"
"$PY" tools/infer.py "$DATA_ROOT/Images/Test" --config "$CONFIG" --checkpoint "$CHECKPOINT" \
  --out-dir "$WORK_DIR" > "$WORK_DIR/infer.log" 2>&1 ||
  { tail -n 30 "$WORK_DIR/infer.log" >&2; fail "inference failed"; }
tail -n 1 "$WORK_DIR/infer.log" >&2

HMEAN="$(metric totaltext_deteval/hmean)"
ELAPSED=$(( $(date +%s) - START ))
echo "============================================================"
echo "PSENet CPU curved-text demo on the synthetic curved test split (poly output)"
printf "DetEval (Total-Text): precision %s  recall %s  hmean %s\n" \
  "$(metric totaltext_deteval/precision)" "$(metric totaltext_deteval/recall)" "$HMEAN"
printf "IoU protocol:         precision %s  recall %s  hmean %s\n" \
  "$(metric iou/precision)" "$(metric iou/recall)" "$(metric iou/hmean)"
printf "total time %dm%02ds; checkpoint %s; pictures %s/vis/*.jpg\n" \
  $((ELAPSED / 60)) $((ELAPSED % 60)) "$CHECKPOINT" "$WORK_DIR"
echo "============================================================"
if ! awk -v h="$HMEAN" -v m="$MIN_HMEAN" 'BEGIN { exit !(h >= m) }'; then
  fail "DetEval hmean $HMEAN is below MIN_HMEAN=$MIN_HMEAN"
fi
