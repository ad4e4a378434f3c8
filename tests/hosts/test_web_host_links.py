"""Every page of another host keeps its links on that host (issue 17), over real sshd.

The crawl starts from the menu of ``/h/h2/`` as a signed-in admin and follows
every same-site link under ``/h/h2/``; every ``href``, ``action`` and
``data-*`` URL of every page must carry the prefix unless it names a page that
is the same for every host.  A new page or template that forgets
``{{ host_prefix }}`` fails here without anyone listing it.
"""

from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from pruvon_testing.fixtures_sim import console_script
from pruvon_testing.fixtures_web import make_app, signer, use_simulator
from tests.hosts.conftest import record_keys

PREFIX = "/h/h2"
# The pages that are the same whatever the host (no /h/<host> prefix on purpose).
HOST_INDEPENDENT = ("/settings/users", "/settings/apikeys", "/settings/terminals", "/logs",
                    "/account", "/apikeys", "/users", "/audit", "/login", "/logout", "/hosts",
                    "/static/", "/host/terminal")
MAX_PAGES = 120
URL_ATTRS = ("href", "action", "src", "formaction")
URL_ATTR_PREFIXES = ("data-", "hx-")


class Links(HTMLParser):
    """Every same-site absolute URL of a page, outside the host switcher."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []  # (tag, attribute, url)
        self.switcher: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if self._depth:
            self._depth += tag == "details"
        elif tag == "details" and "data-host-switcher" in values:
            self._depth = 1
            return
        for name, value in attrs:
            if value is None or not (name in URL_ATTRS or name.startswith(URL_ATTR_PREFIXES)):
                continue
            if not value.startswith("/") or value.startswith("//"):
                continue
            if self._depth:
                self.switcher.append(value)
            else:
                self.found.append((tag, name, value))

    def handle_endtag(self, tag: str) -> None:
        if self._depth and tag == "details":
            self._depth -= 1


def links_of(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


def host_independent(url: str) -> bool:
    path = url.split("?")[0].split("#")[0]
    return any(path == p or path.startswith(p.rstrip("/") + "/") or (p.endswith("/") and
               path.startswith(p)) for p in HOST_INDEPENDENT)


USERS = """\
users:
  - username: admin
    password: {admin}
    role: admin
  - username: alice
    password: {alice}
    role: user
    apps: [shop]
    services: {{postgres: [db]}}
    hosts: [h2]
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch, pruvon_config, ssh_dokku_hosts, close_masters) -> Any:
    """Default host: a local simulator; h1 and h2 behind real sshd (h2 with its docker).

    h2 has an app ``shop`` linked to a postgres service ``db`` and a redis
    ``cache``; the local host has a postgres ``db`` too, so a request that
    lands on the wrong host acts on a real service there.
    """
    local = use_simulator(tmp_path / "local-sim", monkeypatch)
    one, two = ssh_dokku_hosts(2)
    for sim in (two.sim, local_sim(local)):
        sim.check("apps:create", "shop")
        sim.check("postgres:create", "db")
        sim.check("postgres:link", "db", "shop")
    two.sim.check("redis:create", "cache")
    one.sim.check("apps:create", "blog")
    record_keys(pruvon_config.state_dir, [one, two])
    docker = ["env", f"PRUVON_SIM_ROOT={two.sim.root}", console_script("pruvon-docker-sim")]
    entries = one.hosts_yaml_entry() + two.hosts_yaml_entry(docker=docker)
    pruvon_config.write(USERS.format(**pruvon_config.hashes)
                        + "dokku:\n  hosts_timeout: 15\nhosts:\n" + entries)
    close_masters(pruvon_config.config())
    client = make_app(pruvon_config).test_client()
    return {"client": client, "login": signer(client, pruvon_config), "hosts": (one, two),
            "local": local_sim(local)}


def local_sim(root: Path) -> Any:
    from pruvon_testing.fixtures_sim import DokkuSim

    return DokkuSim(root)


def crawl(http: Any, start: list[str]) -> tuple[dict[str, int], list[str]]:
    """GET every page under the prefix reachable from ``start``; (statuses, bad links)."""
    queue, seen, statuses, bad = list(start), set(start), {}, []
    while queue and len(statuses) < MAX_PAGES:
        url = queue.pop(0)
        response = http.get(url)
        statuses[url] = response.status_code
        if not response.content_type.startswith("text/html"):
            continue
        for tag, attr, link in links_of(response.get_data(as_text=True)).found:
            if link == PREFIX or link.startswith(PREFIX + "/"):
                page = link.split("#")[0]
                if (tag == "a" and attr == "href" and page not in seen
                        and "/export" not in page):
                    seen.add(page)
                    queue.append(page)
            elif not host_independent(link):
                bad.append(f"{url}: <{tag} {attr}={link!r}>")
    return statuses, bad


def test_every_page_of_another_host_links_within_that_host(site):
    http = site["client"]
    token = site["login"]("admin")
    restarted = http.post(f"{PREFIX}/services/redis/cache/manage",
                          data={"csrf_token": token, "action": "restart"})
    assert restarted.status_code == 303  # its operation page is then linked and crawled
    home = http.get(f"{PREFIX}/")
    assert home.status_code == 200, home.get_data(as_text=True)[:400]
    parsed = links_of(home.get_data(as_text=True))
    menu = sorted({u for t, a, u in parsed.found if t == "a" and a == "href"
                   and u.startswith(PREFIX + "/")})
    for wanted in ("/services", "/apps", "/docker", "/plugins", "/settings", "/backups"):
        assert PREFIX + wanted in menu, menu
    assert {"/hosts", "/apps", "/h/h1/apps", "/h/h2/apps"} <= set(parsed.switcher)
    statuses, bad = crawl(http, [f"{PREFIX}/", *menu])
    assert not bad, "\n".join(bad)
    # 503 is a page saying what the host cannot do (the files tab over ssh); 500 a crash
    broken = {u: s for u, s in statuses.items() if s == 500}
    assert not broken, broken
    for page in (f"{PREFIX}/services/postgres/db", f"{PREFIX}/services/redis/cache",
                 f"{PREFIX}/services/create", f"{PREFIX}/apps/shop", f"{PREFIX}/docker",
                 f"{PREFIX}/plugins", f"{PREFIX}/settings", f"{PREFIX}/backups"):
        assert statuses.get(page) == 200, (page, statuses.get(page), sorted(statuses))
    assert any("/services/redis/cache/operations/" in u for u in statuses), sorted(statuses)
    assert any(u.startswith(f"{PREFIX}/docker/logs/") for u in statuses), sorted(statuses)
    assert len(statuses) > 15, sorted(statuses)


def calls(root: Path) -> list[list[str]]:
    log = root / "calls.log"
    return [json.loads(line)["argv"] for line in log.read_text().splitlines()] \
        if log.exists() else []


def test_a_service_action_on_another_host_reaches_only_that_host(site):
    http = site["client"]
    token = site["login"]("admin")
    _one, two = site["hosts"]
    local = site["local"]
    for sim in (two.sim, local):
        sim.set_knobs(call_log=True)
    page = http.get(f"{PREFIX}/services/postgres/db").get_data(as_text=True)
    assert f'action="{PREFIX}/services/postgres/db/manage"' in page
    response = http.post(f"{PREFIX}/services/postgres/db/manage",
                         data={"csrf_token": token, "action": "stop"})
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    assert response.headers["Location"].startswith(f"{PREFIX}/services/postgres/db/operations/")
    operation = http.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(rf'data-ws="{PREFIX}/ws/services/postgres/db/operations/', operation)
    for _ in range(100):
        if ["postgres:stop", "db"] in calls(two.sim.root):
            break
        time.sleep(0.1)
    assert ["postgres:stop", "db"] in calls(two.sim.root)
    assert not [c for c in calls(local.root) if c[:1] == ["postgres:stop"]], calls(local.root)
    assert local.check("postgres:info", "db", "--status").strip() == b"running"


def test_docker_page_without_docker_on_that_host_says_so(site):
    http = site["client"]
    site["login"]("admin")
    response = http.get("/h/h1/docker")
    text = response.get_data(as_text=True)
    assert response.status_code == 200, text[:400]
    assert "Docker is not reachable on host h1" in text, text[:2000]
    with_docker = http.get(f"{PREFIX}/docker").get_data(as_text=True)
    assert "dokku.postgres.db" in with_docker and "not reachable" not in with_docker


def test_all_hosts_services_list_per_grant_and_a_failing_host(site):
    http = site["client"]
    site["login"]("admin")
    _one, two = site["hosts"]
    data = http.get("/api/v1/hosts/services").get_json()
    assert [(r["host"], r["type"], r["name"], r["links"]) for r in data["services"]] == [
        ("local", "postgres", "db", ["shop"]), ("h2", "postgres", "db", ["shop"]),
        ("h2", "redis", "cache", [])]
    assert next(r for r in data["services"] if r["host"] == "h2")["status"] == "running"
    assert [(h["host"], h["ok"]) for h in data["hosts"]] == [
        ("local", True), ("h1", True), ("h2", True)]
    page = http.get("/hosts").get_data(as_text=True)
    for link in ('href="/h/h2/services/redis/cache"', 'href="/h/h2/apps/shop"',
                 'href="/services/postgres/db"'):
        assert link in page, link
    two.stop()
    time.sleep(6)  # past the client's read cache: h2 must be asked again
    data = http.get("/api/v1/hosts/services").get_json()
    failed = next(h for h in data["hosts"] if h["host"] == "h2")
    assert not failed["ok"] and "Connection refused" in failed["error"]
    assert [s["name"] for s in failed["services"]] == ["db", "cache"]  # its last good rows
    page = http.get("/hosts").get_data(as_text=True)
    assert "showing what it said" in page and 'href="/h/h2/services/redis/cache"' in page


def test_all_hosts_services_list_is_filtered_to_the_users_grant_on_each_host(site):
    http = site["client"]
    site["login"]("alice")  # postgres db, on h2 only
    data = http.get("/api/v1/hosts/services").get_json()
    assert [(r["host"], r["type"], r["name"]) for r in data["services"]] == [
        ("h2", "postgres", "db")]
    assert [h["host"] for h in data["hosts"]] == ["h2"]
    page = http.get("/hosts").get_data(as_text=True)
    assert 'href="/h/h2/services/postgres/db"' in page and "cache" not in page


def test_an_unknown_hosts_error_page_links_home_not_to_itself(site):
    http = site["client"]
    site["login"]("admin")
    missing = http.get("/h/nope/services")
    assert missing.status_code == 404
    page = missing.get_data(as_text=True)
    assert 'href="/h/nope' not in page and 'action="/h/nope' not in page
    assert 'href="/"' in page
    assert 'href="/static/pruvon.css"' in page  # styled: static files are every host's
    on_h2 = http.get(f"{PREFIX}/services").get_data(as_text=True)
    assert 'href="/static/pruvon.css"' in on_h2 and "/h/h2/static/" not in on_h2
    assert http.get("/static/pruvon.css").status_code == 200
