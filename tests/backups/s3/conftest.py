"""Fixtures: one moto S3 server per test module, a fresh bucket per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from tests.backups.s3.s3server import ACCESS, SECRET, moto_server, s3_client

pytest.importorskip("moto.server", reason="the dev extra installs moto[server]")

_buckets = itertools.count()


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    name = f"backups-{next(_buckets)}"
    s3_client(s3_endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_entry(s3_endpoint: str, bucket: str) -> dict[str, Any]:
    """A valid ``type: s3`` target entry on the test server."""
    return {"name": "offsite", "type": "s3", "bucket": bucket, "prefix": "host-1/",
            "endpoint_url": s3_endpoint, "region": "us-east-1", "access_key_id": ACCESS,
            "secret_access_key": SECRET, "part_size_mb": 5}
