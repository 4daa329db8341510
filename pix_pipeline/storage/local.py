"""Storage on the local filesystem: a folder that contains pix-jobs/."""

import errno
import os
import shutil
import tempfile
import time
from pathlib import Path

from pix_pipeline.storage.base import Storage, StorageError, StoredFile

PROVENANCE_XATTR = "user.source"
# A folder modified this recently has no trustworthy stamp: file systems store mtimes with a
# coarse clock (up to 2 s on FAT), so a second change in the same tick could keep the mtime.
RACY_STAMP_NS = 5 * 10**9
TEMP_SUFFIX = ".tmp"


def _process_umask() -> int:
    """The process's umask, from /proc where Linux shows it (no change, safe with threads)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    # Elsewhere the umask can only be read by setting it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temp_file(target: Path) -> tuple[int, str]:
    """A temp file next to `target` with the mode a plain open() would give (0666 & ~umask).

    mkstemp makes its files 0600, so a web server running as another user could not read the
    gallery once the temp file is renamed into place.
    """
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=TEMP_SUFFIX)
    try:
        os.fchmod(fd, 0o666 & ~_process_umask())
    except BaseException:
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)
        raise
    return fd, tmp


class LocalStorage(Storage):
    """Keys map onto paths below `root`; writes go to a temp file and are renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def describe(self) -> str:
        return str(self.root)

    def location(self, key: str) -> str:
        return str(self.path(key))

    def path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise StorageError(f"refusing storage key {key!r}: not a plain relative key")
        return self.root.joinpath(*parts)

    def list_folders(self, prefix: str) -> list[str]:
        try:
            with os.scandir(self.path(prefix)) as entries:
                return sorted(e.name for e in entries if e.is_dir(follow_symlinks=False))
        except FileNotFoundError:
            return []

    def list_files(self, prefix: str) -> list[StoredFile]:
        files: list[StoredFile] = []
        try:
            with os.scandir(self.path(prefix)) as entries:
                for entry in entries:
                    if not entry.is_file(follow_symlinks=False):
                        continue
                    try:
                        stat = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:  # removed between listing and stat
                        continue
                    files.append(StoredFile(entry.name, stat.st_size, stat.st_mtime_ns))
        except FileNotFoundError:
            return []
        files.sort(key=lambda f: f.name)
        return files

    def folder_stamp(self, prefix: str) -> str | None:
        try:
            stat = os.stat(self.path(prefix))
        except FileNotFoundError:
            return None
        if time.time_ns() - stat.st_mtime_ns < RACY_STAMP_NS:
            return None
        # Creating, deleting or renaming an entry updates the folder's mtime; the device and
        # inode catch a folder replaced by another one.
        return f"{stat.st_dev}:{stat.st_ino}:{stat.st_mtime_ns}"

    def remove_stale_temp_files(self, prefix: str, older_than_ns: int) -> list[str]:
        removed = []
        for stored in self.list_files(prefix):
            # The names write_bytes and copy give their temp files: ".{name}.{random}.tmp".
            temp = stored.name.startswith(".") and stored.name.endswith(TEMP_SUFFIX)
            if temp and stored.mtime_ns < older_than_ns and self.delete(f"{prefix}/{stored.name}"):
                removed.append(stored.name)
        return removed

    def read_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def write_bytes(self, key: str, data: bytes) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _temp_file(target)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def copy(self, src: str, dst: str) -> None:
        source = self.path(src)
        target = self.path(dst)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _temp_file(target)
        os.close(fd)
        try:
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def delete(self, key: str) -> bool:
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def exists_folder(self, prefix: str) -> bool:
        return self.path(prefix).is_dir()

    def ensure_folder(self, prefix: str) -> None:
        self.path(prefix).mkdir(parents=True, exist_ok=True)

    def provenance(self, key: str) -> str | None:
        getxattr = getattr(os, "getxattr", None)
        if getxattr is None:
            return None
        try:
            raw: bytes = getxattr(self.path(key), PROVENANCE_XATTR)
        except OSError as exc:
            if exc.errno in (
                errno.ENODATA,
                errno.ENOTSUP,
                errno.ENOENT,
                getattr(errno, "ENOATTR", -1),
            ):
                return None
            raise
        return raw.decode("utf-8", errors="replace").strip()
