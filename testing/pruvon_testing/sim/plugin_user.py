"""Who plugin scripts run as: Dokku's system user, as on a real host.

Real Dokku re-executes itself as ``dokku`` (``DOKKU_SYSTEM_USER``) before it
runs a plugin's ``commands``, ``subcommands/*`` or trigger scripts, so a
plugin that reads a root-owned 0600 file works when tested as root and fails
on a host.  When the simulator runs as root on a machine that has that user
(a test's throwaway host does), plugin scripts get the same credentials and
``HOME``; otherwise they run as the caller, unchanged.
"""

from __future__ import annotations

import os
import pwd
from typing import Any


def dokku_user() -> pwd.struct_passwd | None:
    """Dokku's system user when the simulator must switch to it, else None."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(os.environ.get("DOKKU_SYSTEM_USER") or "dokku")
    except KeyError:
        return None


def as_dokku_user(env: dict[str, str]) -> tuple[dict[str, str], dict[str, Any]]:
    """``(env, subprocess kwargs)`` running a plugin script as Dokku's user."""
    user = dokku_user()
    if user is None:
        return env, {}
    groups = os.getgrouplist(user.pw_name, user.pw_gid)
    env = {**env, "HOME": user.pw_dir, "USER": user.pw_name, "LOGNAME": user.pw_name}
    return env, {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": groups}
