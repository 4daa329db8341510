"""The storage interface: one small set of operations on '/'-separated keys.

Keys come from `pix_pipeline.domain.layout`. Writes are whole-object: a reader sees the old
content or the new one, never a partial file.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class StoredFile:
    """A file directly inside a listed folder."""

    name: str
    size: int
    mtime_ns: int


class StorageError(OSError):
    """The storage backend could not do what was asked."""


class Storage(ABC):
    """Where pix-jobs/ lives."""

    # True where an object becomes visible only once completely written (S3): such files need
    # no settle time before they are read.
    atomic_uploads = False

    @abstractmethod
    def describe(self) -> str:
        """A human-readable location, for logs and metadata."""

    @abstractmethod
    def location(self, key: str) -> str:
        """Where `key` is for a person: a filesystem path or an s3:// URL."""

    @abstractmethod
    def list_folders(self, prefix: str) -> list[str]:
        """Names of the folders directly under `prefix` (empty when it does not exist)."""

    @abstractmethod
    def list_files(self, prefix: str) -> list[StoredFile]:
        """Regular files directly under `prefix`; sub-folders and links are not listed."""

    def folder_stamp(self, prefix: str) -> str | None:
        """A token that changes whenever a file is added to, removed from or renamed in `prefix`.

        None where the backend has no such token, or cannot vouch for it right now; callers
        then list the folder. A file rewritten in place keeps the token unchanged.
        """
        return None

    @abstractmethod
    def read_bytes(self, key: str) -> bytes:
        """The whole content of `key`; FileNotFoundError when it does not exist."""

    @abstractmethod
    def write_bytes(self, key: str, data: bytes) -> None:
        """Replace `key` atomically with `data`."""

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Remove `key`; False when it was already gone."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def exists_folder(self, prefix: str) -> bool:
        """Whether `prefix` is there at all (an empty folder counts)."""

    @abstractmethod
    def ensure_folder(self, prefix: str) -> None:
        """Make an (empty) folder visible; a no-op where folders are implicit."""

    @abstractmethod
    def provenance(self, key: str) -> str | None:
        """The `source` the uploader attached to the file, if the backend can carry one."""

    def remove_stale_temp_files(self, prefix: str, older_than_ns: int) -> list[str]:
        """Delete temp files a killed writer left in `prefix` before `older_than_ns`.

        Only backends whose writes go through visible temp files have any; returns their names.
        """
        return []

    def copy(self, src: str, dst: str) -> None:
        """Copy `src` to `dst` atomically."""
        self.write_bytes(dst, self.read_bytes(src))
