"""Per-type data of the simulated dokku service plugins (postgres, redis).

Both real plugins are generated from the same dokku service template; they
differ only in the values of their ``config`` file (image, port, alias, ...) and
in the datastore-specific functions (connect, export, import).  Everything that
is plain data lives here; the engines are referenced by name and resolved by
``services_engines`` so this module stays import-light.
"""

from __future__ import annotations

from dataclasses import dataclass

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
        """``service_url`` of the plugin."""
        host = f"{self.dns_hostname(name)}:{self.port}"
        if self.kind == "postgres":
            return f"{self.scheme}://postgres:{password}@{host}/{database}"
        return f"{self.scheme}://:{password}@{host}"

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
            "URL_USER_LOLLIPOP": self.url_user_example,
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
)

TYPES: dict[str, ServiceType] = {t.kind: t for t in (POSTGRES, REDIS)}
