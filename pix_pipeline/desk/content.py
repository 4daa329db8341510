"""The desk's handlers for the exposé's content: a photo's fields, the gallery order, the cover.

Like the other handlers, each reads its form, calls one domain function (domain/curation.py)
and answers: with a redirect back to the photo for a plain form post, or with JSON for
desk.js, which saves without reloading the page (it sends `X-Requested-With: fetch`).
"""

import functools
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from pix_pipeline.desk import words
from pix_pipeline.domain.curation import (
    InvalidFieldValue,
    move_photo,
    set_cover,
    set_gallery_order,
    set_photo_fields,
    set_room_type_of,
)
from pix_pipeline.domain.models import ImageMeta

EDITABLE = ("room_type", "view_type", "caption_short", "caption_long")


@functools.cache
def _option_tags(labels: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (value, f'<option value="{escape(value)}">{escape(text)}</option>')
        for value, text in labels
    )


def options(labels: Mapping[StrEnum, str], selected: object, empty: str) -> Markup:
    """A select's options (an empty one first), `selected` marked: built in Python because a
    200-photo job page renders two selects per photo."""
    tags = _option_tags(tuple((k.value, v) for k, v in labels.items()))
    chosen = selected.value if isinstance(selected, StrEnum) else selected
    parts = [f'<option value="">{escape(empty)}</option>']
    for value, tag in tags:
        parts.append(tag.replace(">", " selected>", 1) if value == chosen else tag)
    return Markup("".join(parts))


def choice(
    image_id: str, name: str, label: str, labels: Mapping[StrEnum, str], entry: Any, empty: str
) -> Markup:
    """One select of a photo's fields form with its label and the line saying where its value
    came from (the template's `choice`)."""
    target = f"{name}-{image_id}"
    source = words.field_source(entry) if entry is not None else ""
    value = entry.value if entry is not None else None
    return Markup(
        f'<div class="field"><label for="{target}">{escape(label)}</label>'
        f'<select id="{target}" name="{name}">{options(labels, value, empty)}</select>'
        f'<small class="source" data-field="{name}">{escape(source)}</small></div>'
    )


def _by_script(request: Request) -> bool:
    return request.headers.get("x-requested-with") == "fetch"


def _user(request: Request) -> str:
    return str(request.app.state.desk.user(request))


def _answer(request: Request, job_id: str, anchor: str, data: dict[str, Any]) -> Response:
    if _by_script(request):
        return JSONResponse({"ok": True, **data})
    return RedirectResponse(f"/jobs/{job_id}#{anchor}", status_code=303)


def _refused(request: Request, detail: str) -> Response:
    message = words.F.invalid.format(detail=detail)
    if _by_script(request):
        return JSONResponse({"ok": False, "message": message}, status_code=400)
    return PlainTextResponse(message, status_code=400)


def _not_found(request: Request) -> Response:
    if _by_script(request):
        return JSONResponse({"ok": False, "message": words.T.not_found}, status_code=404)
    return PlainTextResponse(words.T.not_found, status_code=404)


def _sources(request: Request, image_id: str) -> dict[str, str]:
    """field -> the line under it that says where its value came from, after a save."""
    row = request.app.state.desk.runtime.registry.get_image(image_id)
    meta = ImageMeta.model_validate(row.meta) if row is not None and row.meta else None
    if meta is None or meta.fields is None:
        return dict.fromkeys(EDITABLE, "")
    return {name: words.field_source(getattr(meta.fields, name)) for name in EDITABLE}


async def save_fields(request: Request) -> Response:
    desk = request.app.state.desk
    job_id, image_id = request.path_params["job_id"], request.path_params["image_id"]
    form = await request.form()
    submitted = {name: str(form[name]) for name in EDITABLE if name in form}
    try:
        done = await run_in_threadpool(
            lambda: set_photo_fields(desk.runtime, job_id, image_id, submitted, by=_user(request))
        )
    except InvalidFieldValue as exc:
        return _refused(request, str(exc))
    if not done:
        return _not_found(request)
    sources = await run_in_threadpool(_sources, request, image_id)
    return _answer(request, job_id, f"photo-{image_id}", {"sources": sources})


async def bulk_room_type(request: Request) -> Response:
    desk = request.app.state.desk
    job_id = request.path_params["job_id"]
    form = await request.form()
    image_ids = [str(i) for i in form.getlist("image_id")]
    if not image_ids:
        return _refused(request, words.F.bulk_none)
    try:
        count = await run_in_threadpool(
            lambda: set_room_type_of(
                desk.runtime,
                job_id,
                image_ids,
                str(form.get("room_type", "")),
                by=_user(request),
            )
        )
    except InvalidFieldValue as exc:
        return _refused(request, str(exc))
    if not count:
        return _not_found(request)
    return _answer(request, job_id, "photos", {"count": count})


async def move(request: Request) -> Response:
    desk = request.app.state.desk
    job_id, image_id = request.path_params["job_id"], request.path_params["image_id"]
    form = await request.form()
    offset = -1 if str(form.get("offset", "")) == "-1" else 1
    done = await run_in_threadpool(move_photo, desk.runtime, job_id, image_id, offset)
    if not done:
        return _not_found(request)
    return _answer(request, job_id, f"photo-{image_id}", {})


async def order(request: Request) -> Response:
    desk = request.app.state.desk
    job_id = request.path_params["job_id"]
    form = await request.form()
    image_ids = [str(i) for i in form.getlist("image_id")]
    done = await run_in_threadpool(set_gallery_order, desk.runtime, job_id, image_ids)
    if not done:
        return _not_found(request)
    return _answer(request, job_id, "photos", {})


async def cover(request: Request) -> Response:
    desk = request.app.state.desk
    job_id = request.path_params["job_id"]
    form = await request.form()
    image_id = str(form.get("image_id", "")) or None
    done = await run_in_threadpool(set_cover, desk.runtime, job_id, image_id)
    if not done:
        return _not_found(request)
    return _answer(request, job_id, f"photo-{image_id}" if image_id else "photos", {})


ROUTES = [
    Route("/jobs/{job_id}/photos/{image_id}/fields", save_fields, methods=["POST"]),
    Route("/jobs/{job_id}/photos/{image_id}/move", move, methods=["POST"]),
    Route("/jobs/{job_id}/room-type", bulk_room_type, methods=["POST"]),
    Route("/jobs/{job_id}/order", order, methods=["POST"]),
    Route("/jobs/{job_id}/cover", cover, methods=["POST"]),
]
