"""Providers the brief asks to prepare but not to call yet (brief 9): FAL, LLM, DINO, SAM.

Each has its configuration, the request it would send and the mapping of the answer onto our
result schema; none of them opens a network connection. Choosing one in PIX_*_PROVIDER stops
the code location at startup with a message, so nobody mistakes it for a working check.
"""

from dataclasses import dataclass, field
from typing import Any

from pix_pipeline.analysis.base import ProviderNotAvailable
from pix_pipeline.domain.models import (
    Detection,
    Finding,
    RoomType,
    SemanticHints,
    SemanticsResult,
    ViewType,
)

# Words a model may answer with, mapped onto the exposé taxonomy (German and English).
ROOM_SYNONYMS: dict[str, RoomType] = {
    "küche": RoomType.KITCHEN,
    "wohnzimmer": RoomType.LIVING_ROOM,
    "living room": RoomType.LIVING_ROOM,
    "lounge": RoomType.LIVING_ROOM,
    "esszimmer": RoomType.DINING_ROOM,
    "schlafzimmer": RoomType.BEDROOM,
    "kinderzimmer": RoomType.CHILDRENS_ROOM,
    "badezimmer": RoomType.BATHROOM,
    "bad": RoomType.BATHROOM,
    "gäste-wc": RoomType.GUEST_WC,
    "wc": RoomType.GUEST_WC,
    "toilet": RoomType.GUEST_WC,
    "flur": RoomType.HALLWAY,
    "diele": RoomType.HALLWAY,
    "corridor": RoomType.HALLWAY,
    "treppenhaus": RoomType.STAIRCASE,
    "stairs": RoomType.STAIRCASE,
    "arbeitszimmer": RoomType.OFFICE,
    "study": RoomType.OFFICE,
    "hauswirtschaftsraum": RoomType.UTILITY_ROOM,
    "abstellraum": RoomType.STORAGE_ROOM,
    "keller": RoomType.BASEMENT,
    "dachboden": RoomType.ATTIC,
    "garten": RoomType.GARDEN,
    "balkon": RoomType.BALCONY,
    "luftbild": RoomType.AERIAL,
    "drone": RoomType.AERIAL,
    "grundriss": RoomType.FLOOR_PLAN,
    "facade": RoomType.EXTERIOR_FRONT,
    "fassade": RoomType.EXTERIOR_FRONT,
}


def map_room_type(label: str | None) -> RoomType | None:
    """A free-text room label onto the taxonomy; unknown words become OTHER, empty stays None."""
    if not label or not label.strip():
        return None
    key = label.strip().lower()
    try:
        return RoomType(key.replace(" ", "_").replace("-", "_"))
    except ValueError:
        return ROOM_SYNONYMS.get(key, RoomType.OTHER)


def map_view_type(label: str | None) -> ViewType | None:
    if not label or not label.strip():
        return None
    try:
        return ViewType(label.strip().lower().replace(" ", "_").replace("-", "_"))
    except ValueError:
        return ViewType.OTHER


@dataclass(frozen=True)
class LlmSemanticsConfig:
    """Configuration of the vision-LLM semantics call (the key is read from `api_key_env`)."""

    model: str = "vision-llm"
    endpoint: str = ""
    api_key_env: str = "PIX_LLM_API_KEY"
    language: str = "de"
    timeout_seconds: float = 60.0


class LlmSemanticsProvider:
    """Captions, room and view type from a vision LLM — prepared, not called (brief 9)."""

    needs_image = True

    def __init__(self, config: LlmSemanticsConfig | None = None) -> None:
        self.config = config or LlmSemanticsConfig()
        self.identity = f"llm:{self.config.model}/1"

    def build_request(self, image_url: str, hints: SemanticHints | None = None) -> dict[str, Any]:
        """The JSON body the call would send: the image, what Daniel already set (context for
        the model; his values win anyway) and an answer format in our taxonomy."""
        known = hints.model_dump(mode="json", exclude_none=True) if hints is not None else {}
        return {
            "model": self.config.model,
            "image_url": image_url,
            "language": self.config.language,
            "known": known,
            "response_format": {
                "caption_short": "string, at most 80 characters",
                "caption_long": "string, 2-4 sentences for a property exposé",
                "room_type": [r.value for r in RoomType],
                "view_type": [v.value for v in ViewType],
                "objects": "list of {label, score 0-1}",
            },
        }

    def parse_response(self, answer: dict[str, Any]) -> SemanticsResult:
        """Map an answer onto SemanticsResult; unknown room words become 'other'."""
        objects = [
            Detection(label=str(o["label"]), score=float(o.get("score", 1.0)))
            for o in answer.get("objects", [])
        ]
        return SemanticsResult(
            provider=self.identity,
            status=Finding.DETECTED,
            caption_short=answer.get("caption_short"),
            caption_long=answer.get("caption_long"),
            room_type=map_room_type(answer.get("room_type")),
            view_type=map_view_type(answer.get("view_type")),
            objects=objects,
        )

    def analyze(self, image: object, hints: SemanticHints | None = None) -> SemanticsResult:
        raise ProviderNotAvailable("the LLM semantics provider is prepared but not implemented")


@dataclass(frozen=True)
class FalConfig:
    """Configuration of FAL model calls (privacy detection, depth maps)."""

    privacy_model: str = "fal-ai/florence-2-large/object-detection"
    depth_model: str = "fal-ai/imageutils/depth"
    api_key_env: str = "FAL_KEY"
    timeout_seconds: float = 120.0


class FalPrivacyProvider:
    """Faces, plates, logos and text through a FAL-hosted detector — prepared, not called."""

    needs_image = True

    def __init__(self, config: FalConfig | None = None) -> None:
        self.config = config or FalConfig()
        self.identity = f"fal:{self.config.privacy_model}/1"

    def build_request(self, image_url: str) -> dict[str, Any]:
        return {"image_url": image_url, "labels": ["face", "licence plate", "logo", "text"]}

    def analyze(self, image: object) -> object:
        raise ProviderNotAvailable("the FAL privacy provider is prepared but not implemented")


class FalDepthProvider:
    """Depth maps through FAL — prepared, not called."""

    needs_image = True

    def __init__(self, config: FalConfig | None = None) -> None:
        self.config = config or FalConfig()
        self.identity = f"fal:{self.config.depth_model}/1"

    def build_request(self, image_url: str) -> dict[str, Any]:
        return {"image_url": image_url, "output_format": "png"}

    def estimate(self, image: object) -> bytes | None:
        raise ProviderNotAvailable("the FAL depth provider is prepared but not implemented")


@dataclass(frozen=True)
class DinoCleanupConfig:
    """Grounding-DINO prompt for 'disturbing' objects (brief 5.2 e)."""

    model: str = "grounding-dino"
    prompts: tuple[str, ...] = field(
        default=("person", "car", "trash can", "cable", "clutter", "toiletries", "laundry")
    )
    box_threshold: float = 0.35


class DinoCleanupProvider:
    """Asks Grounding DINO for disturbing objects — prepared, not called."""

    needs_image = True

    def __init__(self, config: DinoCleanupConfig | None = None) -> None:
        self.config = config or DinoCleanupConfig()
        self.identity = f"dino:{self.config.model}/1"

    def build_request(self, image_url: str) -> dict[str, Any]:
        return {
            "image_url": image_url,
            "text_prompt": " . ".join(self.config.prompts),
            "box_threshold": self.config.box_threshold,
        }

    def analyze(self, image: object, privacy: object, semantics: object) -> object:
        raise ProviderNotAvailable("the DINO cleanup provider is prepared but not implemented")


@dataclass(frozen=True)
class SamRequest:
    """What a later, manually triggered SAM run gets: the image and the boxes to segment.

    Masks would be written to pipeline/segments/; nothing runs SAM automatically.
    """

    image_key: str
    boxes: tuple[tuple[float, float, float, float], ...]
    model: str = "sam2"


PREPARED_PROVIDERS = {
    ("privacy", "fal"): FalPrivacyProvider,
    ("semantics", "llm"): LlmSemanticsProvider,
    ("cleanup", "dino"): DinoCleanupProvider,
    ("depth", "fal"): FalDepthProvider,
}
