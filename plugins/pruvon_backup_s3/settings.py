"""The ``type: s3`` entries of ``backup.targets``: their keys, checked with exact messages.

An entry looks like::

    backup:
      targets:
        - name: offsite
          type: s3
          bucket: my-backups            # required
          prefix: dokku-host-1/         # optional: every key starts with it
          endpoint_url: https://s3.eu-central-1.example.com   # optional (AWS when absent)
          region: eu-central-1          # optional
          access_key_id: AKIA...        # optional: else AWS_ACCESS_KEY_ID / boto3's chain
          secret_access_key: ...        # optional: else AWS_SECRET_ACCESS_KEY
          part_size_mb: 8               # optional: multipart part size, 5-512
          keep_daily_days: 30           # retention keys belong to the backups plugin

Only the keys this plugin reads are checked here; ``name``, ``type`` and the
retention keys are the backups plugin's, which also calls :func:`problems`
for each ``type: s3`` entry from its ``pruvon_validate_config``.  Credentials are either both in the
entry or both left to the environment: half a pair is always a mistake.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

# S3 bucket naming rules (lowercase letters, digits, dots, hyphens; 3-63 characters)
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
REGION_RE = re.compile(r"^[a-z0-9-]{1,32}$")
MIN_PART_MB, MAX_PART_MB, DEFAULT_PART_MB = 5, 512, 8
MAX_PREFIX = 512
S3_KEYS = ("bucket", "prefix", "endpoint_url", "region", "access_key_id", "secret_access_key",
           "part_size_mb")


def _endpoint_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be an http:// or https:// URL"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"must be an http:// or https:// URL, not {value!r}"
    if parts.username or parts.password or parts.query or parts.fragment:
        return "must be a plain URL (credentials go in access_key_id/secret_access_key)"
    return None


def _prefix_problem(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > MAX_PREFIX:
        return f"must be text of at most {MAX_PREFIX} characters"
    if value.startswith("/") or ".." in value.split("/") or any(ord(c) < 32 for c in value):
        return f"must be a relative key prefix such as host-1/ (no leading /, no ..), not {value!r}"
    return None


def _part_problem(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not (
            MIN_PART_MB <= value <= MAX_PART_MB):
        return f"must be a whole number of MiB from {MIN_PART_MB} to {MAX_PART_MB}, not {value!r}"
    return None


def problems(entry: Any) -> list[str]:
    """Every problem of one ``type: s3`` entry, each as ``key: reason``.

    The backups plugin's ``pruvon_validate_config`` asks each declared kind
    about its entries and puts ``backup.targets[i].`` in front.
    """
    if not isinstance(entry, dict):
        return ["must be a mapping"]
    found: list[str] = []
    bucket = entry.get("bucket")
    if bucket is None:
        found.append("bucket: required for an s3 target")
    elif not isinstance(bucket, str) or not BUCKET_RE.match(bucket):
        found.append("bucket: must be an S3 bucket name (3-63 lowercase letters, "
                        f"digits, '.' and '-'), not {bucket!r}")
    checks = {"endpoint_url": _endpoint_problem, "prefix": _prefix_problem,
              "part_size_mb": _part_problem}
    for key, check in checks.items():
        if entry.get(key) is not None:
            problem = check(entry[key])
            if problem:
                found.append(f"{key}: {problem}")
    region = entry.get("region")
    if region is not None and not (isinstance(region, str) and REGION_RE.match(region)):
        found.append("region: must be a region name such as eu-central-1, "
                        f"not {region!r}")
    for key in ("access_key_id", "secret_access_key"):
        if entry.get(key) is not None and not (isinstance(entry[key], str) and entry[key]):
            found.append(f"{key}: must be non-empty text")
    if (entry.get("access_key_id") is None) != (entry.get("secret_access_key") is None):
        found.append("access_key_id: give both access_key_id and secret_access_key, or neither "
                        "(then AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment)")
    return found


def part_size(entry: dict[str, Any]) -> int:
    """The multipart part size in bytes (validated entry)."""
    return int(entry.get("part_size_mb") or DEFAULT_PART_MB) * 1024 * 1024


__all__ = ["S3_KEYS", "part_size", "problems"]
