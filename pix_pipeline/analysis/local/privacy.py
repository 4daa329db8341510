"""The local privacy check (brief 5.2 b): text and house numbers, licence plates, faces.

Runs on the 1600 px preview, scaled down to `max_side`, never on the full raster. Logos have
no local model and stay `not_checked`.
"""

from dataclasses import asdict

import cv2
import numpy as np
from PIL import Image

from pix_pipeline.analysis.local.cascades import (
    FRONTAL,
    PLATE,
    PROFILE,
    CascadeHit,
    Cascades,
    cascade_version,
)
from pix_pipeline.analysis.local.ocr import TextLine, TextReader, ocr_version
from pix_pipeline.analysis.local.text_rules import is_house_number, is_licence_plate
from pix_pipeline.domain.models import Box, CategoryResult, Detection, Finding, PrivacyResult
from pix_pipeline.imaging.thumbnails import fit_within
from pix_pipeline.settings import PrivacyThresholds

SINGLE_DIGIT_MIN_SCORE = 0.9
MAX_TEXT_BOX_HEIGHT = 0.3
# Profiles are scanned at a reduced size: the frontal cascade carries the small faces.
PROFILE_SIDE = 400


def overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area: 1.0 when one box lies inside the other."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a.x1 - a.x0) * (a.y1 - a.y0), (b.x1 - b.x0) * (b.y1 - b.y0))
    return (w * h) / smaller if smaller > 0 else 0.0


def merge_hits(hits: list[CascadeHit], threshold: float = 0.5) -> list[CascadeHit]:
    """One hit per object: overlapping hits collapse onto the highest-scoring one."""
    kept: list[CascadeHit] = []
    for hit in sorted(hits, key=lambda h: h.score, reverse=True):
        if all(overlap(hit.box, k.box) < threshold for k in kept):
            kept.append(hit)
    return kept


def _scaled(grey: np.ndarray, side: int) -> np.ndarray:
    scale = side / max(grey.shape[:2])
    if scale >= 1:
        return grey
    return cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def _plate_like(text: str) -> bool:
    """Letters and digits, at least four characters: what a plate region must read as."""
    return (
        any(c.isdigit() for c in text)
        and any(c.isalpha() for c in text)
        and sum(c.isalnum() for c in text) >= 4
    )


def _category(items: list[Detection]) -> CategoryResult:
    return CategoryResult(status=Finding.DETECTED if items else Finding.CLEAR, items=items)


class LocalPrivacyChecks:
    """Faces and licence plates (OpenCV Haar cascades) and text (RapidOCR), all offline."""

    needs_image = True

    def __init__(self, thresholds: PrivacyThresholds | None = None) -> None:
        self.thresholds = thresholds or PrivacyThresholds()
        self.models = f"{ocr_version()}, {cascade_version()}"
        self.identity = f"local/1 ({self.models}; thresholds {self.thresholds.digest()})"
        self.reader = TextReader(self.thresholds.threads, self.thresholds.ocr_detection_side)
        self.cascades = Cascades(self.thresholds.threads)

    def faces(self, grey: np.ndarray) -> list[Detection]:
        """Frontal faces on the face raster, profiles (both directions) on a smaller one."""
        t = self.thresholds
        hits: list[CascadeHit] = []
        for spec, side, mirror in (
            (FRONTAL, t.face_max_side, False),
            (PROFILE, PROFILE_SIDE, True),
        ):
            scaled = _scaled(grey, side)
            size = max(20, int(min(scaled.shape[:2]) * t.face_min_size))
            neighbors = t.face_min_neighbors if spec is FRONTAL else None
            hits += self.cascades.detect(
                spec, scaled, min_size=(size, size), min_neighbors=neighbors, mirror=mirror
            )
        return [Detection(label="face", score=h.score, box=h.box) for h in merge_hits(hits)]

    def plates(self, grey: np.ndarray, lines: list[TextLine]) -> list[Detection]:
        """Plate-shaped OCR strings, plus cascade hits that OCR confirms holds letters + digits."""
        found = [
            Detection(label="licence_plate", score=line.score, box=line.box, text=line.text)
            for line in lines
            if is_licence_plate(line.text)
        ]
        # A cascade hit only counts where OCR read letters and digits into it, so without
        # such a line the cascade cannot add anything and is not run.
        candidates = [line for line in lines if _plate_like(line.text)]
        if not candidates:
            return found
        height = grey.shape[0]
        min_h = max(10, int(height * 0.012))
        for hit in self.cascades.detect(
            PLATE,
            grey,
            min_neighbors=self.thresholds.plate_min_neighbors,
            min_size=(min_h * 3, min_h),
        ):
            if any(overlap(hit.box, f.box) > 0.3 for f in found if f.box):
                continue
            confirming = [line for line in candidates if overlap(hit.box, line.box) > 0.5]
            if confirming:
                best = max(confirming, key=lambda line: line.score)
                found.append(
                    Detection(
                        label="licence_plate",
                        score=round(min(hit.score, best.score), 4),
                        box=hit.box,
                        text=best.text,
                    )
                )
        return found

    def _counts(self, line: TextLine) -> bool:
        """Whether an OCR line is a finding.

        It needs the score threshold and a plausible box: the detector sometimes returns the
        whole frame as one "line" and reads a digit into it. A single character must be a
        digit (a house number like "4") read with near certainty.
        """
        if line.score < self.thresholds.text_min_score:
            return False
        if line.box.y1 - line.box.y0 > MAX_TEXT_BOX_HEIGHT:
            return False
        alnum = [c for c in line.text if c.isalnum()]
        if len(alnum) >= 2:
            return True
        return len(alnum) == 1 and alnum[0].isdigit() and line.score >= SINGLE_DIGIT_MIN_SCORE

    def analyze(self, image: Image.Image | None) -> PrivacyResult:
        if image is None:
            raise ValueError("the local privacy check needs the image")
        t = self.thresholds
        # The first photo of a process scans for faces while the OCR library loads.
        self.reader.start_import()
        faces = self.faces(np.asarray(image.convert("L")))
        # Bilinear is enough for detection and much cheaper than the previews' Lanczos.
        small = fit_within(image, t.max_side, Image.Resampling.BILINEAR)
        grey = np.asarray(small.convert("L"))
        lines = [ln for ln in self.reader.read(small) if self._counts(ln)]
        plates = self.plates(grey, lines)
        plate_texts = {p.text for p in plates}
        text_items = [
            Detection(
                label="house_number" if is_house_number(ln.text) else "text",
                score=round(ln.score, 4),
                box=ln.box,
                text=ln.text,
            )
            for ln in lines
            if ln.text not in plate_texts
        ]
        return PrivacyResult(
            provider=self.identity,
            faces=_category(faces),
            licence_plates=_category(plates),
            logos=CategoryResult(status=Finding.NOT_CHECKED),
            text=_category(text_items),
            model_version=self.models,
            thresholds={k: float(v) for k, v in asdict(self.thresholds).items()},
        )
