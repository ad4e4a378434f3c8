"""Plugin: S3-compatible object storage as a backup target (``pip install 'pruvon[s3]'``).

It declares the target kind ``s3`` through ``pruvon_backup_targets``; each
``backup.targets`` entry with ``type: s3`` is checked by :meth:`S3Kind.problems`
(called from the backups plugin's ``pruvon_validate_config``) and built by
:meth:`S3Kind.configure` into an :class:`~pruvon_backup_s3.target.S3Target`,
to which the backups plugin streams every backup beside the local directory.
The plugin loads without boto3: entries are still validated, and using one
says what to install.
"""

from __future__ import annotations

from typing import Any

from pruvon_core.hookspecs import hookimpl
from pruvon_core.registry import BackupTarget


class S3Kind(BackupTarget):
    """The ``s3`` target kind: options validated here, targets built on demand."""

    def configure(self, options: Any) -> Any:
        from pruvon_backup_s3.target import S3Target

        return S3Target.from_entry(dict(options))

    def problems(self, options: Any) -> list[str]:
        from pruvon_backup_s3.settings import problems

        return problems(options)


S3_KIND = S3Kind("s3", "S3-compatible object storage (AWS S3, MinIO, Ceph, R2 …); "
                       "needs pip install 'pruvon[s3]'")


@hookimpl
def pruvon_backup_targets() -> list[Any]:
    return [S3_KIND]
