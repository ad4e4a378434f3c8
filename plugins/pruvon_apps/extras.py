"""An app's extras on its overview: its linked services, killing one of its containers.

Both cost a constant number of calls whatever the number of services or
containers: one ``<type>:app-links APP`` per installed datastore type (read
side by side), one ``docker ps`` (the client's cached read) plus ``docker
kill``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pruvon_services.public import installed_types

from pruvon_apps.service import AppsError
from pruvon_core.dokku import DokkuClient, validate


def linked(client: DokkuClient, app: str) -> list[dict[str, str]]:
    """``[{"type", "name"}]`` of every service linked to ``app``."""
    validate.app_name(app)
    kinds = list(installed_types(client))
    if not kinds:
        return []
    with ThreadPoolExecutor(max_workers=len(kinds)) as pool:
        names = list(pool.map(lambda kind: client.service_app_links(kind, app), kinds))
    return [{"type": kind, "name": name} for kind, found in zip(kinds, names, strict=True)
            for name in found]


def kill_container(client: DokkuClient, app: str, ref: str) -> dict[str, Any]:
    """``docker kill`` one of ``app``'s containers, named by id (prefix), name or dyno.

    Another app's container, or any other container, is refused before docker
    is asked: the action is the app's ``apps.ps.write``, not the docker page's.
    Dokku's restart policy decides whether it comes back.
    """
    validate.container_ref(ref)
    for container in client.containers(app):
        if ref in (container.dyno, container.name) or (len(ref) >= 12 and
                                                        container.id.startswith(ref)):
            client.docker_change(["kill", container.id])
            return {"container": container.id[:12], "dyno": container.dyno}
    raise AppsError(f"no container {ref!r} in app {app}; give its id, name or dyno "
                    "(web.1) from the app's overview")
