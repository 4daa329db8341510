#!/usr/bin/env bash
# Start the Dagster UI (http://127.0.0.1:3000, final_input_sensor running) and Daniel's review
# desk (http://127.0.0.1:3001) together; Ctrl+C stops both. Runs on the embedded defaults
# (./storage folder + SQLite) unless PIX_* variables or .env say otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# Dagster reads .env itself; the desk gets the same values, so both use one registry.
if [ -f .env ]; then
  set -a
  # shellcheck disable=SC1091
  . ./.env
  set +a
fi
export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/.dagster_home}"
mkdir -p "$DAGSTER_HOME"
# One run per job partition at a time: the instance's run queue enforces it.
[ -f "$DAGSTER_HOME/dagster.yaml" ] || cp scripts/dagster.local.yaml "$DAGSTER_HOME/dagster.yaml"
mkdir -p "${PIX_LOCAL_ROOT:-storage}/pix-jobs"

ui_host="${PIX_UI_HOST:-127.0.0.1}"
ui_port="${PIX_UI_PORT:-3000}"
export PIX_DAGSTER_URL="${PIX_DAGSTER_URL:-http://$ui_host:$ui_port}"

.venv/bin/python -m pix_pipeline.desk &
desk_pid=$!
stop_desk() {
  kill "$desk_pid" 2>/dev/null || true
  wait "$desk_pid" 2>/dev/null || true
}
trap stop_desk EXIT
trap 'exit 130' INT TERM

echo "pix_pipeline: Dagster UI   http://$ui_host:$ui_port/" >&2
echo "pix_pipeline: review desk  http://${PIX_DESK_HOST:-127.0.0.1}:${PIX_DESK_PORT:-3001}/" >&2
echo "pix_pipeline: Ctrl+C stops both." >&2
.venv/bin/dagster dev --host "$ui_host" --port "$ui_port" "$@"
