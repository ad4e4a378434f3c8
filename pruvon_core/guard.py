"""Permission check + audit for one actor on one kind of resource, for every front end.

The CLI, the pages, the JSON API and the operations runner
(:mod:`pruvon_core.opspecs`) all decide and record through a :class:`Guard`,
so the rules cannot differ between them.  It works for any resource kind
(``app`` today; ``service``, ``backup``, ``host`` next): ``kind`` names the
kind of the names it is given, ``host_action`` the permission that lets a
change reach past the resource (the apps plugin's ``apps.host_access``).
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pruvon_core import audit, hosts
from pruvon_core.permissions import PermissionDenied, Resource, check


class HostAccessDenied(PermissionDenied):
    """A change that reaches past its resource, by an actor without the host permission.

    ``reason`` names what was refused (the docker flag, the path, the git URL).
    """

    def __init__(self, actor: Any, action: str, reason: str) -> None:
        super().__init__(actor, action, None)
        self.reason = reason


@dataclass
class Guard:
    """Permission check + audit for one actor.

    ``config`` is the current ``Config`` (so a revoked user is refused at once),
    ``state_dir`` where the audit log lives, ``source_ip`` the client (web),
    ``extra`` what every record of this front end carries (``via``, ``os_user``).
    """

    actor: Any
    config: Any = None
    state_dir: Path | None = None
    source_ip: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    kind: str = "app"
    host_action: str | None = None
    host: str | None = field(default_factory=hosts.current)  # the Dokku host acted on

    def for_kind(self, kind: str) -> Guard:
        """The same actor and front end, on another kind of resource."""
        return self if kind == self.kind else dataclasses.replace(self, kind=kind)

    def resource(self, name: str | None) -> Resource | None:
        """The resource ``name`` names; a service is ``<type>/<name>``."""
        if name is None:
            return None
        if self.kind == "service" and "/" in name:
            service_type, _, service = name.partition("/")
            return Resource("service", service, service_type, host=self.host)
        return Resource(self.kind, name, host=self.host)

    def allowed(self, action: str, name: str | None = None) -> bool:
        with hosts.using(self.host):  # also for global actions, checked from worker threads
            return check(self.actor, action, self.resource(name), config=self.config)

    def require(self, action: str, name: str | None = None) -> None:
        """Raise :class:`PermissionDenied` (and audit the refusal) unless allowed."""
        if not self.allowed(action, name):
            self.record(action, name, "denied")
            raise PermissionDenied(self.actor, action, self.resource(name))

    def record(self, action: str, name: str | None, result: str, **details: Any) -> None:
        audit.record(self.actor, action, self.resource(name), result, source_ip=self.source_ip,
                     state_dir=self.state_dir, **self.extra, **details)

    def host_access(self, action: str, name: str | None, reason: str | None) -> dict[str, Any]:
        """Gate a change that reaches past the resource (``reason`` says how; None: it does not).

        Only actors holding ``host_action`` (admins; an admin's API key only
        with that scope) pass; a refusal is audited as ``denied``.  Returns the
        audit details that mark the change as host access.
        """
        if reason is None:
            return {}
        if self.host_action is None or not self.allowed(self.host_action):
            self.record(action, name, "denied", host_access=True, reason=reason)
            raise HostAccessDenied(self.actor, self.host_action or action, reason)
        return {"host_access": True, "host_access_reason": reason}

    @contextlib.contextmanager
    def mutation(self, action: str, name: str | None, reach: str | None = None,
                 **details: Any) -> Any:
        """Check, run the body, audit ``ok`` or ``failed`` (with Dokku's message).

        ``reach`` is why the change reaches past the resource, if it does
        (:meth:`host_access`).
        """
        self.require(action, name)
        details.update(self.host_access(action, name, reach))
        try:
            yield
        except Exception as exc:
            self.record(action, name, "failed", error=str(exc)[:500], **details)
            raise
        self.record(action, name, "ok", **details)
