"""Daniel's hand on the exposé: each photo's semantic fields, the gallery order and the cover.

The desk calls these; each stores Daniel's choice in the registry, renders what depends on it
and asks for a gallery sync, like hiding a photo: a draft gallery follows at once, a released
one records a pending update when the customer would see a difference.
"""

from collections.abc import Mapping, Sequence

from pix_pipeline.domain import layout
from pix_pipeline.domain.fields import (
    InvalidFieldValue,
    edit_from_form,
    gallery_order,
    order_key,
    parse_value,
    resolve_fields,
)
from pix_pipeline.domain.gallery import sync_gallery
from pix_pipeline.domain.meta import write_document
from pix_pipeline.domain.models import DANIEL, ImageMeta, ImageStatus
from pix_pipeline.domain.review import photo_of_job
from pix_pipeline.registry.schema import ImageRow
from pix_pipeline.runtime import Runtime

__all__ = [
    "InvalidFieldValue",
    "move_photo",
    "set_cover",
    "set_gallery_order",
    "set_photo_fields",
    "set_room_type_of",
]


def _refresh_fields(rt: Runtime, row: ImageRow) -> None:
    """Render the photo's `fields` again from its provider result and Daniel's values (the
    next run renders the same; a photo without meta gets them when it is first settled)."""
    if not row.meta:
        return
    meta = ImageMeta.model_validate(row.meta)
    previous = meta.fields
    provider_at = None
    if previous is not None:
        for name in type(previous).model_fields:
            entry = getattr(previous, name)
            if entry.source not in (None, DANIEL) and entry.set_at is not None:
                provider_at = entry.set_at
                break
    daniel = rt.registry.semantic_values_of_image(row.image_id)
    meta.fields = resolve_fields(meta.semantics, provider_at, daniel)
    rt.registry.set_image_meta(row.image_id, meta.model_dump(mode="json"))
    write_document(rt.storage, layout.image_meta_key(row.job_id, row.image_id), meta)


def set_photo_fields(
    rt: Runtime, job_id: str, image_id: str, submitted: Mapping[str, object], *, by: str
) -> bool:
    """Save the fields of one photo's form (field -> what the form sent).

    A field sent back as shown stays as it is (the provider's stays the provider's); an
    emptied field Daniel had set goes back to the provider. False when the job has no such
    photo; InvalidFieldValue for a value a field cannot take.
    """
    row = photo_of_job(rt, job_id, image_id)
    if row is None:
        return False
    meta = ImageMeta.model_validate(row.meta) if row.meta else None
    edit = edit_from_form(meta.fields if meta is not None else None, submitted)
    if edit.empty:
        return True
    rt.registry.save_semantic_values(
        job_id, image_id, edit.values, edit.cleared, source=DANIEL, by=by
    )
    _refresh_fields(rt, row)
    sync_gallery(rt, job_id)
    return True


def set_room_type_of(
    rt: Runtime, job_id: str, image_ids: Sequence[str], room_type: str, *, by: str
) -> int:
    """One room type for several photos at once (an empty one gives them back to the
    provider); returns how many photos of the job took it."""
    value = parse_value("room_type", room_type)
    rows = [row for i in dict.fromkeys(image_ids) if (row := photo_of_job(rt, job_id, i))]
    for row in rows:
        if value is None:
            rt.registry.save_semantic_values(
                job_id, row.image_id, {}, ("room_type",), source=DANIEL, by=by
            )
        else:
            rt.registry.save_semantic_values(
                job_id, row.image_id, {"room_type": value}, (), source=DANIEL, by=by
            )
        _refresh_fields(rt, row)
    if rows:
        sync_gallery(rt, job_id)
    return len(rows)


def _placeable(rt: Runtime, job_id: str) -> list[ImageRow]:
    """The job's photos that have a place in the gallery order, in that order."""
    rows = rt.registry.images_of_job(job_id)
    return sorted((r for r in rows if r.status != ImageStatus.REMOVED), key=order_key)


def _store_order(rt: Runtime, job_id: str, ordered: list[str]) -> None:
    rt.registry.set_gallery_positions(job_id, {image_id: i for i, image_id in enumerate(ordered)})
    sync_gallery(rt, job_id)


def move_photo(rt: Runtime, job_id: str, image_id: str, offset: int) -> bool:
    """Move a photo `offset` places earlier (negative) or later in the gallery; every photo
    gets its place from then on, so photos added later come after them."""
    if photo_of_job(rt, job_id, image_id) is None:
        return False
    ordered = gallery_order(_placeable(rt, job_id))
    index = ordered.index(image_id)
    target = max(0, min(len(ordered) - 1, index + offset))
    ordered.insert(target, ordered.pop(index))
    _store_order(rt, job_id, ordered)
    return True


def set_gallery_order(rt: Runtime, job_id: str, image_ids: Sequence[str]) -> bool:
    """The gallery in this order (a dragged list); photos not named keep their order after
    the named ones. False when a named photo is not one of the job's."""
    if not layout.is_valid_job_id(job_id):
        return False
    ordered = gallery_order(_placeable(rt, job_id))
    named = list(dict.fromkeys(image_ids))
    if not set(named) <= set(ordered):
        return False
    _store_order(rt, job_id, named + [i for i in ordered if i not in set(named)])
    return True


def set_cover(rt: Runtime, job_id: str, image_id: str | None) -> bool:
    """Choose the gallery's cover photo (None: no cover). A hidden cover stays chosen; the
    customer's document names no cover while it is hidden."""
    if image_id is not None and photo_of_job(rt, job_id, image_id) is None:
        return False
    if image_id is None and not (
        layout.is_valid_job_id(job_id) and rt.registry.get_job(job_id) is not None
    ):
        return False
    rt.registry.set_cover(job_id, image_id)
    sync_gallery(rt, job_id)
    return True
