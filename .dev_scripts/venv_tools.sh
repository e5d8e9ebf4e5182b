# Sourced by .dev_scripts/setup_env.sh and setup_floor_env.sh (both set VENV first).

# pip_install ARGS...: pip into $VENV, its output shown only when it fails (it warns about
# conflicts that are expected here, e.g. setuptools < 70 below torch's stated minimum while
# mmcv builds).
pip_install() {
  local log status=0
  log="$(mktemp)"
  "$VENV/bin/python" -m pip --disable-pip-version-check install -q "$@" >"$log" 2>&1 || status=$?
  (( status == 0 )) || cat "$log" >&2
  rm -f "$log"
  return $status
}

# venv_is_current STAMP_FILE STAMP_CONTENT IMPORT_CHECK: the venv was built for exactly this
# stack (its stamp file holds STAMP_CONTENT) and still imports (IMPORT_CHECK runs in it).
venv_is_current() {
  [[ -f "$1" && "$(cat "$1")" == "$2" ]] && "$VENV/bin/python" -W ignore -c "$3" 2>/dev/null
}
