#!/usr/bin/env bash
# Create (or reuse) the floor environment: torch 2.0.1 with the OpenMMLab stack the way an existing
# MMOCR 1.0.1 project has it, beside the main venv (called by .dev_scripts/run_floor_tests.sh).
#
#   bash .dev_scripts/setup_floor_env.sh      # prints the floor venv's python path on the last line
#
# Why this stack (docs/setup.md): mmcv 2.0.1's prebuilt wheels stop at torch 2.0, so an existing
# MMOCR 1.0.1 project typically runs torch 2.0.x + mmcv 2.0.1 with ops + mmdet 3.1.0 + mmengine
# 0.10.x + numpy 1.26. torch 2.0.1 + torchvision 0.15.2 are the oldest pair the registry has for
# Python 3.11. mmcv 2.0.1 is built from its sdist by the project's fast build at -std=c++17 (what
# torch 2.0's headers need; the sdist says c++14) and the wheel is cached outside the repository,
# keyed by mmcv, torch, Python and C++ standard, rebuilt when missing. mmpse_ext itself is NOT
# installed here: run_floor_tests.sh installs it with the README's command for existing projects.
#
# Environment variables:
#   MMPSE_CACHE_ROOT  cache root                (default: ~/.cache/mmpse_ext)
#   MMPSE_FLOOR_VENV  floor venv location       (default: $MMPSE_CACHE_ROOT/venv-floor-torch2.0.1-py<ver>)
#   MMPSE_CACHE       wheel cache               (default: $MMPSE_CACHE_ROOT/wheels)
#   MMPSE_NO_CACHE=1  ignore the venv and the mmcv wheel (rebuild both: a cold set-up)
#   MAX_JOBS          parallel compile jobs     (default: number of cores)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE_PYTHON="${PYTHON:-python3}"
PY_TAG="$("$BASE_PYTHON" -c 'import sys; print(f"py{sys.version_info[0]}{sys.version_info[1]}")')"
CACHE_ROOT="${MMPSE_CACHE_ROOT:-$HOME/.cache/mmpse_ext}"
TORCH_VERSION="2.0.1"
VENV="${MMPSE_FLOOR_VENV:-$CACHE_ROOT/venv-floor-torch$TORCH_VERSION-$PY_TAG}"
WHEEL_CACHE="${MMPSE_CACHE:-$CACHE_ROOT/wheels}"
export MAX_JOBS="${MAX_JOBS:-$(nproc)}"

# The floor stack. Changing anything here invalidates the venv stamp below.
TORCH_SPEC="torch==$TORCH_VERSION torchvision==0.15.2"
MMCV_VERSION="2.0.1"
CXX_STD="c++17"
STACK_SPEC="numpy==1.26.4 mmengine==0.10.7 mmdet==3.1.0 mmocr==1.0.1 pyclipper shapely \
opencv-python==4.11.0.86 opencv-python-headless==4.11.0.86"
# onnx + onnxruntime: the ONNX export on this torch (TorchScript exporter) is checked too.
# Polygon3: the official ICDAR2015 script's geometry, the metric tests' reference.
TEST_SPEC="pytest hypothesis onnx==1.23.2 onnxruntime==1.32.0 Polygon3==3.0.9.1"
# PaddleOCR's source, the reference of the target tests (read file by file, without its deps).
NO_DEPS_SPEC="paddleocr==2.10.0"
# mmcv 2.0.1's setup.py and mmengine's `mmocr::` config prefix import pkg_resources; torch 2.0
# asks nothing of setuptools, so the old one stays.
BUILD_SPEC="wheel ninja setuptools<70"
IMPORT_CHECK="import mmcv._ext, mmocr.models, mmocr.datasets, mmocr.evaluation, torchvision"
MMCV_WHEEL_DIR="$WHEEL_CACHE/mmcv-$MMCV_VERSION-torch$TORCH_VERSION-$PY_TAG-$CXX_STD"

START=$(date +%s)
step() { echo "[setup_floor_env $(date +%H:%M:%S)] $*" >&2; }
fail() { echo "[setup_floor_env] ERROR: $*" >&2; exit 1; }
source "$REPO_ROOT/.dev_scripts/venv_tools.sh"  # pip_install, venv_is_current
trap 'fail "step failed at line $LINENO (command: $BASH_COMMAND); the floor environment at $VENV is NOT ready"' ERR

STAMP_CONTENT="$TORCH_SPEC | mmcv==$MMCV_VERSION $CXX_STD | $STACK_SPEC | $TEST_SPEC | $NO_DEPS_SPEC | $BUILD_SPEC"
STAMP="$VENV/.mmpse_floor_stamp"
if [[ "${MMPSE_NO_CACHE:-0}" == "1" ]]; then
  step "MMPSE_NO_CACHE=1: removing $VENV and $MMCV_WHEEL_DIR"
  rm -rf "$VENV" "$MMCV_WHEEL_DIR"
fi

if venv_is_current "$STAMP" "$STAMP_CONTENT" "$IMPORT_CHECK"; then
  step "reusing $VENV (stamp matches and mmocr imports)"
else
  rm -f "$STAMP"
  if [[ ! -x "$VENV/bin/python" ]]; then
    step "creating venv $VENV"
    mkdir -p "$(dirname "$VENV")"
    "$BASE_PYTHON" -m venv "$VENV"
  fi
  step "installing $TORCH_SPEC and build tools"
  pip_install $BUILD_SPEC $TORCH_SPEC "numpy==1.26.4"
  STACK_PID=""
  if ls "$MMCV_WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
    step "using the cached mmcv wheel from $MMCV_WHEEL_DIR"
  else
    step "building mmcv $MMCV_VERSION's CPU ops (-std=$CXX_STD, MAX_JOBS=$MAX_JOBS) while the stack installs"
    # mmocr and mmdet do not name mmcv in their metadata, so the pure-Python stack installs
    # while the compiler runs (the build reads only torch and setuptools).
    pip_install $TORCH_SPEC $STACK_SPEC $TEST_SPEC $BUILD_SPEC &
    STACK_PID=$!
    rm -rf "$MMCV_WHEEL_DIR.tmp"
    if ! bash "$REPO_ROOT/.dev_scripts/mmcv_build/build_mmcv_wheel.sh" "$VENV/bin/python" \
        "$MMCV_VERSION" "$CXX_STD" "$MMCV_WHEEL_DIR.tmp"; then
      wait "$STACK_PID" || true
      fail "the mmcv $MMCV_VERSION build failed (output above)"
    fi
    wait "$STACK_PID" || fail "installing the stack ($STACK_SPEC) failed (output above)"
    rm -rf "$MMCV_WHEEL_DIR" && mv "$MMCV_WHEEL_DIR.tmp" "$MMCV_WHEEL_DIR"
  fi
  step "installing the stack with the mmcv wheel"
  # One resolver run with every pin, so nothing moves torch, numpy or opencv.
  pip_install $TORCH_SPEC $STACK_SPEC $TEST_SPEC $BUILD_SPEC "$MMCV_WHEEL_DIR"/mmcv-*.whl
  pip_install --no-deps $NO_DEPS_SPEC
  "$VENV/bin/python" -W ignore -c "$IMPORT_CHECK" ||
    fail "the floor stack installed but mmocr does not import (see the traceback above)"
  echo "$STAMP_CONTENT" > "$STAMP"
fi
step "floor environment ready in $(( $(date +%s) - START ))s: $VENV"
echo "$VENV/bin/python"
