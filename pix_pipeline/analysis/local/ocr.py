"""Text recognition with RapidOCR: PP-OCR ONNX models from the wheel, run by onnxruntime."""

import importlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import numpy as np
from PIL import Image

from pix_pipeline.domain.models import Box

log = logging.getLogger(__name__)


# The engine pads and rescales images below 30 px; no lettering fits in fewer than this.
MIN_SIDE = 8
# The detector's pixel threshold: areas whose probability reaches it become box candidates,
# which the engine and the caller judge. Areas that stay below it were never looked at.
PIXEL_THRESHOLD = 0.3


@dataclass(frozen=True)
class TextLine:
    text: str
    score: float
    box: Box


@dataclass(frozen=True)
class WeakRegion:
    """Where the detector saw something like text, too faintly to make a box candidate: its
    strongest pixel probability (below PIXEL_THRESHOLD) and its extent in 0–1 coordinates
    of the image read."""

    peak: float
    box: Box


@dataclass(frozen=True)
class WeakLook:
    """Which faint areas of the detector's map `TextReader.scan` returns: at most `limit`,
    above `floor` (a pixel probability), none wider or taller than `max_side` map pixels."""

    floor: float
    limit: int
    max_side: int


class _MapRecorder:
    """Stands in for the detector's onnxruntime session and keeps its last probability map."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.last: np.ndarray | None = None

    def __call__(self, batch: np.ndarray) -> Any:
        output = self.session(batch)
        self.last = output
        return output


@dataclass(frozen=True)
class MapArea:
    """A connected area of a detector's probability map: its extent in 0–1 coordinates of
    the map, its width and height in map pixels, and the probabilities of its pixels."""

    box: Box
    width: int
    height: int
    values: np.ndarray


def map_areas(probabilities: np.ndarray, mask: np.ndarray) -> Iterator[MapArea]:
    """The 8-connected areas of `mask` (a boolean array the shape of the map)."""
    import cv2  # OpenCV ships with rapidocr; only needed where a map is examined

    height, width = probabilities.shape
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        mask.astype(np.uint8), connectivity=8
    )
    for k in range(1, count):
        x, y, w, h = (int(v) for v in stats[k][:4])
        inside = labels[y : y + h, x : x + w] == k
        box = Box(x0=x / width, y0=y / height, x1=(x + w) / width, y1=(y + h) / height)
        yield MapArea(box, w, h, probabilities[y : y + h, x : x + w][inside])


def weak_regions(
    probabilities: np.ndarray, floor: float, limit: int, max_side: int
) -> list[WeakRegion]:
    """The `limit` strongest connected areas of the map above `floor` that stay below
    PIXEL_THRESHOLD everywhere, strongest first.

    An area that reaches the threshold somewhere became a box candidate in the first pass and
    was judged there. Areas wider or taller than `max_side` pixels of the map are texture or
    large lettering, never small text (and, enlarged, would cost seconds to read).
    """
    regions = []
    for area in map_areas(probabilities, probabilities > floor):
        if area.width > max_side or area.height > max_side:
            continue
        peak = float(area.values.max())
        if peak < PIXEL_THRESHOLD:
            regions.append(WeakRegion(peak, area.box))
    regions.sort(key=lambda r: r.peak, reverse=True)
    return regions[:limit]


def ocr_version() -> str:
    return f"rapidocr-{version('rapidocr')}+onnxruntime-{version('onnxruntime')}"


class TextReader:
    """Reads text lines from an image. Engines load lazily, one per thread that uses them."""

    # Importing rapidocr parses its YAML configs: about 0.5 s of Python, once per process.
    _import_lock = threading.Lock()
    _importing: threading.Thread | None = None

    def __init__(self, threads: int = 1, detection_side: int = 640, min_score: float = 0.3) -> None:
        self.threads = threads
        self.detection_side = detection_side
        self.min_score = min_score
        self._local = threading.local()

    @classmethod
    def start_import(cls) -> None:
        """Imports rapidocr on a background thread, once per process, so a caller can do other
        work (the face scan, in native code) meanwhile instead of waiting for it in `read`.

        A failed import raises again where `read` needs the module.
        """
        with cls._import_lock:
            if cls._importing is None:
                cls._importing = threading.Thread(
                    target=importlib.import_module,
                    args=("rapidocr.main",),
                    name="pix-rapidocr-import",
                    daemon=True,
                )
                cls._importing.start()

    def _engine(self) -> Any:
        engine = getattr(self._local, "engine", None)
        if engine is None:
            from rapidocr import RapidOCR  # heavy import: only where text is read

            engine = RapidOCR(
                params={
                    "Global.log_level": "error",
                    # Text on houses and cars is upright: the 180° classifier only costs time.
                    "Global.use_cls": False,
                    # Lines down to this score come back; the caller applies its own
                    # thresholds per kind (a plate-shaped string needs less than free text).
                    "Global.text_score": self.min_score,
                    # Detection on a fixed long edge at most: PP-OCR's detector misses
                    # large lettering at high resolution, and its cost grows with the
                    # pixels. The caller passes tiles already scaled to that edge.
                    "Det.limit_type": "max",
                    "Det.limit_side_len": self.detection_side,
                    # A lower box threshold keeps isolated single digits (house number "4");
                    # the caller filters what it reads.
                    "Det.box_thresh": 0.3,
                    "Det.thresh": PIXEL_THRESHOLD,
                    "EngineConfig.onnxruntime.intra_op_num_threads": self.threads,
                    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                }
            )
            self._local.engine = engine
        return engine

    def _recorder(self, engine: Any) -> _MapRecorder | None:
        """The recorder around this engine's detector session, installed on first use; None
        where the engine is not laid out as expected (then no map, and no second look)."""
        if not hasattr(self._local, "recorder"):
            recorder: _MapRecorder | None = None
            try:
                detector = engine._load_det_model()  # rapidocr 3.x: loads once, returns it
                recorder = _MapRecorder(detector.session)
                detector.session = recorder
            except AttributeError as exc:
                log.warning("text detector map unavailable (%s): no second look", exc)
            self._local.recorder = recorder
        found: _MapRecorder | None = self._local.recorder
        return found

    def read(self, image: Image.Image) -> list[TextLine]:
        """Every text line found, with its score and box in 0–1 coordinates of `image`."""
        return self.scan(image)[0]

    def scan(
        self, image: Image.Image, weak: WeakLook | None = None
    ) -> tuple[list[TextLine], list[WeakRegion]]:
        """The text lines of `image` and, when `weak` is given, the areas its `weak_regions`
        picks from the detector's map (none otherwise)."""
        width, height = image.size
        if min(width, height) < MIN_SIDE:
            return [], []  # a strip lower than a character holds no text (and trips the engine)
        rgb = np.asarray(image.convert("RGB"))
        engine = self._engine()
        recorder = self._recorder(engine) if weak is not None and weak.limit > 0 else None
        if recorder is not None:
            recorder.last = None
        result = engine(rgb[:, :, ::-1].copy())  # the engine expects BGR like OpenCV
        regions: list[WeakRegion] = []
        if weak is not None and recorder is not None and recorder.last is not None:
            probabilities = np.asarray(recorder.last)[0, 0]
            map_height, map_width = probabilities.shape
            # The map spans the image stretched to multiples of 32 px, unless the engine
            # padded a strip first: then it is not this image's, and tells nothing.
            if abs(map_height - map_width * height / width) <= 32:
                regions = weak_regions(probabilities, weak.floor, weak.limit, weak.max_side)
        return self._lines(result, width, height), regions

    @staticmethod
    def _lines(result: Any, width: int, height: int) -> list[TextLine]:
        if result.boxes is None or result.txts is None:
            return []
        lines = []
        for quad, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
            xs = [float(p[0]) for p in quad]
            ys = [float(p[1]) for p in quad]
            box = Box(
                x0=min(max(min(xs) / width, 0.0), 1.0),
                y0=min(max(min(ys) / height, 0.0), 1.0),
                x1=min(max(max(xs) / width, 0.0), 1.0),
                y1=min(max(max(ys) / height, 0.0), 1.0),
            )
            lines.append(TextLine(str(text), float(score), box))
        return lines
