"""Simulator framework: global flags, plugin dispatch, knobs, ENV files, fixtures.

The byte-for-byte behaviour against real Dokku lives in ``tests/golden``;
these tests pin down the machinery around it (what the captures cannot show).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pruvon_testing.fixtures_sim import DokkuSim
from pruvon_testing.sim import envfile
from pruvon_testing.sim.core import SimState
from pruvon_testing.sim.main import parse_global_flags

REPO = Path(__file__).resolve().parents[2]


def sim_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "pruvon_testing.sim", *args]


# -- global flags --------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "rest", "exported"),
    [
        (["--quiet", "apps:list"], ["apps:list"], {"DOKKU_QUIET_OUTPUT": "1"}),
        (["--app", "web", "config:show"], ["config:show"], {"DOKKU_APP_NAME": "web"}),
        (["--version"], ["--version"], {}),
        (["apps:destroy", "x", "--force"], ["apps:destroy", "x", "--force"],
         {"DOKKU_APPS_FORCE_DELETE": "1"}),
        (["--trace", "--quiet", "version"], ["version"],
         {"DOKKU_TRACE": "1", "DOKKU_QUIET_OUTPUT": "1"}),
    ],
)
def test_parse_global_flags(argv: list[str], rest: list[str], exported: dict) -> None:
    env: dict[str, str] = {}
    assert parse_global_flags(argv, env) == rest
    assert env == exported


def test_app_flag_inserts_app_for_core_commands(dokku_sim: DokkuSim) -> None:
    dokku_sim.check("apps:create", "web")
    dokku_sim.check("config:set", "--no-restart", "web", "A=1")
    assert dokku_sim.run("--app", "web", "config:get", "A") == (0, b"1\n", b"")


def test_force_flag_anywhere_skips_confirmation(dokku_sim: DokkuSim) -> None:
    dokku_sim.check("apps:create", "web")
    code, out, _ = dokku_sim.run("--force", "apps:destroy", "web")
    assert code == 0 and b"Destroying web" in out
    assert dokku_sim.run("apps:exists", "web")[0] == 20


def test_unknown_command_echoes_all_arguments(dokku_sim: DokkuSim) -> None:
    code, out, err = dokku_sim.run("nope:cmd", "a", "b")
    assert (code, out) == (1, b"")
    assert err.startswith(b" !     `nope:cmd a b` is not a dokku command.\n")


# -- plugin dispatch -----------------------------------------------------------
def _plugin(root: Path, name: str, commands: str, subcommands: dict[str, str] | None = None):
    plugin = root / "plugins" / "enabled" / name
    (plugin / "subcommands").mkdir(parents=True)
    (plugin / "commands").write_text("#!/usr/bin/env bash\n" + commands)
    (plugin / "commands").chmod(0o755)
    for sub, body in (subcommands or {}).items():
        path = plugin / "subcommands" / sub
        path.write_text("#!/usr/bin/env bash\n" + body)
        path.chmod(0o755)
    return plugin


def test_subcommand_lookup_runs_before_the_commands_loop(dokku_sim: DokkuSim) -> None:
    _plugin(dokku_sim.root, "alpha", 'echo "commands $*"\n', {"hello": 'echo "sub $*"\n'})
    assert dokku_sim.run("alpha:hello", "x") == (0, b"sub alpha:hello x\n", b"")


def test_commands_loop_exit_10_means_not_mine(dokku_sim: DokkuSim) -> None:
    _plugin(dokku_sim.root, "alpha", '[[ "$1" == beta:* ]] && exit 10\necho "alpha $*"\n')
    _plugin(dokku_sim.root, "beta", '[[ "$1" == beta:* ]] || exit 10\necho "beta $*"\n')
    assert dokku_sim.run("beta:go", "1") == (0, b"beta beta:go 1\n", b"")


def test_commands_loop_stops_on_failure_with_its_status(dokku_sim: DokkuSim) -> None:
    _plugin(dokku_sim.root, "alpha", 'echo boom >&2; exit 7\n')
    _plugin(dokku_sim.root, "beta", 'echo "never"\n')
    assert dokku_sim.run("alpha:x") == (7, b"", b"boom\n")


def test_plugin_scripts_can_call_back_into_dokku(dokku_sim: DokkuSim) -> None:
    dokku_sim.check("apps:create", "web")
    _plugin(dokku_sim.root, "alpha", '[[ "$1" == alpha:* ]] || exit 10\ndokku apps:list\n')
    code, out, _ = dokku_sim.run("alpha:apps")
    assert code == 0 and out.endswith(b"web\n")


def test_app_flag_is_only_exported_to_community_plugins(dokku_sim: DokkuSim) -> None:
    _plugin(dokku_sim.root, "alpha",
            '[[ "$1" == alpha:* ]] || exit 10\necho "$* app=$DOKKU_APP_NAME"\n')
    assert dokku_sim.run("--app", "web", "alpha:x") == (0, b"alpha:x app=web\n", b"")


def test_help_all_is_visible_on_the_plugins_parent_command_line(dokku_sim: DokkuSim) -> None:
    """Dokku's plugins detect ``help --all`` with ``ps -o command= $PPID``."""
    _plugin(dokku_sim.root, "alpha", (
        '[[ "$1" == help ]] || exit 10\n'
        'if [[ "$(ps -o command= $PPID)" == *"--all"* ]]; then\n'
        '  echo "    alpha:one <app>, First"; echo "    alpha:two, Second"\n'
        'else echo "    alpha, Alpha plugin"; fi\n'))
    dokku_sim.set_knobs(uninstalled=["postgres", "redis"])
    assert dokku_sim.check("help").endswith(b"\n    alpha   Alpha plugin\n")
    assert dokku_sim.check("help", "--all").endswith(
        b"\n    alpha:one <app>   First\n    alpha:two         Second\n")


def test_command_names_cannot_leave_the_plugin_directory(dokku_sim: DokkuSim) -> None:
    _plugin(dokku_sim.root, "alpha", "exit 10\n", {"x": "echo escaped\n"})
    assert dokku_sim.run("../enabled/alpha/subcommands/x")[0] == 1


def test_real_pruvon_dokku_plugin_is_dispatched(dokku_sim: DokkuSim) -> None:
    """Our own ``dokku-plugin/`` answers ``help`` through Dokku's commands loop."""
    dokku_sim.install_plugin(REPO / "dokku-plugin", "pruvon")
    code, out, _ = dokku_sim.run("help")
    assert code == 0
    assert b"\n    pruvon     Administer this Dokku host" in out
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    _, out, err = dokku_sim.run("pruvon:help", env={"PATH": path})
    assert b"is not a dokku command" not in err  # the shim, not Dokku, answered
    assert b"pruvon" in out + err


def test_plugin_install_from_git_and_uninstall(dokku_sim: DokkuSim, tmp_path: Path) -> None:
    source = tmp_path / "dokku-hello"
    source.mkdir()
    (source / "plugin.toml").write_text('[plugin]\ndescription = "hello"\nversion = "1.2.3"\n')
    (source / "commands").write_text(
        '#!/usr/bin/env bash\n[[ "$1" == hello:* ]] || exit 10\necho "hi $2"\n')
    (source / "install").write_text(f'#!/usr/bin/env bash\ntouch {tmp_path}/installed\n')
    for name in ("commands", "install"):
        (source / name).chmod(0o755)
    git = ["git", "-C", str(source), "-c", "user.name=t", "-c", "user.email=t@t"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "x"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    out = dokku_sim.check("plugin:install", f"file://{source}")
    assert b"-----> Plugin hello enabled\n" in out and (tmp_path / "installed").exists()
    assert dokku_sim.run("hello:say", "you") == (0, b"hi you\n", b"")
    listing = json.loads(dokku_sim.check("plugin:list", "--format", "json"))
    hello = next(p for p in listing if p["name"] == "hello")
    assert (hello["version"], hello["branch"], hello["core"]) == ("1.2.3", "main", False)
    assert dokku_sim.check("plugin:uninstall", "hello").startswith(
        b"-----> Plugin hello uninstalled\n")
    assert dokku_sim.run("plugin:installed", "hello")[0] == 1
    assert dokku_sim.run("plugin:uninstall", "apps") == (
        1, b"", b" !     Cannot uninstall a core plugin\n")


def test_builtin_service_plugins_can_be_uninstalled_and_reinstalled(dokku_sim: DokkuSim) -> None:
    dokku_sim.check("plugin:uninstall", "redis")
    assert dokku_sim.run("redis:list")[0] == 1
    dokku_sim.check("plugin:install", "https://github.com/dokku/dokku-redis.git")
    assert dokku_sim.run("plugin:installed", "redis")[0] == 0


def test_plugin_trigger_fires_installed_scripts(dokku_sim: DokkuSim) -> None:
    plugin = _plugin(dokku_sim.root, "watcher", "exit 10\n")
    (plugin / "my-hook").write_text('#!/usr/bin/env bash\necho "hook $*"\nexit 4\n')
    (plugin / "my-hook").chmod(0o755)
    assert dokku_sim.run("plugin:trigger", "my-hook", "a", "b") == (4, b"hook a b\n", b"")


def test_plugin_install_rejects_bad_arguments(dokku_sim: DokkuSim) -> None:
    code, _, err = dokku_sim.run("plugin:install", "/some/path")
    assert code == 1 and err.endswith(b" !     Please retry with valid arguments\n")
    code, _, err = dokku_sim.run("plugin:install", "file:///x", "--name", "../evil")
    assert (code, err) == (1, b" !     Invalid plugin name: ../evil\n")


# -- knobs -------------------------------------------------------------------------
def test_fault_knob_returns_exit_and_stderr(dokku_sim: DokkuSim) -> None:
    dokku_sim.set_knobs(faults={"apps:list": {"exit": 3, "stderr": " !     broken"}})
    assert dokku_sim.run("apps:list") == (3, b"", b" !     broken\n")
    assert dokku_sim.run("version")[0] == 0


def test_fault_can_target_arguments(dokku_sim: DokkuSim) -> None:
    dokku_sim.check("apps:create", "a")
    dokku_sim.check("apps:create", "b")
    dokku_sim.set_knobs(faults={"apps:exists": {"args": ["b"], "exit": 9, "stderr": "no"}})
    assert dokku_sim.run("apps:exists", "a")[0] == 0
    assert dokku_sim.run("apps:exists", "b") == (9, b"", b"no\n")


def test_fault_from_environment(dokku_sim: DokkuSim) -> None:
    env = {**dokku_sim.env, "PRUVON_SIM_FAULTS": '{"version": {"exit": 5, "stderr": "x"}}'}
    proc = subprocess.run(sim_argv("version"), env=env, capture_output=True, check=False)
    assert (proc.returncode, proc.stderr) == (5, b"x\n")


def test_latency_knob_delays_the_command(dokku_sim: DokkuSim) -> None:
    dokku_sim.set_knobs(latency=0.2)
    start = time.monotonic()
    dokku_sim.run("version")
    assert time.monotonic() - start >= 0.2


def test_realistic_latency_is_per_app_for_ps_report(dokku_sim: DokkuSim) -> None:
    from pruvon_testing.sim.core import Ctx
    from pruvon_testing.sim.knobs import latency_for

    for app in ("a", "b", "c"):
        dokku_sim.check("apps:create", app)
    state = SimState(dokku_sim.root, overrides={"latency": "realistic"})
    assert latency_for(Ctx(state=state, args=[], command="ps:report")) == pytest.approx(2.25)
    assert latency_for(Ctx(state=state, args=["a"], command="ps:report")) == pytest.approx(0.832)
    assert latency_for(Ctx(state=state, args=[], command="apps:list")) == pytest.approx(0.067)


@pytest.mark.parametrize(
    ("argv", "seconds"),
    [
        (["postgres:list"], 0.156),
        (["postgres:info", "db"], 0.420),
        (["postgres:info", "db", "--status"], 0.275),
        (["postgres:exists", "db"], 0.148),
        (["redis:exists", "cache"], 0.148),
        (["postgres:links", "db"], 0.110),
        (["redis:links", "cache"], 0.110),
        (["redis:list"], 0.148),
        (["redis:info", "cache"], 0.379),
        (["redis:export", "cache"], 0.702),
        (["postgres:create", "db"], 7.4),
        (["redis:create", "cache"], 2.1),
        (["postgres:destroy", "db", "--force"], 1.5),
        (["redis:destroy", "cache", "--force"], 1.0),
        (["postgres:unexpose", "db"], 10.5),
        (["redis:unexpose", "cache"], 10.5),
        # the same plugin template, no timings of their own: postgres' medians
        (["mysql:list"], 0.156),
        (["mariadb:info", "db"], 0.420),
        (["mongo:info", "db", "--status"], 0.275),
        (["mongo:links", "db"], 0.110),
    ],
)
def test_realistic_latency_covers_the_service_plugins(
    tmp_path: Path, argv: list[str], seconds: float
) -> None:
    """The service medians of ``services/TIMINGS.md`` (not the 60 ms property default)."""
    from pruvon_testing.sim.core import Ctx
    from pruvon_testing.sim.knobs import latency_for

    state = SimState(tmp_path, overrides={"latency": "realistic"})
    ctx = Ctx(state=state, args=argv[1:], command=argv[0])
    assert latency_for(ctx) == pytest.approx(seconds)


def test_bad_latency_knob_is_a_clear_error(dokku_sim: DokkuSim) -> None:
    env = {**dokku_sim.env, "PRUVON_SIM_LATENCY": "fast"}
    proc = subprocess.run(sim_argv("version"), env=env, capture_output=True, check=False)
    assert proc.returncode == 1
    assert b"invalid latency knob 'fast'" in proc.stderr


def test_hang_knob_blocks_until_killed(dokku_sim: DokkuSim) -> None:
    dokku_sim.set_knobs(hang=["apps:list"])
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run(sim_argv("apps:list"), env=dokku_sim.env, capture_output=True,
                       timeout=1.0, check=False)


def test_old_version_has_no_json_formats(dokku_sim: DokkuSim) -> None:
    dokku_sim.check("apps:create", "web")
    dokku_sim.set_knobs(version="0.35.0")
    assert dokku_sim.run("version")[1] == b"dokku version 0.35.0\n"
    code, out, err = dokku_sim.run("apps:list", "--format", "json")
    assert (code, out) == (2, b"")
    assert err == b"Usage of apps:list:\nunknown flag: --format\n"
    code, out, _ = dokku_sim.run("plugin:list", "--format", "json")
    assert code == 0 and out.startswith(b"  00_dokku-standard    0.35.0 enabled")


def test_old_version_reports_only_unprefixed_json_keys(dokku_sim: DokkuSim) -> None:
    dokku_sim.check("apps:create", "web")
    dokku_sim.set_knobs(version="0.38.7")
    data = json.loads(dokku_sim.check("apps:report", "web", "--format", "json"))
    assert "dir" in data and "app-dir" not in data
    dokku_sim.set_knobs(version="0.38.8")
    data = json.loads(dokku_sim.check("apps:report", "web", "--format", "json"))
    assert data["dir"] == data["app-dir"] == "/home/dokku/web"


def test_time_offset_knob_moves_the_simulated_clock(dokku_sim: DokkuSim) -> None:
    dokku_sim.set_knobs(time_offset=86400)
    dokku_sim.check("apps:create", "web")
    created = int(dokku_sim.check("apps:report", "web", "--app-created-at"))
    assert created >= int(time.time()) + 86400 - 5


def test_uninstalled_builtin_plugin_is_not_a_command(dokku_sim: DokkuSim) -> None:
    dokku_sim.set_knobs(uninstalled=["redis"])
    assert dokku_sim.run("plugin:installed", "redis")[0] == 1
    assert dokku_sim.run("plugin:installed", "postgres")[0] == 0


# -- ENV files (godotenv semantics) ---------------------------------------------------
@pytest.mark.parametrize("value", ["plain", "with space", "it's", "a\\b", "$HOME `id`",
                                   "line1\nline2", "", "héllo ✓", "a=b", "wow!"])
def test_env_round_trip(tmp_path: Path, value: str) -> None:
    state = SimState(tmp_path)
    envfile.write_env(state, None, {"KEY": value})
    assert envfile.read_env(state, None) == {"KEY": value}


def test_env_integers_are_written_bare_and_normalised(tmp_path: Path) -> None:
    state = SimState(tmp_path)
    envfile.write_env(state, None, {"B": "007", "A": "x"})
    assert envfile.env_path(state, None).read_text() == 'A="x"\nB=7\n'
    assert oct(envfile.env_path(state, None).stat().st_mode & 0o777) == "0o600"


def test_env_trailing_double_quote_bug(tmp_path: Path) -> None:
    state = SimState(tmp_path)
    envfile.write_env(state, None, {"Q": 'say "hi"'})
    assert envfile.read_env(state, None) == {"Q": 'say "hi\\'}
    envfile.write_env(state, None, {"Q": 'say "hi\\', "Z": "1"})
    with pytest.raises(envfile.EnvParseError, match="unterminated quoted value"):
        envfile.read_env(state, None)


def test_env_parser_accepts_dokku_exports_and_comments() -> None:
    text = "# comment\nexport A='x y'\nB=plain # trailing\nC=\"$A!\"\n"
    assert envfile.parse(text) == {"A": "x y", "B": "plain", "C": "x y!"}


def test_env_parser_reports_bad_key() -> None:
    with pytest.raises(envfile.EnvParseError, match='unexpected character "-"'):
        envfile.parse("BAD-KEY=1\n")


# -- config details the captures do not cover ------------------------------------------
def test_config_set_encoded_and_clear(dokku_sim: DokkuSim) -> None:
    dokku_sim.check("apps:create", "web")
    dokku_sim.check("config:set", "--encoded", "--no-restart", "web", "B=aGVsbG8=")
    assert dokku_sim.run("config:get", "web", "B")[1] == b"hello\n"
    code, _, err = dokku_sim.run("config:set", "--encoded", "web", "B=@@")
    assert code == 1 and b"illegal base64 data" in err and b"for key 'B'" in err
    code, out, _ = dokku_sim.run("config:clear", "--no-restart", "web")
    assert code == 0 and b"Unsetting B" in out and b"Unsetting NO_VHOST" in out
    assert dokku_sim.run("config:export", "--format", "json-list", "web")[1] == b"null\n"


def test_config_json_escapes_like_go(dokku_sim: DokkuSim) -> None:
    dokku_sim.check("apps:create", "web")
    dokku_sim.check("config:set", "--no-restart", "web", "H=<a href='x'>&")
    out = dokku_sim.check("config:export", "--format", "json", "web")
    assert out == b'{"H":"\\u003ca href=\'x\'\\u003e\\u0026","NO_VHOST":"1"}\n'


def test_config_values_that_are_not_utf8_pass_through(dokku_sim: DokkuSim) -> None:
    dokku_sim.check("apps:create", "web")
    raw = b"\xff\xfe".decode("utf-8", "surrogateescape")
    dokku_sim.check("config:set", "--no-restart", "web", f"BIN={raw}")
    assert dokku_sim.check("config:get", "web", "BIN") == b"\xff\xfe\n"
    # Go's encoding/json substitutes U+FFFD for invalid UTF-8
    out = dokku_sim.check("config:export", "--format", "json", "web")
    assert out.startswith('{"BIN":"\ufffd\ufffd"'.encode())


def test_config_merged_and_unknown_format(dokku_sim: DokkuSim) -> None:
    dokku_sim.check("apps:create", "web")
    dokku_sim.check("config:set", "--global", "G=1")
    assert dokku_sim.check("config:keys", "--merged", "web") == b"G\nNO_VHOST\n"
    code, _, err = dokku_sim.run("config:export", "--format", "yaml", "web")
    assert (code, err) == (1, b" !     Unknown export format: yaml\n")


def test_config_import_and_bundle(dokku_sim: DokkuSim) -> None:
    import io
    import tarfile

    dokku_sim.check("apps:create", "web")
    out = dokku_sim.check("config:import", "--no-restart", "web", "-",
                          stdin=b'A=1\nB="two words"\n')
    assert out.startswith(b"-----> Reading config vars from stdin\n"
                          b"-----> Setting config var A=1\n")
    dokku_sim.check("config:import", "--format", "json", "--no-restart", "--replace", "web", "-",
                    stdin=b'{"C": "c"}')
    assert dokku_sim.check("config:keys", "web") == b"C\n"
    assert dokku_sim.run("config:import", "web", "-", stdin=b"") == (
        1, b"-----> Reading config vars from stdin\n", b" !     No config vars to set\n")
    with tarfile.open(fileobj=io.BytesIO(dokku_sim.check("config:bundle", "web"))) as bundle:
        assert [(m.name, m.mode) for m in bundle.getmembers()] == [("C", 0o600)]


def test_post_config_update_trigger_reaches_installed_plugins(dokku_sim: DokkuSim) -> None:
    plugin = _plugin(dokku_sim.root, "watcher", "exit 10\n")
    trigger = plugin / "post-config-update"
    trigger.write_text('#!/usr/bin/env bash\necho "updated $*"\n')
    trigger.chmod(0o755)
    dokku_sim.check("apps:create", "web")
    out = dokku_sim.check("config:set", "--no-restart", "web", "A=1")
    assert out.endswith(b"updated web set A\n")


def test_app_lifecycle_triggers_reach_installed_plugins(dokku_sim: DokkuSim) -> None:
    plugin = _plugin(dokku_sim.root, "watcher", "exit 10\n")
    log = dokku_sim.root / "triggers.log"
    for name in ("post-create", "pre-delete", "post-delete", "post-app-rename"):
        script = plugin / name
        script.write_text(f'#!/usr/bin/env bash\necho "{name} $*" >> {log}\n')
        script.chmod(0o755)
    dokku_sim.check("apps:create", "one")
    dokku_sim.check("apps:rename", "one", "two")
    dokku_sim.check("apps:destroy", "two", stdin=b"two\n")
    assert log.read_text().splitlines() == [
        "post-create one", "post-create two", "pre-delete one ", "post-delete one ",
        "post-app-rename one two", "pre-delete two ", "post-delete two ",
    ]


@pytest.mark.parametrize("flag", ["created-at", "deploy-source", "deploy-source-metadata",
                                  "dir", "global-disable-autocreation", "locked"])
def test_apps_report_every_flag_matches_json(dokku_sim: DokkuSim, flag: str) -> None:
    dokku_sim.check("apps:create", "web")
    dokku_sim.check("git:from-image", "web", "example/web:1")
    data = json.loads(dokku_sim.check("apps:report", "web", "--format", "json"))
    value = dokku_sim.check("apps:report", "web", f"--app-{flag}")
    assert value == f"{data[flag]}\n".encode() == f"{data['app-' + flag]}\n".encode()
    block = dokku_sim.check("apps:report", "web").decode()
    label = "App " + flag.replace("-", " ") + ":"
    assert any(line.strip().startswith(label) for line in block.splitlines())


def test_apps_lock_unlock_and_set(dokku_sim: DokkuSim) -> None:
    dokku_sim.check("apps:create", "web")
    dokku_sim.check("apps:lock", "web")
    assert dokku_sim.check("apps:report", "web", "--app-locked") == b"true\n"
    dokku_sim.check("apps:unlock", "web")
    assert dokku_sim.check("apps:report", "web", "--app-locked") == b"false\n"
    code, _, err = dokku_sim.run("apps:set", "web", "disable-autocreation", "true")
    assert (code, err) == (1, b" !     Property can only be specified globally\n")
    dokku_sim.check("apps:set", "--global", "disable-autocreation", "true")
    assert dokku_sim.check("apps:report", "web", "--app-global-disable-autocreation") == b"true\n"


def test_concurrent_config_sets_lose_nothing(dokku_sim: DokkuSim) -> None:
    """Several processes sharing one host: ENV read-modify-writes are serialised."""
    dokku_sim.check("apps:create", "web")
    code = (
        "import sys\nfrom pruvon_testing.sim.main import run\n"
        "for i in range(8):\n"
        "    c, o, e = run(['config:set', '--no-restart', 'web', f'K{sys.argv[1]}_{i}=v'],"
        " root=sys.argv[2])\n"
        "    assert c == 0, e\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(n), str(dokku_sim.root)])
             for n in range(4)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    keys = dokku_sim.check("config:keys", "web").split()
    assert len(keys) == 4 * 8 + 1  # plus NO_VHOST


def test_concurrent_creates_of_one_name_have_one_winner(dokku_sim: DokkuSim) -> None:
    procs = [subprocess.Popen(sim_argv("apps:create", "web"), env=dokku_sim.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for _ in range(3)]
    results = [(p.wait(timeout=60), p.stderr.read()) for p in procs]
    assert sorted(code for code, _ in results) == [0, 1, 1]
    assert all(err == b" !     Name is already taken\n" for code, err in results if code)


# -- console script and fixture ------------------------------------------------------------
def test_console_script_runs_against_the_fixture_state(dokku_sim: DokkuSim) -> None:
    dokku_sim.check("apps:create", "web")
    script = dokku_sim.env["PRUVON_DOKKU_COMMAND"]
    argv = [script, "apps:list", "--format", "json"] if os.access(script, os.X_OK) \
        else sim_argv("apps:list", "--format", "json")
    proc = subprocess.run(argv, env=dokku_sim.env, capture_output=True, check=True)
    assert proc.stdout == b'["web"]\n'


def test_missing_state_root_is_reported() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PRUVON_SIM_ROOT"}
    proc = subprocess.run(sim_argv("version"), env=env, capture_output=True, check=False)
    assert proc.returncode == 1
    assert proc.stderr == b" !     PRUVON_SIM_ROOT is not set\n"
