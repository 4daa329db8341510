"""Typed values of the pipeline: status enumerations, per-step results and the JSON documents.

The documents (`ImageMeta`, `JobExpose`) leave the system: the web backend and the gallery
frontend read them. They carry a `schema_version`; change it when a field changes meaning.
"""

from datetime import datetime
from enum import StrEnum
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ImageStatus(StrEnum):
    PENDING_PROCESSING = "pending_processing"
    PROCESSED = "processed"
    ERROR = "error"
    REMOVED = "removed"


class ImageSource(StrEnum):
    EDITOR = "editor"
    MANUAL = "manual"


class GalleryStatus(StrEnum):
    NONE = "none"
    DRAFT_READY = "draft_ready"
    UPDATE_PENDING = "update_pending"


class GalleryVisibility(StrEnum):
    INTERNAL = "internal"
    CUSTOMER = "customer"


class StepName(StrEnum):
    THUMBS = "thumbs"
    PRIVACY = "privacy"
    DEPTH = "depth"
    SEMANTICS = "semantics"
    CLEANUP = "cleanup"


class StepStatus(StrEnum):
    """Outcome of one step for one image; `skipped` means deliberately not run (e.g. depth off)."""

    OK = "ok"
    SKIPPED = "skipped"
    ERROR = "error"


class Finding(StrEnum):
    """Tri-state answer of a check: 'not_checked' is never reported as 'clear'."""

    DETECTED = "detected"
    CLEAR = "clear"
    NOT_CHECKED = "not_checked"


class RoomType(StrEnum):
    """What a photo shows, as an exposé names it. Providers map their labels onto this."""

    KITCHEN = "kitchen"
    LIVING_ROOM = "living_room"
    DINING_ROOM = "dining_room"
    BEDROOM = "bedroom"
    CHILDRENS_ROOM = "childrens_room"
    BATHROOM = "bathroom"
    GUEST_WC = "guest_wc"
    HALLWAY = "hallway"
    STAIRCASE = "staircase"
    OFFICE = "office"
    UTILITY_ROOM = "utility_room"
    STORAGE_ROOM = "storage_room"
    BASEMENT = "basement"
    ATTIC = "attic"
    GARAGE = "garage"
    EXTERIOR_FRONT = "exterior_front"
    EXTERIOR_BACK = "exterior_back"
    EXTERIOR_SIDE = "exterior_side"
    GARDEN = "garden"
    TERRACE = "terrace"
    BALCONY = "balcony"
    POOL = "pool"
    AERIAL = "aerial"
    FLOOR_PLAN = "floor_plan"
    SURROUNDINGS = "surroundings"
    DETAIL = "detail"
    OTHER = "other"


class ViewType(StrEnum):
    """How a photo looks at the property."""

    INTERIOR = "interior"
    EXTERIOR = "exterior"
    AERIAL = "aerial"
    VIEW_FROM_PROPERTY = "view_from_property"
    DETAIL = "detail"
    FLOOR_PLAN = "floor_plan"
    OTHER = "other"


class Box(BaseModel):
    """A rectangle in 0–1 coordinates of the EXIF-oriented image (x to the right, y down)."""

    model_config = ConfigDict(frozen=True)

    x0: float = Field(ge=0.0, le=1.0, description="Left edge, 0 = left side of the image.")
    y0: float = Field(ge=0.0, le=1.0, description="Top edge, 0 = top of the image.")
    x1: float = Field(ge=0.0, le=1.0, description="Right edge, at least x0.")
    y1: float = Field(ge=0.0, le=1.0, description="Bottom edge, at least y0.")

    @model_validator(mode="after")
    def _ordered(self) -> "Box":
        if self.x1 < self.x0 or self.y1 < self.y0:
            raise ValueError(f"box corners out of order: {self}")
        return self


class Detection(BaseModel):
    """One thing a detector found."""

    model_config = ConfigDict(frozen=True)

    label: str = Field(description="What was found, e.g. `face`, `licence plate`, `sofa`.")
    score: float = Field(ge=0.0, le=1.0, description="The detector's confidence, 0–1.")
    box: Box | None = Field(default=None, description="Where, when the detector says so.")
    text: str | None = Field(default=None, description="Text read there (OCR), if any.")


class CategoryResult(BaseModel):
    """One privacy category of one image."""

    status: Finding = Field(
        default=Finding.NOT_CHECKED,
        description="`detected`, `clear`, or `not_checked` (never reported as clear).",
    )
    items: list[Detection] = Field(
        default_factory=list, description="The findings; only when status is `detected`."
    )
    reason: str | None = Field(
        default=None, description="Why the category is `not_checked`, when the check knows."
    )
    failed: bool = Field(
        default=False,
        description=(
            "`not_checked` because the check was meant to run and could not (its model is"
            " missing or broken): a person must look at the photo before it is released."
            " False where a category is not checked on purpose (no model for it, or no"
            " privacy provider configured)."
        ),
    )

    @model_validator(mode="after")
    def _consistent(self) -> "CategoryResult":
        if self.items and self.status is not Finding.DETECTED:
            raise ValueError("a category with findings must have status 'detected'")
        if self.failed and self.status is not Finding.NOT_CHECKED:
            raise ValueError("only a category that is 'not_checked' can have failed")
        return self


PRIVACY_CATEGORIES = ("faces", "licence_plates", "logos", "text")
# Marks a category whose check could not run ("faces:not_checked"): nothing was found because
# nothing was looked at, so it needs a person's look like a finding does.
NOT_CHECKED_MARK = ":not_checked"


class PrivacyResult(BaseModel):
    """Brief 5.2 b: faces, licence plates, logos, text (house numbers …)."""

    provider: str = Field(description="Which check produced this, with its version.")
    model_version: str | None = Field(default=None, description="Models the provider ran.")
    thresholds: dict[str, float] = Field(
        default_factory=dict, description="Settings the findings depend on, for re-evaluation."
    )
    faces: CategoryResult = Field(default_factory=CategoryResult, description="People's faces.")
    licence_plates: CategoryResult = Field(
        default_factory=CategoryResult, description="Vehicle licence plates."
    )
    logos: CategoryResult = Field(default_factory=CategoryResult, description="Brand logos.")
    text: CategoryResult = Field(
        default_factory=CategoryResult,
        description="Readable text such as house numbers, names on door signs.",
    )

    def category(self, name: str) -> CategoryResult:
        if name not in PRIVACY_CATEGORIES:
            raise KeyError(name)
        result: CategoryResult = getattr(self, name)
        return result

    def detected(self) -> list[str]:
        """The categories with findings, in PRIVACY_CATEGORIES order."""
        return [
            name for name in PRIVACY_CATEGORIES if self.category(name).status is Finding.DETECTED
        ]

    def failed(self) -> list[str]:
        """The categories whose check could not run, in PRIVACY_CATEGORIES order."""
        return [name for name in PRIVACY_CATEGORIES if self.category(name).failed]

    def to_look_at(self) -> list[str]:
        """What a person must look at before a release: each detected category, then each
        category whose check failed, marked with NOT_CHECKED_MARK."""
        return self.detected() + [f"{name}{NOT_CHECKED_MARK}" for name in self.failed()]


class DepthResult(BaseModel):
    """Brief 5.2 c: the optional depth map."""

    provider: str = Field(description="The depth model, or `disabled`.")
    status: Literal["skipped", "not_checked", "done"] = Field(
        description="`skipped` when depth is disabled, `done` when a map was written."
    )
    depth_key: str | None = Field(
        default=None, description="Storage key of the 8-bit PNG depth map (pipeline/depth/)."
    )


class SemanticsResult(BaseModel):
    """Brief 5.2 d: the main input of the exposé."""

    provider: str = Field(description="Which model described the image, with its version.")
    status: Finding = Field(
        default=Finding.NOT_CHECKED, description="`not_checked` while no model is connected."
    )
    caption_short: str | None = Field(default=None, description="A few words for a tile.")
    caption_long: str | None = Field(default=None, description="A sentence or two for the exposé.")
    room_type: RoomType | None = Field(default=None, description="Which room the photo shows.")
    view_type: ViewType | None = Field(
        default=None, description="Interior, exterior, detail, aerial, …"
    )
    objects: list[Detection] = Field(default_factory=list, description="Things in the photo.")


# The semantic fields of a photo, as the exposé names them: each keeps its value with its source.
SEMANTIC_FIELDS = ("caption_short", "caption_long", "room_type", "view_type", "objects")
# The source of a value a person set on the desk; it outranks every provider.
DANIEL = "daniel"
# Length limits of the captions, in characters (the desk shows them, providers are cut there).
CAPTION_SHORT_MAX = 80
CAPTION_LONG_MAX = 600
NOT_SET = "null: not set yet (neither Daniel nor a provider gave a value)."

V = TypeVar("V")


class SourcedValue(BaseModel, Generic[V]):
    """One semantic field: its value, where it came from, who set it and when."""

    value: V | None = Field(default=None, description=f"The value; {NOT_SET}")
    source: str | None = Field(
        default=None,
        description="`daniel` (set on the desk; never replaced by a provider), the provider's"
        " identity, or null when nobody gave a value.",
    )
    set_by: str | None = Field(
        default=None, description="Who set it: Daniel's desk login, or the provider's identity."
    )
    set_at: datetime | None = Field(default=None, description="When it was set (UTC).")


class SourcedText(SourcedValue[str]):
    """A caption with its source."""


class SourcedRoomType(SourcedValue[RoomType]):
    """A room type with its source."""


class SourcedViewType(SourcedValue[ViewType]):
    """A view type with its source."""


class SourcedObjects(SourcedValue[list[str]]):
    """Object labels with their source."""


class SemanticFields(BaseModel):
    """What the exposé uses for one photo: per field Daniel's value if he set one, else the
    provider's, else nothing."""

    caption_short: SourcedText = Field(default_factory=SourcedText, description="A few words.")
    caption_long: SourcedText = Field(default_factory=SourcedText, description="A sentence or two.")
    room_type: SourcedRoomType = Field(
        default_factory=SourcedRoomType, description="Which room the photo shows."
    )
    view_type: SourcedViewType = Field(
        default_factory=SourcedViewType, description="Interior, exterior, …"
    )
    objects: SourcedObjects = Field(
        default_factory=SourcedObjects, description="Things seen in the photo."
    )


class SemanticHints(BaseModel):
    """What Daniel set for a photo, handed to the semantics provider as a hint. Not part of
    the step's input fingerprint: setting a value never re-runs a provider."""

    model_config = ConfigDict(frozen=True)

    caption_short: str | None = None
    caption_long: str | None = None
    room_type: RoomType | None = None
    view_type: ViewType | None = None
    objects: list[str] | None = None


class CleanupCandidate(BaseModel):
    """Something that disturbs the photo and could be retouched."""

    label: str = Field(description="What it is, e.g. `cable`, `person`, `car`.")
    reason: str = Field(description="Why it disturbs.")
    box: Box | None = Field(default=None, description="Where, when known.")


class CleanupResult(BaseModel):
    """Brief 5.2 e: what could be removed later. SAM is never run automatically."""

    provider: str = Field(description="Which rules or model judged the photo.")
    status: Finding = Field(default=Finding.NOT_CHECKED, description="Whether it was judged.")
    cleanup_possible: bool | None = Field(
        default=None, description="Whether retouching would improve the photo; null: unknown."
    )
    cleanup_candidates: list[CleanupCandidate] = Field(
        default_factory=list, description="What could be removed."
    )


class ThumbsResult(BaseModel):
    """Brief 5.2 a, plus what the decoder learnt about the image."""

    width: int
    height: int
    orientation: int
    source_mode: str
    small_key: str
    large_key: str
    small_size: tuple[int, int]
    large_size: tuple[int, int]


class StepSummary(BaseModel):
    """How one step went for one image."""

    status: StepStatus | Literal["pending"] = Field(
        description="`ok`, `skipped`, `error`, or `pending` when it has not run yet."
    )
    provider: str | None = Field(default=None, description="Who did the work.")
    error_message: str | None = Field(default=None, description="Why the step failed.")


class Thumbnails(BaseModel):
    """The two upright sRGB previews."""

    small: str = Field(description="Storage key of the preview with a 400 px long edge.")
    large: str = Field(description="Storage key of the preview with a 1600 px long edge.")
    small_size: tuple[int, int] = Field(description="[width, height] of the small preview.")
    large_size: tuple[int, int] = Field(description="[width, height] of the large preview.")


class ImageMeta(BaseModel):
    """pipeline/meta/images/{image_id}.json: everything known about one image."""

    schema_version: Literal["1.0"] = Field(default="1.0", description="Format version.")
    image_id: str = Field(description="Stable id; kept when the file is replaced.")
    job_id: str = Field(description="The job (folder under pix-jobs/).")
    filename: str = Field(description="Name in final_input/ and in gallery/images/.")
    storage_path: str = Field(description="Storage key of the original in final_input/.")
    source: ImageSource = Field(description="Who delivered it: `editor` or `manual` (Daniel).")
    status: ImageStatus = Field(
        description="`pending_processing`, `processed`, `error` or `removed`."
    )
    error_message: str | None = Field(
        default=None, description="Why the image is `error`: the file and the problem."
    )
    content_hash: str | None = Field(default=None, description="SHA-256 of the file's bytes.")
    size_bytes: int | None = Field(default=None, description="File size.")
    width: int | None = Field(default=None, description="Width after EXIF orientation.")
    height: int | None = Field(default=None, description="Height after EXIF orientation.")
    thumbnails: Thumbnails | None = Field(default=None, description="The previews.")
    gallery_key: str | None = Field(
        default=None, description="Storage key of the copy in gallery/images/, once processed."
    )
    steps: dict[StepName, StepSummary] = Field(
        default_factory=dict, description="Per step: how it went for this image."
    )
    privacy: PrivacyResult | None = Field(default=None, description="Privacy findings.")
    depth: DepthResult | None = Field(default=None, description="The optional depth map.")
    semantics: SemanticsResult | None = Field(
        default=None, description="What the semantics provider said (its raw result)."
    )
    cleanup: CleanupResult | None = Field(default=None, description="What could be retouched.")
    fields: SemanticFields | None = Field(
        default=None,
        description="What the exposé uses, per field with its source: Daniel's value outranks"
        " the provider's (`semantics`) and survives reruns and replaced files.",
    )


class StatusCounts(BaseModel):
    """Images of the job by status."""

    pending_processing: int = Field(default=0, description="Registered, not processed yet.")
    processed: int = Field(default=0, description="Processed; these are in the gallery.")
    error: int = Field(default=0, description="Rejected or failed; see `errors`.")
    removed: int = Field(default=0, description="Deleted from final_input/.")
    total: int = Field(default=0, description="All of the above.")


class CaptionEntry(BaseModel):
    """The captions of one processed image."""

    image_id: str = Field(description="The image.")
    filename: str = Field(description="Its file name.")
    caption_short: str | None = Field(description="A few words.")
    caption_long: str | None = Field(description="A sentence or two.")


class CleanupOption(BaseModel):
    """A processed image that retouching could improve."""

    image_id: str = Field(description="The image.")
    filename: str = Field(description="Its file name.")
    candidates: list[CleanupCandidate] = Field(description="What could be removed.")


class PrivacyCategorySummary(BaseModel):
    """One privacy category over the processed images of the job."""

    detected: list[str] = Field(default_factory=list, description="Filenames with findings.")
    clear: int = Field(default=0, description="Images checked and clear.")
    not_checked: int = Field(default=0, description="Images not checked for this category.")


class ImageProblem(BaseModel):
    """An image with status `error`."""

    image_id: str = Field(description="The image.")
    filename: str = Field(description="Its file name.")
    error_message: str | None = Field(description="What is wrong with it.")


class JobExpose(BaseModel):
    """pipeline/meta/job_expose.json: brief section 6, complete and internal (errors, privacy
    findings, providers, storage paths). The customer gets `GalleryExpose` instead."""

    schema_version: Literal["1.1"] = Field(default="1.1", description="Format version.")
    job_id: str = Field(description="The job (folder under pix-jobs/).")
    counts: StatusCounts = Field(description="Images by status.")
    images: list[ImageMeta] = Field(
        description="Every processed image that shows in the gallery (not hidden by Daniel),"
        " in filename order."
    )
    captions: list[CaptionEntry] = Field(description="Captions of the processed images.")
    room_types: dict[str, list[str]] = Field(description="Room type -> filenames.")
    view_types: dict[str, list[str]] = Field(description="View type -> filenames.")
    objects: dict[str, int] = Field(description="Object label -> number of images showing it.")
    cleanup_options: list[CleanupOption] = Field(
        description="Processed images that retouching could improve."
    )
    privacy_summary: dict[str, PrivacyCategorySummary] = Field(
        description="Per category (faces, licence_plates, logos, text): findings over the job."
    )
    errors: list[ImageProblem] = Field(description="Images with status 'error'.")
    gallery_order: list[str] = Field(
        default_factory=list,
        description="image_ids of `images` in the order Daniel gave the gallery (photos he did"
        " not place come last, by file name).",
    )
    cover_image_id: str | None = Field(
        default=None, description="The photo Daniel chose as the cover; null: none chosen."
    )


class GalleryPreview(BaseModel):
    """One preview of a gallery photo, released with the gallery."""

    model_config = ConfigDict(extra="forbid")

    file: str = Field(description="Path relative to gallery/, e.g. `previews/400/IMG_1.jpg`.")
    width: int = Field(description="Width in pixels.")
    height: int = Field(description="Height in pixels.")


class GalleryPhoto(BaseModel):
    """One photo of the customer's gallery."""

    model_config = ConfigDict(extra="forbid")

    image_id: str = Field(description="Stable id of the photo; kept when it is replaced.")
    filename: str = Field(description="The photo's file name in gallery/images/.")
    file: str = Field(description="Path relative to gallery/, e.g. `images/IMG_1.jpg`.")
    width: int | None = Field(description="Width in pixels, upright (EXIF orientation applied).")
    height: int | None = Field(description="Height in pixels, upright.")
    preview_small: GalleryPreview = Field(description="JPEG preview with a 400 px long edge.")
    preview_large: GalleryPreview = Field(description="JPEG preview with a 1600 px long edge.")
    caption_short: str | None = Field(
        default=None,
        max_length=CAPTION_SHORT_MAX,
        description=f"A few words for a tile, at most {CAPTION_SHORT_MAX} characters; {NOT_SET}",
    )
    caption_long: str | None = Field(
        default=None,
        max_length=CAPTION_LONG_MAX,
        description=f"A sentence or two, at most {CAPTION_LONG_MAX} characters; {NOT_SET}",
    )
    room_type: RoomType | None = Field(
        default=None, description=f"Which room the photo shows; {NOT_SET}"
    )
    view_type: ViewType | None = Field(
        default=None, description=f"Interior, exterior, …; {NOT_SET}"
    )
    objects: list[str] = Field(
        default_factory=list, description="Things seen in the photo; empty: none known."
    )


class GalleryCaption(BaseModel):
    """The captions of one gallery photo."""

    model_config = ConfigDict(extra="forbid")

    filename: str = Field(description="The photo's file name in gallery/images/.")
    caption_short: str | None = Field(description="A few words.")
    caption_long: str | None = Field(description="A sentence or two.")


class GalleryExpose(BaseModel):
    """gallery/expose.json: the customer's document. Only the photos of the gallery, with
    their files under gallery/; never errors, privacy findings, hashes, providers or paths
    outside gallery/. It changes only with the gallery (draft sync, or a release)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal["2.0"] = Field(
        default="2.0",
        description="Format version. 2.0: photos in Daniel's order, `cover_image_id`, caption"
        " length limits.",
    )
    job_id: str = Field(description="The job (folder under pix-jobs/).")
    image_count: int = Field(description="Photos in the gallery.")
    images: list[GalleryPhoto] = Field(
        description="The gallery's photos in the order Daniel gave them (photos he did not"
        " place come last, by file name)."
    )
    cover_image_id: str | None = Field(
        default=None,
        description="image_id of the cover photo (one of `images`); null: no cover chosen, or"
        " the chosen one is not in the gallery.",
    )
    captions: list[GalleryCaption] = Field(description="Captions of the photos that have one.")
    room_types: dict[str, list[str]] = Field(
        description="Room type -> file names, in gallery order; photos without one are missing."
    )
    view_types: dict[str, list[str]] = Field(
        description="View type -> file names, in gallery order; photos without one are missing."
    )
