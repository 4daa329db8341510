"""Typed values of the pipeline: status enumerations, per-step results and the JSON documents.

The documents (`ImageMeta`, `JobExpose`) leave the system: the web backend and the gallery
frontend read them. They carry a `schema_version`; change it when a field changes meaning.
"""

from enum import StrEnum
from typing import Literal

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

    x0: float = Field(ge=0.0, le=1.0)
    y0: float = Field(ge=0.0, le=1.0)
    x1: float = Field(ge=0.0, le=1.0)
    y1: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> "Box":
        if self.x1 < self.x0 or self.y1 < self.y0:
            raise ValueError(f"box corners out of order: {self}")
        return self


class Detection(BaseModel):
    """One thing a detector found."""

    model_config = ConfigDict(frozen=True)

    label: str
    score: float = Field(ge=0.0, le=1.0)
    box: Box | None = None
    text: str | None = None


class CategoryResult(BaseModel):
    status: Finding = Finding.NOT_CHECKED
    items: list[Detection] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> "CategoryResult":
        if self.items and self.status is not Finding.DETECTED:
            raise ValueError("a category with findings must have status 'detected'")
        return self


PRIVACY_CATEGORIES = ("faces", "licence_plates", "logos", "text")


class PrivacyResult(BaseModel):
    """Brief 5.2 b: faces, licence plates, logos, text (house numbers …)."""

    provider: str
    model_version: str | None = Field(default=None, description="Models the provider ran.")
    thresholds: dict[str, float] = Field(
        default_factory=dict, description="Settings the findings depend on, for re-evaluation."
    )
    faces: CategoryResult = Field(default_factory=CategoryResult)
    licence_plates: CategoryResult = Field(default_factory=CategoryResult)
    logos: CategoryResult = Field(default_factory=CategoryResult)
    text: CategoryResult = Field(default_factory=CategoryResult)

    def category(self, name: str) -> CategoryResult:
        if name not in PRIVACY_CATEGORIES:
            raise KeyError(name)
        result: CategoryResult = getattr(self, name)
        return result


class DepthResult(BaseModel):
    """Brief 5.2 c: the optional depth map."""

    provider: str
    status: Literal["skipped", "not_checked", "done"]
    depth_key: str | None = None


class SemanticsResult(BaseModel):
    """Brief 5.2 d: the main input of the exposé."""

    provider: str
    status: Finding = Finding.NOT_CHECKED
    caption_short: str | None = None
    caption_long: str | None = None
    room_type: RoomType | None = None
    view_type: ViewType | None = None
    objects: list[Detection] = Field(default_factory=list)


class CleanupCandidate(BaseModel):
    label: str
    reason: str
    box: Box | None = None


class CleanupResult(BaseModel):
    """Brief 5.2 e: what could be removed later. SAM is never run automatically."""

    provider: str
    status: Finding = Finding.NOT_CHECKED
    cleanup_possible: bool | None = None
    cleanup_candidates: list[CleanupCandidate] = Field(default_factory=list)


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
    status: StepStatus | Literal["pending"]
    provider: str | None = None
    error_message: str | None = None


class Thumbnails(BaseModel):
    small: str
    large: str
    small_size: tuple[int, int]
    large_size: tuple[int, int]


class ImageMeta(BaseModel):
    """pipeline/meta/images/{image_id}.json: everything known about one image."""

    schema_version: Literal["1.0"] = "1.0"
    image_id: str
    job_id: str
    filename: str
    storage_path: str
    source: ImageSource
    status: ImageStatus
    error_message: str | None = None
    content_hash: str | None = None
    size_bytes: int | None = None
    width: int | None = Field(default=None, description="Width after EXIF orientation.")
    height: int | None = Field(default=None, description="Height after EXIF orientation.")
    thumbnails: Thumbnails | None = None
    gallery_key: str | None = None
    steps: dict[StepName, StepSummary] = Field(default_factory=dict)
    privacy: PrivacyResult | None = None
    depth: DepthResult | None = None
    semantics: SemanticsResult | None = None
    cleanup: CleanupResult | None = None


class StatusCounts(BaseModel):
    pending_processing: int = 0
    processed: int = 0
    error: int = 0
    removed: int = 0
    total: int = 0


class CaptionEntry(BaseModel):
    image_id: str
    filename: str
    caption_short: str | None
    caption_long: str | None


class CleanupOption(BaseModel):
    image_id: str
    filename: str
    candidates: list[CleanupCandidate]


class PrivacyCategorySummary(BaseModel):
    detected: list[str] = Field(default_factory=list, description="Filenames with findings.")
    clear: int = 0
    not_checked: int = 0


class ImageProblem(BaseModel):
    image_id: str
    filename: str
    error_message: str | None


class JobExpose(BaseModel):
    """pipeline/meta/job_expose.json (mirrored to gallery/expose.json): brief section 6."""

    schema_version: Literal["1.0"] = "1.0"
    job_id: str
    counts: StatusCounts
    images: list[ImageMeta] = Field(description="Every processed image, in filename order.")
    captions: list[CaptionEntry]
    room_types: dict[str, list[str]] = Field(description="Room type -> filenames.")
    view_types: dict[str, list[str]] = Field(description="View type -> filenames.")
    objects: dict[str, int] = Field(description="Object label -> number of images showing it.")
    cleanup_options: list[CleanupOption]
    privacy_summary: dict[str, PrivacyCategorySummary]
    errors: list[ImageProblem] = Field(description="Images with status 'error'.")
