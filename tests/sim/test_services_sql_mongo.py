"""The simulated dokku-mysql 1.44.3, dokku-mariadb 1.45.2 and dokku-mongo 1.40.6 plugins.

There are no reference captures of these plugins, so each expectation cites the
plugin source it comes from (``dokku/dokku-<kind>`` at the commits in
``services_types``): ``functions`` (create/connect/export/import/service_url),
``common-functions`` (shared with postgres/redis, whose captures pin the shared
texts), ``subcommands/*``, ``config`` and ``Dockerfile``.
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pruvon_testing.sim.main import run
from pruvon_testing.sim.services_seed import SeedError, seed_services
from tests.golden.simhost import run_tty

KINDS = ("mysql", "mariadb", "mongo")
PINNED = {"SOURCE_DATE_EPOCH": "1790000000"}


def sh(root: Path, *argv: str, stdin: bytes = b"", env: dict | None = None):
    code, out, err = run(list(argv), root=root, stdin=stdin, env=env)
    return code, out.decode(errors="replace"), err.decode(errors="replace")


def ok(root: Path, *argv: str, stdin: bytes = b"", env: dict | None = None) -> str:
    code, out, err = sh(root, *argv, stdin=stdin, env=env)
    assert code == 0, (argv, out, err)
    return out


def raw(root: Path, *argv: str, stdin: bytes = b"", env: dict | None = None) -> bytes:
    code, out, err = run(list(argv), root=root, stdin=stdin, env=env)
    assert code == 0, (argv, out, err)
    return out


def mongosh(root: Path, name: str, script: bytes) -> list[str]:
    """``mongo:connect`` from a pipe: the banner, then one ``<db>> `` prompt per line read
    (input not echoed); returns what followed each prompt."""
    out = ok(root, "mongo:connect", name, stdin=script)
    banner, _, repl = out.partition("For mongosh info see: https://www.mongodb.com/docs/"
                                    "mongodb-shell/\n\n")
    assert banner.startswith("Current Mongosh Log ID:\t") and repl.endswith("> \n")
    prompt = name.replace("-", "_") + "> "
    return repl.split(prompt)[1:-1]


@pytest.fixture
def host(tmp_path: Path) -> Path:
    ok(tmp_path, "apps:create", "svc-app")
    for kind in KINDS:
        ok(tmp_path, "plugin:install", f"https://github.com/dokku/dokku-{kind}.git")
        ok(tmp_path, f"{kind}:create", "svc-db")
    return tmp_path


# -- installation, plugin:list, help -----------------------------------------------------------
def test_plugins_arrive_with_plugin_install(tmp_path: Path) -> None:
    """A fresh host is the reference host (postgres, redis); the others are installed."""
    code, _, err = sh(tmp_path, "mysql:list")
    assert code == 1 and "`mysql:list` is not a dokku command." in err
    for kind in KINDS:
        ok(tmp_path, "plugin:install", f"https://github.com/dokku/dokku-{kind}.git")
    listing = ok(tmp_path, "plugin:list")
    # plugin.toml ``version`` of each plugin
    assert "  mariadb              1.45.2 enabled    dokku mariadb service plugin\n" in listing
    assert "  mongo                1.40.6 enabled    dokku mongo service plugin\n" in listing
    assert "  mysql                1.44.3 enabled    dokku mysql service plugin\n" in listing
    # help-functions fn-help-all: "$PLUGIN_COMMAND_PREFIX, Plugin for managing $PLUGIN_SERVICE"
    assert "    mongo      Plugin for managing MongoDB services\n" in ok(tmp_path, "help")
    ok(tmp_path, "plugin:uninstall", "mongo")
    assert sh(tmp_path, "mongo:list")[0] == 1


def test_help_pages(host: Path) -> None:
    page = ok(host, "mysql:help")
    assert "    mysql:list" in page and "list all MySQL services" in page
    assert "connect-admin" not in page
    # dokku-mongo ships subcommands/connect-admin ("connect via mongo to a $PLUGIN_SERVICE ...")
    assert "connect via mongo to a MongoDB service as admin user" in ok(host, "mongo:help")
    # dokku-mysql subcommands/link #E: ${PLUGIN_SCHEME}://mysql:SOME_PASSWORD@...
    assert "DATABASE_URL=mysql://mysql:SOME_PASSWORD@dokku-mysql-lollipop:3306/lollipop" in ok(
        host, "mysql:help", "link")
    assert "mysql2://mariadb:SOME_PASSWORD@dokku-mariadb-lollipop:3306/lollipop" in ok(
        host, "mariadb:help", "link")
    assert "MONGO_URL=mongodb://lollipop:SOME_PASSWORD@dokku-mongo-lollipop:27017/lollipop" in ok(
        host, "mongo:help", "link")
    # Dockerfile FROM image in the create examples
    assert 'export MYSQL_IMAGE_VERSION="9.7.0"' in ok(host, "mysql:help", "create")


# -- create, info, list -----------------------------------------------------------------------------
def test_create_prints_progress_and_the_info_block(tmp_path: Path) -> None:
    ok(tmp_path, "plugin:install", "https://github.com/dokku/dokku-mariadb.git")
    out = ok(tmp_path, "mariadb:create", "svc-db")
    # mariadb functions:152 "Waiting for container to be ready" (no createdb step as
    # postgres has), functions:160 "$PLUGIN_SERVICE container created: $SERVICE"
    assert out.startswith(
        "       Waiting for container to be ready\n"
        "=====> MariaDB container created: svc-db\n"
        "=====> svc-db mariadb service information\n"
        "       Config dir:          /var/lib/dokku/services/mariadb/svc-db/config\n"
    )
    assert "       Version:             mariadb:12.2.2           \n" in out


def test_dsn_and_password_files_follow_functions(host: Path) -> None:
    services = host / "services"
    for kind, user, chars in (("mysql", "mysql", 16), ("mariadb", "mariadb", 16)):
        password = (services / kind / "svc-db" / "PASSWORD").read_text().strip()
        root_password = (services / kind / "svc-db" / "ROOTPASSWORD").read_text().strip()
        assert len(password) == len(root_password) == chars  # functions:53-54 rand -hex 8
        # mysql functions:231 service_url: $PLUGIN_SCHEME://mysql:$PASSWORD@<dns>:3306/<db>
        assert ok(host, f"{kind}:info", "svc-db", "--dsn") == (
            f"mysql://{user}:{password}@dokku-{kind}-svc-db:3306/svc_db\n")
    password = (services / "mongo" / "svc-db" / "PASSWORD").read_text().strip()
    assert len(password) == 32  # mongo functions:52 openssl rand -hex 16
    # mongo functions:227 service_url: the user is the service name
    assert ok(host, "mongo:info", "svc-db", "--dsn") == (
        f"mongodb://svc-db:{password}@dokku-mongo-svc-db:27017/svc_db\n")
    # mysql functions:51-52: the two cnf files in config/
    assert (services / "mysql" / "svc-db" / "config" / "charset_utf8.cnf").read_text() == (
        "[mysqld]\ncharacter-set-server = utf8mb4\ncollation-server = utf8mb4_unicode_ci\n")
    assert oct((services / "mysql" / "svc-db" / "ROOTPASSWORD").stat().st_mode & 0o777) == "0o640"


def test_create_errors(host: Path) -> None:
    # functions service_create (mysql functions:27-29): the checks of every plugin
    assert sh(host, "mysql:create", "svc-db") == (
        1, "", " !     MySQL service svc-db already exists\n")
    assert sh(host, "mongo:create", "bad name") == (
        1, "", " !     Please specify a valid name for the service. Valid characters are: "
        "[A-Za-z0-9_]+\n")
    assert sh(host, "mariadb:create")[2] == (
        " !     Please specify a valid name for the service. Valid characters are: [A-Za-z0-9_]+\n")
    code, _, err = sh(host, "mysql:create", "other", "-p", "secret", "-r", "rootsecret")
    assert code == 0 and err == (
        " !     Specified password may not be as secure as the auto-generated password\n"
        " !     Specified root password may not be as secure as the auto-generated root password\n")
    assert (host / "services" / "mysql" / "other" / "ROOTPASSWORD").read_text() == "rootsecret\n"


def test_info_flags_and_list(host: Path) -> None:
    # config: MONGO_CONFIG_OPTIONS=" --storageEngine wiredTiger --auth " (echo'd, $(cat)'d)
    assert ok(host, "mongo:info", "svc-db", "--config-options") == (
        " --storageEngine wiredTiger --auth \n")
    assert ok(host, "mysql:info", "svc-db", "--config-options") == "\n"
    assert ok(host, "mysql:info", "svc-db", "--status") == "running\n"
    assert ok(host, "mongo:info", "svc-db", "--version") == "mongo:8.2.9\n"
    code, _, err = sh(host, "mariadb:info", "svc-db", "--bogus")
    assert code == 1 and err.startswith(" !     Invalid flag passed, valid flags: --config-dir")
    assert sh(host, "mysql:info", "svc-nope") == (
        1, "", " !     MySQL service svc-nope does not exist\n")
    ok(host, "mysql:create", "-x")
    # common-functions service_list (line 690): a heading and bare names, no columns
    assert ok(host, "mysql:list") == "=====> MySQL services\n-x\nsvc-db\n"
    assert ok(host, "mongo:exists", "svc-db") == "-----> Service svc-db exists\n"


def test_empty_list_warns(tmp_path: Path) -> None:
    ok(tmp_path, "plugin:install", "https://github.com/dokku/dokku-mongo.git")
    assert sh(tmp_path, "mongo:list") == (0, "", " !     There are no MongoDB services\n")


# -- links ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "variable", "prefix"),
    [
        ("mysql", "DATABASE_URL", "mysql://mysql:"),
        ("mariadb", "DATABASE_URL", "mysql://mariadb:"),
        ("mongo", "MONGO_URL", "mongodb://svc-db:"),  # config PLUGIN_DEFAULT_ALIAS="MONGO"
    ],
)
def test_link_sets_the_plugins_variable(host: Path, kind: str, variable: str, prefix: str) -> None:
    out = ok(host, f"{kind}:link", "svc-db", "svc-app")
    dsn = ok(host, f"{kind}:info", "svc-db", "--dsn").strip()
    assert dsn.startswith(prefix)
    assert f"-----> Setting config vars\n       {variable}:  {dsn}\n" in out
    assert ok(host, "config:get", "svc-app", variable) == dsn + "\n"
    assert ok(host, f"{kind}:links", "svc-db") == "svc-app\n"
    assert ok(host, f"{kind}:app-links", "svc-app") == "svc-db\n"
    assert ok(host, f"{kind}:info", "svc-db", "--links") == "svc-app \n"
    # common-functions:644
    assert sh(host, f"{kind}:link", "svc-db", "svc-app") == (
        1, "", f" !     Already linked as {variable}\n")
    # subcommands/destroy:25: linked services are refused, --force or not
    assert sh(host, f"{kind}:destroy", "svc-db", "--force") == (
        1, "", " !     Cannot delete linked service\n")
    ok(host, f"{kind}:unlink", "svc-db", "svc-app")
    assert sh(host, "config:get", "svc-app", variable)[0] == 1
    assert sh(host, f"{kind}:unlink", "svc-db", "svc-app") == (  # common-functions:1001
        1, "", " !     Not linked to app svc-app\n")


def test_link_alias_and_querystring(host: Path) -> None:
    ok(host, "mysql:link", "svc-db", "svc-app", "--alias", "PRIMARY", "--querystring",
       "ssl=true")
    dsn = ok(host, "mysql:info", "svc-db", "--dsn").strip()
    assert ok(host, "config:get", "svc-app", "PRIMARY_URL") == f"{dsn}?ssl=true\n"
    ok(host, "mariadb:link", "svc-db", "svc-app")
    ok(host, "mysql:create", "second")
    ok(host, "mysql:link", "second", "svc-app")
    # DATABASE_URL is taken by mariadb: the first free colour of PLUGIN_ALT_ALIAS
    assert ok(host, "config:get", "svc-app", "DOKKU_MYSQL_AQUA_URL").startswith("mysql://mysql:")
    # common-functions:1019 update_plugin_scheme_for_app: <VARIABLE>_DATABASE_SCHEME (link help:
    # "mysql2://...") replaces the scheme of the URL an app links to
    ok(host, "apps:create", "rails-app")
    ok(host, "config:set", "--no-restart", "rails-app", "MYSQL_DATABASE_SCHEME=mysql2")
    ok(host, "mysql:link", "second", "rails-app")
    assert ok(host, "config:get", "rails-app", "DATABASE_URL").startswith("mysql2://mysql:")


# -- lifecycle -----------------------------------------------------------------------------------------
def test_stop_start_restart_expose(host: Path) -> None:
    assert ok(host, "mysql:stop", "svc-db") == (
        "=====> Pausing container\n       Container paused\n       Removing container\n")
    assert ok(host, "mysql:info", "svc-db", "--status") == "missing\n"
    assert ok(host, "mysql:start", "svc-db").startswith(
        "=====> Starting container\n       Waiting for container to be ready\n")
    assert sh(host, "mysql:start", "svc-db") == (0, "", " !     Service is already started\n")
    out = ok(host, "mongo:restart", "svc-db")
    assert out.endswith("=====> Container started\n-----> Please call dokku ps:restart on all "
                        "linked apps\n")
    # mongo config PLUGIN_DATASTORE_PORTS=(27017 27018 27019 28017); common-functions:847
    assert sh(host, "mongo:expose", "svc-db", "27017") == (
        1, "", " !     4 ports to be exposed need to be provided in the following order: "
        "27017 27018 27019 28017\n")
    assert ok(host, "mongo:expose", "svc-db", "1001", "1002", "1003", "1004") == (
        "-----> Service svc-db exposed on port(s) [container->host]: "
        "27017->1001 27018->1002 27019->1003 28017->1004 \n")
    assert ok(host, "mysql:expose", "svc-db", "13306").endswith("3306->13306 \n")
    assert ok(host, "mongo:unexpose", "svc-db") == "-----> Service svc-db unexposed\n"
    assert ok(host, "mongo:info", "svc-db", "--exposed-ports") == "-\n"


def test_logs_destroy_and_confirmation(host: Path) -> None:
    assert "ready for connections" in ok(host, "mysql:logs", "svc-db")
    assert '"msg":"Waiting for connections"' in ok(host, "mongo:logs", "svc-db")
    code, out, err = sh(host, "mariadb:destroy", "svc-db", stdin=b"wrong\n")
    assert (code, out) == (1, "\n")
    assert err.endswith(" !     Confirmation did not match svc-db. Aborted.\n")
    assert ok(host, "mariadb:destroy", "svc-db", stdin=b"svc-db\n").endswith(
        "=====> MariaDB container deleted: svc-db\n")
    assert not (host / "services" / "mariadb" / "svc-db").exists()


def test_clone_and_upgrade(host: Path) -> None:
    ok(host, "mysql:connect", "svc-db", stdin=b"create table t (id int primary key, v text);\n"
       b"insert into t values (1, 'one'), (2, 'two');\n")
    ok(host, "mongo:connect", "svc-db", stdin=b"db.things.insertOne({n: 1})\n")
    assert "Copying data from svc-db to copy" in ok(host, "mysql:clone", "svc-db", "copy")
    assert ok(host, "mysql:connect", "copy", stdin=b"select v from t order by id;") == (
        "v\none\ntwo\n")
    ok(host, "mongo:clone", "svc-db", "copy")
    assert mongosh(host, "copy", b"db.things.countDocuments()\n") == ["1\n"]
    out = ok(host, "mysql:upgrade", "svc-db", "-I", "9.8.0")
    assert out.startswith("=====> Upgrading svc-db to mysql:9.8.0\n")
    assert ok(host, "mysql:info", "svc-db", "--version") == "mysql:9.8.0\n"


# -- consoles ------------------------------------------------------------------------------------------
def test_mysql_batch_client(host: Path) -> None:
    code, out, err = sh(host, "mysql:connect", "svc-db", stdin=b"SELECT 1;\n")
    # mysql functions:13 service_connect: mysql --password=... => the client's warning
    assert (code, out, err) == (
        0, "1\n1\n",
        "mysql: [Warning] Using a password on the command line interface can be insecure.\n")
    # mariadb's client has no such warning
    assert sh(host, "mariadb:connect", "svc-db", stdin=b"SELECT 1;\n") == (0, "1\n1\n", "")
    code, out, err = sh(host, "mariadb:connect", "svc-db",
                        stdin=b"select 2;\nselect * from nosuch;\nselect 3;\n")
    assert (code, out) == (1, "2\n2\n")  # batch mode stops at the first error
    assert err == "ERROR 1146 (42S02) at line 2: Table 'svc_db.nosuch' doesn't exist\n"


def test_mysql_values_escapes_and_errors(host: Path) -> None:
    script = (b"create table items (id int not null auto_increment primary key, name text);\n"
              b"insert into items (name) values ('it\\'s'), ('tab\\there'), (NULL);\n"
              b"select id, name from items order by id;\n"
              b"update items set name = 'x' where id = 3;\n"
              b"delete from items where id = 1;\n"
              b"select count(*) as n from items;\n")
    assert ok(host, "mysql:connect", "svc-db", stdin=script) == (
        "id\tname\n1\tit's\n2\ttab\\there\n3\tNULL\nn\n2\n")
    assert sh(host, "mysql:connect", "svc-db",
              stdin=b"create table items (id int);\n")[2].endswith(
        "ERROR 1050 (42S01) at line 1: Table 'items' already exists\n")
    assert sh(host, "mysql:connect", "svc-db", stdin=b"select nope from items;\n")[2].endswith(
        "ERROR 1054 (42S22) at line 1: Unknown column 'nope' in 'field list'\n")
    assert ok(host, "mysql:connect", "svc-db", stdin=b"show tables;\n") == (
        "Tables_in_svc_db\nitems\n")
    # the client splits a line on every ';' outside quotes
    assert ok(host, "mysql:connect", "svc-db", stdin=b"select 1; select 'a;b' as x;\n") == (
        "1\n1\nx\na;b\n")


def test_mongo_shell(host: Path) -> None:
    replies = mongosh(host, "svc-db", (
        b"db.runCommand({ping: 1})\n"
        b"db.items.insertMany([{name: 'alpha'}, {name: \"beta\", n: 2}])\n"
        b"db.items.countDocuments({name: 'beta'})\n"
        b"show collections\n"
        b"db.items.deleteOne({name: 'alpha'})\n"
        b"db.items.find()\n"))
    assert replies[0] == "{ ok: 1 }\n"
    assert replies[1].startswith("{\n  acknowledged: true,\n  insertedIds: {\n    '0': ObjectId('")
    assert replies[2:5] == ["1\n", "items\n", "{ acknowledged: true, deletedCount: 1 }\n"]
    assert re.fullmatch(r"\[\n  \{ _id: ObjectId\('[0-9a-f]{24}'\), name: 'beta', n: 2 \}\n\]\n",
                        replies[5])
    (stats,) = mongosh(host, "svc-db", b"db.stats()\n")
    assert "db: 'svc_db'" in stats and "objects: Long('1')" in stats and "ok: 1" in stats
    # errors are the REPL's output; end of input still ends mongosh with 0
    assert mongosh(host, "svc-db", b"nosuch()\n") == ["ReferenceError: nosuch is not defined\n"]


def test_consoles_under_a_real_pty(host: Path) -> None:
    code, output = run_tty(host, "mysql:connect", "svc-db", script=b"SELECT 1;\nquit\n",
                           env={"TERM": "xterm"})
    text = output.decode().replace("\r\n", "\n")
    assert code == 0
    assert "Welcome to the MySQL monitor." in text and "mysql> " in text
    assert "+---+\n| 1 |\n+---+\n| 1 |\n+---+\n1 row in set (0.00 sec)" in text
    code, output = run_tty(host, "mariadb:connect", "svc-db", script=b"SELECT 1;\nexit\n")
    assert code == 0 and "MariaDB [svc_db]> " in output.decode()
    code, output = run_tty(host, "mongo:connect", "svc-db",
                           script=b"db.runCommand({ping: 1})\nexit\n")
    text = output.decode().replace("\r\n", "\n")
    assert code == 0 and "Using MongoDB:\t\t8.2.9" in text and "svc_db> " in text
    assert "{ ok: 1 }\n" in text
    # subcommands/connect-admin: mongosh -u admin ... --authenticationDatabase admin "$SERVICE"
    code, output = run_tty(host, "mongo:connect-admin", "svc-db", script=b"exit\n")
    assert code == 0 and b"/svc-db?directConnection=true" in output
    assert b"authSource=admin" in output and b"svc-db> " in output


def test_connect_to_a_stopped_service(host: Path) -> None:
    ok(host, "mysql:stop", "svc-db")
    assert sh(host, "mysql:connect", "svc-db") == (
        1, "", "Error response from daemon: No such container: dokku.mysql.svc-db\n")


# -- export / import ---------------------------------------------------------------------------------
def test_mysql_export_is_a_mysqldump(host: Path) -> None:
    ok(host, "mysql:connect", "svc-db", stdin=b"create table t (id int primary key, v text);\n"
       b"insert into t values (1, 'a\\nb');\n")
    code, out, err = run(["mysql:export", "svc-db"], root=host, env=PINNED)
    text = out.decode()
    assert code == 0 and err == (
        b"mysqldump: [Warning] Using a password on the command line interface can be insecure.\n")
    assert text.startswith(
        "-- MySQL dump 10.13  Distrib 9.7.0, for Linux (x86_64)\n--\n"
        "-- Host: localhost    Database: svc_db\n")
    assert "DROP TABLE IF EXISTS `t`;\n" in text
    # SHOW CREATE TABLE as MySQL 8+/9 prints it: no int display width, no DEFAULT NULL on text
    assert ("CREATE TABLE `t` (\n  `id` int NOT NULL,\n  `v` text,\n  PRIMARY KEY (`id`)\n"
            ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;\n") in text
    assert "INSERT INTO `t` VALUES (1,'a\\nb');\n" in text
    assert text.endswith("-- Dump completed on 2026-09-21 14:13:20\n")
    # mariadb functions service_export: mariadb-dump (no password warning); its own
    # header line, NOTE_VERBOSITY, a row per line, the hour padded with a space
    ok(host, "mariadb:connect", "svc-db", stdin=b"create table t (id int primary key, v text);\n"
       b"insert into t values (1, 'a'), (2, 'b');\n")
    code, out, err = run(["mariadb:export", "svc-db"], root=host,
                         env={"SOURCE_DATE_EPOCH": "1789920000"})  # 2026-09-20 16:00:00
    dump = out.decode()
    assert (code, err) == (0, b"")
    assert dump.startswith("/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump 10.19-12.2.2")
    assert "/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */;\n" in dump
    assert "  `id` int(11) NOT NULL,\n  `v` text DEFAULT NULL,\n" in dump
    assert "INSERT INTO `t` VALUES\n(1,'a'),\n(2,'b');\n" in dump
    assert dump.endswith("/*M!100616 SET NOTE_VERBOSITY=@OLD_NOTE_VERBOSITY */;\n\n"
                         "-- Dump completed on 2026-09-20 16:00:00\n")
    morning = raw(host, "mariadb:export", "svc-db", env={"SOURCE_DATE_EPOCH": "1789894800"})
    assert morning.endswith(b"-- Dump completed on 2026-09-20  9:00:00\n")


@pytest.mark.parametrize("kind", ["mysql", "mariadb"])
def test_sql_round_trip_is_byte_faithful(host: Path, kind: str) -> None:
    ok(host, f"{kind}:connect", "svc-db", stdin=(
        b"create table items (id int not null auto_increment primary key, name text not null,"
        b" price decimal(10,2) default null);\n"
        b"insert into items (name, price) values ('alpha', 1.5), ('be''ta', null), ('\\\\x', 3);\n"
        b"create table empty (k varchar(5));\n"))
    first = raw(host, f"{kind}:export", "svc-db", env=PINNED)
    ok(host, f"{kind}:create", "svc-dx")  # same name length: the dumps differ only in it
    assert ok(host, f"{kind}:import", "svc-dx", stdin=first) == ""
    second = raw(host, f"{kind}:export", "svc-dx", env=PINNED)
    assert second == first.replace(b"Database: svc_db\n", b"Database: svc_dx\n")
    assert ok(host, f"{kind}:connect", "svc-dx", stdin=b"select name from items order by id;") == (
        "name\nalpha\nbe'ta\n\\\\x\n")
    # importing again restores the same tables (DROP TABLE IF EXISTS first)
    ok(host, f"{kind}:import", "svc-dx", stdin=first)
    assert raw(host, f"{kind}:export", "svc-dx", env=PINNED) == second


def test_sql_import_errors(host: Path) -> None:
    warning = "mysql: [Warning] Using a password on the command line interface can be insecure.\n"
    # mysql functions:180 service_import: `mysql ... < stdin`: empty input is a success
    assert sh(host, "mysql:import", "svc-db") == (0, "", warning)
    code, _, err = sh(host, "mysql:import", "svc-db", stdin=b"this is not a dump\n")
    assert code == 1 and err == warning + (
        "ERROR 1064 (42000) at line 1: You have an error in your SQL syntax; check the manual "
        "that corresponds to your MySQL server version for the right syntax to use near "
        "'this is not a dump' at line 1\n")
    code, _, err = sh(host, "mariadb:import", "svc-db", stdin=b"garbage;\n")
    assert code == 1 and "your MariaDB server version" in err
    code, output = run_tty(host, "mysql:import", "svc-db")
    # mysql functions:189: [[ -t 0 ]] => dokku_log_fail "No data provided on stdin."
    assert code == 1 and b"No data provided on stdin." in output
    assert sh(host, "mysql:import", "svc-nope")[2] == " !     MySQL service svc-nope does not exist\n"


def test_mongo_export_is_a_gzipped_archive_and_round_trips(host: Path) -> None:
    ok(host, "mongo:connect", "svc-db", stdin=(
        b"db.items.insertMany([{name: 'alpha', n: 1}, {name: 'beta', n: 2.5, on: true}])\n"
        b"db.other.insertOne({when: new Date(), big: Long('9007199254740993'), none: null})\n"))
    first = raw(host, "mongo:export", "svc-db", env=PINNED)
    # mongo functions:162 service_export: mongodump --gzip --archive => gzip of the archive
    assert first[:2] == b"\x1f\x8b"
    archive = gzip.decompress(first)
    assert archive[:4] == bytes.fromhex("6de29981")  # 0x8199e26d little-endian
    assert b"server_version\x00\x06\x00\x00\x008.2.9\x00" in archive
    ok(host, "mongo:create", "svc-dx")  # same name length: the archives differ only in it
    code, out, err = sh(host, "mongo:import", "svc-dx", stdin=first, env=PINNED)
    assert (code, out) == (0, "")
    assert err.splitlines()[0] == "2026-09-21T14:13:20.000+0000\tpreparing collections to restore from"
    assert "restoring svc_dx.items from archive on stdin" in err
    assert "finished restoring svc_dx.items (2 documents, 0 failures)" in err
    assert err.endswith("3 document(s) restored successfully. 0 document(s) failed to restore.\n")
    second = gzip.decompress(raw(host, "mongo:export", "svc-dx"))
    assert second == archive.replace(b"svc_db", b"svc_dx")
    assert mongosh(host, "svc-dx", b"db.items.countDocuments({n: 2.5})\n") == ["1\n"]


def test_mongo_import_errors(host: Path) -> None:
    stamp = "2026-09-21T14:13:20.000+0000\t"
    # Go's gzip.NewReader: io.EOF for empty input, ErrHeader for anything else
    assert sh(host, "mongo:import", "svc-db", env=PINNED) == (1, "", f"{stamp}Failed: EOF\n")
    assert sh(host, "mongo:import", "svc-db", stdin=b"not a dump\n", env=PINNED) == (
        1, "", f"{stamp}Failed: gzip: invalid header\n")
    assert sh(host, "mongo:import", "svc-db", stdin=gzip.compress(b"not a dump"), env=PINNED) == (
        1, "", f"{stamp}Failed: stream or file does not appear to be a mongodump archive\n")


def sim(root: Path, *argv: str, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, PRUVON_SIM_ROOT=str(root))
    return subprocess.Popen([sys.executable, "-m", "pruvon_testing.sim", *argv], env=env,
                            **kwargs)


# The simulator's console script in a process that reports its own peak RSS (KiB) last.
MEASURED = (
    "import resource, sys\n"
    "from pruvon_testing.sim.main import main\n"
    "try:\n    main(sys.argv[1:])\nexcept SystemExit as end:\n    code = end.code\n"
    "sys.stderr.write(f'MAXRSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n')\n"
    "sys.exit(code)\n"
)


def peak_rss_kib(root: Path, argv: list[str], source) -> int:
    env = dict(os.environ, PRUVON_SIM_ROOT=str(root))
    proc = subprocess.run([sys.executable, "-c", MEASURED, *argv], env=env, stdin=source,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stderr.decode().rsplit("MAXRSS ", 1)[1])


def test_big_import_streams_without_holding_the_input(host: Path, tmp_path_factory) -> None:
    """64 MiB of dump through a pipe: the importing process grows by far less than that."""
    dump = tmp_path_factory.mktemp("dump") / "big.sql"
    row = "(" + ",".join(["{i}", "'" + "x" * 200 + "'"]) + ")"
    with dump.open("w") as handle:
        handle.write("CREATE TABLE `big` (\n  `id` int NOT NULL,\n  `v` text,\n"
                     "  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\n")
        for block in range(64):
            values = ",".join(row.format(i=block * 4800 + i) for i in range(4800))
            handle.write(f"INSERT INTO `big` VALUES {values};\n")
    size = dump.stat().st_size
    assert size > 60 * 2**20
    baseline = peak_rss_kib(host, ["mysql:import", "svc-db"], subprocess.DEVNULL)
    with dump.open("rb") as source:
        peak = peak_rss_kib(host, ["mysql:import", "svc-db"], source)
    assert peak - baseline < 16 * 1024  # KiB: a few 1 MiB statements, not the 64 MiB input
    stored = host / "services" / "mysql" / "svc-db" / "data" / "svc_db" / "big.rows.sql"
    assert stored.stat().st_size > size - 1024
    export = sim(host, "mysql:export", "svc-db", stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert export.stdout is not None
    total = sum(len(chunk) for chunk in iter(lambda: export.stdout.read(1 << 20), b""))
    assert export.wait(timeout=120) == 0 and total > size


# -- seeding ---------------------------------------------------------------------------------------------
def test_seed_services_makes_real_services(tmp_path: Path) -> None:
    names = seed_services(tmp_path, "mongo", 3)
    assert names == ["mongo-1", "mongo-2", "mongo-3"]
    assert ok(tmp_path, "mongo:list") == "=====> MongoDB services\nmongo-1\nmongo-2\nmongo-3\n"
    assert ok(tmp_path, "mongo:info", "mongo-2", "--status") == "running\n"
    with pytest.raises(SeedError, match="unknown service kind 'oracle'"):
        seed_services(tmp_path, "oracle", 1)


# -- mongo archives: CRC-64-ECMA and big streams ------------------------------------------------
def ecma(data: bytes) -> int:
    from pruvon_testing.sim.services_mongo import ECMA_TABLE, MASK
    from pruvon_testing.sim.services_rdb import crc64

    return crc64(data, MASK, ECMA_TABLE) ^ MASK


def test_crc64_ecma_and_combine() -> None:
    from pruvon_testing.sim.services_mongo import crc64_combine

    assert ecma(b"123456789") == 0x995DC9BBDF1939FA  # CRC-64/GO-ECMA check value
    for size in (0, 1, 7, 100, 4099):
        first, second = os.urandom(size * 3 + 1), os.urandom(size)
        assert crc64_combine(ecma(first), ecma(second), len(second)) == ecma(first + second)


def eof_crcs(archive: bytes) -> dict[str, int]:
    """collection -> the CRC of its EOF header in an (ungzipped) archive."""
    from pruvon_testing.sim.services_mongo import decode_doc

    crcs, pos = {}, 4
    while pos < len(archive):
        if archive[pos:pos + 4] == b"\xff\xff\xff\xff":
            pos += 4
            continue
        doc, pos = decode_doc(archive, pos)
        if doc.get("EOF") is True:
            crcs[doc["collection"]] = int(doc["CRC"]) & (2**64 - 1)
    return crcs


def test_mongo_import_into_existing_documents_keeps_the_crc_right(host: Path) -> None:
    ok(host, "mongo:connect", "svc-db", stdin=b"db.items.insertOne({n: 1})\n")
    archive = raw(host, "mongo:export", "svc-db")
    ok(host, "mongo:connect", "svc-db", stdin=b"db.items.insertOne({n: 2})\n")
    ok(host, "mongo:import", "svc-db", stdin=archive)  # appends (mongorestore without --drop)
    assert mongosh(host, "svc-db", b"db.items.countDocuments()\n") == ["3\n"]
    stored = (host / "services" / "mongo" / "svc-db" / "data" / "svc_db" / "items.bson")
    assert eof_crcs(gzip.decompress(raw(host, "mongo:export", "svc-db"))) == {
        "items": ecma(stored.read_bytes())}


def big_archive(path: Path, segments: int) -> None:
    """A mongodump archive of ``segments`` MiB-sized runs of documents (CRC by combining)."""
    from pruvon_testing.sim import services_mongo as mongo

    run_docs = b"".join(mongo.encode_doc({"_id": mongo.ObjectId(f"{i:024x}"), "v": "x" * 200})
                        for i in range(4600))
    run_crc, total = ecma(run_docs), 0
    for _ in range(segments):
        total = mongo.crc64_combine(total, run_crc, len(run_docs)) if total else run_crc
    head = {"db": "svc_db", "collection": "big", "EOF": False, "CRC": mongo.Long(0)}
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(mongo.MAGIC + mongo.encode_doc({"concurrent_collections": 4, "version": "0.1"}))
        out.write(mongo.encode_doc({"db": "svc_db", "collection": "big", "metadata": "{}"}))
        out.write(mongo.TERMINATOR)
        for _ in range(segments):
            out.write(mongo.encode_doc(head) + run_docs + mongo.TERMINATOR)
        eof = {**head, "EOF": True, "CRC": mongo.Long(mongo.signed(total))}
        out.write(mongo.encode_doc(eof) + mongo.TERMINATOR)


def test_big_mongo_import_streams(host: Path, tmp_path_factory) -> None:
    archive = tmp_path_factory.mktemp("dump") / "big.archive.gz"
    big_archive(archive, 64)
    baseline = peak_rss_kib(host, ["mongo:exists", "svc-db"], subprocess.DEVNULL)
    with archive.open("rb") as source:
        peak = peak_rss_kib(host, ["mongo:import", "svc-db"], source)
    assert peak - baseline < 16 * 1024  # KiB, for ~64 MiB of documents
    stored = host / "services" / "mongo" / "svc-db" / "data" / "svc_db" / "big.bson"
    assert stored.stat().st_size == 64 * (stored.stat().st_size // 64) > 60 * 2**20
    exported = gzip.decompress(raw(host, "mongo:export", "svc-db"))
    original = gzip.decompress(archive.read_bytes())
    assert eof_crcs(exported) == eof_crcs(original)


def test_big_postgres_import_and_export_stream(host: Path) -> None:
    """pg_restore reads the archive block by block and COPY rows go in as they are
    inflated; pg_dump writes each table's rows as it reads them (no whole payload)."""
    from pruvon_testing.sim.core import SimState
    from pruvon_testing.sim.services_engines import PostgresEngine
    from pruvon_testing.sim.services_store import Service
    from pruvon_testing.sim.services_types import POSTGRES

    ok(host, "postgres:create", "pg-a")
    ok(host, "postgres:create", "pg-b")
    ok(host, "postgres:connect", "pg-a", stdin=b"create table big (id serial primary key, v text);")
    db = PostgresEngine().open(Service(SimState(host), POSTGRES, "pg-a"))
    try:
        rows = ([i, f"{i:08d}" + "x" * 200] for i in range(1, 300_001))
        assert db.insert_rows(db.table("big"), ["id", "v"], rows) == 300_000  # ~62 MiB of COPY text
    finally:
        db.close()
    dump = host / "big.dump"
    baseline = peak_rss_kib(host, ["postgres:exists", "pg-a"], subprocess.DEVNULL)
    with dump.open("wb") as out:
        env = dict(os.environ, PRUVON_SIM_ROOT=str(host))
        proc = subprocess.run([sys.executable, "-c", MEASURED, "postgres:export", "pg-a"], env=env,
                              stdout=out, stderr=subprocess.PIPE, check=True, timeout=300)
    assert int(proc.stderr.decode().rsplit("MAXRSS ", 1)[1]) - baseline < 16 * 1024
    assert dump.read_bytes()[:5] == b"PGDMP"
    with dump.open("rb") as source:
        assert peak_rss_kib(host, ["postgres:import", "pg-b"], source) - baseline < 16 * 1024
    out = ok(host, "postgres:connect", "pg-b", stdin=b"select count(*) from big;")
    assert out.splitlines()[2].strip() == "300000"
