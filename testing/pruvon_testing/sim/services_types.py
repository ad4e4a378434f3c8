"""Per-type data of the simulated dokku service plugins (postgres, redis, mysql,
mariadb, mongo).

All real plugins are generated from the same dokku service template; they
differ only in the values of their ``config`` file (image, port, alias, ...) and
in the datastore-specific ``functions`` (connect, export, import, service_url).
Everything that is plain data lives here - one table of per-kind facts - and the
engines are referenced by name (``engine``) and resolved by ``services_engines``
so this module stays import-light.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# Where the real plugins keep their data on a Dokku host.  The simulator prints
# these host paths (as the captures do) while storing the data in its state dir.
DOKKU_LIB_ROOT = "/var/lib/dokku"

# Images the real plugins pull besides the datastore image (config file).
AMBASSADOR_IMAGE = "dokku/ambassador:0.8.2"
BUSYBOX_IMAGE = "busybox:1.37.0-uclibc"


@dataclass(frozen=True)
class ServiceType:
    """The ``config`` of one service plugin, as data."""

    kind: str  # PLUGIN_COMMAND_PREFIX
    label: str  # PLUGIN_SERVICE
    variable: str  # PLUGIN_VARIABLE
    image: str
    image_version: str
    port: int  # PLUGIN_DATASTORE_PORTS[0]
    default_alias: str  # PLUGIN_DEFAULT_ALIAS
    alt_alias: str  # PLUGIN_ALT_ALIAS
    scheme: str
    config_suffix: str  # PLUGIN_CONFIG_SUFFIX: where "Config dir" points
    password_bytes: int  # openssl rand -hex N
    create_steps: tuple[str, ...]  # verbose progress lines of service_create_container
    container_data_dir: str  # where ``data/`` is mounted inside the container
    plugin_version: str
    url_user_example: str  # help-text placeholders (the DSN shapes differ)
    url_path_example: str
    command: tuple[str, ...]  # the container's entrypoint + command, as ``docker ps`` shows
    engine: str = ""  # services_engines key; the kind when empty
    # ``service_url``: the user part (None: the service name, as mongo does) and
    # whether the database name is the URL path (not for redis).
    url_user: str | None = ""
    url_has_path: bool = False
    writes_database_name: bool = True  # ``write_database_name`` in ``service_create``
    root_password_bytes: int = 0  # ROOTPASSWORD (openssl rand -hex N); 0: none
    extra_ports: tuple[int, ...] = ()  # PLUGIN_DATASTORE_PORTS[1:] (mongo exposes four)
    config_files: tuple[tuple[str, str], ...] = ()  # written to config/ by service_create
    plugin_commit: str = ""  # plugin:list committish of the simulated install
    default_config_options: str = ""  # ``<VARIABLE>_CONFIG_OPTIONS`` default of ``config``
    # Installed on a fresh simulated host, as on the reference host (postgres, redis);
    # the others arrive with ``plugin:install`` (or the ``installed`` knob).
    default_installed: bool = False

    @property
    def ports(self) -> tuple[int, ...]:
        """``PLUGIN_DATASTORE_PORTS``: expose maps host ports onto these, in order."""
        return (self.port, *self.extra_ports)

    @property
    def root(self) -> str:
        return f"{DOKKU_LIB_ROOT}/services/{self.kind}"

    def host_root(self, name: str) -> str:
        return f"{self.root}/{name}"

    def container_name(self, name: str) -> str:
        return f"dokku.{self.kind}.{name}"

    def dns_hostname(self, name: str) -> str:
        return f"dokku-{self.kind}-{name}"

    @staticmethod
    def database_name(name: str) -> str:
        """``get_database_name``: dashes and dots become underscores."""
        return name.replace("-", "_").replace(".", "_")

    def dsn(self, name: str, password: str, database: str) -> str:
        """``service_url`` of the plugin's ``functions``."""
        host = f"{self.dns_hostname(name)}:{self.port}"
        user = name if self.url_user is None else self.url_user
        path = f"/{database}" if self.url_has_path else ""
        return f"{self.scheme}://{user}:{password}@{host}{path}"

    def help_vars(self) -> dict[str, str]:
        """Values for the ``$PLUGIN_*`` placeholders in the help metadata."""
        return {
            "PLUGIN_COMMAND_PREFIX": self.kind,
            "PLUGIN_SERVICE": self.label,
            "PLUGIN_VARIABLE": self.variable,
            "PLUGIN_IMAGE": self.image,
            "PLUGIN_IMAGE_VERSION": self.image_version,
            "PLUGIN_DEFAULT_ALIAS": self.default_alias,
            "PLUGIN_SCHEME": self.scheme,
            "PLUGIN_DATASTORE_PORTS[0]": str(self.port),
            "URL_USER_LINK": self.url_user_example,  # link's examples (``mysql``, ``mariadb``)
            "URL_USER_LOLLIPOP": "lollipop" if self.url_user_example else "",
            "URL_USER_OTHER": "other_service" if self.url_user_example else "",
            "URL_PATH_LOLLIPOP": self.url_path_example,
        }


POSTGRES = ServiceType(
    kind="postgres",
    label="Postgres",
    variable="POSTGRES",
    image="postgres",
    image_version="18.4",
    port=5432,
    default_alias="DATABASE",
    alt_alias="DOKKU_POSTGRES",
    scheme="postgres",
    config_suffix="data",
    password_bytes=16,
    create_steps=(
        "Waiting for container to be ready",
        "Creating container database",
        "Securing connection to database",
    ),
    container_data_dir="/var/lib/postgresql",
    plugin_version="1.48.0",
    url_user_example="lollipop",
    url_path_example="/lollipop",
    command=("docker-entrypoint.sh", "postgres"),
    url_user="postgres",
    url_has_path=True,
    default_installed=True,
    plugin_commit="f694199be12924bcfa7d16d8c7200028b60104cf",
)

REDIS = ServiceType(
    kind="redis",
    label="Redis",
    variable="REDIS",
    image="redis",
    image_version="8.8.0",
    port=6379,
    default_alias="REDIS",
    alt_alias="DOKKU_REDIS",
    scheme="redis",
    config_suffix="config",
    password_bytes=32,
    create_steps=("Waiting for container to be ready",),
    container_data_dir="/data",
    plugin_version="1.43.0",
    url_user_example="",
    url_path_example="",
    command=(
        "docker-entrypoint.sh",
        "redis-server",
        "/usr/local/etc/redis/redis.conf",
        "--bind",
        "0.0.0.0",  # noqa: S104 - the container's own command line, not a socket we bind
    ),
    writes_database_name=False,
    default_installed=True,
    plugin_commit="f639c61f1c2ddf19e7f336838597593354fc1689",
)

# dokku-mysql 1.44.3 (Dockerfile ``FROM mysql:9.7.0``): ``functions`` writes two
# cnf files to config/ (mounted at /etc/mysql/conf.d), ROOTPASSWORD and PASSWORD
# from ``openssl rand -hex 8``, and links ``mysql://mysql:<pw>@host:3306/<db>``.
MYSQL = ServiceType(
    kind="mysql",
    label="MySQL",
    variable="MYSQL",
    image="mysql",
    image_version="9.7.0",
    port=3306,
    default_alias="DATABASE",
    alt_alias="DOKKU_MYSQL",
    scheme="mysql",
    config_suffix="config",
    password_bytes=8,
    create_steps=("Waiting for container to be ready",),
    container_data_dir="/var/lib/mysql",
    plugin_version="1.44.3",
    url_user_example="mysql",
    url_path_example="/lollipop",
    command=("docker-entrypoint.sh", "mysqld"),
    engine="mysql",
    url_user="mysql",
    url_has_path=True,
    root_password_bytes=8,
    config_files=(
        ("disable_performance_schema.cnf", "[mysqld]\nperformance_schema = 0\n"),
        (
            "charset_utf8.cnf",
            "[mysqld]\ncharacter-set-server = utf8mb4\ncollation-server = utf8mb4_unicode_ci\n",
        ),
    ),
    plugin_commit="f70416bb3559506a980121c6e11b27425d3da1a9",
)

# dokku-mariadb 1.45.2 (``FROM mariadb:12.2.2``): the mysql template with the
# ``mariadb`` user, the ``mariadb``/``mariadb-dump`` clients and ``mysql://mariadb:…``.
MARIADB = replace(
    MYSQL,
    kind="mariadb",
    label="MariaDB",
    variable="MARIADB",
    image="mariadb",
    image_version="12.2.2",
    alt_alias="DOKKU_MARIADB",
    plugin_version="1.45.2",
    url_user_example="mariadb",
    command=("docker-entrypoint.sh", "mariadbd"),
    url_user="mariadb",
    plugin_commit="c7ff5060eb1748c0af18af3103d6fbfe0e7648e2",
)

# dokku-mongo 1.40.6 (``FROM mongo:8.2.9``): ``mongod --storageEngine wiredTiger
# --auth`` (MONGO_CONFIG_OPTIONS), data at /data/db, a readWrite user named after
# the service, ``mongodb://<service>:<pw>@host:27017/<db>``, four datastore ports.
MONGO = ServiceType(
    kind="mongo",
    label="MongoDB",
    variable="MONGO",
    image="mongo",
    image_version="8.2.9",
    port=27017,
    default_alias="MONGO",
    alt_alias="DOKKU_MONGO",
    scheme="mongodb",
    config_suffix="config",
    password_bytes=16,
    create_steps=("Waiting for container to be ready",),
    container_data_dir="/data/db",
    plugin_version="1.40.6",
    url_user_example="lollipop",
    url_path_example="/lollipop",
    command=("docker-entrypoint.sh", "mongod", "--storageEngine", "wiredTiger", "--auth"),
    engine="mongo",
    url_user=None,
    url_has_path=True,
    root_password_bytes=16,
    extra_ports=(27018, 27019, 28017),
    default_config_options=" --storageEngine wiredTiger --auth ",
    plugin_commit="bcdd65e68ed1cf8669e7e421fc91d2ce9e0a1fda",
)

TYPES: dict[str, ServiceType] = {t.kind: t for t in (POSTGRES, REDIS, MYSQL, MARIADB, MONGO)}
