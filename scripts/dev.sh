#!/usr/bin/env bash
# Start the Dagster UI (http://127.0.0.1:3000, final_input_sensor running) and Daniel's review
# desk (http://127.0.0.1:3001) together; Ctrl+C stops both. Runs on the embedded defaults
# (./storage folder + SQLite) unless PIX_* variables or .env say otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# Dagster reads .env itself; the desk gets the same values, so both use one registry. The file
# is read the way Dagster reads it (python-dotenv), never run as shell code.
if [ -f .env ]; then
  exports=$(.venv/bin/python -c '
import shlex
from dotenv import dotenv_values
for key, value in dotenv_values(".env").items():
    if value is not None and key.isidentifier():
        print(f"export {key}={shlex.quote(value)}")
')
  eval "$exports"
fi
export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/.dagster_home}"
mkdir -p "$DAGSTER_HOME"
# One run per job partition at a time: the instance's run queue enforces it.
[ -f "$DAGSTER_HOME/dagster.yaml" ] || cp scripts/dagster.local.yaml "$DAGSTER_HOME/dagster.yaml"
mkdir -p "${PIX_LOCAL_ROOT:-storage}/pix-jobs"

ui_host="${PIX_UI_HOST:-127.0.0.1}"
ui_port="${PIX_UI_PORT:-3000}"
export PIX_DAGSTER_URL="${PIX_DAGSTER_URL:-http://$ui_host:$ui_port}"

desk_host="${PIX_DESK_HOST:-127.0.0.1}"
desk_port="${PIX_DESK_PORT:-3001}"
desk_user="${PIX_DESK_USER:-daniel}"
# A value kept in a file of this user's only, made at the first start: without a chosen password
# and session key the local desk keeps its login, and its sessions, from one start to the next.
kept_value() {  # kept_value FILE BYTES -> prints the file's path
  if [ ! -s "$1" ]; then
    (umask 077; .venv/bin/python -c "import secrets; print(secrets.token_urlsafe($2))" >"$1")
  fi
  echo "$1"
}
if [ -z "${PIX_DESK_PASSWORD:-}" ] && [ -z "${PIX_DESK_PASSWORD_FILE:-}" ]; then
  PIX_DESK_PASSWORD_FILE=$(kept_value "$DAGSTER_HOME/desk_password" 9)
  export PIX_DESK_PASSWORD_FILE
  password_note="password $(cat "$PIX_DESK_PASSWORD_FILE")  (kept in $PIX_DESK_PASSWORD_FILE; set PIX_DESK_PASSWORD to choose one)"
else
  password_note="password from PIX_DESK_PASSWORD"
fi
if [ -z "${PIX_DESK_SECRET:-}" ] && [ -z "${PIX_DESK_SECRET_FILE:-}" ]; then
  PIX_DESK_SECRET_FILE=$(kept_value "$DAGSTER_HOME/desk_secret" 32)
  export PIX_DESK_SECRET_FILE
fi

# Started in the background, a command inherits SIGINT ignored, and Dagster's commands then
# ignore SIGTERM too (they handle it as SIGINT): each starts with default signal handling,
# replacing the background subshell (exec), so its $! is the command itself.
with_default_signals() {
  exec .venv/bin/python -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$@"
}

# Everything started below, stopped together: on Ctrl+C (the terminal signals the whole
# process group), on SIGINT or SIGTERM to this script alone (a supervisor, another script), or
# when the Dagster UI ends.
pids=()
stop_all() {
  trap - INT TERM EXIT
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop_all EXIT
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM

with_default_signals .venv/bin/python -m pix_pipeline.desk &
desk_pid=$!
pids+=("$desk_pid")

banner() {
  echo "" >&2
  echo "pix_pipeline: review desk  http://$desk_host:$desk_port/   login: user $desk_user, $password_note" >&2
  echo "pix_pipeline: Dagster UI   http://$ui_host:$ui_port/" >&2
  echo "pix_pipeline: photos go to ${PIX_LOCAL_ROOT:-storage}/pix-jobs/<job>/final_input/   Ctrl+C stops everything." >&2
  echo "" >&2
}
banner
answers() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
# Say it again once the Dagster UI answers, below its start-up messages, or say loudly that
# the desk did not start (its own message, a taken port or a bad setting, is above).
(
  for _ in $(seq 1 180); do
    if answers "$ui_host" "$ui_port"; then
      if kill -0 "$desk_pid" 2>/dev/null && answers "$desk_host" "$desk_port"; then
        banner
      else
        echo "" >&2
        echo "pix_pipeline: THE REVIEW DESK DID NOT START (see its message above);" \
             "the Dagster UI runs at http://$ui_host:$ui_port/" >&2
      fi
      exit 0
    fi
    sleep 1
  done
) &
pids+=("$!")
with_default_signals .venv/bin/dagster dev --host "$ui_host" --port "$ui_port" "$@" &
dagster_pid=$!
pids+=("$dagster_pid")
# `wait` returns as soon as a trapped signal arrives, so the traps above run at once. Should
# the desk fail to start, the Dagster UI keeps running (the banner loop says so).
wait "$dagster_pid"
