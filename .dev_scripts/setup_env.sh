#!/usr/bin/env bash
# Create (or reuse) the virtual environment with the pinned OpenMMLab stack and build mmpse_ext.
#
#   bash .dev_scripts/setup_env.sh            # prints the venv's python path on the last line
#
# Why these pins (docs/setup.md): mmocr 1.0.1 needs mmdet < 3.2 and mmcv < 2.2, mmdet 3.1.0 needs
# mmcv < 2.1, so mmcv 2.0.1, which exists on PyPI only as an sdist. It is built once
# (.dev_scripts/mmcv_build/build_mmcv_wheel.sh: the C++ standard torch's headers need, no debug info,
# one precompiled header) while the pure-Python packages install, and the wheel is cached outside
# the repo. The time of every phase is printed at the end.
#
# Environment variables:
#   MMPSE_CACHE_ROOT cache root           (default: ~/.cache/mmpse_ext)
#   MMPSE_VENV       venv location        (default: $MMPSE_CACHE_ROOT/venv-py<ver>)
#   MMPSE_CACHE      wheel cache          (default: $MMPSE_CACHE_ROOT/wheels)
#   MMPSE_NO_CACHE=1 ignore both caches   (rebuild everything; used to prove a cold set-up works)
#   MAX_JOBS         parallel compile jobs (default: number of cores)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE_PYTHON="${PYTHON:-python3}"
PY_TAG="$("$BASE_PYTHON" -c 'import sys; print(f"py{sys.version_info[0]}{sys.version_info[1]}")')"
CACHE_ROOT="${MMPSE_CACHE_ROOT:-$HOME/.cache/mmpse_ext}"
VENV="${MMPSE_VENV:-$CACHE_ROOT/venv-$PY_TAG}"
WHEEL_CACHE="${MMPSE_CACHE:-$CACHE_ROOT/wheels}"
export MAX_JOBS="${MAX_JOBS:-$(nproc)}"

# The pinned stack. Changing anything here invalidates the venv stamp below.
TORCH_SPEC="torch==2.14.1 torchvision==0.29.1"
MMCV_VERSION="2.0.1"
# numpy 1.x: imgaug (pulled by mmocr) breaks on numpy 2; opencv 4.11 is the last for numpy 1.
STACK_SPEC="numpy==1.26.4 mmengine==0.10.7 mmdet==3.1.0 mmocr==1.0.1 pyclipper shapely \
opencv-python==4.11.0.86 opencv-python-headless==4.11.0.86 matplotlib pytest hypothesis \
onnx==1.23.2 onnxruntime==1.32.0 onnxscript==0.7.2"
# References the tests run the real thing against (never imported by mmpse_ext): Polygon3, the
# official ICDAR2015 script's geometry (free for non-commercial use only); PaddleOCR's source,
# read file by file without its dependencies; openmim for `mim train/test`, without opendatalab
# (it would pin setuptools 60 and requests 2.28).
# flake8, isort and yapf for .dev_scripts/lint.sh (yapf at the version mmengine already pulls in).
TEST_SPEC="Polygon3==3.0.9.1 click colorama model-index pandas requests rich tabulate \
flake8==7.1.1 isort==5.13.2 yapf==0.43.0"
NO_DEPS_SPEC="paddleocr==2.10.0 openmim==0.3.9"
BUILD_SPEC="wheel ninja"
# mmcv 2.0.1's setup.py imports pkg_resources (gone from setuptools >= 81) while torch 2.14 wants
# setuptools >= 77: build mmcv with the old one, then put the new one back.
MMCV_BUILD_SETUPTOOLS="setuptools<70"
# < 81: pkg_resources, which mmengine's `mmocr::` config prefix and openmim import.
RUNTIME_SETUPTOOLS="setuptools>=77,<81"
IMPORT_CHECK="import mmcv._ext, mmocr.models, mmocr.datasets, mmocr.evaluation, onnxruntime, Polygon, mim"

SETUP_START=$(date +%s)
PHASES=()
PHASE_NAME="" PHASE_START=0
step() { echo "[setup_env $(date +%H:%M:%S)] $*" >&2; }
fail() { echo "[setup_env] ERROR: $*" >&2; exit 1; }
# phase NAME: close the running phase (recording its duration) and start NAME.
phase() {
  local now
  now=$(date +%s)
  [[ -n "$PHASE_NAME" ]] && PHASES+=("$(printf '%-44s %4ds' "$PHASE_NAME" $((now - PHASE_START)))")
  PHASE_NAME="$1" PHASE_START=$now
  [[ -n "$1" ]] && step "$1"
  return 0
}
source "$REPO_ROOT/.dev_scripts/venv_tools.sh"  # pip_install, venv_is_current
trap 'fail "step failed at line $LINENO (command: $BASH_COMMAND); the environment at $VENV is NOT ready"' ERR

STAMP_CONTENT="$TORCH_SPEC | mmcv==$MMCV_VERSION | $STACK_SPEC | $TEST_SPEC | $NO_DEPS_SPEC | $BUILD_SPEC | $RUNTIME_SETUPTOOLS"
STAMP="$VENV/.mmpse_stack_stamp"

if [[ "${MMPSE_NO_CACHE:-0}" == "1" && -d "$VENV" ]]; then
  step "MMPSE_NO_CACHE=1: removing $VENV"
  rm -rf "$VENV"
fi

if venv_is_current "$STAMP" "$STAMP_CONTENT" "$IMPORT_CHECK"; then
  step "reusing $VENV (stack stamp matches and mmocr imports)"
else
  rm -f "$STAMP"
  if [[ ! -x "$VENV/bin/python" ]]; then
    phase "creating venv $VENV"
    mkdir -p "$(dirname "$VENV")"
    "$BASE_PYTHON" -m venv "$VENV"
  fi
  phase "installing build tools and $TORCH_SPEC"
  pip_install $BUILD_SPEC $TORCH_SPEC "numpy==1.26.4"

  TORCH_VERSION="$("$VENV/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])')"
  # torch's headers state the C++ standard they need with an #error; read it instead of guessing.
  TORCH_INCLUDE="$("$VENV/bin/python" -c 'import torch.utils.cpp_extension as c; print(c.include_paths()[0])')"
  if grep -rqs "C++20 or later compatible compiler is required" "$TORCH_INCLUDE/c10" "$TORCH_INCLUDE/ATen/ATen.h"; then
    CXX_STD="c++20"
  else
    CXX_STD="c++17"
  fi
  MMCV_WHEEL_DIR="$WHEEL_CACHE/mmcv-$MMCV_VERSION-torch$TORCH_VERSION-$PY_TAG-$CXX_STD"
  if [[ "${MMPSE_NO_CACHE:-0}" != "1" ]] && ls "$MMCV_WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
    step "using the cached mmcv wheel from $MMCV_WHEEL_DIR"
  else
    phase "building mmcv $MMCV_VERSION's CPU ops (-std=$CXX_STD, MAX_JOBS=$MAX_JOBS) while the stack installs"
    # The pure-Python stack (mmocr and mmdet do not depend on mmcv in their metadata) installs
    # while the compiler runs; the build only reads torch and setuptools, which neither touches.
    # torch 2.14 asks for setuptools >= 77, so the old one goes in by a call of its own.
    pip_install "$MMCV_BUILD_SETUPTOOLS"
    pip_install $STACK_SPEC $TEST_SPEC &
    STACK_PID=$!
    rm -rf "$MMCV_WHEEL_DIR.tmp"
    if ! bash "$REPO_ROOT/.dev_scripts/mmcv_build/build_mmcv_wheel.sh" "$VENV/bin/python" "$MMCV_VERSION" \
        "$CXX_STD" "$MMCV_WHEEL_DIR.tmp"; then
      wait "$STACK_PID" || true
      fail "the mmcv $MMCV_VERSION build failed (output above)"
    fi
    wait "$STACK_PID" || fail "installing the stack ($STACK_SPEC) failed (output above)"
    rm -rf "$MMCV_WHEEL_DIR" && mv "$MMCV_WHEEL_DIR.tmp" "$MMCV_WHEEL_DIR"
  fi
  phase "installing the stack with the mmcv wheel"
  # Named by path (never the sdist again); one resolver run with the stack keeps pins consistent.
  pip_install $STACK_SPEC $TEST_SPEC $TORCH_SPEC "$RUNTIME_SETUPTOOLS" "$MMCV_WHEEL_DIR"/mmcv-*.whl
  pip_install --no-deps $NO_DEPS_SPEC
  "$VENV/bin/python" -W ignore -c "$IMPORT_CHECK" ||
    fail "the stack installed but mmocr does not import (see the traceback above)"
  echo "$STAMP_CONTENT" > "$STAMP"
fi

phase "building mmpse_ext (pip install --no-build-isolation -e .)"
(cd "$REPO_ROOT" && pip_install --no-deps --no-build-isolation --use-pep517 -e .)
"$VENV/bin/python" -c "import mmocr.models, mmocr.datasets, mmpse_ext, mmpse_ext.ops" ||
  fail "mmpse_ext was installed but does not import"
# What the extension was built with (CPU only, or CUDA and for which archs), and why.
BUILD_REPORT="$("$VENV/bin/python" "$REPO_ROOT/tools/analysis_tools/collect_env.py" | grep "^mmpse_ext._C")"
sed 's/^/[setup_env] /' <<<"$BUILD_REPORT" >&2
if grep -q "a GPU is visible but nvcc" <<<"$BUILD_REPORT"; then
  echo "[setup_env] WARNING: this machine has a GPU but mmpse_ext._C was built WITHOUT its CUDA" \
       "kernels (no nvcc found); see the build decision above" >&2
fi
phase ""
step "environment ready: $VENV"
"$VENV/bin/python" - <<'PY' >&2
import importlib.metadata as md
names = ["torch", "torchvision", "numpy", "mmengine", "mmcv", "mmdet", "mmocr", "pyclipper",
         "shapely", "opencv-python", "onnx", "onnxruntime", "pytest"]
print("[setup_env] versions: " + ", ".join(f"{n}=={md.version(n)}" for n in names))
PY
{
  echo "[setup_env] time per phase:"
  for line in "${PHASES[@]}"; do echo "  $line"; done
  printf '  %-44s %4ds\n' "total" $(( $(date +%s) - SETUP_START ))
} >&2
echo "$VENV/bin/python"
