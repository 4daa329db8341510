"""The storage layout: one place builds every key, and nothing built there leaves its job."""

import pytest

from pix_pipeline.domain import layout
from pix_pipeline.storage.base import StorageError
from pix_pipeline.storage.local import LocalStorage


def test_keys_follow_the_brief():
    assert layout.final_input_key("ABC123", "IMG 1.jpg") == "pix-jobs/ABC123/final_input/IMG 1.jpg"
    assert (
        layout.thumb_key("ABC123", "id", layout.ThumbSize.SMALL)
        == "pix-jobs/ABC123/pipeline/thumbs/id_400.jpg"
    )
    assert layout.depth_key("ABC123", "id") == "pix-jobs/ABC123/pipeline/depth/id.png"
    assert layout.image_meta_key("ABC123", "id") == "pix-jobs/ABC123/pipeline/meta/images/id.json"
    assert layout.job_expose_key("ABC123") == "pix-jobs/ABC123/pipeline/meta/job_expose.json"
    assert layout.gallery_image_key("ABC123", "a.jpg") == "pix-jobs/ABC123/gallery/images/a.jpg"
    assert layout.gallery_expose_key("ABC123") == "pix-jobs/ABC123/gallery/expose.json"
    assert "pix-jobs/ABC123/pipeline/segments" in layout.job_folders("ABC123")


@pytest.mark.parametrize("job_id", ["ABC123", "job-2024_07", "a"])
def test_plain_job_ids_are_valid(job_id: str):
    assert layout.check_job_id(job_id) == job_id


@pytest.mark.parametrize(
    "job_id", ["", "..", "../etc", "a/b", "-lead", "has space", "x" * 65, "ümlaut"]
)
def test_other_job_ids_are_refused(job_id: str):
    with pytest.raises(layout.LayoutError):
        layout.job_prefix(job_id)


@pytest.mark.parametrize("filename", ["", ".", "..", "a/b.jpg", "..\\x.jpg", "nul\x00.jpg"])
def test_filenames_that_leave_the_folder_are_refused(filename: str):
    with pytest.raises(layout.LayoutError):
        layout.final_input_key("ABC", filename)


@pytest.mark.parametrize(
    ("name", "ignored", "jpeg"),
    [
        ("IMG_1.JPG", False, True),
        ("IMG_1.jpeg", False, True),
        ("IMG_1.jpg.part", True, False),
        ("upload.TMP", True, False),
        (".hidden.jpg", True, True),
        ("~lock.jpg", True, True),
        ("plan.pdf", False, False),
    ],
)
def test_candidate_and_temporary_names(name: str, ignored: bool, jpeg: bool):
    assert layout.is_ignored_name(name) is ignored
    assert layout.is_jpeg_name(name) is jpeg


def test_local_storage_refuses_keys_outside_its_root(tmp_path):
    storage = LocalStorage(tmp_path)
    for key in ("../x", "/etc/passwd", "a/../../b", "a//b", ""):
        with pytest.raises(StorageError):
            storage.path(key)


def test_local_writes_are_atomic_and_leave_no_temp_files(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.write_bytes("pix-jobs/A/pipeline/meta/x.json", b"one")
    storage.write_bytes("pix-jobs/A/pipeline/meta/x.json", b"two")
    folder = tmp_path / "pix-jobs/A/pipeline/meta"
    assert [p.name for p in folder.iterdir()] == ["x.json"]
    assert storage.read_bytes("pix-jobs/A/pipeline/meta/x.json") == b"two"
    storage.copy("pix-jobs/A/pipeline/meta/x.json", "pix-jobs/A/gallery/y.json")
    assert (tmp_path / "pix-jobs/A/gallery/y.json").read_bytes() == b"two"
    assert storage.delete("pix-jobs/A/gallery/y.json") is True
    assert storage.delete("pix-jobs/A/gallery/y.json") is False
