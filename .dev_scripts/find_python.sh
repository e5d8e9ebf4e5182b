# Sourced by the tools' shell scripts: `find_mmpse_python` prints the python to run them with.
# $PYTHON wins if set (used as is). Otherwise the first of these that imports torch: the active
# virtualenv, the venv .dev_scripts/setup_env.sh creates ($MMPSE_VENV, or
# ${MMPSE_CACHE_ROOT:-~/.cache/mmpse_ext}/venv-py<major><minor> of python3), python3.
find_mmpse_python() {
  if [[ -n "${PYTHON:-}" ]]; then
    echo "$PYTHON"
    return 0
  fi
  local candidates=()
  [[ -n "${VIRTUAL_ENV:-}" ]] && candidates+=("$VIRTUAL_ENV/bin/python")
  if [[ -n "${MMPSE_VENV:-}" ]]; then
    candidates+=("$MMPSE_VENV/bin/python")
  elif command -v python3 >/dev/null; then
    local tag
    tag="$(python3 -c 'import sys; print(f"py{sys.version_info[0]}{sys.version_info[1]}")')"
    candidates+=("${MMPSE_CACHE_ROOT:-$HOME/.cache/mmpse_ext}/venv-$tag/bin/python")
  fi
  candidates+=(python3)
  local py
  for py in "${candidates[@]}"; do
    if command -v "$py" >/dev/null && "$py" -c 'import torch' 2>/dev/null; then
      echo "$py"
      return 0
    fi
  done
  echo "find_mmpse_python: no python with torch found (tried: ${candidates[*]}); run" \
       "'bash .dev_scripts/setup_env.sh' or set PYTHON=/path/to/python" >&2
  return 1
}
