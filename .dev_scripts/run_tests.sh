#!/usr/bin/env bash
# Set up the environment (.dev_scripts/setup_env.sh) and run the whole test suite, slow tests included.
# Extra arguments go to pytest, e.g. `bash .dev_scripts/run_tests.sh -m "not slow" -x`.
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
  exit 1
fi
exit $status
