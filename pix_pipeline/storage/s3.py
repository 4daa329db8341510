"""Storage on S3-compatible object storage (Cloudflare R2 in production).

The client comes from `make_s3_client`; in Dagster processes dagster-aws' S3Resource builds it
(`pix_pipeline.defs.s3.R2S3Resource`).

Keys live under an optional prefix in one bucket. Objects are written whole: a single PUT, or
a multipart upload for large files, which S3 only makes visible once it completes. Listings
use the '/' delimiter and follow every page.
"""

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from pix_pipeline.storage.base import Storage, StorageError, StoredFile

PROVENANCE_METADATA = "source"  # x-amz-meta-source
MULTIPART_THRESHOLD = 64 * 1024 * 1024
NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


def make_s3_client(
    *,
    endpoint_url: str | None,
    region_name: str | None,
    max_attempts: int = 5,
    connect_timeout: float = 10.0,
    read_timeout: float = 30.0,
    profile_name: str | None = None,
    use_ssl: bool = True,
    verify: bool | str | None = None,
    aws_access_key_id: str | None = None,
    aws_secret_access_key: str | None = None,
    aws_session_token: str | None = None,
) -> Any:
    """A boto3 S3 client with the request and response checksums R2 accepts.

    boto3 >= 1.36 sends CRC checksums on every upload by default; R2 rejects some of them.
    `when_required` sends and checks them only where the S3 API demands it. Credentials not
    given here come from the standard AWS variables.
    """
    session = boto3.session.Session(profile_name=profile_name)
    return session.client(
        "s3",
        region_name=region_name,
        endpoint_url=endpoint_url,
        use_ssl=use_ssl,
        verify=verify,
        aws_access_key_id=aws_access_key_id,
        aws_secret_access_key=aws_secret_access_key,
        aws_session_token=aws_session_token,
        config=Config(
            # botocore waits 60 s per attempt by default: a hung endpoint would outlast the
            # sensor's 60 s evaluation limit on the first call.
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": max_attempts, "mode": "standard"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _ns(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000) * 1000


class S3Storage(Storage):
    """Keys map onto `{prefix}/{key}` in `bucket`."""

    atomic_uploads = True
    page_size = 1000  # keys per listing call, the S3 maximum

    def __init__(self, client: Any, bucket: str, prefix: str = "", endpoint: str | None = None):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint = endpoint

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.object_key(key)}"

    def describe(self) -> str:
        where = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        return f"{where} at {self.endpoint}" if self.endpoint else where

    def object_key(self, key: str) -> str:
        parts = key.split("/")
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise StorageError(f"refusing storage key {key!r}: not a plain relative key")
        return f"{self.prefix}/{key}" if self.prefix else key

    def _folder(self, prefix: str) -> str:
        return self.object_key(prefix) + "/"

    @contextmanager
    def _errors(self, what: str, action: str) -> Iterator[None]:
        """A missing object becomes FileNotFoundError, any other S3 failure StorageError."""
        try:
            yield
        except ClientError as exc:
            if _code(exc) in NOT_FOUND:
                raise FileNotFoundError(what) from None
            raise StorageError(f"S3 {action} of {what} in {self.bucket} failed: {exc}") from exc
        except (BotoCoreError, boto3.exceptions.S3UploadFailedError) as exc:
            raise StorageError(f"S3 {action} of {what} in {self.bucket} failed: {exc}") from exc

    def _call(self, what: str, method: str, **params: Any) -> Any:
        with self._errors(what, method):
            return getattr(self.client, method)(Bucket=self.bucket, **params)

    def _pages(self, folder: str, **extra: Any) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            params: dict[str, Any] = {
                "Prefix": folder,
                "Delimiter": "/",
                "MaxKeys": self.page_size,
                **extra,
            }
            if token:
                params["ContinuationToken"] = token
            page = self._call(folder, "list_objects_v2", **params)
            yield page
            if not page.get("IsTruncated"):
                return
            token = page.get("NextContinuationToken")

    def list_folders(self, prefix: str) -> list[str]:
        folder = self._folder(prefix)
        names = [
            common["Prefix"][len(folder) :].rstrip("/")
            for page in self._pages(folder)
            for common in page.get("CommonPrefixes", [])
        ]
        return sorted(n for n in names if n)

    def list_files(self, prefix: str) -> list[StoredFile]:
        folder = self._folder(prefix)
        files = [
            StoredFile(obj["Key"][len(folder) :], int(obj["Size"]), _ns(obj["LastModified"]))
            for page in self._pages(folder)
            for obj in page.get("Contents", [])
            if obj["Key"] != folder  # the folder marker itself
        ]
        files.sort(key=lambda f: f.name)
        return files

    def read_bytes(self, key: str) -> bytes:
        body = self._call(key, "get_object", Key=self.object_key(key))["Body"]
        try:
            data: bytes = body.read()
        finally:
            body.close()
        return data

    def write_bytes(self, key: str, data: bytes) -> None:
        target = self.object_key(key)
        if len(data) < MULTIPART_THRESHOLD:
            self._call(key, "put_object", Key=target, Body=data)
            return
        config = TransferConfig(
            multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_THRESHOLD
        )
        with self._errors(key, "upload"):
            self.client.upload_fileobj(io.BytesIO(data), self.bucket, target, Config=config)

    def copy(self, src: str, dst: str) -> None:
        source = {"Bucket": self.bucket, "Key": self.object_key(src)}
        with self._errors(src, f"copy to {dst}"):
            # Managed copy: server-side, multipart above the threshold, visible when complete.
            self.client.copy(source, self.bucket, self.object_key(dst))

    def delete(self, key: str) -> bool:
        if not self.exists(key):
            return False
        self._call(key, "delete_object", Key=self.object_key(key))
        return True

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            head: dict[str, Any] = self._call(key, "head_object", Key=self.object_key(key))
        except FileNotFoundError:
            return None
        return head

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def exists_folder(self, prefix: str) -> bool:
        page = self._call(prefix, "list_objects_v2", Prefix=self._folder(prefix), MaxKeys=1)
        return int(page.get("KeyCount", 0)) > 0

    def ensure_folder(self, prefix: str) -> None:
        """Nothing to do: folders are implicit on S3 and appear with their first object."""

    def provenance(self, key: str) -> str | None:
        head = self._head(key)
        if head is None:
            return None
        value = head.get("Metadata", {}).get(PROVENANCE_METADATA)
        return None if value is None else str(value).strip()
