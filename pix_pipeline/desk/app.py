"""The review desk: Daniel's pages next to the Dagster UI.

Each handler reads its input, calls one domain function (domain/review.py, domain/release.py)
and renders a template. Login, sessions and CSRF tokens are middleware layers around every
route; images are resolved from the registry, never from the URL's path.
"""

import hashlib
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from asgi_csrf import asgi_csrf
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pix_pipeline.desk import content, words
from pix_pipeline.desk.auth import (
    HEALTH_PATH,
    LOGIN_PATH,
    SESSION_USER,
    LoginThrottle,
    RequireLogin,
    safe_next,
    same_password,
)
from pix_pipeline.desk.runs import FINISHED, RUN_ID_PATTERN, Launcher, LaunchFailed
from pix_pipeline.domain import layout
from pix_pipeline.domain.redaction import AreaError, parse_area
from pix_pipeline.domain.release import check_revoke
from pix_pipeline.domain.review import (
    check_photo,
    confirm_redaction,
    customer_view,
    hide_photo,
    job_review,
    jobs_page,
    preview_key,
    redact_area,
    redact_findings,
    release_check,
    retry_job_notification,
    undo_redaction,
)
from pix_pipeline.health import Check, check_registry, check_storage
from pix_pipeline.registry.repository import as_utc
from pix_pipeline.runtime import Runtime
from pix_pipeline.settings import DeskSettings, is_loopback

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
SESSION_COOKIE = "pix_desk_session"
CSRF_COOKIE = "pix_desk_csrftoken"
SESSION_HOURS = 12
# Headers the proxy sets on what it passes on: such a request came from elsewhere.
FORWARD_HEADERS = ("x-forwarded-for", "x-pix-proxy-user", "forwarded")
LOCAL_TIME = ZoneInfo("Europe/Berlin")
# The browser may load only this app's own files; no page may be framed (the release button).
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        # Finding boxes are placed by inline style attributes; scripts stay 'self' only.
        b"default-src 'self'; img-src 'self'; style-src 'self' 'unsafe-inline';"
        b" frame-ancestors 'none'; form-action 'self'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    """ASGI middleware adding SECURITY_HEADERS to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


def local_time(moment: datetime | None) -> str:
    """A timestamp as Daniel reads it: German order, his time zone."""
    if moment is None:
        return ""
    utc: datetime = as_utc(moment)
    return utc.astimezone(LOCAL_TIME).strftime("%d.%m.%Y, %H:%M")


@dataclass
class Desk:
    """What the handlers share: the pipeline's runtime, Dagster, the login and the pages."""

    settings: DeskSettings
    runtime: Runtime
    launcher: Launcher
    password: str
    throttle: LoginThrottle
    templates: Jinja2Templates

    def render(
        self, request: Request, name: str, context: dict[str, Any], status_code: int = 200
    ) -> Response:
        return self.templates.TemplateResponse(request, name, context, status_code=status_code)

    def user(self, request: Request) -> str:
        return str(request.session.get(SESSION_USER, ""))


def _context(request: Request) -> dict[str, Any]:
    desk: Desk = request.app.state.desk
    token = request.scope.get("csrftoken")
    return {
        "t": words.T,
        "w": words,
        "csrftoken": token() if token else "",
        "user": request.session.get(SESSION_USER, ""),
        "dagster_url": desk.settings.dagster_link,
    }


def _flag(form: FormData, name: str) -> bool:
    return str(form.get(name, "")) in ("1", "on", "true")


def _text(form: FormData, name: str, limit: int = 2000) -> str:
    return str(form.get(name, "")).strip()[:limit]


# -- login ------------------------------------------------------------------------------


async def login_form(request: Request) -> Response:
    desk: Desk = request.app.state.desk
    return desk.render(request, "login.html", {"next": safe_next(request.query_params.get("next"))})


async def login(request: Request) -> Response:
    desk: Desk = request.app.state.desk
    form = await request.form()
    target = safe_next(str(form.get("next", "")))
    client = request.client.host if request.client else "unknown"
    wait = desk.throttle.wait_seconds(client)
    if wait > 0:
        # Locked: the password is not even looked at, right or wrong.
        # Whole seconds, rounded up: trying again after Retry-After always gets through.
        seconds = math.ceil(wait)
        context = {"next": target, "error": words.login_slowed_text(seconds)}
        answer = desk.render(request, "login.html", context, status_code=429)
        answer.headers["retry-after"] = str(seconds)
        return answer
    user_ok = same_password(_text(form, "user", 200), desk.settings.user)
    password_ok = same_password(str(form.get("password", "")), desk.password)
    if not (user_ok and password_ok):
        desk.throttle.failed(client)
        log.warning("desk: failed login from %s", client)
        context = {"next": target, "error": words.T.login_failed}
        return desk.render(request, "login.html", context, status_code=401)
    desk.throttle.succeeded(client)
    request.session.clear()
    request.session[SESSION_USER] = desk.settings.user
    log.info("desk: %s logged in from %s", desk.settings.user, client)
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse(LOGIN_PATH, status_code=303)


def _from_this_machine(request: Request) -> bool:
    """A client on loopback that no proxy forwarded (the proxy is on loopback too)."""
    forwarded = any(name in request.headers for name in FORWARD_HEADERS)
    return request.client is not None and is_loopback(request.client.host) and not forwarded


def _health_checks(desk: Desk) -> list[Check]:
    runtime = desk.runtime
    try:
        desk.launcher.ping()
        dagster = Check("dagster", True, "")
    except LaunchFailed as exc:
        dagster = Check("dagster", False, str(exc))
    return [
        check_registry(runtime.settings.database_url),
        check_storage(runtime.storage),
        dagster,
    ]


async def health(request: Request) -> Response:
    """For monitoring on this machine, without a login: ok or fail per check, no details
    (`pix-pipeline doctor` has them)."""
    if not _from_this_machine(request):
        return PlainTextResponse(words.T.forbidden, status_code=403)
    desk: Desk = request.app.state.desk
    checks = await run_in_threadpool(_health_checks, desk)
    body = "".join(f"{c.name} {'ok' if c.ok else 'fail'}\n" for c in checks)
    return PlainTextResponse(body, status_code=200 if all(c.ok for c in checks) else 503)


# -- pages ------------------------------------------------------------------------------


async def jobs(request: Request) -> Response:
    desk: Desk = request.app.state.desk
    raw_page = request.query_params.get("page", "1")
    page = int(raw_page) if raw_page.isascii() and raw_page.isdigit() else 1
    attention = request.query_params.get("filter") == "attention"
    listing = await run_in_threadpool(jobs_page, desk.runtime, page, needs_attention=attention)
    return desk.render(request, "jobs.html", {"listing": listing})


async def _job_page(
    request: Request, job_id: str, status_code: int = 200, **extra: Any
) -> Response:
    desk: Desk = request.app.state.desk
    review = await run_in_threadpool(job_review, desk.runtime, job_id)
    if review is None:
        return PlainTextResponse(words.T.not_found, status_code=404)
    context = {"review": review, "job": review.job, **extra}
    return desk.render(request, "job.html", context, status_code=status_code)


async def job(request: Request) -> Response:
    return await _job_page(request, request.path_params["job_id"])


async def photo(request: Request) -> Response:
    return await _photo_page(request)


async def _photo_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    desk: Desk = request.app.state.desk
    job_id, image_id = request.path_params["job_id"], request.path_params["image_id"]
    review = await run_in_threadpool(job_review, desk.runtime, job_id)
    found = [p for p in review.photos if p.image_id == image_id] if review else []
    if review is None or not found:
        return PlainTextResponse(words.T.not_found, status_code=404)
    context = {"job": review.job, "photo": found[0], **extra}
    return desk.render(request, "photo.html", context, status_code=status_code)


def _jpeg(data: bytes) -> Response:
    etag = hashlib.sha256(data).hexdigest()[:32]
    return Response(
        data,
        media_type="image/jpeg",
        headers={"Cache-Control": "private, max-age=300", "ETag": f'"{etag}"'},
    )


async def customer_preview(request: Request) -> Response:
    """The Kundenansicht of a registered photo (made from pipeline/, never from gallery/)."""
    desk: Desk = request.app.state.desk
    data = await run_in_threadpool(customer_view, desk.runtime, request.path_params["image_id"])
    if data is None:
        return PlainTextResponse(words.T.not_found, status_code=404)
    return _jpeg(data)


async def preview(request: Request) -> Response:
    desk: Desk = request.app.state.desk
    size = {"400": layout.ThumbSize.SMALL, "1600": layout.ThumbSize.LARGE}.get(
        request.path_params["size"]
    )
    image_id = request.path_params["image_id"]
    key = None
    if size is not None:
        key = await run_in_threadpool(preview_key, desk.runtime.registry, image_id, size)
    if key is None:
        return PlainTextResponse(words.T.not_found, status_code=404)
    try:
        data = await run_in_threadpool(desk.runtime.storage.read_bytes, key)
    except FileNotFoundError:
        return PlainTextResponse(words.T.not_found, status_code=404)
    return _jpeg(data)


# -- changes ----------------------------------------------------------------------------


def _back_to_photo(job_id: str, image_id: str) -> Response:
    return RedirectResponse(f"/jobs/{job_id}#photo-{image_id}", status_code=303)


async def set_hidden(request: Request) -> Response:
    desk: Desk = request.app.state.desk
    job_id, image_id = request.path_params["job_id"], request.path_params["image_id"]
    form = await request.form()
    done = await run_in_threadpool(
        lambda: hide_photo(
            desk.runtime, job_id, image_id, hidden=_flag(form, "hidden"), by=desk.user(request)
        )
    )
    if not done:
        return PlainTextResponse(words.T.not_found, status_code=404)
    return _back_to_photo(job_id, image_id)


async def set_checked(request: Request) -> Response:
    desk: Desk = request.app.state.desk
    job_id, image_id = request.path_params["job_id"], request.path_params["image_id"]
    form = await request.form()
    done = await run_in_threadpool(
        lambda: check_photo(
            desk.runtime.registry,
            job_id,
            image_id,
            checked=_flag(form, "checked"),
            by=desk.user(request),
        )
    )
    if not done:
        return PlainTextResponse(words.T.not_found, status_code=404)
    return _back_to_photo(job_id, image_id)


def _back(form: FormData, job_id: str, image_id: str) -> Response:
    """To the photo's own page when the form came from there, else to its card."""
    if str(form.get("back", "")) == "photo":
        return RedirectResponse(f"/jobs/{job_id}/photos/{image_id}", status_code=303)
    return _back_to_photo(job_id, image_id)


async def redact(request: Request) -> Response:
    """Make one finding (`finding`: its key) or all open findings unrecognisable."""
    desk: Desk = request.app.state.desk
    job_id, image_id = request.path_params["job_id"], request.path_params["image_id"]
    form = await request.form()
    key = None if _flag(form, "all") else _text(form, "finding", 200)
    done = await run_in_threadpool(
        lambda: redact_findings(desk.runtime, job_id, image_id, by=desk.user(request), key=key)
    )
    if not done:
        return PlainTextResponse(words.T.not_found, status_code=404)
    return _back(form, job_id, image_id)


async def redact_dragged_area(request: Request) -> Response:
    """Make a rectangle unrecognisable: x, y, w, h as fractions 0–1 of the upright photo."""
    desk: Desk = request.app.state.desk
    job_id, image_id = request.path_params["job_id"], request.path_params["image_id"]
    form = await request.form()
    values = {name: _text(form, name, 40) for name in ("x", "y", "w", "h")}
    try:
        box = parse_area(**values)
    except AreaError:
        return await _photo_page(
            request, status_code=400, area_error=words.T.area_invalid, area_form=values
        )
    done = await run_in_threadpool(
        lambda: redact_area(desk.runtime, job_id, image_id, box, by=desk.user(request))
    )
    if not done:
        return PlainTextResponse(words.T.not_found, status_code=404)
    return RedirectResponse(f"/jobs/{job_id}/photos/{image_id}", status_code=303)


async def change_redaction(request: Request) -> Response:
    """Undo a redaction, or confirm one that a replaced file left to be checked."""
    desk: Desk = request.app.state.desk
    job_id, image_id = request.path_params["job_id"], request.path_params["image_id"]
    raw_id, action = request.path_params["redaction_id"], request.path_params["action"]
    form = await request.form()
    if not (raw_id.isascii() and raw_id.isdigit()) or action not in ("undo", "confirm"):
        return PlainTextResponse(words.T.not_found, status_code=404)
    if action == "undo":
        done = await run_in_threadpool(
            lambda: undo_redaction(
                desk.runtime, job_id, image_id, int(raw_id), by=desk.user(request)
            )
        )
    else:
        done = await run_in_threadpool(
            confirm_redaction, desk.runtime, job_id, image_id, int(raw_id)
        )
    if not done:
        return PlainTextResponse(words.T.not_found, status_code=404)
    return _back(form, job_id, image_id)


async def retry_notification(request: Request) -> Response:
    desk: Desk = request.app.state.desk
    job_id, raw_id = request.path_params["job_id"], request.path_params["notification_id"]
    done = (
        raw_id.isascii()
        and raw_id.isdigit()
        and await run_in_threadpool(retry_job_notification, desk.runtime, job_id, int(raw_id))
    )
    if not done:
        return PlainTextResponse(words.T.not_found, status_code=404)
    return RedirectResponse(f"/jobs/{job_id}#notifications", status_code=303)


async def _dagster_down(
    request: Request, job_id: str, problem: LaunchFailed, form: FormData | None
) -> Response:
    """The job page again, saying in plain words that Dagster did not take the run."""
    desk: Desk = request.app.state.desk
    message = words.T.dagster_unreachable.format(url=desk.settings.dagster_url, detail=problem)
    return await _job_page(request, job_id, status_code=502, refused=message, form=form)


async def release(request: Request) -> Response:
    desk: Desk = request.app.state.desk
    job_id = request.path_params["job_id"]
    form = await request.form()
    approved_by = _text(form, "approved_by", 200)
    note = _text(form, "note")
    acknowledged = _flag(form, "acknowledge_privacy_findings")
    verdict = await run_in_threadpool(
        lambda: release_check(
            desk.runtime, job_id, approved_by=approved_by, acknowledged=acknowledged
        )
    )
    if not verdict.allowed:
        return await _job_page(
            request, job_id, status_code=409, refused=words.refusal_text(verdict), form=form
        )
    try:
        run_id = await run_in_threadpool(
            lambda: desk.launcher.release(
                job_id, approved_by=approved_by, note=note, acknowledge=acknowledged
            )
        )
    except LaunchFailed as exc:
        return await _dagster_down(request, job_id, exc, form)
    log.info("desk: release_gallery run %s launched for %s", run_id, job_id)
    return RedirectResponse(f"/jobs/{job_id}/runs/{run_id}?action=release", status_code=303)


async def revoke(request: Request) -> Response:
    desk: Desk = request.app.state.desk
    job_id = request.path_params["job_id"]
    form = await request.form()
    revoked_by = _text(form, "revoked_by", 200)
    job_row = await run_in_threadpool(
        lambda: desk.runtime.registry.get_job(job_id) if layout.is_valid_job_id(job_id) else None
    )
    refusal = check_revoke(job_row, revoked_by=revoked_by)
    if refusal is not None:
        return await _job_page(
            request, job_id, status_code=409, refused=words.revoke_refusal_text(refusal)
        )
    if not _flag(form, "confirm"):
        return await _job_page(request, job_id, status_code=409, refused=words.T.revoke_unconfirmed)
    try:
        run_id = await run_in_threadpool(
            lambda: desk.launcher.revoke(job_id, revoked_by=revoked_by, note=_text(form, "note"))
        )
    except LaunchFailed as exc:
        return await _dagster_down(request, job_id, exc, None)
    log.info("desk: revoke_gallery run %s launched for %s", run_id, job_id)
    return RedirectResponse(f"/jobs/{job_id}/runs/{run_id}?action=revoke", status_code=303)


async def run(request: Request) -> Response:
    desk: Desk = request.app.state.desk
    job_id, run_id = request.path_params["job_id"], request.path_params["run_id"]
    action = "revoke" if request.query_params.get("action") == "revoke" else "release"
    if not (layout.is_valid_job_id(job_id) and RUN_ID_PATTERN.fullmatch(run_id)):
        return PlainTextResponse(words.T.not_found, status_code=404)
    try:
        status = await run_in_threadpool(desk.launcher.status, run_id)
    except LaunchFailed as exc:
        status, problem = (
            "",
            words.T.dagster_unreachable.format(url=desk.settings.dagster_url, detail=exc),
        )
    else:
        problem = ""
    job_row = await run_in_threadpool(desk.runtime.registry.get_job, job_id)
    context = {
        "job_id": job_id,
        "job": job_row,
        "run_id": run_id,
        "action": action,
        "status": status,
        "finished": status in FINISHED,
        "problem": problem,
        "run_url": f"{desk.settings.dagster_link}/runs/{run_id}",
    }
    return desk.render(request, "run.html", context)


def build_app(
    settings: DeskSettings,
    runtime: Runtime,
    *,
    password: str,
    launcher: Launcher | None = None,
    throttle: LoginThrottle | None = None,
) -> ASGIApp:
    """The desk as an ASGI app: routes inside login, session, CSRF and header layers."""
    secret = settings.secret or secrets.token_urlsafe(32)
    templates = Jinja2Templates(directory=HERE / "templates", context_processors=[_context])
    templates.env.filters["when"] = local_time
    templates.env.globals["options"] = content.options
    templates.env.globals["choice"] = content.choice
    routes = [
        Route(LOGIN_PATH, login_form, methods=["GET"]),
        Route(LOGIN_PATH, login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route(HEALTH_PATH, health, methods=["GET"]),
        Route("/", jobs, methods=["GET"]),
        Route("/jobs/{job_id}", job, methods=["GET"]),
        Route("/jobs/{job_id}/photos/{image_id}", photo, methods=["GET"]),
        Route("/jobs/{job_id}/photos/{image_id}/hidden", set_hidden, methods=["POST"]),
        Route("/jobs/{job_id}/photos/{image_id}/checked", set_checked, methods=["POST"]),
        Route("/jobs/{job_id}/photos/{image_id}/redact", redact, methods=["POST"]),
        Route(
            "/jobs/{job_id}/photos/{image_id}/redact-area", redact_dragged_area, methods=["POST"]
        ),
        Route(
            "/jobs/{job_id}/photos/{image_id}/redactions/{redaction_id}/{action}",
            change_redaction,
            methods=["POST"],
        ),
        Route("/jobs/{job_id}/release", release, methods=["POST"]),
        Route("/jobs/{job_id}/revoke", revoke, methods=["POST"]),
        Route("/jobs/{job_id}/runs/{run_id}", run, methods=["GET"]),
        Route(
            "/jobs/{job_id}/notifications/{notification_id}/retry",
            retry_notification,
            methods=["POST"],
        ),
        Route("/photos/{image_id}/customer", customer_preview, methods=["GET"]),
        *content.ROUTES,
        Route("/photos/{image_id}/{size}", preview, methods=["GET"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=f"session:{secret}",
                session_cookie=SESSION_COOKIE,
                max_age=SESSION_HOURS * 3600,
                same_site="lax",
            ),
            Middleware(
                RequireLogin,
                message=words.T.login_needed,
                trust_proxy_user=settings.trust_proxy_user,
            ),
        ],
    )
    app.state.desk = Desk(
        settings=settings,
        runtime=runtime,
        launcher=launcher or Launcher(settings.dagster_url),
        password=password,
        throttle=throttle or LoginThrottle(),
        templates=templates,
    )
    # Outermost: a state change without the form's token is refused before anything runs.
    protected: ASGIApp = asgi_csrf(
        app,
        cookie_name=CSRF_COOKIE,
        signing_secret=f"csrf:{secret}",
        always_protect={LOGIN_PATH},
        cookie_samesite="Strict",
        send_csrf_failed=_csrf_failed,
    )
    return protected


async def _csrf_failed(scope: Scope, send: Send, message_id: object) -> None:
    response = PlainTextResponse(words.T.forbidden, status_code=403)
    await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}
