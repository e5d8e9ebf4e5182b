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

DEMO=run_curved_demo
source .dev_scripts/demo_steps.sh  # step, fail, demo_* (the steps both demos share)

demo_environment

step "2/5 synthetic curved data -> $DATA_ROOT"
"$PY" tools/dataset_converters/make_synthetic_curved.py --out "$DATA_ROOT" ${DATA_EXTRA[@]+"${DATA_EXTRA[@]}"}

DATA_OPTIONS=(train_dataloader.dataset.data_root="$DATA_ROOT"
              val_dataloader.dataset.data_root="$DATA_ROOT"
              test_dataloader.dataset.data_root="$DATA_ROOT")
demo_train "$@"
demo_test
metric() {  # metric KEY -> the last value of KEY in test.log
  grep -oE "$1: [0-9.]+" "$WORK_DIR/test.log" | tail -n 1 | awk '{print $2}'
}
for prefix in totaltext_deteval iou; do
  for key in precision recall hmean; do
    [[ -n "$(metric "$prefix/$key")" ]] || fail "no $prefix/$key in $WORK_DIR/test.log"
  done
done

demo_draw "$DATA_ROOT/Images/Test"

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
demo_gate "$HMEAN" "DetEval hmean"
