#!/usr/bin/env bash
# The README's test command (what .ci/run calls): set up the environment
# (.dev_scripts/setup_env.sh), lint (.dev_scripts/lint.sh), run the whole test suite, slow tests
# included, then the floor job (.dev_scripts/run_floor_tests.sh: the plugin installed into a
# torch 2.0.1 MMOCR environment and tested there). Fails if any of the three fails; each runs
# whatever the others gave.
# Extra arguments go to the main pytest run, e.g. `bash .dev_scripts/run_tests.sh -m "not slow" -x`;
# MMPSE_FLOOR=0 skips the floor job (it is on by default, and in CI).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$(bash "$REPO_ROOT/.dev_scripts/setup_env.sh" | tail -n 1)"
cd "$REPO_ROOT"
set +e
PYTHON="$PY" bash .dev_scripts/lint.sh
lint_status=$?
echo "[run_tests] $PY -m pytest $*" >&2
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
if (( lint_status != 0 || status != 0 || floor_status != 0 )); then
  echo "[run_tests] FAILED: lint exit $lint_status, main suite exit $status," \
       "floor job exit $floor_status" >&2
  exit 1
fi
