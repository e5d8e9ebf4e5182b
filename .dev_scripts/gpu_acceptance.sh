#!/usr/bin/env bash
# One-call GPU acceptance of mmpse_ext on a bare, offline GPU machine (docs/gpu_acceptance.md).
#
#   bash .dev_scripts/gpu_acceptance.sh [--carry DIR] [--out DIR]    # on the GPU machine
#   bash .dev_scripts/gpu_acceptance.sh --dry-run [--out DIR]         # anywhere: same stages, CPU only
#
# Stages, each timed and recorded in OUT/summary.md (one line per stage: ok / FAILED / skipped and
# why), with the logs and measurements beside it:
#   1 environment      GPU, Python, torch, nvcc, cores
#   2 wheels           the carried wheels (.dev_scripts/gpu_acceptance/prepare_carry.sh) into a target dir
#   3 imgaug           numpy 2 there: a placeholder imgaug if the real one does not import
#   4 build            mmcv 2.0.1 from the carried sdist, CPU ops only (GPU hidden from its build),
#                      in parallel with our extension (setup.py finds the GPU and nvcc: CUDA)
#   5 op_check         the CUDA op against the CPU op with torch alone (identical results, times)
#   6 collect_env      the environment report; the extension must have CUDA kernels
#   7 needs_cuda_tests every test marked needs_cuda
#   8 decode_bench     tools/analysis_tools/benchmark_postprocess.py GPU section: host_expand vs device_bfs vs the
#                      CPU fused op, and the CUDA op vs the CPU op, in one run
#   9 train_bench      tools/analysis_tools/benchmark_train.py: the flagship model, batch 8 @ 640, fp32 vs AMP
#  10 infer_precision  .dev_scripts/gpu_acceptance/precision_check.py: PSEDetector fp32 vs fp16 (vs bf16)
#                      at 736x1280, flagship network: ms per image, logit and polygon agreement
# The dry run (CI) runs the same stages on the CPU with the environment already installed: it
# skips only what needs a GPU or the carried files (wheels, builds), says so, and shrinks the
# benchmarks to one small case. Exit status: 0 if no stage failed.
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DRY_RUN=0
CARRY="$REPO/.whl"
OUT_DIR="${OUT:-$REPO/work_dirs/gpu_acceptance}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --carry) CARRY="$(cd "$2" && pwd)"; shift ;;
    --out) OUT_DIR="$2"; shift ;;
    *) echo "usage: $0 [--dry-run] [--carry DIR] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
PY="${PYTHON:-python3}"
LOG="$OUT_DIR/acceptance.log"
SUMMARY="$OUT_DIR/summary.md"
WORK="$(mktemp -d)"
SITE="$WORK/site"
trap 'rm -rf "$WORK"' EXIT
START=$(date +%s)
FAILED=0
: > "$LOG"
STAGES=()

record() {  # name status seconds detail
  STAGES+=("| $1 | $2 | $3 | $4 |")
  echo "[gpu_acceptance +$(( $(date +%s) - START ))s] $1: $2 ($3 s) $4" | tee -a "$LOG"
}

run_stage() {  # name command...: runs it, its output to the log and the terminal
  local name="$1"; shift
  local t0=$(date +%s)
  echo "===== $name: $*" >> "$LOG"
  "$@" 2>&1 | tee -a "$LOG"
  local rc=${PIPESTATUS[0]}
  if [[ $rc -eq 0 ]]; then
    record "$name" ok $(( $(date +%s) - t0 )) ""
  else
    record "$name" FAILED $(( $(date +%s) - t0 )) "exit $rc (see acceptance.log)"
    FAILED=1
  fi
  return $rc
}

skip() { record "$1" skipped 0 "$2"; }

cd "$REPO"
MODE="full (GPU)"
[[ $DRY_RUN -eq 1 ]] && MODE="dry run (CPU; GPU-only steps skipped)"
echo "gpu_acceptance: $MODE; repo $REPO; out $OUT_DIR" | tee -a "$LOG"

# 1 environment ------------------------------------------------------------------------------
environment() {
  echo "cores: $(nproc)"
  command -v nvidia-smi >/dev/null && nvidia-smi -L
  command -v nvcc >/dev/null && nvcc --version | tail -2
  "$PY" -c "import sys, numpy, torch; print('python', sys.version.split()[0], '| numpy', \
numpy.__version__, '| torch', torch.__version__, '| CUDA', torch.version.cuda, \
'| GPU available', torch.cuda.is_available())"
}
run_stage environment environment
HAS_GPU=$("$PY" -c "import torch; print(int(torch.cuda.is_available()))" 2>/dev/null || echo 0)
if [[ $DRY_RUN -eq 0 && "$HAS_GPU" != "1" ]]; then
  record environment FAILED 0 "no CUDA device visible to torch; use --dry-run on CPU machines"
  FAILED=1
fi

# 2 wheels -----------------------------------------------------------------------------------
if [[ $DRY_RUN -eq 1 ]]; then
  skip wheels "dry run: uses the installed environment ($PY)"
else
  install_wheels() {
    ls "$CARRY"/*.whl >/dev/null || { echo "no wheels in $CARRY (prepare_carry.sh)"; return 1; }
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$SITE" \
      "$CARRY"/*.whl
  }
  run_stage wheels install_wheels
  export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
fi

# 3 imgaug (numpy 2) -------------------------------------------------------------------------
if "$PY" -c "import imgaug" >/dev/null 2>&1; then
  record imgaug ok 0 "the real imgaug imports"
else
  export PYTHONPATH="$REPO/.dev_scripts/gpu_acceptance/compat${PYTHONPATH:+:$PYTHONPATH}"
  record imgaug ok 0 "placeholder imgaug (numpy $("$PY" -c 'import numpy; print(numpy.__version__)'); unused by this run)"
fi

# 4 builds -----------------------------------------------------------------------------------
if [[ $DRY_RUN -eq 1 ]]; then
  skip build "dry run: uses the installed mmcv and mmpse_ext._C (needs the carried sdist and a GPU)"
else
  build_mmcv() {
    local sdist_dir="$CARRY/sdist" old_setuptools="$WORK/build_setuptools"
    "$PY" -m pip install -q --no-index --no-deps --target "$old_setuptools" \
      "$CARRY"/build/setuptools-*.whl || return 1
    local cxx_std
    cxx_std=$("$PY" -c "import torch; v = tuple(int(x) for x in torch.__version__.split('.')[:2]); \
print('c++20' if v >= (2, 14) else 'c++17')")
    # mmcv's setup.py imports pkg_resources (setuptools < 81): the carried old setuptools first.
    PYTHONPATH="$old_setuptools:$PYTHONPATH" PIP_NO_INDEX=1 PIP_FIND_LINKS="$sdist_dir" \
      MAX_JOBS=12 bash "$REPO/.dev_scripts/mmcv_build/build_mmcv_wheel.sh" "$PY" 2.0.1 "$cxx_std" \
      "$WORK/mmcv_wheel" || return 1
    "$PY" -m pip install -q --no-index --no-deps --target "$SITE" "$WORK"/mmcv_wheel/mmcv-*.whl
  }
  build_ours() {  # setup.py decides CUDA by itself (GPU visible + nvcc) and records why
    MAX_JOBS=4 TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}" "$PY" -m pip install -q \
      --no-index --no-deps --no-build-isolation --use-pep517 -e "$REPO" || return 1
    cat "$REPO/mmpse_ext/ops/_build_info.py"
  }
  t0=$(date +%s)
  (build_mmcv > "$WORK/mmcv_build.log" 2>&1; echo $? > "$WORK/mmcv_build.rc") &
  mmcv_pid=$!
  run_stage build_ours build_ours
  wait $mmcv_pid
  cat "$WORK/mmcv_build.log" >> "$LOG"
  if [[ "$(cat "$WORK/mmcv_build.rc")" == "0" ]]; then
    record build_mmcv ok $(( $(date +%s) - t0 )) "CPU ops, GPU hidden from the build"
  else
    record build_mmcv FAILED $(( $(date +%s) - t0 )) "see acceptance.log"
    tail -30 "$WORK/mmcv_build.log"
    FAILED=1
  fi
fi

# 5 op check (torch only) --------------------------------------------------------------------
if [[ $DRY_RUN -eq 1 ]]; then
  run_stage op_check "$PY" .dev_scripts/gpu_acceptance/op_check.py --small --repeats 1 \
    --json "$OUT_DIR/op_check.json"
else
  run_stage op_check "$PY" .dev_scripts/gpu_acceptance/op_check.py --json "$OUT_DIR/op_check.json"
fi

# 6 environment report -----------------------------------------------------------------------
collect_env_check() {
  "$PY" tools/analysis_tools/collect_env.py > "$OUT_DIR/collect_env.txt" || return 1
  cat "$OUT_DIR/collect_env.txt"
  if [[ $DRY_RUN -eq 0 ]]; then
    grep -q 'mmpse_ext._C kernels: CPU + CUDA' "$OUT_DIR/collect_env.txt" ||
      { echo "the extension was built without CUDA kernels"; return 1; }
  fi
}
run_stage collect_env collect_env_check

# 7 needs_cuda tests -------------------------------------------------------------------------
mapfile -t CUDA_TEST_FILES < <(grep -rl 'needs_cuda' tests --include='test_*.py' | sort)
run_stage needs_cuda_tests "$PY" -m pytest -m needs_cuda -q -rs -p no:cacheprovider \
  "${CUDA_TEST_FILES[@]}"
[[ $DRY_RUN -eq 1 ]] && record needs_cuda_tests note 0 "dry run: every needs_cuda test is skipped (no GPU); the run checks they collect"

# 8 decode benchmark -------------------------------------------------------------------------
if [[ $DRY_RUN -eq 1 ]]; then
  run_stage decode_bench "$PY" tools/analysis_tools/benchmark_postprocess.py --quick --repeats 1 \
    --baseline-repeats 1 --json "$OUT_DIR/decode_bench.json"
else
  run_stage decode_bench "$PY" tools/analysis_tools/benchmark_postprocess.py --sections gpu --repeats 20 \
    --json "$OUT_DIR/decode_bench.json"
fi

# 9 training benchmark -----------------------------------------------------------------------
if [[ $DRY_RUN -eq 1 ]]; then
  run_stage train_bench "$PY" tools/analysis_tools/benchmark_train.py --device cpu --batch 1 --size 64 \
    --iters 1 --warmup 0 --json "$OUT_DIR/train_bench.json"
else
  run_stage train_bench "$PY" tools/analysis_tools/benchmark_train.py --device cuda --batch 8 --size 640 \
    --iters 20 --warmup 5 --json "$OUT_DIR/train_bench.json"
fi

# 10 reduced-precision inference -------------------------------------------------------------
if [[ $DRY_RUN -eq 1 ]]; then
  run_stage infer_precision "$PY" .dev_scripts/gpu_acceptance/precision_check.py --device cpu \
    --config configs/pse_r18_synthetic_demo.py --images 1 --size 64 128 \
    --json "$OUT_DIR/infer_precision.json"
else
  run_stage infer_precision "$PY" .dev_scripts/gpu_acceptance/precision_check.py --device cuda \
    --images 10 --json "$OUT_DIR/infer_precision.json"
fi

# summary ------------------------------------------------------------------------------------
{
  echo "# mmpse_ext GPU acceptance: $MODE"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(( $(date +%s) - START )) s in all, git $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo
  echo "| stage | status | seconds | detail |"
  echo "|---|---|---|---|"
  printf '%s\n' "${STAGES[@]}"
  echo
  "$PY" .dev_scripts/gpu_acceptance/summarize.py "$OUT_DIR"
} > "$SUMMARY" 2>> "$LOG"
cat "$SUMMARY"
exit $FAILED
