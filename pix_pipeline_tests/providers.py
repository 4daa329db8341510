"""Analysis providers used by the tests, plugged in through PIX_*_PROVIDER = 'module:Class'."""

import io

from PIL import Image

from pix_pipeline.domain.models import (
    Box,
    CategoryResult,
    Detection,
    Finding,
    PrivacyResult,
    RoomType,
    SemanticHints,
    SemanticsResult,
    ViewType,
)


class FixedSemantics:
    """Describes every photo as a bright kitchen with a person in it."""

    identity = "test-fixed/1"
    needs_image = True

    # The hints each call received, in call order (tests reset it).
    hints_seen: list[SemanticHints | None] = []  # noqa: RUF012 - shared on purpose

    def analyze(
        self, image: Image.Image | None, hints: SemanticHints | None = None
    ) -> SemanticsResult:
        assert image is not None and max(image.size) <= 1600
        FixedSemantics.hints_seen.append(hints)
        return SemanticsResult(
            provider=self.identity,
            status=Finding.DETECTED,
            caption_short="Bright kitchen",
            caption_long=f"A bright kitchen with an island, seen at {image.width}x{image.height}.",
            room_type=RoomType.KITCHEN,
            view_type=ViewType.INTERIOR,
            objects=[
                Detection(label="kitchen island", score=0.9),
                Detection(label="person", score=0.8, box=Box(x0=0.1, y0=0.2, x1=0.3, y1=0.9)),
            ],
        )


def one_face(provider: str) -> PrivacyResult:
    """A privacy result with one face, no plate and no text."""
    face = Detection(label="face", score=0.97, box=Box(x0=0.4, y0=0.1, x1=0.5, y1=0.25))
    return PrivacyResult(
        provider=provider,
        faces=CategoryResult(status=Finding.DETECTED, items=[face]),
        licence_plates=CategoryResult(status=Finding.CLEAR),
        text=CategoryResult(status=Finding.CLEAR),
    )


class RedCornerFails:
    """Privacy check that crashes on photos whose top-left pixel is pure red, else finds a face."""

    identity = "test-red-corner/1"
    needs_image = True

    def analyze(self, image: Image.Image | None) -> PrivacyResult:
        assert image is not None
        r, g, b = image.getpixel((0, 0))[:3]  # type: ignore[index]
        if r > 200 and g < 60 and b < 60:
            raise RuntimeError("detector crashed on this photo")
        return one_face(self.identity)


class RecordingNotifier:
    """Keeps delivered notifications in a class-level list the tests read."""

    delivered: list[object] = []  # noqa: RUF012 - shared on purpose, reset by the tests

    def notify(self, notification: object) -> None:
        RecordingNotifier.delivered.append(notification)


class LumaDepth:
    """A stand-in depth model: the preview's brightness as an 8-bit PNG."""

    identity = "test-luma/1"
    needs_image = True

    def estimate(self, image: Image.Image | None) -> bytes | None:
        assert image is not None
        buffer = io.BytesIO()
        image.convert("L").save(buffer, format="PNG")
        return buffer.getvalue()


class FailsOnceNotifier:
    """Fails the first delivery (a mail server that is down), then delivers."""

    attempts = 0
    delivered: list[object] = []  # noqa: RUF012 - shared on purpose, reset by the tests

    def notify(self, notification: object) -> None:
        FailsOnceNotifier.attempts += 1
        if FailsOnceNotifier.attempts == 1:
            raise ConnectionError("mail server unreachable")
        FailsOnceNotifier.delivered.append(notification)


class FacesEverywhere:
    """Privacy check that reports a face in every photo."""

    identity = "test-faces/1"
    needs_image = False

    def analyze(self, image: Image.Image | None) -> PrivacyResult:
        return one_face(self.identity)


# (step, preview size) of every call of the Logs* providers below, in call order.
provider_calls: list[tuple[str, tuple[int, int]]] = []


class LogsPrivacyCalls:
    """Finds a face in every photo and logs the call in provider_calls."""

    identity = "test-logs-privacy/1"
    needs_image = True

    def analyze(self, image: Image.Image | None) -> PrivacyResult:
        assert image is not None
        provider_calls.append(("privacy", image.size))
        return one_face(self.identity)


class LogsDepthCalls(LumaDepth):
    """LumaDepth that logs each call in provider_calls."""

    def estimate(self, image: Image.Image | None) -> bytes | None:
        assert image is not None
        provider_calls.append(("depth", image.size))
        return super().estimate(image)


class LogsSemanticsCalls(FixedSemantics):
    """FixedSemantics that logs each call in provider_calls."""

    def analyze(
        self, image: Image.Image | None, hints: SemanticHints | None = None
    ) -> SemanticsResult:
        assert image is not None
        provider_calls.append(("semantics", image.size))
        return super().analyze(image, hints)


class ColourCodedPrivacy:
    """Privacy findings by the photo's top-left pixel: red -> a face, blue -> house number
    "17b", anything else -> clear. Lets desk tests place known boxes on real JPEGs."""

    identity = "test-colour-coded/1"
    needs_image = True
    FACE = Box(x0=0.4, y0=0.1, x1=0.5, y1=0.25)
    HOUSE_NUMBER = Box(x0=0.6, y0=0.5, x1=0.8, y1=0.6)

    def analyze(self, image: Image.Image | None) -> PrivacyResult:
        assert image is not None
        r, g, b = image.convert("RGB").getpixel((0, 0))  # type: ignore[misc]
        clear = CategoryResult(status=Finding.CLEAR)
        faces, text = clear, clear
        if r > 200 and g < 60 and b < 60:
            faces = CategoryResult(
                status=Finding.DETECTED,
                items=[Detection(label="face", score=0.97, box=self.FACE)],
            )
        elif b > 200 and r < 60 and g < 60:
            number = Detection(label="house_number", score=0.93, box=self.HOUSE_NUMBER, text="17b")
            text = CategoryResult(status=Finding.DETECTED, items=[number])
        return PrivacyResult(
            provider=self.identity,
            faces=faces,
            licence_plates=clear,
            logos=clear,
            text=text,
        )


class HouseNumberEverywhere:
    """Privacy check that finds a face and reads a house number in every photo."""

    identity = "test-house-number/1"
    needs_image = False

    def analyze(self, image: Image.Image | None) -> PrivacyResult:
        found = one_face(self.identity)
        plate = Detection(
            label="house number",
            score=0.91,
            box=Box(x0=0.7, y0=0.2, x1=0.8, y1=0.3),
            text="Musterstraße 12",
        )
        return found.model_copy(
            update={
                "model_version": "test-ocr-7",
                "thresholds": {"text_min_score": 0.6},
                "text": CategoryResult(status=Finding.DETECTED, items=[plate]),
            }
        )


class FaceModelMissing:
    """The local check as it reports a missing face model: faces not checked because the check
    failed, plates and text clear, logos not checked on purpose (no model)."""

    identity = "test-face-model-missing/1"
    needs_image = False

    def analyze(self, image: Image.Image | None) -> PrivacyResult:
        return PrivacyResult(
            provider=self.identity,
            faces=CategoryResult(
                status=Finding.NOT_CHECKED, reason="face model not installed", failed=True
            ),
            licence_plates=CategoryResult(status=Finding.CLEAR),
            logos=CategoryResult(status=Finding.NOT_CHECKED, reason="no logo model"),
            text=CategoryResult(status=Finding.CLEAR),
        )
