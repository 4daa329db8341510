"""The storage layout of the brief: every key the pipeline reads or writes is built here.

Keys are '/'-separated and relative to the storage root (the folder or bucket prefix that
contains `pix-jobs/`). Job ids and filenames are checked before they become part of a key,
so nothing built here can point outside its job folder.
"""

import re
from enum import StrEnum

JOBS_ROOT = "pix-jobs"

# A job id becomes a folder name, a Dagster partition key and a database key: keep it plain.
JOB_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
JPEG_SUFFIXES = (".jpg", ".jpeg")
TEMP_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial")


class ThumbSize(StrEnum):
    """The two previews of every image, named by their long edge."""

    SMALL = "400"
    LARGE = "1600"

    @property
    def long_edge(self) -> int:
        return int(self.value)


class LayoutError(ValueError):
    """A job id or filename that must not become part of a storage key."""


def is_valid_job_id(job_id: str) -> bool:
    return bool(JOB_ID_PATTERN.fullmatch(job_id))


def check_job_id(job_id: str) -> str:
    if not is_valid_job_id(job_id):
        raise LayoutError(
            f"{job_id!r} is not a valid job id: use 1-64 letters, digits, '-' or '_',"
            " starting with a letter or digit"
        )
    return job_id


def check_filename(filename: str) -> str:
    if (
        not filename
        or filename in (".", "..")
        or "/" in filename
        or "\\" in filename
        or "\x00" in filename
    ):
        raise LayoutError(f"{filename!r} is not a plain file name")
    return filename


def is_ignored_name(filename: str) -> bool:
    """Hidden files and the temporary names uploaders use while a file is still arriving."""
    lower = filename.lower()
    return filename.startswith((".", "~")) or lower.endswith(TEMP_SUFFIXES)


def is_jpeg_name(filename: str) -> bool:
    return filename.lower().endswith(JPEG_SUFFIXES)


def health_probe_key(token: str) -> str:
    """A short-lived object a health check writes, reads and deletes next to the job folders;
    a file, never a folder, so no sensor takes it for a job."""
    if not token.isalnum():
        raise LayoutError(f"a health probe token is letters and digits, got {token!r}")
    return f"{JOBS_ROOT}/.health-probe-{token}"


def job_prefix(job_id: str) -> str:
    return f"{JOBS_ROOT}/{check_job_id(job_id)}"


def final_input_prefix(job_id: str) -> str:
    return f"{job_prefix(job_id)}/final_input"


def final_input_key(job_id: str, filename: str) -> str:
    return f"{final_input_prefix(job_id)}/{check_filename(filename)}"


def pipeline_prefix(job_id: str) -> str:
    return f"{job_prefix(job_id)}/pipeline"


def thumbs_prefix(job_id: str) -> str:
    return f"{pipeline_prefix(job_id)}/thumbs"


def thumb_key(job_id: str, image_id: str, size: ThumbSize) -> str:
    return f"{thumbs_prefix(job_id)}/{check_filename(image_id)}_{size.value}.jpg"


def customer_view_prefix(job_id: str) -> str:
    return f"{pipeline_prefix(job_id)}/customer_view"


def customer_view_key(job_id: str, image_id: str, fingerprint: str) -> str:
    """The desk's "Kundenansicht": the large internal preview with the photo's redactions, for
    one fingerprint of its areas and rendition (a change makes a new file). Internal, like
    everything under pipeline/: never what the gallery holds."""
    name = f"{check_filename(image_id)}_{check_filename(fingerprint)}.jpg"
    return f"{customer_view_prefix(job_id)}/{name}"


def depth_prefix(job_id: str) -> str:
    return f"{pipeline_prefix(job_id)}/depth"


def depth_key(job_id: str, image_id: str) -> str:
    return f"{depth_prefix(job_id)}/{check_filename(image_id)}.png"


def segments_prefix(job_id: str) -> str:
    return f"{pipeline_prefix(job_id)}/segments"


def meta_prefix(job_id: str) -> str:
    return f"{pipeline_prefix(job_id)}/meta"


def image_meta_prefix(job_id: str) -> str:
    return f"{meta_prefix(job_id)}/images"


def image_meta_key(job_id: str, image_id: str) -> str:
    return f"{image_meta_prefix(job_id)}/{check_filename(image_id)}.json"


def job_expose_key(job_id: str) -> str:
    return f"{meta_prefix(job_id)}/job_expose.json"


def gallery_prefix(job_id: str) -> str:
    return f"{job_prefix(job_id)}/gallery"


def gallery_images_prefix(job_id: str) -> str:
    return f"{gallery_prefix(job_id)}/images"


def gallery_image_key(job_id: str, filename: str) -> str:
    return f"{gallery_images_prefix(job_id)}/{check_filename(filename)}"


def gallery_previews_prefix(job_id: str, size: ThumbSize) -> str:
    return f"{gallery_prefix(job_id)}/previews/{size.value}"


def gallery_preview_key(job_id: str, filename: str, size: ThumbSize) -> str:
    """The released copy of a photo's preview: changed only with the gallery, unlike thumbs/."""
    return f"{gallery_previews_prefix(job_id, size)}/{check_filename(filename)}"


def gallery_expose_key(job_id: str) -> str:
    return f"{gallery_prefix(job_id)}/expose.json"


def gallery_relative(job_id: str, key: str) -> str:
    """A gallery key as the customer's document names it: relative to gallery/."""
    prefix = f"{gallery_prefix(job_id)}/"
    if not key.startswith(prefix):
        raise LayoutError(f"{key!r} is not inside the gallery of job {job_id}")
    return key.removeprefix(prefix)


def job_folders(job_id: str) -> tuple[str, ...]:
    """Every folder of the brief's section 9, so a job looks complete even before it has output."""
    return (
        final_input_prefix(job_id),
        thumbs_prefix(job_id),
        depth_prefix(job_id),
        segments_prefix(job_id),
        meta_prefix(job_id),
        image_meta_prefix(job_id),
        gallery_images_prefix(job_id),
    )
