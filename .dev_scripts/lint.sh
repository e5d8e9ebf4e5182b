#!/usr/bin/env bash
# Lint in check mode (nothing is changed): flake8, isort and yapf with the settings of setup.cfg,
# over the repository's Python code. All three always run; the exit status is 1 if any of them
# found something. .dev_scripts/run_tests.sh runs this first.
#
#   bash .dev_scripts/lint.sh
#
# The python is $PYTHON, else the one .dev_scripts/find_python.sh finds (the set-up venv, which
# has the pinned tools). To apply the fixes isort and yapf would make:
#   $PYTHON -m isort mmpse_ext tools tests configs setup.py .dev_scripts
#   $PYTHON -m yapf -i -r mmpse_ext tools tests configs setup.py .dev_scripts
set -uo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
# shellcheck source=find_python.sh
source .dev_scripts/find_python.sh
PY="$(find_mmpse_python)" || exit 1
PATHS=(mmpse_ext tools tests configs setup.py .dev_scripts)

for tool in flake8 isort yapf; do
  if ! "$PY" -m "$tool" --version >/dev/null 2>&1; then
    echo "[lint] ERROR: $tool is not installed for $PY: run 'bash .dev_scripts/setup_env.sh'" >&2
    exit 1
  fi
done

failed=()
echo "[lint] flake8" >&2
"$PY" -m flake8 "${PATHS[@]}" || failed+=(flake8)
echo "[lint] isort --check-only" >&2
"$PY" -m isort --check-only --diff "${PATHS[@]}" || failed+=(isort)
echo "[lint] yapf --diff" >&2
# the build record setup.py writes beside _C is generated, not ours to format
"$PY" -m yapf --diff --recursive --exclude 'mmpse_ext/ops/_build_info.py' "${PATHS[@]}" ||
  failed+=(yapf)

if (( ${#failed[@]} )); then
  echo "[lint] FAILED: ${failed[*]} (settings in setup.cfg; commands to fix in this script's header)" >&2
  exit 1
fi
echo "[lint] OK: flake8, isort and yapf find nothing" >&2
