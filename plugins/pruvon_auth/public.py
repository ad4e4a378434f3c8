"""What other plugins may use of ``pruvon_auth``: its documented public API.

Other plugins import from here (or from the package), never from the modules
behind it, so this plugin can reorganise its internals without breaking them;
``tests/unit/test_architecture.py`` enforces that.  Everything here is a
re-export: the behaviour lives in the modules named.
"""

from __future__ import annotations

from pruvon_auth.apikeys import ApiKeyExpired, ApiKeyInvalid, ApiKeyNotFound, ApiKeyStore
from pruvon_auth.check import check_hosts
from pruvon_auth.passwords import (
    check_policy,
    hash_cost,
    hash_password,
    verify_dummy,
    verify_password,
)
from pruvon_auth.sessions import session_limits, session_secret, user_fingerprint
from pruvon_auth.sessions import still_valid as session_still_valid
from pruvon_auth.throttle import LoginThrottle
from pruvon_auth.totp import TotpError, TotpStore
from pruvon_auth.users import (
    GRANT_KEYS,
    LastAdminError,
    UserError,
    add_user,
    enabled_admins,
    grant_app,
    grant_service,
    remove_user,
    update_user,
)
from pruvon_auth.users import set_disabled as set_user_disabled

__all__ = [
    "GRANT_KEYS",
    "ApiKeyExpired",
    "ApiKeyInvalid",
    "ApiKeyNotFound",
    "ApiKeyStore",
    "LastAdminError",
    "LoginThrottle",
    "TotpError",
    "TotpStore",
    "UserError",
    "add_user",
    "check_hosts",
    "check_policy",
    "enabled_admins",
    "grant_app",
    "grant_service",
    "hash_cost",
    "hash_password",
    "remove_user",
    "session_limits",
    "session_secret",
    "session_still_valid",
    "set_user_disabled",
    "update_user",
    "user_fingerprint",
    "verify_dummy",
    "verify_password",
]
