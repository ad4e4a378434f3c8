"""``/h/<host>/backups`` (issue 17): each host's backups, scoped per host, over real sshd.

``db`` exists on the default host and on h1 and h2, each holding its own rows;
alice is granted postgres ``db`` and ``/backups`` on h2 only.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pruvon_backups.catalogue import Catalogue

from pruvon_core import hosts
from pruvon_testing.fixtures_web import make_app, signer, use_simulator
from pruvon_testing.sim.main import run as sim_run
from tests.backups.web.conftest import api
from tests.hosts.conftest import record_keys

USERS = """\
users:
  - {{username: admin, password: "{admin}", role: admin}}
  - {{username: alice, password: "{alice}", role: user, routes: [/backups],
     services: {{postgres: [db]}}, hosts: [h2]}}
"""


def rows(text: str) -> bytes:
    return f"CREATE TABLE t (v text);\nINSERT INTO t VALUES ('{text}');\n".encode()


def table(sim: Any) -> bytes:
    return sim.check("postgres:connect", "db", stdin=b"SELECT v FROM t;\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch, pruvon_config, ssh_dokku_hosts,
         close_masters) -> Iterator[dict[str, Any]]:
    local = use_simulator(tmp_path / "local-sim", monkeypatch)
    for argv, stdin in ((["postgres:create", "db"], b""),
                        (["postgres:connect", "db"], rows("local data"))):
        code, out, err = sim_run(argv, root=local, stdin=stdin)
        assert code == 0, (out, err)
    one, two = ssh_dokku_hosts(2)
    for host in (one, two):
        host.sim.check("postgres:create", "db")
        host.sim.check("postgres:connect", "db", stdin=rows(f"{host.name} data"))
    record_keys(pruvon_config.state_dir, [one, two])
    entries = one.hosts_yaml_entry() + two.hosts_yaml_entry()
    backup_dir = tmp_path / "backups"
    pruvon_config.write(USERS.format(**pruvon_config.hashes)
                        + f"backup:\n  backup_dir: {backup_dir}\n  db_types: [postgres]\n"
                        + "dokku:\n  timeout: 30\nhosts:\n" + entries)
    close_masters(pruvon_config.config())
    app = make_app(pruvon_config)
    client = app.test_client()
    other = app.test_client()  # a second browser: alice's session
    yield {"client": client, "login": signer(client, pruvon_config), "other": other,
           "login_other": signer(other, pruvon_config), "h1": one, "h2": two,
           "local": local, "dir": backup_dir, "state": pruvon_config.state_dir}
    # the test client runs requests in this thread: /h/<host> left its host acted on
    hosts.set_current(None)


def run_now(client: Any, token: str, prefix: str) -> int:
    started = api(client, token, "POST", f"{prefix}/api/v1/backups/run",
                  json={"scope": "service", "type": "postgres", "name": "db"})
    assert started.status_code == 202, started.get_json()
    op = started.get_json()
    assert op["target"] == "backup:run" + (f"@{prefix.rpartition('/')[2]}" if prefix else "")
    done = _wait(client, token, prefix, op["id"])
    assert done["status"] == "succeeded", done
    return done["result"]["backups"][0]


def test_each_host_lists_and_acts_on_its_own_backups(site: Any) -> None:
    http, token = site["client"], site["login"]("admin")
    h1_id, h2_id = run_now(http, token, "/h/h1"), run_now(http, token, "/h/h2")
    cat = Catalogue(site["state"])
    assert (cat.get(h1_id).host, cat.get(h2_id).host) == ("h1", "h2")
    assert cat.get(h1_id).key.startswith("hosts/h1/postgres/manual/db/")
    assert (site["dir"] / cat.get(h1_id).key).is_file()

    listed = api(http, token, "GET", "/h/h1/api/v1/backups").get_json()
    assert [(b["id"], b["host"]) for b in listed["backups"]] == [(h1_id, "h1")]
    assert [r["service"] for r in listed["services"]] == ["db"]
    assert api(http, token, "GET", "/api/v1/backups").get_json()["backups"] == []
    assert api(http, token, "GET", f"/h/h2/api/v1/backups/{h1_id}").status_code == 404
    assert api(http, token, "GET", f"/api/v1/backups/{h1_id}").status_code == 404
    assert http.get(f"/h/h2/backups/{h1_id}/download").status_code == 404

    page = http.get("/h/h1/backups").get_data(as_text=True)
    assert f'href="/h/h1/backups/{h1_id}/download"' in page
    assert f'action="/h/h1/backups/{h1_id}/verify"' in page
    assert f"/backups/{h2_id}/" not in page
    verified = http.post(f"/h/h1/backups/{h1_id}/verify", data={"csrf_token": token})
    assert verified.status_code == 303
    assert verified.headers["Location"].startswith("/h/h1/backups")


def test_a_user_granted_db_on_one_host_never_reaches_anothers(site: Any) -> None:
    admin = site["login"]("admin")
    h1_id, h2_id = (run_now(site["client"], admin, "/h/h1"),
                    run_now(site["client"], admin, "/h/h2"))
    http, token = site["other"], site["login_other"]("alice")
    mine = api(http, token, "GET", "/h/h2/api/v1/backups").get_json()
    assert [b["id"] for b in mine["backups"]] == [h2_id]
    for method, path in (("GET", "/h/h1/api/v1/backups"), ("GET", f"/h/h1/api/v1/backups/{h1_id}"),
                         ("GET", f"/h/h2/api/v1/backups/{h1_id}"),
                         ("GET", f"/api/v1/backups/{h1_id}")):
        assert api(http, token, method, path).status_code in (403, 404), path
    h1_before = table(site["h1"].sim)
    refused = api(http, token, "POST", f"/h/h2/api/v1/backups/{h1_id}/restore",
                  json={"confirm": "db", "safety": False})
    assert refused.status_code == 404
    assert table(site["h1"].sim) == h1_before

    site["h2"].sim.check("postgres:connect", "db", stdin=b"INSERT INTO t VALUES ('h2 later');\n")
    started = api(http, token, "POST", f"/h/h2/api/v1/backups/{h2_id}/restore",
                  json={"confirm": "db"})
    assert started.status_code == 202, started.get_json()
    assert started.get_json()["target"] == "backup:postgres:db@h2"
    done = _wait(http, token, "/h/h2", started.get_json()["id"])
    assert done["status"] == "succeeded", done
    held = table(site["h2"].sim)
    assert b"h2 data" in held and b"h2 later" not in held
    assert table(site["h1"].sim) == h1_before
    safety = Catalogue(site["state"]).get(done["result"]["safety_backup"])
    assert (safety.host, safety.rotation) == ("h2", "safety")
    audit = (site["state"] / "audit.log").read_text()
    assert '"postgres:db@h2"' in audit and '"postgres:db@h1"' in audit


def _wait(http: Any, token: str, prefix: str, op_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        data = api(http, token, "GET", f"{prefix}/api/v1/backups/operations/{op_id}").get_json()
        if data["status"] not in ("queued", "running"):
            return data
        assert time.monotonic() < deadline, data
        time.sleep(0.2)


def test_the_safety_backup_before_a_destroy_is_of_the_destroyed_hosts_service(site: Any) -> None:
    http, token = site["client"], site["login"]("admin")
    gone = api(http, token, "DELETE", "/h/h2/api/v1/services/postgres/db",
               json={"confirm": "db"})
    assert gone.status_code == 202, gone.get_json()
    deadline = time.monotonic() + 60
    while site["h2"].sim.run("postgres:exists", "db")[0] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    [safety] = [r for r in Catalogue(site["state"]).list() if r.rotation == "safety"]
    assert safety.host == "h2" and safety.key.startswith("hosts/h2/postgres/safety/db/")
    assert sim_run(["postgres:exists", "db"], root=site["local"])[0] == 0  # untouched
    assert site["h1"].sim.run("postgres:exists", "db")[0] == 0
