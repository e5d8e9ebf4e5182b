#!/usr/bin/env bash
# C++ compiler wrapper for building mmcv's ops with one precompiled header (used as $CXX by
# .dev_scripts/mmcv_build/build_mmcv_wheel.sh; see docs/setup.md).
#
# Nearly all of mmcv's ~80 translation units start with mmcv's "pytorch_cpp_helper.hpp", i.e.
# torch's <torch/types.h>, and parsing it is most of each unit's compile time. The first compile
# precompiles that header once, with exactly the flags ninja passes to the units (so GCC accepts
# it), and every unit then reads it back through `-include`. The header holds declarations only,
# so the objects are the ones a plain build makes; a unit that does not compile with it is
# compiled again without it, as mmcv wrote it. Links and other calls go straight to the compiler.
set -euo pipefail
REAL_CXX="${MMPSE_REAL_CXX:-c++}"

inputs=() pch_args=() common="" object=""
args=("$@")
for (( i = 0; i < ${#args[@]}; i++ )); do
  arg="${args[i]}"
  case "$arg" in
    -MF) (( ++i )) ;;                 # this unit's dependency file
    -o) object="${args[++i]}" ;;      # this unit's object
    -MMD|-c) ;;
    *.cpp|*.cc) inputs+=("$arg") ;;
    -I*/mmcv/ops/csrc/common) common="${arg#-I}"; pch_args+=("$arg") ;;
    *) pch_args+=("$arg") ;;
  esac
done
# Not a compile of one mmcv unit (a link, a version probe, ...): nothing to add.
if [[ ${#inputs[@]} -ne 1 || -z "$common" || -z "$object" ]]; then
  exec "$REAL_CXX" "$@"
fi

header="$common/pytorch_cpp_helper.hpp"
pch="$header.gch"
# ninja runs units in parallel: the first one builds the header, the others wait for it.
exec 9>"$pch.lock"
flock 9
if [[ ! -s "$pch" ]]; then
  "$REAL_CXX" "${pch_args[@]}" -x c++-header "$header" -o "$pch.tmp"
  mv "$pch.tmp" "$pch"
fi
flock -u 9

if ! "$REAL_CXX" -include "$header" -Winvalid-pch "$@" 2>"$pch.err.$$"; then
  echo "[pch_cxx] ${inputs[0]##*/} does not build with the precompiled header; building it plainly" >&2
  rm -f "$pch.err.$$"
  exec "$REAL_CXX" "$@"
fi
cat "$pch.err.$$" >&2
rm -f "$pch.err.$$"
