"""`python -m pix_pipeline.desk`: serve the review desk on PIX_DESK_HOST:PIX_DESK_PORT."""

import logging
import secrets
import sys

import uvicorn

from pix_pipeline.desk.app import build_app
from pix_pipeline.runtime import build_runtime
from pix_pipeline.settings import SettingsError, load_desk_settings, load_settings


def main() -> int:
    """Start the desk; refuse (exit 2) on bad settings such as an open address without password."""
    try:
        desk = load_desk_settings()
        settings = load_settings()
    except SettingsError as exc:
        print(f"pix_pipeline.desk: {exc}", file=sys.stderr)
        return 2
    password = desk.password
    if password is None:
        # Loopback only (load_desk_settings refuses anything else without a password): a
        # fresh random password per start, shown once on this terminal and nowhere else.
        password = secrets.token_urlsafe(12)
        print(
            f"Review desk login: user {desk.user!r}, password {password!r} (random for this start;"
            " set PIX_DESK_PASSWORD to choose one)",
            file=sys.stderr,
            flush=True,
        )
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    runtime = build_runtime(settings)
    app = build_app(desk, runtime, password=password)
    print(
        f"Review desk: http://{desk.host}:{desk.port}/ (Dagster: {desk.dagster_url})",
        file=sys.stderr,
        flush=True,
    )
    try:
        # uvicorn's access log names method, path and status; never headers (cookies) or bodies.
        uvicorn.run(app, host=desk.host, port=desk.port, log_level="info", server_header=False)
    finally:
        runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
