"""Properties of job-id and file-name handling, over arbitrary text (hypothesis)."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pix_pipeline.domain import layout
from pix_pipeline.domain.layout import LayoutError
from pix_pipeline.storage.base import StorageError
from pix_pipeline.storage.local import LocalStorage

ROOT = Path("/srv/pix-root")
ANY_TEXT = st.text(min_size=0, max_size=80)
# Text that looks like a path: separators, dots and control characters are common in it.
PATHISH = st.text(alphabet=st.sampled_from(list("ab./\\\x00\n -_~ÄÖ📷")), max_size=20)
VALID_JOB_IDS = st.from_regex(layout.JOB_ID_PATTERN, fullmatch=True)


@given(st.one_of(ANY_TEXT, PATHISH))
def test_an_accepted_job_id_is_a_single_safe_path_component(name: str):
    if not layout.is_valid_job_id(name):
        with pytest.raises(LayoutError):
            layout.job_prefix(name)
        return
    assert 1 <= len(name) <= 64
    assert name.isascii() and name[0].isalnum()
    assert not set(name) & set("/\\.\x00\n\r \t")
    path = LocalStorage(ROOT).path(layout.final_input_prefix(name))
    assert path == ROOT / "pix-jobs" / name / "final_input"


@given(VALID_JOB_IDS)
def test_every_id_of_the_documented_form_is_accepted(job_id: str):
    assert layout.is_valid_job_id(job_id)
    assert layout.job_prefix(job_id) == f"pix-jobs/{job_id}"


@given(st.one_of(ANY_TEXT, PATHISH))
def test_a_file_name_either_maps_into_its_own_folder_or_is_refused(name: str):
    try:
        key = layout.gallery_image_key("JOB1", name)
    except LayoutError:
        assert name in ("", ".", "..") or set(name) & set("/\\\x00")
        return
    assert key == f"pix-jobs/JOB1/gallery/images/{name}"
    path = LocalStorage(ROOT).path(key)
    assert path.parent == ROOT / "pix-jobs" / "JOB1" / "gallery" / "images"
    assert path.name == name


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(ANY_TEXT, PATHISH), max_size=6))
def test_storage_keys_never_resolve_outside_the_root(tmp_path: Path, parts: list[str]):
    storage = LocalStorage(tmp_path)
    key = "/".join(parts)
    try:
        path = storage.path(key)
    except StorageError:
        return
    assert path.is_relative_to(tmp_path.resolve())
    assert ".." not in path.relative_to(tmp_path.resolve()).parts


@given(ANY_TEXT, st.sampled_from([".part", ".TMP", ".crdownload", ".partial"]))
def test_temporary_and_hidden_names_are_ignored(base: str, suffix: str):
    assert layout.is_ignored_name(base + suffix)
    assert layout.is_ignored_name("." + base) and layout.is_ignored_name("~" + base)


@given(ANY_TEXT, st.sampled_from([".jpg", ".JPG", ".jpeg", ".JpEg"]))
def test_jpeg_names_are_recognised_in_any_case(base: str, suffix: str):
    assert layout.is_jpeg_name(base + suffix)
    assert not layout.is_jpeg_name(base + suffix + ".png")
