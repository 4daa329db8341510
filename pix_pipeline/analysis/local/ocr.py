"""Text recognition with RapidOCR: PP-OCR ONNX models from the wheel, run by onnxruntime."""

import importlib
import logging
import threading
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import numpy as np
from PIL import Image

from pix_pipeline.domain.models import Box

log = logging.getLogger(__name__)


# The engine pads and rescales images below 30 px; no lettering fits in fewer than this.
MIN_SIDE = 8


@dataclass(frozen=True)
class TextLine:
    text: str
    score: float
    box: Box


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
                    "EngineConfig.onnxruntime.intra_op_num_threads": self.threads,
                    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                }
            )
            self._local.engine = engine
        return engine

    def read(self, image: Image.Image) -> list[TextLine]:
        """Every text line found, with its score and box in 0–1 coordinates of `image`."""
        width, height = image.size
        if min(width, height) < MIN_SIDE:
            return []  # a strip lower than a character holds no text (and trips the engine)
        rgb = np.asarray(image.convert("RGB"))
        result = self._engine()(rgb[:, :, ::-1].copy())  # the engine expects BGR like OpenCV
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
