"""Operation specs and the one runner every front end uses.

A feature declares each of its operations once, as an :class:`OperationSpec`
(kind, permission action, resource kind, steps, runner, audit details,
host-access reach, post-actions); the pages, the JSON API, the WebSockets,
the CLI and the Dokku shim (which runs the CLI) only parse input, hand it to
:class:`Runner` and render the answer.  The runner is where the sequence
lives, so it cannot drift between front ends:

1. validation (``spec.check``; bad input never reaches Dokku or a record),
2. permission (``Guard.require`` on the target, or globally for a create),
   then host access (``spec.reach``),
3. audit ``phase="started"``,
4. the operation itself under the target's lock
   (:class:`~pruvon_core.operations.OperationConflict` when busy),
5. audit of the outcome; post-actions such as granting a new resource to the
   scoped user who created it (``spec.on_created``, run as soon as the
   resource exists so its creator can follow the rest).

Quick changes (``spec.background`` False, ≈50 ms) run in the caller inside
``Guard.mutation``: the same checks and one ``ok``/``failed`` record.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pruvon_core import hosts
from pruvon_core.guard import Guard
from pruvon_core.operations import Context, Operation, OperationManager


def _nothing(call: Call) -> Any:
    return None


def _no_details(call: Call) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class OperationSpec:
    """One operation of a feature, declared once for every front end.

    ``steps``, ``title``, ``details`` and ``reach`` are functions of the
    :class:`Call` because they depend on its input (a create's steps depend
    on what it creates).  ``check`` validates ``call.params`` (it may replace
    them by their normalised form) and raises the feature's typed error.
    ``run(call, ctx)`` does the work; ``ctx`` is None for a quick change.
    """

    kind: str  # the operation record's kind, e.g. "apps.ps"
    action: str  # the permission action, e.g. "apps.ps.write"
    resource: str  # the resource kind of the target, e.g. "app"
    run: Callable[[Call, Context | None], dict[str, Any] | str | None]
    title: Callable[[Call], str]
    steps: Callable[[Call], list[str]] = lambda call: ["run"]
    check: Callable[[Call], Any] = _nothing
    details: Callable[[Call], dict[str, Any]] = _no_details
    reach: Callable[[Call], str | None] = _nothing
    scoped: bool = True  # False: the action is global (creating), not on the target
    background: bool = True  # False: a quick change run in the request
    on_created: tuple[Callable[[Call, str], None], ...] = ()


@dataclass
class Call:
    """One request to run a spec: the target's name, the input, the feature's parts.

    ``deps`` is whatever the feature's functions need (its Dokku client,
    state directory …), built by each front end the same way.
    """

    spec: OperationSpec
    target: str
    params: dict[str, Any]
    deps: Any
    guard: Guard
    audit: dict[str, Any] = field(default_factory=dict)

    @property
    def actor(self) -> Any:
        return self.guard.actor

    def created(self, name: str) -> None:
        """The resource exists now: run the spec's post-actions (e.g. the creator grant)."""
        for action in self.spec.on_created:
            action(self, name)


class Runner:
    """Runs specs for one actor and front end: validate, permit, lock, audit, post-act."""

    def __init__(self, guard: Guard, state_dir: Path, deps: Any) -> None:
        self.guard = guard
        self.state_dir = state_dir
        self.deps = deps
        self._finished: dict[str, threading.Event] = {}

    @functools.cached_property
    def manager(self) -> OperationManager:
        """Made on first use: a refused request leaves no trace in the state directory."""
        return OperationManager(self.state_dir)

    def validate(self, spec: OperationSpec, target: str, params: dict[str, Any]) -> dict[str, Any]:
        """Only the validation: the input as the spec normalises it, or its typed error.

        Front ends that must refuse bad input before any other work (looking
        the target up in Dokku) call it first; :meth:`prepare` validates again.
        """
        call = Call(spec, target, dict(params), self.deps, self.guard.for_kind(spec.resource))
        spec.check(call)
        return call.params

    def prepare(self, spec: OperationSpec, target: str, params: dict[str, Any]) -> Call:
        """Validation, then permission and host access; the audit details of the call."""
        guard = self.guard.for_kind(spec.resource)
        call = Call(spec, target, dict(params), self.deps, guard)
        spec.check(call)
        guard.require(spec.action, target if spec.scoped else None)
        call.audit = {**spec.details(call),
                      **guard.host_access(spec.action, target, spec.reach(call))}
        return call

    def start(self, spec: OperationSpec, target: str, params: dict[str, Any]) -> Operation:
        """Start a background operation; its outcome is audited when it ends."""
        call = self.prepare(spec, target, params)
        guard, action = call.guard, spec.action
        done = threading.Event()

        def finished(op: Operation) -> None:
            try:
                result = "ok" if op.status == "succeeded" else "failed"
                guard.record(action, target, result, operation=op.id, status=op.status,
                             error=op.error or None, **call.audit)
            finally:
                done.set()

        guard.record(action, target, "ok", phase="started", **call.audit)
        try:
            op = self.manager.start(spec.kind, hosts.op_target(spec.resource, target, self.guard.host), spec.steps(call),
                                    functools.partial(_on_host, guard.host, spec, call),
                                    actor=self.guard.actor.id,
                                    title=spec.title(call), on_finish=finished)
        except Exception as exc:  # busy target, disk full: the start has an outcome too
            guard.record(action, target, "failed", error=str(exc)[:500], **call.audit)
            raise
        self._finished[op.id] = done
        return op

    def wait(self, op: Operation, timeout: float | None = None) -> Operation:
        """The final record once the outcome is audited (a CLI must not exit before)."""
        event = self._finished.get(op.id)
        if event is not None:
            event.wait(timeout)
        return self.manager.store.get(op.id)

    def apply(self, spec: OperationSpec, target: str, params: dict[str, Any]) -> Any:
        """A quick change in the caller: the same checks, one ``ok``/``failed`` record.

        The permission is :meth:`prepare`'s (on the target, or global for a spec
        that is not ``scoped``: checking a global action again on the target
        refused every non-admin granted it), then the outcome is audited.
        """
        call = self.prepare(spec, target, params)
        try:
            result = spec.run(call, None)
        except Exception as exc:
            call.guard.record(spec.action, target, "failed", error=str(exc)[:500], **call.audit)
            raise
        call.guard.record(spec.action, target, "ok", **call.audit)
        return result

    def submit(self, spec: OperationSpec, target: str, params: dict[str, Any]) -> Any:
        """:meth:`start` or :meth:`apply`, whichever the spec is."""
        if spec.background:
            return self.start(spec, target, params)
        return self.apply(spec, target, params)


def _on_host(host: str | None, spec: OperationSpec, call: Call, ctx: Context) -> Any:
    """Run a background operation on the host it was started on: its worker thread does not
    inherit the request's host (code reaching ``pruvon.client()``, such as the safety backup
    of a destroy, would otherwise act on the default host)."""
    with hosts.using(host):
        return spec.run(call, ctx)


def step(ctx: Context | None, name: str) -> None:
    """Start step ``name`` of a background operation (a quick change has no steps)."""
    if ctx is not None:
        ctx.step(name)


def done(ctx: Context | None, detail: str = "") -> None:
    """End the running step of a background operation."""
    if ctx is not None:
        ctx.done(detail)


def grantee(call: Call) -> str | None:
    """Who a resource created by ``call`` must be granted to: the scoped user, else None.

    Admins and the ``system`` actor need no grant; an API key's grant goes to
    its owner; without a config store there is nowhere to write one.
    """
    actor = call.actor
    if actor.role == "admin" or not actor.username or getattr(call.deps, "store", None) is None:
        return None
    return str(actor.username)


def creator_grant(grant: Callable[[Any, str, str], Any]) -> Callable[[Call, str], None]:
    """A spec post-action: ``grant(store, username, created)`` when :func:`grantee` says so."""

    def post(call: Call, created: str) -> None:
        username = grantee(call)
        if username is not None:
            grant(call.deps.store, username, created)

    return post


def action_of(specs: Iterable[OperationSpec], kind: str, default: str) -> str:
    """The permission an operation's kind needs (cancelling it needs the same)."""
    return next((s.action for s in specs if s.kind == kind), default)
