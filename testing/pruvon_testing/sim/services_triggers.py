"""The service plugins' trigger scripts (``pre-delete``, ``post-app-*-setup``, ``pre-start``).

Dokku runs every plugin's trigger of a given name; the service plugins use them
to keep their ``LINKS`` files in step with app lifecycles - e.g. ``apps:destroy``
prints ``Unlinking from <service>`` once per service of each type (linked or
not: the plugin loops over all of them) - and to start linked services before
an app starts.
"""

from __future__ import annotations

from pruvon_testing.sim.core import Ctx, on_trigger
from pruvon_testing.sim.services_store import all_services
from pruvon_testing.sim.services_types import ServiceType


def pre_delete(ctx: Ctx, stype: ServiceType, app: str = "", *_: str) -> None:
    for service in all_services(ctx.state, stype.kind):
        ctx.verbose(f"Unlinking from {service.name}")
        service.set_links([linked for linked in service.links() if linked != app])


def copy_links(ctx: Ctx, stype: ServiceType, old: str = "", new: str = "", *_: str) -> None:
    """``post-app-clone-setup`` / ``post-app-rename-setup``: the new name joins the links."""
    for service in all_services(ctx.state, stype.kind):
        if old in service.links():
            service.set_links([*service.links(), new])


def start_linked(ctx: Ctx, stype: ServiceType, app: str = "", *_: str) -> None:
    """``pre-start`` / ``pre-restore``: start stopped services the app is linked to."""
    from pruvon_testing.sim.services_commands import start_service

    for service in all_services(ctx.state, stype.kind):
        if app not in service.links():
            continue
        status = service.status()
        if status == "running":
            continue
        if status == "restarting":
            ctx.warn(
                f"{stype.label} service {service.name} is restarting and may cause issues "
                f"with linked app {app}"
            )
            continue
        ctx.warn(f"{stype.label} service {service.name} is not running, issuing service start")
        start_service(ctx, service)


def register_triggers(stype: ServiceType) -> None:
    handlers = {
        "pre-delete": pre_delete,
        "post-app-clone-setup": copy_links,
        "post-app-rename-setup": copy_links,
        "pre-start": start_linked,
        "pre-restore": start_linked,
    }
    for name, handler in handlers.items():

        def bound(ctx: Ctx, *args: str, _handler=handler) -> None:
            from pruvon_testing.sim.cmd_plugin import builtin_installed

            if builtin_installed(ctx.state, stype.kind):  # the ``uninstalled`` knob
                _handler(ctx, stype, *args)

        on_trigger(name, stype.kind)(bound)
