"""The S3 target against a real S3 HTTP server (moto in server mode): never a mocked client."""

from __future__ import annotations

import hashlib
import os
import sys
import tracemalloc
from typing import Any

import pytest
from pruvon_backup_s3 import S3_KIND
from pruvon_backup_s3.target import S3Target, S3TargetError, S3Unavailable

from tests.backups.s3.s3server import CuttingProxy, s3_client

MiB = 1024 * 1024


def target(entry: dict[str, Any], **changes: Any) -> S3Target:
    return S3Target.from_entry({**entry, **changes})


def test_small_upload_is_invisible_until_commit_then_reads_back(s3_entry: dict[str, Any],
                                                                 s3_endpoint: str) -> None:
    s3 = target(s3_entry)
    writer = s3.open_writer("postgres/daily/blog-db/a.zst")
    writer.write(b"hello ")
    writer.write(b"world")
    assert not s3.exists("postgres/daily/blog-db/a.zst")
    writer.commit()
    assert s3.exists("postgres/daily/blog-db/a.zst")
    with s3.open_reader("postgres/daily/blog-db/a.zst") as reader:
        assert reader.read() == b"hello world"
    # stored under the prefix, in the configured bucket
    objects = s3_client(s3_endpoint).list_objects_v2(Bucket=s3_entry["bucket"])["Contents"]
    assert [o["Key"] for o in objects] == ["host-1/postgres/daily/blog-db/a.zst"]
    assert s3.local_path("postgres/daily/blog-db/a.zst") is None
    assert list(s3.list()) == [("postgres/daily/blog-db/a.zst", 11)]


@pytest.mark.parametrize("mib", [12, 31])
def test_large_upload_goes_up_in_parts_with_constant_memory(s3_entry: dict[str, Any],
                                                            mib: int) -> None:
    """12 or 31 MiB through 5 MiB parts: byte-for-byte, peak memory under 3 parts either way."""
    s3 = target(s3_entry)
    assert not s3.exists("big.bin")  # the client (its API model) is loaded before measuring
    digest = hashlib.sha256()
    chunk = os.urandom(MiB)
    tracemalloc.start()
    writer = s3.open_writer("big.bin")
    for i in range(mib):
        block = bytes([i]) + chunk[1:]
        digest.update(block)
        writer.write(block)
    assert len(writer._parts) == mib // 5  # full parts already sent, the rest buffered
    writer.commit()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(writer._parts) == mib // 5 + 1
    assert peak < 3 * s3.part_size, f"peak {peak / MiB:.1f} MiB for 5 MiB parts"
    read = hashlib.sha256()
    with s3.open_reader("big.bin") as reader:
        while block := reader.read(MiB):
            read.update(block)
    assert read.hexdigest() == digest.hexdigest()
    assert s3.size("big.bin") == mib * MiB


def test_abort_leaves_no_object_and_no_pending_upload(s3_entry: dict[str, Any]) -> None:
    s3 = target(s3_entry)
    writer = s3.open_writer("partial.bin")
    writer.write(os.urandom(6 * MiB))  # one part already uploaded
    assert s3.pending_uploads() == ["host-1/partial.bin"]
    writer.abort()
    assert not s3.exists("partial.bin")
    assert s3.pending_uploads() == []
    writer.abort()  # idempotent


def test_upload_cut_mid_way_raises_and_leaves_nothing(s3_entry: dict[str, Any],
                                                      s3_endpoint: str) -> None:
    """The endpoint becomes unreachable after 3 MiB of a 12 MiB upload."""
    proxy = CuttingProxy(s3_endpoint, limit=3 * MiB)
    s3 = target(s3_entry, endpoint_url=proxy.url)
    writer = s3.open_writer("cut.bin")
    with pytest.raises(S3TargetError, match=r"upload part 1 of host-1/cut\.bin"):
        for _ in range(12):
            writer.write(os.urandom(MiB))
    writer.abort()
    proxy.close()
    direct = target(s3_entry)
    assert not direct.exists("cut.bin")
    assert list(direct.list()) == []


def test_delete_and_exists(s3_entry: dict[str, Any]) -> None:
    s3 = target(s3_entry)
    with s3.open_writer("x") as writer:
        writer.write(b"x")
        writer.commit()
    assert s3.exists("x")
    s3.delete("x")
    assert not s3.exists("x")


def test_missing_bucket_and_missing_key_are_named(s3_entry: dict[str, Any]) -> None:
    with pytest.raises(S3TargetError, match="NoSuchKey"):
        target(s3_entry).open_reader("nope")
    gone = target(s3_entry, bucket="no-such-bucket")
    with (pytest.raises(S3TargetError, match="start upload host-1/k: NoSuchBucket"),
          gone.open_writer("k") as writer):
        writer.write(b"data")
        writer.commit()


def test_unreachable_endpoint_is_named(s3_entry: dict[str, Any]) -> None:
    """Nothing listens on the endpoint: a clear error naming the request, no hang."""
    s3 = target(s3_entry, endpoint_url="http://127.0.0.1:9")  # discard port: refused
    with pytest.raises(S3TargetError, match="look up"):
        s3.exists("x")


def test_credentials_from_the_environment(s3_entry: dict[str, Any],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_entry["access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_entry["secret_access_key"])
    entry = {k: v for k, v in s3_entry.items() if k not in ("access_key_id",
                                                            "secret_access_key")}
    s3 = S3Target.from_entry(entry)
    with s3.open_writer("env") as writer:
        writer.write(b"1")
        writer.commit()
    assert s3.exists("env")


@pytest.mark.parametrize(("change", "message"), [
    ({"bucket": None}, "bucket: required for an s3 target"),
    ({"bucket": "Bad_Bucket"}, "bucket: must be an S3 bucket name"),
    ({"endpoint_url": "ftp://x"}, "endpoint_url: must be an http:// or"),
    ({"endpoint_url": "https://u:p@host"}, "endpoint_url: must be a plain URL"),
    ({"prefix": "/abs"}, "prefix: must be a relative key prefix"),
    ({"prefix": "a/../b"}, "prefix: must be a relative key prefix"),
    ({"part_size_mb": 4}, "part_size_mb: must be a whole number of MiB from 5 to 512"),
    ({"part_size_mb": True}, "part_size_mb: must be a whole number"),
    ({"region": "EU West"}, "region: must be a region name"),
    ({"secret_access_key": None}, "access_key_id: give both access_key_id and"),
])
def test_entry_problems_name_the_key(s3_entry: dict[str, Any], change: dict[str, Any],
                                     message: str) -> None:
    entry = {k: v for k, v in {**s3_entry, **change}.items() if v is not None}
    problems = S3_KIND.problems(entry)
    assert any(p.startswith(message) for p in problems), problems


def test_valid_entry_has_no_problems_and_configures_a_target(s3_entry: dict[str, Any]) -> None:
    assert S3_KIND.problems(s3_entry) == []
    built = S3_KIND.configure({**s3_entry, "keep_daily_days": 30})
    assert (built.name, built.bucket, built.keep) == ("offsite", s3_entry["bucket"],
                                                      {"keep_daily_days": 30})
    assert "secret" not in repr(built) and s3_entry["secret_access_key"] not in repr(built)


def test_plugin_loads_without_boto3_and_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``pip install pruvon`` without the extra: entries validate, use names the extra."""
    for name in ("boto3", "botocore", "botocore.config", "botocore.exceptions"):
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError
    entry = {"name": "offsite", "type": "s3", "bucket": "my-backups"}
    assert S3_KIND.problems(entry) == []
    s3 = S3_KIND.configure(entry)
    with pytest.raises(S3Unavailable, match=r"pip install 'pruvon\[s3\]'"):
        s3.exists("x")
    with pytest.raises(S3Unavailable):
        s3.open_writer("x").write(b"x" * (9 * MiB))  # a full part goes up
