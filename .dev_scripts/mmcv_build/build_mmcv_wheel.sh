#!/usr/bin/env bash
# Build an mmcv wheel with its CPU ops from the PyPI sdist, fast (called by .dev_scripts/setup_env.sh).
#
#   bash .dev_scripts/mmcv_build/build_mmcv_wheel.sh PYTHON MMCV_VERSION CXX_STD OUT_DIR [--plain]
#
# PYTHON is the venv's interpreter (torch installed, setuptools < 70 for mmcv's setup.py, which
# imports pkg_resources). The sdist's hard-coded -std=c++14 is replaced by CXX_STD (the standard
# the installed torch's headers require). What makes it fast (docs/setup.md has the measurements):
#   * -g0: no debug information (Python's CFLAGS ask for -g, which triples each unit's time);
#   * one precompiled header for torch's headers (.dev_scripts/mmcv_build/pch_cxx.sh as the compiler).
# --plain builds exactly as mmcv's setup.py does (only the -std replaced), for comparisons.
# The GPU is hidden from the build (CUDA_VISIBLE_DEVICES=), so only the CPU ops are compiled.
set -euo pipefail
[[ $# -ge 4 ]] || { echo "usage: $0 PYTHON MMCV_VERSION CXX_STD OUT_DIR [--plain]" >&2; exit 2; }
PY="$1" VERSION="$2" CXX_STD="$3" OUT_DIR="$4" MODE="${5:-fast}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

BUILD_DIR="$(mktemp -d)"
trap 'rm -rf "$BUILD_DIR"' EXIT
"$PY" -m pip download -q --disable-pip-version-check --no-deps --no-build-isolation \
  --no-binary :all: "mmcv==$VERSION" -d "$BUILD_DIR"
tar -xzf "$BUILD_DIR/mmcv-$VERSION.tar.gz" -C "$BUILD_DIR"
SRC="$BUILD_DIR/mmcv-$VERSION"
if ! grep -q -- "'-std=c++14'" "$SRC/setup.py"; then
  echo "build_mmcv_wheel: mmcv $VERSION's setup.py no longer holds '-std=c++14'; update $0" >&2
  exit 1
fi
if [[ "$MODE" == "--plain" ]]; then
  sed -i "s/'-std=c++14'/'-std=$CXX_STD'/g" "$SRC/setup.py"
  export CXX="${CXX:-c++}"
else
  # The C++ flags come after Python's CFLAGS on the command line, so -g0 overrides their -g.
  sed -i "s/extra_compile_args\['cxx'\] = \['-std=c++14'\]/extra_compile_args['cxx'] = ['-std=$CXX_STD', '-g0']/; s/'-std=c++14'/'-std=$CXX_STD'/g" \
    "$SRC/setup.py"
  grep -q -- "'-g0'" "$SRC/setup.py" || { echo "build_mmcv_wheel: could not add -g0 to $SRC/setup.py" >&2; exit 1; }
  export MMPSE_REAL_CXX="${CXX:-c++}"
  export CXX="$HERE/pch_cxx.sh"
fi
mkdir -p "$OUT_DIR"
(cd "$SRC" && CUDA_VISIBLE_DEVICES= MMCV_WITH_OPS=1 "$PY" -m pip wheel -q --disable-pip-version-check \
  --no-deps --no-build-isolation . -w "$OUT_DIR")
ls "$OUT_DIR"/mmcv-"$VERSION"-*.whl >/dev/null
