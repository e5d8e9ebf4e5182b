#!/usr/bin/env bash
# Set up the environment (.dev_scripts/setup_env.sh), lint (.dev_scripts/lint.sh) and run the whole
# test suite, slow tests included.
# Extra arguments go to pytest, e.g. `bash .dev_scripts/run_tests.sh -m "not slow" -x`.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$(bash "$REPO_ROOT/.dev_scripts/setup_env.sh" | tail -n 1)"
cd "$REPO_ROOT"
set +e
# Lint first (flake8, isort, yapf in check mode); the tests run either way, the exit status
# reports both.
PYTHON="$PY" bash .dev_scripts/lint.sh
lint_status=$?
echo "[run_tests] $PY -m pytest $*" >&2
"$PY" -m pytest -ra "$@"
status=$?
set -e
if [[ $status -eq 5 ]]; then
  echo "[run_tests] ERROR: pytest collected no tests" >&2
  exit 1
fi
if [[ $lint_status -ne 0 ]]; then
  echo "[run_tests] ERROR: lint failed (output of .dev_scripts/lint.sh above)" >&2
  [[ $status -eq 0 ]] && status=1
fi
exit $status
