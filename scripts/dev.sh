#!/usr/bin/env bash
# Start the Dagster UI on http://127.0.0.1:3000 with final_input_sensor running,
# on the embedded defaults (./storage folder + SQLite) unless PIX_* variables or .env say otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/.dagster_home}"
mkdir -p "$DAGSTER_HOME"
# One run per job partition at a time: the instance's run queue enforces it.
[ -f "$DAGSTER_HOME/dagster.yaml" ] || cp scripts/dagster.local.yaml "$DAGSTER_HOME/dagster.yaml"
mkdir -p "${PIX_LOCAL_ROOT:-storage}/pix-jobs"
exec .venv/bin/dagster dev --host "${PIX_UI_HOST:-127.0.0.1}" --port "${PIX_UI_PORT:-3000}" "$@"
