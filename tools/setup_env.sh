#!/usr/bin/env bash
# Create (or reuse) the virtual environment with the pinned OpenMMLab stack and build mmpse_ext.
#
#   bash tools/setup_env.sh            # prints the venv's python path on the last line
#
# Facts behind the pins are in DESIGN.md §4: mmocr 1.0.1 needs mmdet <3.2 and mmcv <2.2, mmdet
# 3.1.0 needs mmcv <2.1, so mmcv 2.0.1, which exists on PyPI only as an sdist whose setup.py
# hard-codes -std=c++14 (too old for torch >= 2.x headers). We build it once with the standard
# the installed torch needs and cache the wheel outside the repo.
#
# Environment variables:
#   MMPSE_VENV       venv location        (default: ~/.cache/mmpse_ext/venv-py<ver>)
#   MMPSE_CACHE      wheel cache          (default: ~/.cache/mmpse_ext/wheels)
#   MMPSE_NO_CACHE=1 ignore both caches   (rebuild everything; used to prove a cold set-up works)
#   MAX_JOBS         parallel compile jobs (default: number of cores)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
PY_TAG="$("$PYTHON" -c 'import sys; print(f"py{sys.version_info[0]}{sys.version_info[1]}")')"
CACHE_ROOT="${MMPSE_CACHE_ROOT:-$HOME/.cache/mmpse_ext}"
VENV="${MMPSE_VENV:-$CACHE_ROOT/venv-$PY_TAG}"
WHEEL_CACHE="${MMPSE_CACHE:-$CACHE_ROOT/wheels}"
export MAX_JOBS="${MAX_JOBS:-$(nproc)}"

# The pinned stack. Changing anything here invalidates the venv stamp below.
TORCH_SPEC="torch==2.14.1 torchvision==0.29.1"
MMCV_VERSION="2.0.1"
STACK_SPEC="numpy==1.26.4 mmengine==0.10.7 mmdet==3.1.0 mmocr==1.0.1 pyclipper shapely \
opencv-python==4.11.0.86 opencv-python-headless==4.11.0.86 matplotlib pytest hypothesis"
BUILD_SPEC="wheel ninja"
# mmcv 2.0.1's setup.py imports pkg_resources (gone from setuptools >= 81) while torch 2.14 wants
# setuptools >= 77: build mmcv with the old one, then put the new one back.
MMCV_BUILD_SETUPTOOLS="setuptools<70"
RUNTIME_SETUPTOOLS="setuptools>=77"

step() { echo "[setup_env $(date +%H:%M:%S)] $*" >&2; }
fail() { echo "[setup_env] ERROR: $*" >&2; exit 1; }
trap 'fail "step failed at line $LINENO (command: $BASH_COMMAND); the environment at $VENV is NOT ready"' ERR

STAMP_CONTENT="$TORCH_SPEC | mmcv==$MMCV_VERSION | $STACK_SPEC | $BUILD_SPEC | $RUNTIME_SETUPTOOLS"
STAMP="$VENV/.mmpse_stack_stamp"

if [[ "${MMPSE_NO_CACHE:-0}" == "1" && -d "$VENV" ]]; then
  step "MMPSE_NO_CACHE=1: removing $VENV"
  rm -rf "$VENV"
fi

stack_ok() {
  [[ -f "$STAMP" && "$(cat "$STAMP")" == "$STAMP_CONTENT" ]] &&
    "$VENV/bin/python" -c "import mmcv._ext, mmocr.models, mmocr.datasets, mmocr.evaluation" 2>/dev/null
}

if stack_ok; then
  step "reusing $VENV (stack stamp matches and mmocr imports)"
else
  rm -f "$STAMP"
  if [[ ! -x "$VENV/bin/python" ]]; then
    step "creating venv $VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON" -m venv "$VENV"
  fi
  PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
  step "installing build tools and $TORCH_SPEC"
  "${PIP[@]}" install -q $BUILD_SPEC $TORCH_SPEC "numpy==1.26.4"

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
    step "using cached mmcv wheel from $MMCV_WHEEL_DIR"
  else
    step "building mmcv $MMCV_VERSION with ops from the sdist (-std=$CXX_STD, MAX_JOBS=$MAX_JOBS); ~11 min on 2 cores"
    BUILD_DIR="$(mktemp -d)"
    "${PIP[@]}" install -q "$MMCV_BUILD_SETUPTOOLS" 2>/dev/null
    "${PIP[@]}" download -q --no-deps --no-build-isolation --no-binary :all: "mmcv==$MMCV_VERSION" -d "$BUILD_DIR"
    tar -xzf "$BUILD_DIR"/mmcv-"$MMCV_VERSION".tar.gz -C "$BUILD_DIR"
    SRC="$BUILD_DIR/mmcv-$MMCV_VERSION"
    grep -q -- "-std=c++14" "$SRC/setup.py" || fail "mmcv setup.py no longer contains -std=c++14; update this script"
    sed -i "s/-std=c++14/-std=$CXX_STD/g" "$SRC/setup.py"
    mkdir -p "$MMCV_WHEEL_DIR.tmp"
    (cd "$SRC" && MMCV_WITH_OPS=1 "$VENV/bin/python" -m pip wheel -q --no-deps --no-build-isolation . -w "$MMCV_WHEEL_DIR.tmp")
    rm -rf "$MMCV_WHEEL_DIR" && mv "$MMCV_WHEEL_DIR.tmp" "$MMCV_WHEEL_DIR"
    rm -rf "$BUILD_DIR"
    "${PIP[@]}" install -q "$RUNTIME_SETUPTOOLS"
  fi
  step "installing mmcv wheel and the OpenMMLab stack"
  # One resolver run: the cached wheel is named by path so pip can never pick the sdist again.
  "${PIP[@]}" install -q $STACK_SPEC $TORCH_SPEC "$RUNTIME_SETUPTOOLS" "$MMCV_WHEEL_DIR"/mmcv-*.whl
  "$VENV/bin/python" -c "import mmcv._ext, mmocr.models, mmocr.datasets, mmocr.evaluation" ||
    fail "the stack installed but mmocr does not import (see the traceback above)"
  echo "$STAMP_CONTENT" > "$STAMP"
fi

step "building mmpse_ext (pip install --no-build-isolation -e .)"
(cd "$REPO_ROOT" && "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation --use-pep517 -e .)
"$VENV/bin/python" -c "import mmocr.models, mmocr.datasets, mmpse_ext, mmpse_ext.ops" ||
  fail "mmpse_ext was installed but does not import"
step "environment ready: $VENV"
"$VENV/bin/python" - <<'PY' >&2
import importlib.metadata as md
names = ["torch", "torchvision", "numpy", "mmengine", "mmcv", "mmdet", "mmocr", "pyclipper",
         "shapely", "opencv-python", "pytest"]
print("[setup_env] versions: " + ", ".join(f"{n}=={md.version(n)}" for n in names))
PY
echo "$VENV/bin/python"
