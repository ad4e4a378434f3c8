"""Built-in plugin: the host's docker (``/docker``, ``pruvon docker …``, ``/api/v1/docker…``).

Containers (Dokku's, named by their app, and every other), their CPU and
memory from one ``docker stats`` read, start/stop/restart/kill/remove, live
logs, a shell into a container (a terminal target), images, volumes and
networks with sizes and "unused" marks, and ``docker system prune`` with a
preview and a typed confirmation.

Layers: ``host.py`` (argv built and validated, run through the Dokku
client's docker access), ``parsers.py``/``models.py`` (docker's JSON lines →
dataclasses), ``operations.py`` (each change declared once for the core
runner), ``cli.py``, and the web front ends imported only by the blueprint
hook: ``web.py`` (shared request parts), ``pages.py``, ``api.py``, ``ws.py``,
``routes.py``; ``terminal.py`` (the ``container`` terminal target);
``public.py`` (per-app usage for other plugins).

Admin-only by default: every operation is its own action, granted by its own
page path, so a ``routes:`` entry opens exactly that part — ``/docker`` to
look, ``/docker/logs*`` for logs, ``/docker/restart*`` to restart, … —
and ``/docker*`` all of them except the shell, which only admins hold.
"""

from pruvon_core.hookspecs import hookimpl
from pruvon_core.permissions import Action
from pruvon_core.route_grants import RouteGrant

ACTIONS = [
    Action("docker.read", "See the host's containers, images, volumes and networks", True),
    Action("docker.logs", "Read any container's logs", True),
    Action("docker.start", "Start a container", False),
    Action("docker.stop", "Stop a container", False),
    Action("docker.restart", "Restart a container", False),
    Action("docker.kill", "Kill a container", False),
    Action("docker.remove", "Remove a container", False),
    Action("docker.prune", "Prune stopped containers, unused networks, images and volumes",
           False),
    # no page grants it: only admins (and their API keys with the scope) open a shell
    Action("docker.exec", "Open a shell in any container (docker exec)", False),
]
# the page path whose ``routes:`` grant opens each action
PAGES = {"docker.read": "/docker", "docker.logs": "/docker/logs",
         "docker.start": "/docker/start", "docker.stop": "/docker/stop",
         "docker.restart": "/docker/restart", "docker.kill": "/docker/kill",
         "docker.remove": "/docker/remove", "docker.prune": "/docker/prune"}


@hookimpl
def pruvon_register_actions():
    return ACTIONS


@hookimpl
def pruvon_route_grants():
    return [RouteGrant(page, actions=(action,)) for action, page in PAGES.items()]


@hookimpl
def pruvon_register_commands(cli):
    from pruvon_docker.cli import register

    register(cli)


@hookimpl
def pruvon_web_blueprints():
    from pruvon_docker.routes import blueprint

    return [blueprint()]


@hookimpl
def pruvon_web_menu(actor):
    return [{"label": "Docker", "href": "/docker", "order": 40, "action": "docker.read"}]


@hookimpl
def pruvon_terminal_targets():
    from pruvon_docker.terminal import ContainerShellTarget

    return [ContainerShellTarget()]
