"""The S3 target: backups streamed to S3-compatible storage with multipart uploads.

Why multipart: a dump of any size goes up in fixed parts, so memory stays at
one part (``part_size_mb``, 8 MiB by default) whatever the dump size, and
nothing is visible under the key until :meth:`S3Writer.commit` completes the
upload - an interrupted run leaves no object, only an upload that
:meth:`S3Writer.abort` removes (and that S3 lifecycle rules expire anyway).

boto3 is imported when a target is first used, so the plugin loads and its
entries are validated without it; using one without boto3 raises
:class:`S3Unavailable` saying what to install.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pruvon_backup_s3.settings import DEFAULT_PART_MB, part_size

INSTALL_HINT = "the s3 backup target needs boto3: pip install 'pruvon[s3]'"
CONNECT_TIMEOUT, READ_TIMEOUT, RETRIES = 10, 120, 3


class S3TargetError(OSError):
    """An S3 request failed (unreachable endpoint, denied, no such bucket): the reason."""


class S3Unavailable(S3TargetError):
    """boto3 is not installed."""


def _boto3() -> Any:
    try:
        import boto3
    except ImportError as exc:  # the plugin loads without its extra
        raise S3Unavailable(INSTALL_HINT) from exc
    return boto3


def _described(exc: Exception, what: str) -> S3TargetError:
    """A boto error as one line naming what failed (never the credentials)."""
    code = _error_code(exc)
    reason = f"{code}: {exc}" if code else str(exc)
    return S3TargetError(f"s3 {what}: {reason}")


KEEP_KEYS = ("keep_daily_days", "keep_weekly_num", "keep_monthly_num")


@dataclass(frozen=True)
class S3Target:
    """One ``type: s3`` entry of ``backup.targets``; implements the backups ``Target``."""

    name: str
    description: str
    bucket: str = ""
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    part_size: int = DEFAULT_PART_MB * 1024 * 1024
    keep: dict[str, int] = field(default_factory=dict, compare=False)

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> S3Target:
        """The target of a validated config entry."""
        bucket = str(entry.get("bucket", ""))
        prefix = str(entry.get("prefix") or "")
        endpoint = entry.get("endpoint_url")
        where = f"s3://{bucket}/{prefix}" + (f" at {endpoint}" if endpoint else "")
        return cls(name=str(entry.get("name", "s3")), description=f"S3 bucket {where}",
                   bucket=bucket, prefix=prefix, endpoint_url=endpoint,
                   region=entry.get("region"), access_key_id=entry.get("access_key_id"),
                   secret_access_key=entry.get("secret_access_key"),
                   part_size=part_size(entry),
                   keep={k: int(entry[k]) for k in KEEP_KEYS if entry.get(k) is not None})

    # -- the client --------------------------------------------------------------
    @functools.cached_property
    def client(self) -> Any:
        """One boto3 client per target (thread-safe for requests), made on first use."""
        boto3 = _boto3()
        from botocore.config import Config

        config = Config(connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT,
                        retries={"max_attempts": RETRIES, "mode": "standard"},
                        signature_version="s3v4")
        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint_url,
            region_name=self.region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key, config=config)

    def object_key(self, key: str) -> str:
        """The object's key: the prefix, then the backup's relative key."""
        key = key.lstrip("/")
        if not self.prefix:
            return key
        return self.prefix.rstrip("/") + "/" + key

    def _call(self, what: str, method: str, **kwargs: Any) -> Any:
        client = self.client  # S3Unavailable first when boto3 is missing
        botocore_exceptions = _botocore_errors()
        try:
            return getattr(client, method)(Bucket=self.bucket, **kwargs)
        except botocore_exceptions as exc:
            raise _described(exc, what) from exc

    # -- the Target protocol -----------------------------------------------------
    def open_writer(self, key: str) -> S3Writer:
        return S3Writer(self, self.object_key(key))

    def open_reader(self, key: str) -> IO[bytes]:
        response = self._call(f"read {key}", "get_object", Key=self.object_key(key))
        return _Reader(response["Body"])

    def delete(self, key: str) -> None:
        self._call(f"delete {key}", "delete_object", Key=self.object_key(key))

    def exists(self, key: str) -> bool:
        try:
            self._call(f"look up {key}", "head_object", Key=self.object_key(key))
        except S3TargetError as exc:
            if _not_found(exc):
                return False
            raise
        return True

    def local_path(self, key: str) -> Path | None:
        return None

    def size(self, key: str) -> int:
        """The stored object's size in bytes."""
        head = self._call(f"look up {key}", "head_object", Key=self.object_key(key))
        return int(head["ContentLength"])

    def list(self, under: str = "") -> Iterator[tuple[str, int]]:
        """``(key relative to the prefix, size)`` of every object under ``under``."""
        base = self.object_key(under) if under else (
            self.prefix.rstrip("/") + "/" if self.prefix else "")
        strip = len(self.prefix.rstrip("/")) + 1 if self.prefix else 0
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=base):
                for item in page.get("Contents", []):
                    yield item["Key"][strip:], int(item["Size"])
        except _botocore_errors() as exc:
            raise _described(exc, f"list {under or '/'}") from exc

    def pending_uploads(self) -> list[str]:
        """Keys of multipart uploads begun and neither completed nor aborted."""
        response = self._call("list uploads", "list_multipart_uploads",
                              Prefix=self.prefix.rstrip("/") + "/" if self.prefix else "")
        return [u["Key"] for u in response.get("Uploads", [])]


def _botocore_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def _error_code(exc: BaseException | None) -> str | None:
    """S3's error code of a botocore ClientError (``NoSuchKey`` …), else None."""
    response = getattr(exc, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def _not_found(exc: S3TargetError) -> bool:
    return _error_code(exc.__cause__) in ("404", "NoSuchKey", "NotFound")


class _Reader(io.RawIOBase):
    """The object's body as a readable binary stream (read in the caller's chunks)."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._body.read(len(buffer))
        except _botocore_errors() as exc:
            raise _described(exc, "read") from exc
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class S3Writer:
    """A multipart upload: parts sent as they fill, the object appears only on commit."""

    def __init__(self, target: S3Target, key: str) -> None:
        self.target = target
        self.key = key
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._upload_id: str | None = None
        self._finished = False

    def _start(self) -> str:
        if self._upload_id is None:
            response = self.target._call(f"start upload {self.key}", "create_multipart_upload",
                                         Key=self.key)
            self._upload_id = response["UploadId"]
        return self._upload_id

    def _send(self, data: bytes) -> None:
        upload_id = self._start()
        number = len(self._parts) + 1
        response = self.target._call(f"upload part {number} of {self.key}", "upload_part",
                                     Key=self.key, UploadId=upload_id, PartNumber=number,
                                     Body=data)
        self._parts.append({"PartNumber": number, "ETag": response["ETag"]})

    def write(self, data: bytes) -> int:
        """Buffer ``data``; every full part goes up at once (memory: one part)."""
        if self._finished:
            raise S3TargetError(f"s3 upload of {self.key} is already finished")
        self._buffer += data
        size = self.target.part_size
        while len(self._buffer) >= size:
            with memoryview(self._buffer) as view:
                part = bytes(view[:size])  # the one copy botocore sends
            del self._buffer[:size]
            self._send(part)
            del part
        return len(data)

    def commit(self) -> None:
        """Send the last part and complete the upload: only now is the object visible."""
        if self._finished:
            raise S3TargetError(f"s3 upload of {self.key} is already finished")
        try:
            if self._buffer or not self._parts:
                last, self._buffer = bytes(self._buffer), bytearray()
                self._send(last)
            self.target._call(f"complete upload {self.key}", "complete_multipart_upload",
                              Key=self.key, UploadId=self._upload_id,
                              MultipartUpload={"Parts": self._parts})
        except BaseException:
            self.abort()
            raise
        self._finished = True

    def abort(self) -> None:
        """Drop the upload and its parts: nothing remains under the key (idempotent)."""
        if self._finished:
            return
        self._finished = True
        self._buffer = bytearray()
        if self._upload_id is not None:
            # unreachable now: the bucket's lifecycle rule expires the parts
            with contextlib.suppress(S3TargetError):
                self.target._call(f"abort upload {self.key}", "abort_multipart_upload",
                                  Key=self.key, UploadId=self._upload_id)

    def __enter__(self) -> S3Writer:
        return self

    def __exit__(self, kind: Any, *_: Any) -> None:
        if kind is not None:
            self.abort()
