"""The exposé's semantic fields with their source, and Daniel's gallery order (pure: no I/O).

Every field (captions, room type, view type, objects) resolves the same way: Daniel's value
if he set one, else the provider's, else nothing. The provider's result is kept as it came
(`ImageMeta.semantics`); what the documents use is `ImageMeta.fields`.
"""

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pix_pipeline.domain.models import (
    CAPTION_LONG_MAX,
    CAPTION_SHORT_MAX,
    DANIEL,
    SEMANTIC_FIELDS,
    ImageMeta,
    RoomType,
    SemanticFields,
    SemanticHints,
    SemanticsResult,
    ViewType,
)
from pix_pipeline.registry.repository import as_utc
from pix_pipeline.registry.schema import ImageRow, SemanticValueRow

CAPTION_LIMITS = {"caption_short": CAPTION_SHORT_MAX, "caption_long": CAPTION_LONG_MAX}


class InvalidFieldValue(ValueError):
    """A value Daniel sent that the field cannot take (an unknown room type, a long caption)."""


@dataclass(frozen=True)
class ExposeValues:
    """The values of one photo's semantic fields, as the customer's document carries them."""

    caption_short: str | None = None
    caption_long: str | None = None
    room_type: RoomType | None = None
    view_type: ViewType | None = None
    objects: tuple[str, ...] = ()


def _clip(text: str | None, limit: int) -> str | None:
    """A provider's caption within the document's limit (Daniel's are checked on the way in)."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def provider_values(semantics: SemanticsResult | None) -> dict[str, Any]:
    """field -> what the provider said (None where it said nothing)."""
    if semantics is None:
        return dict.fromkeys(SEMANTIC_FIELDS)
    objects = sorted({o.label for o in semantics.objects})
    return {
        "caption_short": _clip(semantics.caption_short, CAPTION_SHORT_MAX),
        "caption_long": _clip(semantics.caption_long, CAPTION_LONG_MAX),
        "room_type": semantics.room_type,
        "view_type": semantics.view_type,
        "objects": objects or None,
    }


def resolve_fields(
    semantics: SemanticsResult | None,
    provider_at: datetime | None,
    daniel: Mapping[str, SemanticValueRow],
) -> SemanticFields:
    """Per field: Daniel's value if he set one, else the provider's, else none."""
    from_provider = provider_values(semantics)
    data: dict[str, dict[str, Any]] = {}
    for name in SEMANTIC_FIELDS:
        mine = daniel.get(name)
        if mine is not None:
            data[name] = {
                "value": mine.value,
                "source": mine.source,
                "set_by": mine.set_by,
                "set_at": as_utc(mine.set_at),
            }
        elif from_provider[name] is not None and semantics is not None:
            data[name] = {
                "value": from_provider[name],
                "source": semantics.provider,
                "set_by": semantics.provider,
                "set_at": provider_at,
            }
        else:
            data[name] = {}
    return SemanticFields.model_validate(data)


def expose_values(meta: ImageMeta) -> ExposeValues:
    """What the documents say about the photo (documents rendered before `fields` existed
    fall back to the provider's result)."""
    fields = meta.fields
    if fields is None:
        fields = resolve_fields(meta.semantics, None, {})
    return ExposeValues(
        caption_short=fields.caption_short.value,
        caption_long=fields.caption_long.value,
        room_type=fields.room_type.value,
        view_type=fields.view_type.value,
        objects=tuple(fields.objects.value or ()),
    )


def hints(daniel: Mapping[str, SemanticValueRow]) -> SemanticHints:
    """Daniel's values of one photo, for the semantics provider."""
    return SemanticHints.model_validate({name: row.value for name, row in daniel.items()})


def parse_value(name: str, raw: object) -> object:
    """A value for field `name` as Daniel typed or picked it; None for an empty one.

    Raises InvalidFieldValue for a value the field cannot take.
    """
    if name not in SEMANTIC_FIELDS:
        raise InvalidFieldValue(f"{name} is not a semantic field")
    if name == "objects":
        items = raw if isinstance(raw, list | tuple) else str(raw or "").split(",")
        labels = sorted({str(i).strip() for i in items if str(i).strip()})
        return labels or None
    text = " ".join(str(raw or "").split()) if name != "caption_long" else str(raw or "").strip()
    if not text:
        return None
    if name in CAPTION_LIMITS:
        if len(text) > CAPTION_LIMITS[name]:
            raise InvalidFieldValue(f"{name} is longer than {CAPTION_LIMITS[name]} characters")
        return text
    vocabulary = RoomType if name == "room_type" else ViewType
    try:
        return vocabulary(text).value
    except ValueError:
        raise InvalidFieldValue(f"{text!r} is not a {name}") from None


@dataclass(frozen=True)
class FieldEdit:
    """What a save of the photo's form changes: values Daniel sets, fields he clears."""

    values: dict[str, object]
    cleared: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.values and not self.cleared


def edit_from_form(current: SemanticFields | None, submitted: Mapping[str, object]) -> FieldEdit:
    """Compare the submitted form with what the photo shows now.

    A field showing the provider's value that comes back unchanged stays the provider's (the
    form shows every field, Daniel changed one); an emptied field Daniel had set goes back to
    the provider. Raises InvalidFieldValue.
    """
    values: dict[str, object] = {}
    cleared: list[str] = []
    for name, raw in submitted.items():
        value = parse_value(name, raw)
        shown = getattr(current, name) if current is not None else None
        shown_value = shown.value if shown is not None else None
        if isinstance(shown_value, RoomType | ViewType):
            shown_value = shown_value.value
        mine = shown is not None and shown.source == DANIEL
        if value is None:
            if mine:
                cleared.append(name)
        elif value != shown_value:
            values[name] = value
    return FieldEdit(values, tuple(cleared))


# row -> (the meta dict it was parsed from, the parsed document): one sync or page reads each
# row's meta several times (the job's document, the customer's, the change list).
_PARSED: "weakref.WeakKeyDictionary[ImageRow, tuple[object, ImageMeta]]" = (
    weakref.WeakKeyDictionary()
)


def parsed_meta(row: ImageRow) -> ImageMeta | None:
    """The row's meta document, parsed once per loaded row (callers must not change it)."""
    if row.meta is None:
        return None
    hit = _PARSED.get(row)
    if hit is not None and hit[0] is row.meta:
        return hit[1]
    meta = ImageMeta.model_validate(row.meta)
    _PARSED[row] = (row.meta, meta)
    return meta


def order_key(row: ImageRow) -> tuple[int, int, str]:
    """Daniel's gallery order: placed photos by position, then the others by file name."""
    if row.gallery_position is None:
        return (1, 0, row.filename)
    return (0, row.gallery_position, row.filename)


def gallery_order(rows: Sequence[ImageRow]) -> list[str]:
    """image_ids of the rows in Daniel's order."""
    return [r.image_id for r in sorted(rows, key=order_key)]
