#!/usr/bin/env bash
# Set up the environment (.dev_scripts/setup_env.sh) and run the whole test suite, slow tests included,
# then the floor job (.dev_scripts/run_floor_tests.sh: the plugin installed into a torch 2.0.1
# MMOCR environment and tested there). Fails if either fails.
# Extra arguments go to the main pytest run, e.g. `bash .dev_scripts/run_tests.sh -m "not slow" -x`;
# MMPSE_FLOOR=0 skips the floor job (it is on by default, and in CI).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$(bash "$REPO_ROOT/.dev_scripts/setup_env.sh" | tail -n 1)"
cd "$REPO_ROOT"
echo "[run_tests] $PY -m pytest $*" >&2
set +e
"$PY" -m pytest -ra "$@"
status=$?
set -e
if [[ $status -eq 5 ]]; then
  echo "[run_tests] ERROR: pytest collected no tests" >&2
  status=1
fi
floor_status=0
if [[ "${MMPSE_FLOOR:-1}" != "0" ]]; then
  bash "$REPO_ROOT/.dev_scripts/run_floor_tests.sh" || floor_status=$?
else
  echo "[run_tests] MMPSE_FLOOR=0: the floor job (torch 2.0.1) is skipped" >&2
fi
if (( status != 0 || floor_status != 0 )); then
  echo "[run_tests] FAILED: main suite exit $status, floor job exit $floor_status" >&2
  exit 1
fi
