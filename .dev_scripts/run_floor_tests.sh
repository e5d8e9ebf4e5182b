#!/usr/bin/env bash
# The floor job: mmpse_ext in an existing MMOCR 1.0.1 project on the oldest supported torch (2.0.1),
# installed the way the README tells existing projects, then tested there. Called by
# .dev_scripts/run_tests.sh after the main suite; exits non-zero if anything fails.
#
#   bash .dev_scripts/run_floor_tests.sh [extra pytest arguments]
#
# Steps (the time of each is printed at the end; docs/benchmarks.md has the measurements):
#   1. the floor environment (.dev_scripts/setup_floor_env.sh: torch 2.0.1, mmcv 2.0.1 with ops,
#      mmdet 3.1.0, mmocr 1.0.1; reused when its stamp matches);
#   2. the README's install command for existing projects, `pip install --no-build-isolation
#      --no-deps .`, in a copy of the working tree (an in-tree build would overwrite the build
#      record of the main venv's editable install), checking that no installed package changed;
#   3. pytest from the floor venv's own `pytest` script, so `mmpse_ext` is the installed copy (not
#      the checkout on sys.path): the op, model, loss, target, metric, dataset and transform
#      tests, and MMOCR's own tools/train.py, tools/test.py, inferencers and infer.py on the
#      README's plugin snippet config (2 iterations, CPU), then our tools/infer.py and
#      tools/model_converters/export_onnx.py on that checkpoint; the AMP wrapper without a CPU
#      GradScaler and the TorchScript ONNX exporter, which this torch gets; bfloat16 inference
#      (BN folding, float32 first/last convolution, PrecisionTestLoop, TorchLogitsBackend).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
START=$(date +%s)
step() { echo "[run_floor_tests $(date +%H:%M:%S)] $*" >&2; }
fail() { echo "[run_floor_tests] ERROR: $*" >&2; exit 1; }

step "1/3 floor environment"
FPY="$(bash "$REPO_ROOT/.dev_scripts/setup_floor_env.sh" | tail -n 1)"
FLOOR_BIN="$(dirname "$FPY")"
ENV_DONE=$(date +%s)

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
step "2/3 pip install --no-build-isolation --no-deps . (README, existing projects) into $FLOOR_BIN/.."
git -C "$REPO_ROOT" rev-parse --git-dir >/dev/null 2>&1 ||
  fail "$REPO_ROOT is not a git checkout (the working tree is copied with git ls-files)"
mkdir "$WORK/src"
(cd "$REPO_ROOT" && git ls-files -z --cached --others --exclude-standard |
  tar --null --no-recursion --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$WORK/src"
"$FPY" -m pip uninstall -q -y mmpse_ext >/dev/null 2>&1 || true
"$FPY" -m pip freeze --all | grep -v -i '^mmpse[-_]ext' | sort > "$WORK/before.txt"
(cd "$WORK/src" && "$FPY" -m pip --disable-pip-version-check install -q \
  --no-build-isolation --no-deps . >"$WORK/install.log" 2>&1) ||
  { cat "$WORK/install.log" >&2; fail "the README's install command failed in the floor env (log above)"; }
"$FPY" -m pip freeze --all | grep -v -i '^mmpse[-_]ext' | sort > "$WORK/after.txt"
diff "$WORK/before.txt" "$WORK/after.txt" >&2 ||
  fail "installing mmpse_ext changed the packages of the floor environment (diff above)"
INSTALLED="$(cd "$WORK" && "$FPY" -c 'import mmpse_ext; print(mmpse_ext.__file__)')"
[[ "$INSTALLED" != "$REPO_ROOT"/* && "$INSTALLED" != "$WORK/src"/* ]] ||
  fail "mmpse_ext imports from $INSTALLED, not from the floor venv's site-packages"
VERSIONS="$("$FPY" -c 'import importlib.metadata as m; print(", ".join(n + " " + m.version(n) for n in ("torch", "mmcv", "mmdet", "mmocr", "mmengine", "numpy")))')"
step "installed: $INSTALLED ($VERSIONS)"
INSTALL_DONE=$(date +%s)

step "3/3 pytest on torch 2.0.1 (floor)"
cd "$REPO_ROOT"
# The CUDA-emulation build of the kernel (a second compile) and the data tools' CLIs stay with the
# main suite, as do MMOCR's mim, browse and print tools.
COMPAT=tests/test_mmocr_compat/test_mmocr_tools.py
FLOOR_TESTS=(
  tests/test_ops tests/test_models tests/test_evaluation tests/test_datasets
  "$COMPAT::test_readme_plugin_snippet_is_the_tested_config"
  "$COMPAT::test_mmocr_train_runs_the_stock_config_with_our_types"
  "$COMPAT::test_mmocr_test_py_returns_our_models_polygons"
  "$COMPAT::test_mmocr_inferencers_return_the_same_polygons"
  "$COMPAT::test_mmocr_infer_py_writes_our_polygons"
  tests/test_mmocr_compat/test_existing_project.py
  tests/test_engine/test_amp_without_cpu_grad_scaler.py tests/test_apis/test_onnx_torchscript_export.py
  tests/test_engine/test_checkpoint_safe_globals_old_torch.py
  tests/test_engine/test_conv_bn_folding.py tests/test_engine/test_precision_test_loop.py
  tests/test_apis/test_backends.py
)
set +e
PYTHONPATH= "$FLOOR_BIN/pytest" -ra -p no:cacheprovider "${FLOOR_TESTS[@]}" \
  --ignore tests/test_ops/test_pse_cuda_emulated.py --ignore tests/test_datasets/test_data_tools.py \
  "$@"
status=$?
set -e
END=$(date +%s)
{
  echo "[run_floor_tests] time: environment $((ENV_DONE - START))s, install" \
       "$((INSTALL_DONE - ENV_DONE))s, pytest $((END - INSTALL_DONE))s, total $((END - START))s"
} >&2
if [[ $status -eq 5 ]]; then
  fail "pytest collected no tests in the floor environment"
fi
(( status == 0 )) || fail "floor tests failed on torch 2.0.1 (pytest exit $status)"
step "floor job passed"
