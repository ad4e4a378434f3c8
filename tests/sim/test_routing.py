"""Behaviour of the simulator's routing and storage families beyond the golden captures.

The golden tests pin the captured outputs; these cover the paths the captures did not
exercise (global domains, reuse errors, proxy disabled, named storage entries, plugin
triggers, ...), each derived from Dokku 0.38.27's source.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from pruvon_testing.sim import routing
from pruvon_testing.sim.core import SimState
from pruvon_testing.sim.main import run

KEY1 = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA8Qau9fwN1X9zbFfP9yze72PC9hV4Wc0cTZ0EgztLLy ref@example"
)
FP1 = "SHA256:Tb9sS8YOhkSqebaO3igHJFcn8GVDl9NkqBlXAbT0a0E"


class Sim:
    """A fresh simulated host; ``ok`` asserts success, ``call`` returns everything."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = SimState(root)

    def call(self, *argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
        code, out, err = run(list(argv), root=self.root, stdin=stdin)
        return code, out.decode(), err.decode()

    def ok(self, *argv: str, stdin: bytes = b"") -> str:
        code, out, err = self.call(*argv, stdin=stdin)
        assert code == 0, f"{argv} -> {code}\n{out}\n{err}"
        return out


@pytest.fixture
def sim(tmp_path: Path) -> Sim:
    return Sim(tmp_path / "host")


@pytest.fixture
def app(sim: Sim) -> str:
    sim.ok("apps:create", "web1")
    return "web1"


# -- port maps -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "http:abc:5000",
            'Invalid port map http:abc:5000 [err=strconv.Atoi: parsing "abc": invalid syntax]',
        ),
        ("http:80", "Invalid port map http:80 [len=2]"),
        ("http:0:5000", "Invalid port map http:0:5000 [hostPort=0]"),
        ("http:80:70000", "Invalid port map http:80:70000 [containerPort=70000]"),
        ("99999", "Invalid port map 99999 [hostPort=99999]"),
    ],
)
def test_parse_port_maps_rejects_like_dokku(text: str, message: str) -> None:
    with pytest.raises(routing.PortMapError) as info:
        routing.parse_port_maps(text)
    assert str(info.value) == message


def test_parse_port_maps_bare_port_is_internal() -> None:
    maps = routing.parse_port_maps("8080 https:443:5000")
    assert [m.internal for m in maps] == [True, False]
    assert str(maps[1]) == "https:443:5000"


def test_ports_add_refuses_reused_scheme_and_host_port(sim: Sim, app: str) -> None:
    code, _, err = sim.call("ports:add", app, "http:80:5000", "http:80:6000")
    assert (code, err) == (
        1,
        " !     Error validating new port mappings: The same scheme:host-port is being reused: http:80\n",
    )
    sim.ok("ports:add", app, "http:8080:5000")
    code, _, err = sim.call("ports:add", app, "http:8080:6000")
    assert code == 1
    assert "Error validating all port mappings" in err


def test_ports_remove_by_host_port_drops_every_scheme(sim: Sim, app: str) -> None:
    sim.ok("ports:set", app, "http:8080:5000", "https:8080:5000", "http:9000:5000")
    sim.ok("ports:remove", app, "8080")
    assert sim.ok("ports:report", app, "--ports-map") == "http:9000:5000\n"


def test_ports_flags_are_go_pflag_errors(sim: Sim, app: str) -> None:
    assert sim.call("ports:set", app, "--foo") == (
        2,
        "",
        "Usage of ports:set:\nunknown flag: --foo\n",
    )


def test_ports_report_without_apps_warns(sim: Sim) -> None:
    assert sim.call("ports:report") == (0, "", " !     You haven't deployed any applications yet\n")


# -- domains -----------------------------------------------------------------------------------


def test_global_domain_gives_new_apps_a_default_vhost(sim: Sim) -> None:
    sim.ok("domains:set-global", "example.org")
    out = sim.ok("apps:create", "shop")
    assert "-----> Creating new app virtual host file...\n" in out
    assert "Random port" not in out
    assert sim.ok("domains:report", "shop", "--domains-app-vhosts") == "shop.example.org\n"
    assert sim.ok("urls", "shop") == "http://shop.example.org\n"
    assert sim.ok("url", "shop") == "http://shop.example.org\n"


def test_global_report_json_and_flags(sim: Sim) -> None:
    sim.ok("domains:add-global", "a.example.org", "b.example.org")
    report = json.loads(sim.ok("domains:report", "--global", "--format", "json"))
    assert report == {"global-enabled": "true", "global-vhosts": "a.example.org b.example.org"}
    out = sim.ok("domains:add-global", "a.example.org")
    assert out == "-----> Skipping a.example.org: already added\n"
    sim.ok("domains:remove-global", "a.example.org")
    assert sim.ok("domains:report", "--global", "--domains-global-vhosts") == "b.example.org\n"


def test_report_invalid_flag_lists_valid_ones(sim: Sim, app: str) -> None:
    code, _, err = sim.call("domains:report", app, "--nope")
    assert code == 1
    assert err == (
        " !     Invalid flag passed, valid flags: --domains-app-enabled, --domains-app-vhosts,"
        " --domains-global-enabled, --domains-global-vhosts\n"
    )


def test_domains_disable_and_enable_round_trip(sim: Sim, app: str) -> None:
    out = sim.ok("domains:disable", app)
    assert out == f"-----> Domains (VHOST) support is already disabled for app ({app})\n"
    sim.ok("domains:enable", app)
    assert sim.ok("domains:report", app, "--domains-app-enabled") == "true\n"
    assert sim.ok("config:get", app, "NO_VHOST") == "0\n"
    assert sim.ok("proxy:report", app, "--proxy-proxy-port") == "80\n"
    sim.ok("domains:add", app, "shop.example.com")
    out = sim.ok("domains:disable", app)
    assert "-----> App virtual host support disabled\n" in out
    assert sim.ok("domains:report", app, "--domains-app-enabled") == "false\n"


def test_domains_missing_name_message(sim: Sim, app: str) -> None:
    code, _, err = sim.call("domains:add", app)
    assert code == 1
    assert (
        err == f" !     Please specify a domain name. Usage: dokku {app}  <domain> [<domain> ...]\n"
    )


def test_post_domains_update_reaches_installed_plugins(sim: Sim, app: str) -> None:
    plugin = sim.state.plugins_dir / "recorder"
    plugin.mkdir(parents=True)
    record = sim.root / "record.txt"
    script = plugin / "post-domains-update"
    script.write_text(f'#!/bin/sh\necho "$@" >> "{record}"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    sim.ok("domains:add", app, "x.example.com")
    assert record.read_text().splitlines()[-1] == f"{app} add x.example.com"


# -- nginx validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "invalid"),
    [
        ("a..b", True),
        ("*.example.com", False),
        (".example.com", False),
        ("a.*.b", True),
        ("-x.com", False),
    ],
)
def test_nginx_server_name_rules(name: str, invalid: bool) -> None:
    assert routing._invalid_server_name(name) is invalid


def test_invalid_domain_breaks_every_later_nginx_reload(sim: Sim, app: str) -> None:
    sim.ok("apps:create", "other")
    code, _, err = sim.call("domains:add", app, "bad..name")
    assert code == 1
    assert err.endswith("nginx: configuration file /etc/nginx/nginx.conf test failed\n")
    # the broken conf stays in place: another app's rebuild fails the test too
    code, _, err = sim.call("ports:set", "other", "http:8181:5000")
    assert code == 1
    assert 'invalid server name or wildcard "bad..name"' in err
    sim.ok("domains:remove", app, "bad..name")
    sim.ok("ports:set", "other", "http:8181:5000")


# -- proxy / urls ------------------------------------------------------------------------------


def test_https_mapping_without_certificate_is_not_a_url(sim: Sim, app: str) -> None:
    code, _, err = sim.call("ports:set", app, "http:8080:5000", "https:8443:5000")
    assert code == 0
    assert "(https:8443:5000)" in err
    assert sim.ok("urls", app) == "http://vm:8080\n"


def test_hostname_knob(sim: Sim, app: str) -> None:
    sim.state.set_knobs(hostname="dokku.test")
    sim.ok("ports:set", app, "http:8080:5000")
    assert sim.ok("url", app) == "http://dokku.test:8080\n"


def test_proxy_disable_removes_the_nginx_conf(sim: Sim, app: str) -> None:
    conf = sim.state.app_dir(app) / "nginx.conf"
    assert conf.is_file()
    out = sim.ok("proxy:disable", app)
    assert out == (
        "-----> Disabling proxy for app\n"
        f"-----> Nginx support is disabled for app ({app})\n"
        "-----> Deleting nginx.conf\n"
    )
    assert not conf.exists()
    assert sim.ok("proxy:disable", app) == "-----> Proxy is already disable for app\n"
    assert sim.ok("proxy:report", app, "--proxy-enabled") == "false\n"
    sim.ok("proxy:enable", "--all")
    assert conf.is_file()


def test_proxy_set_legacy_type_and_port_map_mistake(sim: Sim, app: str) -> None:
    assert sim.ok("proxy:set", app, "caddy") == "=====> Setting type to caddy\n"
    assert sim.ok("proxy:report", app, "--proxy-computed-type") == "caddy\n"
    code, _, err = sim.call("proxy:set", app, "http:80:5000")
    assert code == 1
    assert "Consider using ports:set command or specifying a valid proxy" in err


def test_nginx_set_property_and_global(sim: Sim, app: str) -> None:
    sim.ok("nginx:set", "--global", "client-max-body-size", "50m")
    assert sim.ok("nginx:report", app, "--nginx-computed-client-max-body-size") == "50m\n"
    sim.ok("nginx:set", app, "client-max-body-size", "5m")
    assert sim.ok("nginx:report", app, "--nginx-computed-client-max-body-size") == "5m\n"
    code, _, err = sim.call("nginx:set", "--global", "last-visited-at", "1")
    assert code == 1
    assert err.startswith(" !     Invalid key specified, valid keys include: access-log-format, ")
    assert sim.call("nginx:set", app, "proxy-keepalive", "x")[2] == (
        " !     Invalid value for proxy-keepalive: must be an integer\n"
    )
    assert sim.ok("nginx:set", app, "hsts") == "=====> Unsetting hsts\n"


# -- docker-options ----------------------------------------------------------------------------


def test_docker_options_phases_and_process_scope(sim: Sim, app: str) -> None:
    sim.ok("docker-options:add", app, "deploy,run", "-v /srv/a:/a --restart=always")
    sim.ok("docker-options:add", "--process", "web", app, "deploy", "--memory 1g")
    report = json.loads(sim.ok("docker-options:report", app, "--format", "json"))
    assert report["deploy-list"] == ["-v /srv/a:/a", "--restart=always"]
    assert report["deploy.web-list"] == ["--memory 1g"]
    assert report["docker-options-run"] == "-v /srv/a:/a --restart=always"
    sim.ok("docker-options:remove", app, "run", "--restart=always")
    assert sim.ok("docker-options:report", app, "--docker-options-run") == "-v /srv/a:/a\n"
    assert sim.ok("docker-options:clear", app) == (
        f"-----> Clearing docker-options for {app} on all phases\n"
    )
    assert json.loads(sim.ok("docker-options:report", app, "--format", "json"))["deploy-list"] == []


def test_docker_options_bad_phase(sim: Sim, app: str) -> None:
    code, _, err = sim.call("docker-options:add", app, "boot", "--rm")
    assert (code, err) == (1, " !     Phase(s) must be one of [build deploy run]\n")


# -- storage -----------------------------------------------------------------------------------


def test_named_storage_entry_lifecycle(sim: Sim, app: str) -> None:
    assert sim.ok("storage:create", "uploads") == "-----> Storage entry uploads created\n"
    out = sim.ok("storage:mount", app, "uploads", "--container-dir", "/app/uploads")
    assert out == f"-----> Storage entry uploads mounted at /app/uploads on {app}\n"
    assert sim.ok("storage:list", app) == (
        f"-----> {app} volume bind-mounts:\n       /var/lib/dokku/data/storage/uploads:/app/uploads\n"
    )
    code, _, err = sim.call("storage:destroy", "uploads", "--force")
    assert (code, err) == (1, f' !     storage entry "uploads" is still mounted by app(s): {app}\n')
    sim.ok("storage:unmount", app, "uploads", "--container-dir", "/app/uploads")
    assert (
        sim.ok("storage:destroy", "uploads", "--force")
        == "-----> Storage entry uploads destroyed\n"
    )


def test_storage_readonly_legacy_mount(sim: Sim, app: str) -> None:
    sim.ok("storage:mount", app, "/srv/data:/data:ro")
    rows = json.loads(sim.ok("storage:list", app, "--format", "json"))
    assert rows[0]["readonly"] is True
    assert sim.ok("storage:report", app, "--storage-run-mounts") == "-v /srv/data:/data:ro\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["storage:ensure-directory", "a/b"],
            "Directory can only contain the following set of characters: [A-Za-z0-9_-]",
        ),
        (
            ["storage:create", "legacy-x"],
            'storage entry name "legacy-x" must not start with reserved prefix "legacy-"',
        ),
        (["storage:info", "nope"], 'storage entry "nope" does not exist'),
    ],
)
def test_storage_errors(sim: Sim, argv: list[str], message: str) -> None:
    code, _, err = sim.call(*argv)
    assert code == 1
    assert err.endswith(f" !     {message}\n")


# -- ssh-keys ----------------------------------------------------------------------------------


def test_ssh_key_from_stdin_and_removal_by_fingerprint(sim: Sim) -> None:
    assert sim.ok("ssh-keys:add", "piped", stdin=(KEY1 + "\n").encode()) == FP1 + "\n"
    assert json.loads(sim.ok("ssh-keys:list", "--format", "json", "piped"))[0]["fingerprint"] == FP1
    assert sim.call("ssh-keys:list", "nobody") == (1, "", "")
    sim.ok("ssh-keys:remove", "--fingerprint", FP1)
    assert sim.call("ssh-keys:list")[2] == "authorized_keys is empty for dokku\n"


def test_ssh_key_validation(sim: Sim, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pub"
    bad.write_text("ssh-ed25519 bm90IGEga2V5 x\n")
    assert sim.call("ssh-keys:add", "k", str(bad))[2] == (
        " !     Key specified in is not a valid ssh public key\n"
    )
    two = tmp_path / "two.pub"
    two.write_text(f"{KEY1}\n{KEY1}\n")
    assert "Too many keys provided" in sim.call("ssh-keys:add", "k", str(two))[2]
    assert sim.call("ssh-keys:add", "k") == (
        1,
        "",
        " !     No key specified via file or pipe\n",
    )


# -- lifecycle ---------------------------------------------------------------------------------


def test_destroy_forgets_routing_state(sim: Sim, app: str) -> None:
    sim.ok("ports:set", app, "http:8080:5000")
    sim.ok("storage:mount", app, "/srv/x:/x")
    sim.ok("apps:destroy", app, "--force")
    for plugin in ("ports", "proxy", "domains", "storage"):
        assert not sim.state.prop_dir(plugin, app).exists(), plugin
    sim.ok("apps:create", app)
    assert sim.ok("ports:report", app, "--ports-map") == "\n"


def test_random_ports_are_distinct_high_ports(sim: Sim) -> None:
    ports = set()
    for index in range(5):
        sim.ok("apps:create", f"a{index}")
        ports.add(int(sim.state.prop_get("proxy", f"a{index}", "proxy-port")))
    assert len(ports) == 5
    assert all(1024 < port < 65536 for port in ports)


def test_cli_entry_point_shares_state(sim: Sim, app: str) -> None:
    """The console script sees what in-process calls wrote (state is on disk)."""
    import subprocess
    import sys

    env = {**os.environ, "PRUVON_SIM_ROOT": str(sim.root)}
    sim.ok("ports:set", app, "http:8080:5000")
    proc = subprocess.run(
        [sys.executable, "-c", "from pruvon_testing.sim.main import main; main()", "url", app],
        capture_output=True,
        env=env,
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (0, b"http://vm:8080\n")


# -- report argument parsing (Go's ParseReportArgs + ReportSingleAppInput.Validate) ----------


def test_report_parsing_quirks(sim: Sim, app: str) -> None:
    # two info flags: Dokku swallows the parse error and prints nothing
    assert sim.call("ports:report", app, "--ports-map", "--ports-map-json") == (0, "", "")
    # --format=json is not the --format flag but an (invalid) info flag
    code, _, err = sim.call("ports:report", app, "--format=json")
    assert code == 1
    assert err.startswith(" !     Invalid flag passed, valid flags: --ports-map,")
    assert sim.call("proxy:report", app, "--format", "yaml")[2] == (
        ' !     Format must be "stdout" or "json": "yaml"\n'
    )
    code, _, err = sim.call("proxy:report", app, "--format", "json", "--proxy-type")
    assert (code, err) == (
        1,
        " !     --format flag cannot be specified when specifying an info flag\n",
    )
    # the app is verified before the format
    assert sim.call("proxy:report", "nope", "--format", "yaml")[0] == 20


def test_reports_for_all_apps_are_ndjson(sim: Sim, app: str) -> None:
    sim.ok("apps:create", "second")
    lines = sim.ok("proxy:report", "--format", "json").splitlines()
    assert len(lines) == 2
    assert all(json.loads(line)["proxy-enabled"] == "true" for line in lines)


def test_url_fails_without_any_url(sim: Sim, app: str) -> None:
    sim.ok("proxy:disable", app)
    assert sim.call("url", app) == (1, "", "")
    assert sim.call("urls", app) == (0, "", "")


def test_unparsable_env_reads_as_vhost_enabled(sim: Sim, app: str) -> None:
    assert sim.ok("domains:report", app, "--domains-app-enabled") == "false\n"
    env = sim.state.app_dir(app) / "ENV"
    assert "NO_VHOST" in env.read_text()
    env.write_text("export NO_VHOST='1'\nexport BROKEN='unterminated\n")
    assert sim.ok("domains:report", app, "--domains-app-enabled") == "true\n"
    code, _, err = sim.call("domains:disable", app)
    assert code == 1, "writing NO_VHOST must fail like config_set does"
    assert err.startswith(" !     ")


def test_help_pages_follow_the_plugin_kind(sim: Sim) -> None:
    """Go plugins keep source order with two spaces; shell plugins sort (three spaces)."""
    ports = sim.ok("ports:help").splitlines()
    assert ports[5].startswith("    ports:list <app>  ")
    assert ports[6].startswith("    ports:add ")
    nginx = sim.ok("nginx").splitlines()
    assert [line.split()[0] for line in nginx[5:8]] == [
        "nginx:access-logs",
        "nginx:error-logs",
        "nginx:reload",
    ]
    assert "    nginx:validate-config [<app>] [--clean]   Validates" in nginx[-1]


def test_nginx_show_config(sim: Sim, app: str) -> None:
    sim.ok("domains:add", app, "shop.example.com")
    conf = sim.ok("nginx:show-config", app)
    assert "server_name shop.example.com;" in conf
    assert "listen      [::]:80;" in conf
    sim.ok("proxy:disable", app)
    assert sim.call("nginx:show-config", app)[2] == f" !     No nginx.conf exists for {app}\n"


def test_trigger_scripts_may_call_back_into_the_simulator(sim: Sim, app: str) -> None:
    """No lock is held while triggers run: a plugin calling ``dokku`` must not deadlock."""
    import sys

    plugin = sim.state.plugins_dir / "callback"
    plugin.mkdir(parents=True)
    script = plugin / "post-domains-update"
    script.write_text(
        f"#!/bin/sh\n{sys.executable} -c 'from pruvon_testing.sim.main import main; main()' "
        'domains:add-global "from-$1.example.org" >/dev/null\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    sim.ok("domains:add", app, "x.example.com")
    assert f"from-{app}.example.org" in sim.ok(
        "domains:report", "--global", "--domains-global-vhosts"
    )


# -- certs -------------------------------------------------------------------------------------


@pytest.fixture
def cert_pair(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for shop.example.com (+ www) made with openssl."""
    import shutil
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    crt, key = tmp_path / "server.crt", tmp_path / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(crt), "-subj", "/CN=shop.example.com", "-days", "30",
         "-addext", "subjectAltName=DNS:shop.example.com,DNS:www.example.com"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return crt, key


def test_certificate_switches_the_app_to_https(sim: Sim, app: str, cert_pair) -> None:
    crt, key = cert_pair
    sim.ok("domains:add", app, "shop.example.com")
    out = sim.ok("certs:add", app, str(crt), str(key))
    assert out.endswith("-----> Creating https nginx.conf\n       Reloading nginx\n")
    report = json.loads(sim.ok("certs:report", app, "--format", "json"))
    assert report["enabled"] == "true"
    assert report["hostnames"] == "shop.example.com www.example.com"
    assert report["verified"] == "self signed"
    assert report["expires-at"].endswith("GMT")
    assert sim.ok("ports:report", app, "--ports-map-detected") == "http:80:5000 https:443:5000\n"
    assert sim.ok("urls", app) == "http://shop.example.com\nhttps://shop.example.com\n"
    assert sim.ok("url", app) == "https://shop.example.com\n"
    assert sim.ok("certs:show", app, "crt").encode() == crt.read_bytes()
    assert sim.ok("certs:remove", app).startswith(f"-----> Removing SSL endpoint from {app}\n")
    assert sim.ok("url", app) == "http://shop.example.com\n"
    assert (
        sim.call("certs:remove", app)[2] == " !     An app-specific SSL endpoint is not defined\n"
    )


def test_certificate_adds_https_twin_of_explicit_http_80(sim: Sim, app: str, cert_pair) -> None:
    crt, key = cert_pair
    sim.ok("domains:enable", app)
    sim.ok("ports:set", app, "http:80:3000")
    sim.ok("certs:add", app, str(crt), str(key))
    assert sim.ok("ports:report", app, "--ports-map") == "http:80:3000 https:443:3000\n"
    sim.ok("certs:remove", app)
    assert sim.ok("ports:report", app, "--ports-map") == "http:80:3000\n"


def test_certs_add_errors(sim: Sim, app: str, tmp_path: Path) -> None:
    assert sim.call("certs:add", app, str(tmp_path / "no.crt"), str(tmp_path / "no.key"))[2] == (
        " !     CRT file specified not found, please check file paths\n"
    )
    assert sim.call("certs:show", app, "pem")[2] == " !     specify either 'key' or 'crt'\n"
    assert sim.call("certs:show", app, "crt")[2] == (
        f" !     {app} doesn't have an SSL endpoint defined\n"
    )


def test_storage_global_report(sim: Sim, app: str) -> None:
    assert sim.ok("storage:report", "--global") == "-----> No storage entries registered\n"
    sim.ok("storage:create", "uploads")
    sim.ok("storage:create", "spare")
    sim.ok("storage:mount", app, "uploads", "--container-dir", "/u")
    assert sim.ok("storage:report", "--global") == (
        "-----> Storage report (global):\n"
        "       spare\tdocker-local\tmounted by: \u2014\n"
        f"       uploads\tdocker-local\tmounted by: {app}\n"
    )
    rows = json.loads(sim.ok("storage:report", "--global", "--format", "json"))
    assert [(r["entry"]["name"], r["mounted_by"]) for r in rows] == [
        ("spare", []),
        ("uploads", [app]),
    ]


def test_rename_moves_routing_state_and_renames_default_domain(sim: Sim) -> None:
    sim.ok("domains:set-global", "example.org")
    sim.ok("apps:create", "blog")
    sim.ok("domains:add", "blog", "blog.example.com")
    sim.ok("ports:set", "blog", "http:80:3000")
    sim.ok("apps:rename", "blog", "journal")
    assert sim.ok("domains:report", "journal", "--domains-app-vhosts") == (
        "journal.example.org blog.example.com\n"
    )
    assert sim.ok("ports:report", "journal", "--ports-map") == "http:80:3000\n"
    assert not sim.state.prop_dir("ports", "blog").exists()


def test_nginx_reload_and_validate_config_clean(sim: Sim, app: str) -> None:
    assert sim.call("nginx:reload") == (0, "", "")
    sim.call("domains:add", app, "bad..name")
    code, _, err = sim.call("nginx:reload")
    assert code == 1
    assert 'invalid server name or wildcard "bad..name" on [::]:80' in err
    assert sim.call("nginx:validate-config", app, "--clean")[0] == 0
    assert not (sim.state.app_dir(app) / "nginx.conf").exists()
    assert sim.call("nginx:reload") == (0, "", "")


def test_clone_keeps_proxy_port_80_without_a_second_random_port(sim: Sim) -> None:
    """Dokku copies proxy properties in ``proxy``'s own clone-setup handler, after ``domains``.

    So the clone's domains setup still sees the clone's own random port and does not drop a
    copied 80 (``pre-disable-vhost``): one "Random port" pair, and the clone ends up on 80.
    """
    sim.ok("domains:set-global", "example.org")
    sim.ok("apps:create", "blog")
    assert sim.ok("proxy:report", "blog", "--proxy-proxy-port") == "80\n"
    sim.ok("domains:clear-global")
    out = sim.ok("apps:clone", "blog", "blog2")
    assert out.count("No port set, setting to random open high port") == 1
    assert out.count("Random port ") == 1
    assert sim.ok("proxy:report", "blog2", "--proxy-proxy-port") == "80\n"


def test_stopped_nginx_skips_the_post_create_build(sim: Sim) -> None:
    sim.ok("nginx:stop")
    out = sim.ok("apps:create", "quiet-app")
    assert out.count("Creating http nginx.conf") == 1
    sim.ok("nginx:start")
    assert sim.ok("nginx:report", "--global", "--nginx-global-nginx-service-command") == (
        "/usr/local/bin/nginx-service\n"
    )


def test_shell_and_go_plugins_verify_apps_differently(sim: Sim) -> None:
    """Shell plugins say "does not exist" (20) for ANY bad app; Go ones name the problem."""
    assert sim.call("urls") == (20, "", " !     App  does not exist\n")
    assert sim.call("domains:clear", "Bad_App") == (20, "", " !     App Bad_App does not exist\n")
    assert sim.call("ports:list") == (1, "", " !     Please specify an app to run the command on\n")
    code, _, err = sim.call("proxy:report", "UPPER")
    assert code == 1
    assert err.startswith(" !     App name must begin with lowercase alphanumeric character")


def test_concurrent_domain_adds_are_not_lost(sim: Sim, app: str) -> None:
    """Separate processes share the state directory; the read-modify-write is locked."""
    import subprocess
    import sys

    env = {**os.environ, "PRUVON_SIM_ROOT": str(sim.root)}
    code = "from pruvon_testing.sim.main import main; main()"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, "domains:add", app, f"d{i}.example.com"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(6)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0] * 6
    stored = sim.ok("domains:report", app, "--domains-app-vhosts").split()
    assert sorted(stored) == [f"d{i}.example.com" for i in range(6)]
