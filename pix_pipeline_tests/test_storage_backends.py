"""Both storage backends behave the same: the local folder and S3 (a real endpoint over HTTP)."""

import os
from pathlib import Path

import boto3
import pytest

from pix_pipeline.defs.s3 import R2S3Resource
from pix_pipeline.settings import load_settings
from pix_pipeline.storage import s3 as s3_module
from pix_pipeline.storage.base import Storage, StorageError
from pix_pipeline.storage.local import LocalStorage
from pix_pipeline.storage.s3 import S3Storage


def s3_storage(endpoint: str, bucket: str, prefix: str = "", **options: object) -> S3Storage:
    """S3 storage with its client from the Dagster resource, as in a run."""
    resource = R2S3Resource(endpoint_url=endpoint, region_name="us-east-1", **options)
    return S3Storage(resource.get_client(), bucket, prefix, endpoint)


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "root")
    bucket: str = request.getfixturevalue("s3_bucket")
    endpoint: str = request.getfixturevalue("s3_endpoint")
    return s3_storage(endpoint, bucket, "prod/")


def set_source(storage: Storage, key: str, source: str) -> None:
    """Attach provenance the way each uploader does: xattr locally, object metadata on S3."""
    if isinstance(storage, LocalStorage):
        try:
            os.setxattr(storage.path(key), "user.source", source.encode())
        except OSError as exc:
            pytest.skip(f"this filesystem has no user xattrs: {exc}")
    else:
        assert isinstance(storage, S3Storage)
        data = storage.read_bytes(key)
        storage.client.put_object(
            Bucket=storage.bucket,
            Key=storage.object_key(key),
            Body=data,
            Metadata={"source": source},
        )


def test_write_read_list_copy_delete(storage: Storage):
    storage.write_bytes("pix-jobs/J1/final_input/b.jpg", b"bbb")
    storage.write_bytes("pix-jobs/J1/final_input/a.jpg", b"a")
    storage.write_bytes("pix-jobs/J1/final_input/raw/nested.jpg", b"n")
    storage.write_bytes("pix-jobs/J2/gallery/expose.json", b"{}")

    assert storage.list_folders("pix-jobs") == ["J1", "J2"]
    assert storage.list_folders("pix-jobs/J1/final_input") == ["raw"]
    files = storage.list_files("pix-jobs/J1/final_input")
    assert [(f.name, f.size) for f in files] == [("a.jpg", 1), ("b.jpg", 3)]
    assert all(f.mtime_ns > 0 for f in files)
    assert storage.read_bytes("pix-jobs/J1/final_input/b.jpg") == b"bbb"

    storage.write_bytes("pix-jobs/J1/final_input/b.jpg", b"replaced")
    assert storage.read_bytes("pix-jobs/J1/final_input/b.jpg") == b"replaced"
    storage.copy("pix-jobs/J1/final_input/b.jpg", "pix-jobs/J1/gallery/images/b.jpg")
    assert storage.read_bytes("pix-jobs/J1/gallery/images/b.jpg") == b"replaced"

    assert storage.exists("pix-jobs/J1/final_input/a.jpg")
    assert storage.delete("pix-jobs/J1/final_input/a.jpg") is True
    assert storage.delete("pix-jobs/J1/final_input/a.jpg") is False
    assert not storage.exists("pix-jobs/J1/final_input/a.jpg")
    with pytest.raises(FileNotFoundError):
        storage.read_bytes("pix-jobs/J1/final_input/a.jpg")


def test_missing_and_empty_folders(storage: Storage):
    assert storage.list_files("pix-jobs/NOPE/final_input") == []
    assert storage.list_folders("pix-jobs") == []
    assert not storage.exists_folder("pix-jobs")
    storage.ensure_folder("pix-jobs")
    assert storage.list_folders("pix-jobs") == []
    assert storage.list_files("pix-jobs") == []
    storage.write_bytes("pix-jobs/J1/final_input/a.jpg", b"a")
    assert storage.exists_folder("pix-jobs") and storage.exists_folder("pix-jobs/J1")
    assert not storage.exists_folder("pix-jobs/J2")


@pytest.mark.parametrize("key", ["", "/abs.jpg", "pix-jobs/../x.jpg", "pix-jobs//x.jpg", "a/./b"])
def test_keys_that_leave_the_layout_are_refused(storage: Storage, key: str):
    with pytest.raises(StorageError, match="refusing storage key"):
        storage.write_bytes(key, b"x")


def test_provenance(storage: Storage):
    storage.write_bytes("pix-jobs/J1/final_input/a.jpg", b"a")
    assert storage.provenance("pix-jobs/J1/final_input/a.jpg") is None
    set_source(storage, "pix-jobs/J1/final_input/a.jpg", "manual")
    assert storage.provenance("pix-jobs/J1/final_input/a.jpg") == "manual"


def test_s3_keys_live_under_the_prefix(s3_endpoint: str, s3_bucket: str):
    storage = s3_storage(s3_endpoint, s3_bucket, "/prod/")
    storage.write_bytes("pix-jobs/J1/final_input/a.jpg", b"a")
    raw = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    keys = [o["Key"] for o in raw.list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert keys == ["prod/pix-jobs/J1/final_input/a.jpg"]
    assert storage.describe() == f"s3://{s3_bucket}/prod at {s3_endpoint}"


def test_s3_listing_follows_every_page(s3_endpoint: str, s3_bucket: str):
    storage = s3_storage(s3_endpoint, s3_bucket)
    storage.page_size = 3
    for i in range(8):
        storage.write_bytes(f"pix-jobs/JOB{i}/final_input/{i}.jpg", b"x")
        storage.write_bytes(f"pix-jobs/JOB0/final_input/extra_{i}.jpg", b"y")
    calls: list[str] = []
    storage.client.meta.events.register(
        "before-call.s3.ListObjectsV2", lambda **kw: calls.append("list")
    )
    assert storage.list_folders("pix-jobs") == [f"JOB{i}" for i in range(8)]
    assert len(calls) == 3  # 8 prefixes, 3 per page
    names = [f.name for f in storage.list_files("pix-jobs/JOB0/final_input")]
    assert names == ["0.jpg"] + [f"extra_{i}.jpg" for i in range(8)]


def test_s3_large_files_are_uploaded_in_parts(
    s3_endpoint: str, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(s3_module, "MULTIPART_THRESHOLD", 5 * 1024 * 1024)
    storage = s3_storage(s3_endpoint, s3_bucket)
    parts: list[str] = []
    storage.client.meta.events.register(
        "before-call.s3.UploadPart", lambda **kw: parts.append("part")
    )
    data = os.urandom(11 * 1024 * 1024)
    storage.write_bytes("pix-jobs/J1/final_input/big.jpg", data)
    assert len(parts) == 3
    assert storage.read_bytes("pix-jobs/J1/final_input/big.jpg") == data


def test_r2_checksums_only_when_required(s3_endpoint: str):
    client = R2S3Resource(endpoint_url=s3_endpoint, region_name="auto").get_client()
    assert client.meta.config.request_checksum_calculation == "when_required"
    assert client.meta.config.response_checksum_validation == "when_required"
    assert client.meta.region_name == "auto"


def test_s3_errors_become_storage_errors(s3_endpoint: str, s3_bucket: str):
    storage = s3_storage(s3_endpoint, s3_bucket + "-missing")
    with pytest.raises(StorageError, match="list_objects_v2"):
        storage.list_folders("pix-jobs")
    unreachable = s3_storage("http://127.0.0.1:9", s3_bucket, max_attempts=1)
    with pytest.raises(StorageError, match="failed"):
        unreachable.list_files("pix-jobs/J1/final_input")


def test_s3_settings(tmp_path: Path):
    s = load_settings(
        {
            "PIX_STORAGE_BACKEND": "s3",
            "PIX_S3_BUCKET": "pix",
            "PIX_S3_PREFIX": "/prod/",
            "PIX_S3_ENDPOINT_URL": "https://acc.r2.cloudflarestorage.com",
        },
        cwd=tmp_path,
    )
    assert s.storage_backend == "s3" and s.s3 is not None
    assert (s.s3.bucket, s.s3.prefix, s.s3.region) == ("pix", "prod", "auto")
    with pytest.raises(Exception, match="PIX_S3_BUCKET must name the bucket"):
        load_settings({"PIX_STORAGE_BACKEND": "s3"}, cwd=tmp_path)
    with pytest.raises(Exception, match="PIX_S3_ENDPOINT_URL must start with"):
        load_settings(
            {"PIX_STORAGE_BACKEND": "s3", "PIX_S3_BUCKET": "b", "PIX_S3_ENDPOINT_URL": "r2.host"},
            cwd=tmp_path,
        )


def test_local_folder_stamps_change_with_entries_and_are_withheld_while_racy(tmp_path: Path):
    storage = LocalStorage(tmp_path)
    folder = tmp_path / "pix-jobs" / "J1" / "final_input"
    folder.mkdir(parents=True)
    prefix = "pix-jobs/J1/final_input"
    assert storage.folder_stamp(prefix) is None  # just created: too fresh to vouch for
    os.utime(folder, ns=(10**18, 10**18))
    stamp = storage.folder_stamp(prefix)
    assert stamp is not None and stamp == storage.folder_stamp(prefix)
    (folder / "a.jpg").write_bytes(b"x")
    assert storage.folder_stamp(prefix) is None
    os.utime(folder, ns=(10**18 + 1, 10**18 + 1))
    assert storage.folder_stamp(prefix) not in (None, stamp)
    assert storage.folder_stamp("pix-jobs/J2/final_input") is None


def test_s3_has_no_folder_stamps(s3_endpoint: str, s3_bucket: str):
    storage = s3_storage(s3_endpoint, s3_bucket)
    storage.write_bytes("pix-jobs/J1/final_input/a.jpg", b"x")
    assert storage.folder_stamp("pix-jobs/J1/final_input") is None


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_local_files_get_the_mode_of_a_plain_open_not_the_temp_files_0600(
    tmp_path: Path, umask: int, mode: int
):
    storage = LocalStorage(tmp_path)
    storage.write_bytes("pix-jobs/J1/final_input/a.jpg", b"original")
    previous = os.umask(umask)
    try:
        storage.write_bytes("pix-jobs/J1/gallery/images/a.jpg", b"first")
        storage.write_bytes("pix-jobs/J1/gallery/images/a.jpg", b"second")  # replaced in place
        storage.copy("pix-jobs/J1/final_input/a.jpg", "pix-jobs/J1/gallery/images/b.jpg")
    finally:
        os.umask(previous)
    folder = tmp_path / "pix-jobs/J1/gallery/images"
    for name in ("a.jpg", "b.jpg"):
        assert (folder / name).stat().st_mode & 0o777 == mode, name
    assert (folder / "a.jpg").read_bytes() == b"second"
    assert sorted(p.name for p in folder.iterdir()) == ["a.jpg", "b.jpg"]  # no temp files left
