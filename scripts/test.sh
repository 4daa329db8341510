#!/usr/bin/env bash
# Run the test suite (installs .venv on first use), side by side on every CPU this process may
# use (pytest-xdist; PIX_TEST_WORKERS=N chooses N, `-n 0` runs in this process). It ends with
# the 20 slowest tests, so creeping slowness shows. PostgreSQL tests skip, with the reason,
# when no server answers at PIX_TEST_POSTGRES_URL; set PIX_REQUIRE_POSTGRES=1 to fail instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python -m pytest -n auto --dist worksteal --durations=20 "$@"
