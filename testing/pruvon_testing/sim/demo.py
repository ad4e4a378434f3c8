"""The believable sample host behind ``make demo`` and ``pruvon-dokku-sim --seed-demo``.

Twelve apps of a small company in every state Pruvon has to show: deployed,
scaled, stopped, locked, never deployed, with domains, with linked postgres,
redis, mysql, mariadb and mongo services (the last three plugins installed with
``plugin:install``, so they appear in ``plugin:list`` as on a real host).  Everything is built by running simulated Dokku commands
(the same code paths a real host would go through), so the demo state is
exactly what those commands produce.  The only step that is not a Dokku
command is making the images exist, the stand-in for ``docker pull``.
"""

from __future__ import annotations

from pathlib import Path

from pruvon_testing.sim.core import SimState
from pruvon_testing.sim.main import run


class DemoSeedError(RuntimeError):
    """A seeding command failed; carries the command and Dokku's output."""


# image -> (command, exposed ports), as if pulled from a registry
IMAGES: dict[str, tuple[list[str], list[int]]] = {
    "ghcr.io/acme/blog:2.4.1": (["node", "server.js"], [5000]),
    "ghcr.io/acme/shop:1.19.0": (["gunicorn", "shop.wsgi"], [5000]),
    "ghcr.io/acme/api:3.2.0": (["./api", "serve"], [5000]),
    "ghcr.io/acme/admin:1.0.7": (["php-fpm"], [5000]),
    "ghcr.io/acme/docs:2026.11": (["caddy", "file-server"], [5000]),
    "ghcr.io/acme/crm:0.9.3": (["java", "-jar", "crm.jar"], [5000]),
    "ghcr.io/acme/metrics:1.4.2": (["./metrics"], [5000]),
    "ghcr.io/acme/landing:5.0.0": (["nginx", "-g", "daemon off;"], [5000]),
    "ghcr.io/acme/jobs:1.3.0": (["bundle", "exec", "sidekiq"], [5000]),
}

# image -> the Procfile / app.json a deploy extracts (landing has neither, docs no Procfile)
FILES: dict[str, dict[str, str]] = {
    "ghcr.io/acme/blog:2.4.1": {
        "Procfile": "web: node server.js\nrelease: node scripts/migrate.js\n",
        "app.json": '{\n  "name": "blog",\n  "healthchecks": {"web": [{"type": "startup", '
                    '"path": "/health"}]}\n}\n',
    },
    "ghcr.io/acme/shop:1.19.0": {
        "Procfile": "web: gunicorn shop.wsgi --bind 0.0.0.0:$PORT\n"
                    "worker: celery -A shop worker -Q orders,mail\n",
        "app.json": '{\n  "name": "shop",\n  "scripts": {"dokku": {"predeploy": '
                    '"python manage.py migrate --noinput"}}\n}\n',
    },
    "ghcr.io/acme/api:3.2.0": {"Procfile": "web: ./api serve --port $PORT\n"},
    "ghcr.io/acme/docs:2026.11": {"app.json": '{\n  "name": "docs"\n}\n'},
    "ghcr.io/acme/jobs:1.3.0": {
        "Procfile": "web: bundle exec puma -p $PORT\nworker: bundle exec sidekiq\n",
        "app.json": '{\n  "formation": {"worker": {"quantity": 1}}\n}\n',
    },
}

# (app, image or None for never deployed, config, domains, scale, afterwards)
APPS: list[tuple[str, str | None, list[str], list[str], list[str], list[str]]] = [
    ("blog", "ghcr.io/acme/blog:2.4.1", ["NODE_ENV=production", "BLOG_TITLE=Acme Notes"],
     ["blog.acme.test"], [], []),
    ("shop-web", "ghcr.io/acme/shop:1.19.0", ["DJANGO_SETTINGS_MODULE=shop.settings.prod"],
     ["shop.acme.test", "www.shop.acme.test"], ["web=3"], []),
    ("shop-worker", "ghcr.io/acme/shop:1.19.0", ["WORKER_QUEUES=orders,mail"], [],
     ["web=0", "worker=2"], []),
    ("api", "ghcr.io/acme/api:3.2.0", ["API_RATE_LIMIT=600", "LOG_LEVEL=info"],
     ["api.acme.test"], ["web=2"], []),
    ("admin", "ghcr.io/acme/admin:1.0.7", ["APP_ENV=production"], ["admin.acme.test"], [],
     ["ps:stop"]),
    ("docs", "ghcr.io/acme/docs:2026.11", [], ["docs.acme.test"], [], []),
    ("staging-api", None, ["API_RATE_LIMIT=60", "LOG_LEVEL=debug"], [], [], []),
    ("legacy-crm", "ghcr.io/acme/crm:0.9.3", ["JAVA_OPTS=-Xmx512m"], [], [],
     ["ps:stop", "apps:lock"]),
    ("metrics", "ghcr.io/acme/metrics:1.4.2", ["RETENTION_DAYS=30"], [], [], []),
    ("newsletter", None, [], [], [], []),
    ("landing", "ghcr.io/acme/landing:5.0.0", [], ["acme.test", "www.acme.test"], [], []),
    ("jobs", "ghcr.io/acme/jobs:1.3.0", ["SIDEKIQ_CONCURRENCY=10"], [], ["worker=1"], []),
]

# (kind, service, apps linked to it)
SERVICES: list[tuple[str, str, list[str]]] = [
    ("postgres", "blog-db", ["blog"]),
    ("postgres", "shop-db", ["shop-web", "shop-worker"]),
    ("postgres", "api-db", ["api"]),
    ("postgres", "crm-db", []),
    ("redis", "cache", ["blog", "api"]),
    ("redis", "queue", ["shop-worker", "jobs"]),
    ("redis", "metrics-store", ["metrics"]),
    ("mysql", "crm-mysql", ["legacy-crm"]),
    ("mariadb", "newsletter-db", ["newsletter"]),
    ("mongo", "events", ["metrics"]),
    ("mongo", "sessions", []),
]

# Service plugins a fresh simulated host does not have (it mirrors the reference host).
PLUGIN_INSTALLS = ("mysql", "mariadb", "mongo")


def _dokku(root: Path, *argv: str) -> None:
    code, out, err = run(list(argv), root=root, env={"PRUVON_SIM_LATENCY": "0"})
    if code != 0:
        raise DemoSeedError(
            f"dokku {' '.join(argv)} failed with exit {code}:\n"
            f"{out.decode(errors='replace')[-2000:]}{err.decode(errors='replace')[-2000:]}"
        )


def _register_images(state: SimState) -> None:
    from pruvon_testing.sim.images import register_image

    for ref, (cmd, ports) in IMAGES.items():
        register_image(state, ref, cmd=cmd, ports=ports, files=FILES.get(ref))


def seed_demo(root: Path) -> None:
    """Create the demo host in ``root`` (which must not contain apps yet)."""
    root = Path(root)
    state = SimState(root)
    root.mkdir(parents=True, exist_ok=True)
    if state.apps():
        raise DemoSeedError(f"{root} already holds apps; seed the demo into a fresh directory")
    _register_images(state)
    for app, image, config, _domains, _scale, _after in APPS:
        _dokku(root, "apps:create", app)
        if config:
            _dokku(root, "config:set", "--no-restart", app, *config)
        if image:
            _dokku(root, "git:from-image", app, image)
    for plugin in PLUGIN_INSTALLS:
        _dokku(root, "plugin:install", f"https://github.com/dokku/dokku-{plugin}.git")
    for kind, service, linked in SERVICES:
        _dokku(root, f"{kind}:create", service)
        for app in linked:
            _dokku(root, f"{kind}:link", service, app)
    for app, _image, _config, domains, scale, after in APPS:
        if domains:
            _dokku(root, "domains:add", app, *domains)
        if scale:
            _dokku(root, "ps:scale", app, *scale)
        for step in after:
            _dokku(root, step, app)
    from pruvon_testing.sim.dockerobjects import seed_examples

    seed_examples(state)  # what /docker shows beside Dokku's containers
