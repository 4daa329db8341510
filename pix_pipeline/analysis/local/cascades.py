"""OpenCV Haar cascades (shipped in opencv-python-headless < 5): faces and licence plates."""

import threading
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from pix_pipeline.domain.models import Box


@dataclass(frozen=True)
class CascadeSpec:
    """A cascade file and how to read its last-stage weight.

    Weights are on each cascade's own scale; `min_weight` is the weakest hit kept and
    `full_weight` the weight that counts as certain (score 1.0).
    """

    filename: str
    min_neighbors: int
    min_weight: float
    full_weight: float
    scale_factor: float = 1.1

    def score(self, weight: float) -> float:
        span = self.full_weight - self.min_weight
        return round(min(max((weight - self.min_weight) / span, 0.0), 1.0), 4)


# Measured on the privacy evaluation set (benchmarks/privacy_eval.py), on libvips previews:
# alt2 alone, with four neighbour votes, found more faces than alt2 + default together did,
# at 60 % of their cost, with one false alarm among 40 clean photos. Its last-stage weights
# of true faces lay between 54.9 and 57. The profile cascade catches people seen from the side.
FRONTAL = CascadeSpec("haarcascade_frontalface_alt2.xml", 4, 54.0, 57.0, 1.15)
PROFILE = CascadeSpec("haarcascade_profileface.xml", 5, 0.0, 6.0, 1.2)
PLATE = CascadeSpec("haarcascade_russian_plate_number.xml", 4, 0.0, 4.0, 1.2)


@dataclass(frozen=True)
class CascadeHit:
    box: Box
    score: float


def cascade_version() -> str:
    return f"opencv-{cv2.__version__}"


class Cascades:
    """Loads each cascade file once per thread (CascadeClassifier is not thread-safe)."""

    def __init__(self, threads: int = 1) -> None:
        self._local = threading.local()
        self.threads = threads

    def _classifier(self, filename: str) -> Any:
        cache: dict[str, Any] = self._local.__dict__.setdefault("classifiers", {})
        if filename not in cache:
            # OpenCV's own thread pool would oversubscribe the cores that the run's image
            # workers already use.
            cv2.setNumThreads(self.threads)
            path = cv2.data.haarcascades + filename  # type: ignore[attr-defined]
            classifier = cv2.CascadeClassifier(path)
            if classifier.empty():
                raise RuntimeError(f"OpenCV cascade {path} is missing (opencv-python-headless 5?)")
            cache[filename] = classifier
        return cache[filename]

    def detect(
        self,
        spec: CascadeSpec,
        grey: np.ndarray,
        *,
        min_size: tuple[int, int],
        min_neighbors: int | None = None,
        mirror: bool = False,
    ) -> list[CascadeHit]:
        """Hits of one cascade on a greyscale image; `mirror` also scans the flipped image."""
        height, width = grey.shape[:2]
        hits: list[CascadeHit] = []
        passes = [(grey, False), (cv2.flip(grey, 1), True)] if mirror else [(grey, False)]
        for image, flipped in passes:
            boxes, _, weights = self._classifier(spec.filename).detectMultiScale3(
                image,
                scaleFactor=spec.scale_factor,
                minNeighbors=spec.min_neighbors if min_neighbors is None else min_neighbors,
                minSize=min_size,
                outputRejectLevels=True,
            )
            for (x, y, w, h), weight in zip(boxes, weights, strict=True):
                if float(weight) < spec.min_weight:
                    continue
                x0 = (width - x - w) if flipped else x
                box = Box(x0=x0 / width, y0=y / height, x1=(x0 + w) / width, y1=(y + h) / height)
                hits.append(CascadeHit(box, spec.score(float(weight))))
        return hits
