"""Plugin: S3-compatible object storage as a backup target (``pip install 'pruvon[s3]'``).

Each ``backup.targets`` entry with ``type: s3`` becomes one target (an
:class:`~pruvon_backup_s3.target.S3Target`) declared through
``pruvon_backup_targets``; the backups plugin streams every backup to it
beside the local directory.  The plugin loads without boto3: the entries are
still validated and declared, and using one says what to install.
"""

from __future__ import annotations

from typing import Any

from pruvon_core.hookspecs import hookimpl


@hookimpl
def pruvon_validate_config(data: Any) -> list[str]:
    """Problems in the ``type: s3`` entries of ``backup.targets``, each naming its key."""
    from pruvon_backup_s3.settings import validate

    return validate(data)


@hookimpl
def pruvon_backup_targets(pruvon: Any) -> list[Any]:
    """One S3 target per configured ``type: s3`` entry (none when no config is bound)."""
    from pruvon_backup_s3.settings import s3_entries
    from pruvon_backup_s3.target import S3Target
    from pruvon_core.context import ContextUnbound

    try:
        data = pruvon.config.data
    except ContextUnbound:
        return []
    return [S3Target.from_entry(entry) for _, entry in s3_entries(data)]
