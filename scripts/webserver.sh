#!/usr/bin/env bash
# Start a production Dagster webserver (UI and GraphQL API) on the workspace, bound to a
# loopback or private address for the proxy in front of it (scripts/proxy.sh), never to all
# addresses: Dagster's webserver has no login of its own.
#   scripts/webserver.sh                               admins' UI on 127.0.0.1:3000
#   PIX_UI_PORT=3002 scripts/webserver.sh --read-only  viewers' UI, refuses every mutation
# Further arguments go to dagster-webserver. DAGSTER_HOME must hold the instance's dagster.yaml.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

host="${PIX_UI_HOST:-127.0.0.1}"
port="${PIX_UI_PORT:-3000}"
case "$host" in
  "" | 0.0.0.0 | "::" | "[::]" | "*")
    echo "webserver.sh: PIX_UI_HOST=$host would listen on every address, public ones" \
      "included; name the loopback address (127.0.0.1) or the private address the proxy" \
      "reaches" >&2
    exit 2
    ;;
esac
[ -n "${DAGSTER_HOME:-}" ] || { echo "webserver.sh: set DAGSTER_HOME" >&2; exit 2; }

webserver=".venv/bin/dagster-webserver"
[ -x "$webserver" ] || webserver="$(command -v dagster-webserver)" ||
  { echo "webserver.sh: dagster-webserver is not installed" >&2; exit 2; }
exec "$webserver" -w workspace.yaml -h "$host" -p "$port" "$@"
