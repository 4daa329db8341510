#!/usr/bin/env bash
# Run the test suite (installs .venv on first use). PostgreSQL tests skip, with the reason,
# when no server answers at PIX_TEST_POSTGRES_URL; set PIX_REQUIRE_POSTGRES=1 to fail instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python -m pytest "$@"
