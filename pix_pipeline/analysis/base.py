"""The interfaces every analysis provider implements (brief 5.2 b–e).

A provider is a small object with an `identity` ("name/version"): the identity is recorded
with each result and is part of the step's input fingerprint, so switching or upgrading a
provider re-runs the step for every image. What Daniel set on the desk reaches the semantics
provider as `hints`; they are not part of the fingerprint, so setting a value never re-runs a
provider, and its result never replaces his value (domain/fields.py). `needs_image` tells the
pipeline whether to decode the 1600 px preview for it at all.
"""

from typing import Protocol, runtime_checkable

from PIL import Image

from pix_pipeline.domain.models import (
    CleanupResult,
    PrivacyResult,
    SemanticHints,
    SemanticsResult,
)


@runtime_checkable
class PrivacyProvider(Protocol):
    identity: str
    needs_image: bool

    def analyze(self, image: Image.Image | None) -> PrivacyResult:
        """Faces, licence plates, logos and text; boxes in 0–1 coordinates of `image`."""
        ...


@runtime_checkable
class SemanticsProvider(Protocol):
    identity: str
    needs_image: bool

    def analyze(
        self, image: Image.Image | None, hints: SemanticHints | None = None
    ) -> SemanticsResult:
        """Captions, room type, view type and objects. `hints` holds what Daniel set for the
        photo (a provider may use it as context; his values win either way)."""
        ...


@runtime_checkable
class DepthProvider(Protocol):
    identity: str
    needs_image: bool

    def estimate(self, image: Image.Image | None) -> bytes | None:
        """A depth map as PNG bytes, or None when this provider cannot make one."""
        ...


@runtime_checkable
class CleanupProvider(Protocol):
    identity: str
    needs_image: bool

    def analyze(
        self, image: Image.Image | None, privacy: PrivacyResult, semantics: SemanticsResult
    ) -> CleanupResult:
        """Disturbing objects that could be removed later (SAM is never run here)."""
        ...


class ProviderNotAvailable(RuntimeError):
    """A provider that is prepared (interface, config, schema) but not implemented yet."""
