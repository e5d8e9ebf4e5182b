#!/usr/bin/env bash
# Prepare the files .dev_scripts/gpu_acceptance.sh needs on an offline GPU machine (docs/gpu_acceptance.md).
#
#   bash .dev_scripts/gpu_acceptance/prepare_carry.sh [DEST]        # default DEST: .whl (git-ignored)
#
# Downloads, for Python 3.12 on manylinux x86-64, the packages the GPU machine's image lacks:
#   DEST/*.whl         mmengine, mmdet, mmocr and their missing pure-Python / binary needs
#   DEST/build/        setuptools < 81 for mmcv's setup.py (it imports pkg_resources)
#   DEST/sdist/        the mmcv 2.0.1 sdist (PyPI has no wheel of it), built there
# and checks that DEST stays within the size budget, since at most 64 MiB travel with the tree.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEST="${1:-$REPO/.whl}"
PY="${PYTHON:-python3}"
BUDGET_MIB="${BUDGET_MIB:-40}"  # leaves the rest of the 64 MiB to the working tree

# The image already holds numpy, scipy, scikit-image, matplotlib, opencv-python-headless, pillow,
# torchvision, rich, pyyaml, tqdm, six, pytest, hypothesis, ninja (/work/.library/device/KINDS.md).
PACKAGES=(
  mmengine==0.10.7 mmdet==3.1.0 mmocr==1.0.1
  addict yapf platformdirs termcolor            # mmengine
  pycocotools terminaltables shapely            # mmdet
  pyclipper rapidfuzz lmdb                      # mmocr
)
PLATFORMS=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
           --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)

rm -rf "$DEST"
mkdir -p "$DEST/build" "$DEST/sdist"
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp --abi cp312 --abi abi3 --abi none "${PLATFORMS[@]}" --platform any \
  -d "$DEST" "${PACKAGES[@]}"
"$PY" -m pip download -q --no-deps --only-binary=:all: -d "$DEST/build" 'setuptools<70'
# pip prepares an sdist's metadata by running its setup.py, which for mmcv imports torch and
# pkg_resources: the old setuptools goes first on the path for that.
OLD_SETUPTOOLS="$(mktemp -d)"
trap 'rm -rf "$OLD_SETUPTOOLS"' EXIT
"$PY" -m pip install -q --no-deps --target "$OLD_SETUPTOOLS" "$DEST"/build/setuptools-*.whl
PYTHONPATH="$OLD_SETUPTOOLS${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m pip download -q --no-deps \
  --no-build-isolation --no-binary=:all: -d "$DEST/sdist" mmcv==2.0.1

ls -la "$DEST" "$DEST/build" "$DEST/sdist"
size_kib=$(du -sk "$DEST" | cut -f1)
echo "carry folder $DEST: $(( size_kib / 1024 )) MiB (budget $BUDGET_MIB MiB)"
if (( size_kib > BUDGET_MIB * 1024 )); then
  echo "ERROR: $DEST exceeds $BUDGET_MIB MiB" >&2
  exit 1
fi
