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

DEMO=run_demo
source .dev_scripts/demo_steps.sh  # step, fail, demo_* (the steps both demos share)

demo_environment

step "2/5 synthetic data -> $DATA_ROOT"
"$PY" tools/dataset_converters/make_synthetic_icdar15.py --out "$DATA_ROOT"

DATA_OPTIONS=(train_dataloader.dataset.data_root="$DATA_ROOT"
              val_dataloader.dataset.data_root="$DATA_ROOT"
              test_dataloader.dataset.data_root="$DATA_ROOT")
demo_train "$@"
demo_test
METRICS="$(grep -oE "icdar2015/precision: [0-9.]+ +icdar2015/recall: [0-9.]+ +icdar2015/hmean: [0-9.]+" \
  "$WORK_DIR/test.log" | tail -n 1)"
[[ -n "$METRICS" ]] || fail "no icdar2015/* metrics in $WORK_DIR/test.log"
grep "ICDAR2015 (all predictions" "$WORK_DIR/test.log" | tail -n 1 | sed 's/^.* - INFO - //' >&2 || true

demo_draw "$DATA_ROOT/ch4_test_images"

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
demo_gate "$HMEAN" hmean
