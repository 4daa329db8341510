"""Providers that ship with the pipeline and need neither a model nor a network."""

from PIL import Image

from pix_pipeline.domain.models import (
    CleanupCandidate,
    CleanupResult,
    Finding,
    PrivacyResult,
    SemanticHints,
    SemanticsResult,
)


class NoPrivacyChecks:
    """Reports every privacy category as not checked: honest, never 'clear'."""

    identity = "none/1"
    needs_image = False

    def analyze(self, image: Image.Image | None) -> PrivacyResult:
        return PrivacyResult(provider=self.identity)


class NoSemantics:
    """Leaves captions, room and view type empty and says so (status not_checked)."""

    identity = "none/1"
    needs_image = False

    def analyze(
        self, image: Image.Image | None, hints: SemanticHints | None = None
    ) -> SemanticsResult:
        return SemanticsResult(provider=self.identity)


class NoDepth:
    """Depth enabled without a depth model: the step records 'not_checked'."""

    identity = "none/1"
    needs_image = False

    def estimate(self, image: Image.Image | None) -> bytes | None:
        return None


# Object labels (from semantics) that disturb a sales photo and could be retouched later.
DISTURBING_OBJECTS = frozenset(
    {
        "person",
        "people",
        "car",
        "vehicle",
        "bicycle",
        "trash can",
        "garbage bin",
        "bin",
        "laundry",
        "clutter",
        "cable",
        "hose",
        "toiletries",
        "pet",
        "dog",
        "cat",
        "sign",
        "ladder",
        "bucket",
    }
)
# Privacy categories whose findings are retouching candidates, with the reason given.
PRIVACY_CANDIDATES = {
    "faces": "person",
    "licence_plates": "licence plate",
    "text": "sign or lettering",
}


class RulesCleanup:
    """Cleanup candidates derived from the privacy and semantics findings.

    Its answer is only as good as its inputs: with neither checked, it is 'not_checked'.
    """

    identity = "rules/1"
    needs_image = False

    def analyze(
        self, image: Image.Image | None, privacy: PrivacyResult, semantics: SemanticsResult
    ) -> CleanupResult:
        candidates: list[CleanupCandidate] = []
        checked = semantics.status is not Finding.NOT_CHECKED
        for category, label in PRIVACY_CANDIDATES.items():
            result = privacy.category(category)
            checked = checked or result.status is not Finding.NOT_CHECKED
            for item in result.items:
                candidates.append(
                    CleanupCandidate(label=label, reason=f"privacy: {category}", box=item.box)
                )
        for obj in semantics.objects:
            if obj.label.lower() in DISTURBING_OBJECTS:
                candidates.append(
                    CleanupCandidate(label=obj.label, reason="semantics: object", box=obj.box)
                )
        if candidates:
            status, possible = Finding.DETECTED, True
        elif checked:
            status, possible = Finding.CLEAR, False
        else:
            status, possible = Finding.NOT_CHECKED, None
        return CleanupResult(
            provider=self.identity,
            status=status,
            cleanup_possible=possible,
            cleanup_candidates=candidates,
        )
