"""Parsers from Dokku's output (JSON and text) to the typed models.

The formats are those of the real captures in ``tests/fixtures/dokku-reference``
(Dokku 0.38.27, dokku-postgres 1.48, dokku-redis 1.43).  Text formats are the
fallback for versions without ``--format json``.  Report keys are normalised
to the unprefixed form: before 0.38.8 some plugins emitted only
``<plugin>-<key>``, now most emit both, some only the bare key.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pruvon_core.dokku.errors import ANSI_RE, PREFIX
from pruvon_core.dokku.models import (
    AppReport,
    Container,
    DomainsReport,
    K3sNode,
    Plugin,
    PortMapping,
    PortsReport,
    ProcessStatus,
    PsReport,
    ServiceInfo,
    StorageMount,
)
from pruvon_core.dokku.validate import EXISTING_APP_RE, SERVICE_RE

VERSION_RE = re.compile(r"(\d+)\.(\d+)\.(\d+)")
HEADER_RE = re.compile(r"^=====> (\S+) (.+) information$")
ROW_RE = re.compile(r"^ {7}([^:]+?):(?: (.*))?$")
STATUS_LABEL_RE = re.compile(r"^status ([a-z0-9_-]+) (\d+)$", re.IGNORECASE)
SCALE_HEADER_RE = re.compile(r"^(-----> Scaling for \S+|proctype: qty|-+: -+)$")
URL_RE = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$")
STATUS_VALUE_RE = re.compile(r"^(\w+)(?: \(CID: ([0-9a-f]+)\))?")
# Each report's key prefix, as Dokku writes it (apps:report uses "app-", not "apps-").
REPORT_PREFIXES = {
    "apps": "app-",
    "ps": "ps-",
    "domains": "domains-",
    "ports": "ports-",
    "storage": "storage-",
    "proxy": "proxy-",
    "builder": "builder-",
    "network": "network-",
    "scheduler": "scheduler-",
}


WARNING_PREFIX = PREFIX  # dokku_log_warn: Dokku's own warnings, never data
NAME_RE = EXISTING_APP_RE  # an existing app's name
MAX_SHOWN = 80


class ParseError(ValueError):
    """Output that does not have the shape Dokku gives.

    ``detail`` says where and what, short enough for an error message
    (``line 2 '<<garbage>>'``); ``text`` is the whole output, for logs.
    """

    def __init__(self, what: str, text: str, detail: str | None = None) -> None:
        self.detail = detail or f"{text[:MAX_SHOWN]!r}"
        super().__init__(f"cannot parse {what}: {self.detail}")
        self.what = what
        self.text = text


def unexpected_line(what: str, text: str, number: int, line: str) -> ParseError:
    """A :class:`ParseError` pointing at line ``number`` (1-based) of ``text``."""
    return ParseError(what, text, f"line {number} {line[:MAX_SHOWN]!r}")


def data_lines(text: str) -> list[tuple[int, str]]:
    """``(line number, line)`` of the lines that carry data.

    ANSI colours and CR (tty) are removed; blank lines and Dokku's own
    `` !     `` warnings are skipped, since Dokku mixes both into listings.
    """
    lines = []
    for number, raw in enumerate(strip_ansi(text).splitlines(), start=1):
        line = raw.rstrip("\r")
        if line.strip() and not line.startswith(WARNING_PREFIX):
            lines.append((number, line))
    return lines


def strip_ansi(text: str) -> str:
    return ANSI_RE.sub("", text)


def _json_list(text: str, what: str) -> list[dict[str, Any]]:
    """A JSON list of objects (``--format json`` listings)."""
    items = parse_json(text, what)
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ParseError(what, text, f"expected a list of objects: {text.strip()[:MAX_SHOWN]!r}")
    return items


# --------------------------------------------------------------------------- version
def parse_version(text: str) -> str:
    """``dokku version 0.38.27`` -> ``0.38.27``."""
    match = VERSION_RE.search(text)
    if not match:
        raise ParseError("dokku version", text)
    return match.group(0)


def version_tuple(version: str) -> tuple[int, int, int]:
    match = VERSION_RE.search(version)
    if not match:
        raise ParseError("version", version)
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


# --------------------------------------------------------------------------- json
def parse_json_object(text: str, what: str) -> dict[str, Any]:
    """A JSON object (``*:report APP --format json``); any other JSON is refused."""
    data = parse_json(text, what)
    if not isinstance(data, dict):
        raise ParseError(what, text, f"expected a JSON object, got {text.strip()[:MAX_SHOWN]!r}")
    return data


def parse_ndjson(text: str, what: str) -> list[dict[str, Any]]:
    """One JSON object per line (``*:report --format json`` without an app, ``docker ps``)."""
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            item = None
        if not isinstance(item, dict):
            raise unexpected_line(what, text, number, line)
        items.append(item)
    return items


def parse_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ParseError(what, text, f"not JSON: {text.strip()[:MAX_SHOWN]!r}") from exc


# --------------------------------------------------------------------------- apps
def parse_names(text: str, what: str, pattern: re.Pattern[str] = NAME_RE) -> list[str]:
    """``=====> header`` lines then one name per line; anything else is refused.

    A line that is not a valid name is not an app (or service) Dokku has: it
    is output Pruvon cannot read, and listing it would show garbage as data.
    """
    names = []
    for number, line in data_lines(text):
        if line.startswith("=====> "):
            continue
        name = line.strip()
        if not pattern.match(name):
            raise unexpected_line(what, text, number, line)
        names.append(name)
    return names


def parse_apps_list_text(text: str) -> list[str]:
    """``=====> My Apps`` then one name per line (the empty case warns on stderr)."""
    return parse_names(text, "apps:list")


def parse_apps_list_json(text: str) -> list[str]:
    names = parse_json(text, "apps:list json")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ParseError("apps:list json", text, f"expected a list of names: {text[:MAX_SHOWN]!r}")
    for name in names:
        if not NAME_RE.match(name):
            raise ParseError("apps:list json", text, f"not an app name: {name[:MAX_SHOWN]!r}")
    return names


# --------------------------------------------------------------------------- reports
def label_to_key(label: str) -> str:
    """A human report label to its JSON key: ``Status web 1`` -> ``status-web.1``."""
    status = STATUS_LABEL_RE.match(label.strip())
    if status:
        return f"status-{status.group(1)}.{status.group(2)}"
    return re.sub(r"\s+", "-", label.strip().lower())


def parse_report_blocks(text: str) -> list[tuple[str, dict[str, str]]]:
    """``*:report`` text: ``(subject, {key: value})`` per ``=====> X ... information`` block."""
    blocks: list[tuple[str, dict[str, str]]] = []
    for number, line in data_lines(text):
        header = HEADER_RE.match(line)
        if header:
            blocks.append((header.group(1), {}))
            continue
        row = ROW_RE.match(line)
        if not row or not blocks:
            raise unexpected_line("report", text, number, line)
        blocks[-1][1][label_to_key(row.group(1))] = (row.group(2) or "").strip()
    return blocks


def parse_report_text(text: str) -> dict[str, str]:
    """The single block of an app's ``*:report`` text output."""
    blocks = parse_report_blocks(text)
    if len(blocks) != 1:
        raise ParseError("report", text, f"expected one report block, found {len(blocks)}")
    return blocks[0][1]


def require_keys(data: dict[str, Any], what: str, *keys: str) -> dict[str, Any]:
    """``data`` if it has every one of ``keys`` (after normalising), else a ParseError.

    A report without the keys its model is built from is not a report: reading
    it anyway would show defaults ("not deployed", no domains) as facts.
    """
    missing = [k for k in keys if k not in data]
    if missing:
        raise ParseError(what, str(data), f"report without {', '.join(missing)}")
    return data


def normalize_report(data: dict[str, Any], plugin: str) -> dict[str, Any]:
    """Unprefixed keys whether Dokku emitted ``<prefix>key``, ``key`` or both."""
    prefix = REPORT_PREFIXES.get(plugin, f"{plugin}-")
    result: dict[str, Any] = {}
    for key, value in data.items():
        bare = key[len(prefix) :] if key.startswith(prefix) else key
        if key == bare or bare not in result:
            result[bare] = value
    return result


def _bool(value: Any) -> bool:
    return str(value).strip().lower() == "true"


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        return default


def ps_report(app: str, raw: dict[str, Any]) -> PsReport:
    """A :class:`PsReport` from ``ps:report`` JSON or text keys (any prefix form)."""
    data = require_keys(normalize_report(raw, "ps"), "ps:report", "deployed")
    statuses = []
    for key, value in data.items():
        match = re.match(r"^status-(.+)\.(\d+)$", key)
        if not match:
            continue
        state = STATUS_VALUE_RE.match(str(value))
        statuses.append(
            ProcessStatus(
                process_type=match.group(1),
                index=int(match.group(2)),
                state=state.group(1) if state else str(value),
                container_id=(state.group(2) or "") if state else "",
            )
        )
    statuses.sort(key=lambda s: (s.process_type, s.index))
    return PsReport(
        app=app,
        deployed=_bool(data.get("deployed")),
        running=_bool(data.get("running")),
        processes=_int(data.get("processes")),
        restore=_bool(data.get("restore", "true")),
        restart_policy=str(data.get("restart-policy") or data.get("computed-restart-policy") or ""),
        statuses=statuses,
    )


def app_report(app: str, raw: dict[str, Any]) -> AppReport:
    data = require_keys(normalize_report(raw, "apps"), "apps:report", "dir")
    created = str(data.get("created-at", "")).strip()
    return AppReport(
        name=app,
        dir=str(data.get("dir", "")),
        deploy_source=str(data.get("deploy-source", "")),
        deploy_source_metadata=str(data.get("deploy-source-metadata", "")),
        created_at=int(created) if created.isdigit() else None,
        locked=_bool(data.get("locked")),
    )


def domains_report(raw: dict[str, Any]) -> DomainsReport:
    data = normalize_report(raw, "domains")
    if not ({"app-vhosts", "global-vhosts"} & data.keys()):  # --global has no app-* keys
        raise ParseError("domains:report", str(raw), "report without vhosts")
    return DomainsReport(
        app_enabled=_bool(data.get("app-enabled")),
        app_vhosts=str(data.get("app-vhosts", "")).split(),
        global_enabled=_bool(data.get("global-enabled")),
        global_vhosts=str(data.get("global-vhosts", "")).split(),
    )


def parse_port_map(text: str) -> list[PortMapping]:
    """``http:80:5000 https:443:5000`` (the report's ``map`` value)."""
    mappings = []
    for item in text.split():
        parts = item.split(":")
        if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
            raise ParseError("port mapping", item)
        mappings.append(PortMapping(parts[0], int(parts[1]), int(parts[2])))
    return mappings


def _port_map_json(value: Any) -> list[PortMapping] | None:
    if not isinstance(value, str) or not value.strip():
        return None
    items = parse_json(value, "port map json")
    if items is None:
        return []
    return [
        PortMapping(str(i["scheme"]), int(i["host_port"]), int(i["container_port"])) for i in items
    ]


def ports_report(raw: dict[str, Any]) -> PortsReport:
    data = normalize_report(raw, "ports")
    if not ({"map", "map-json"} & data.keys()):
        raise ParseError("ports:report", str(raw), "report without map")
    configured = _port_map_json(data.get("map-json"))
    detected = _port_map_json(data.get("map-detected-json"))
    return PortsReport(
        configured=configured
        if configured is not None
        else parse_port_map(str(data.get("map", ""))),
        detected=detected
        if detected is not None
        else parse_port_map(str(data.get("map-detected", ""))),
    )


def parse_ports_list_text(text: str) -> list[PortMapping]:
    """``ports:list``: a header, an indented column header, then ``scheme host container``."""
    mappings = []
    for number, line in data_lines(text):
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            mappings.append(PortMapping(parts[0], int(parts[1]), int(parts[2])))
        elif not line.lstrip().startswith("-----> "):
            raise unexpected_line("ports:list", text, number, line)
    return mappings


# --------------------------------------------------------------------------- storage
def parse_storage_list_json(text: str) -> list[StorageMount]:
    items = _json_list(text, "storage:list json")
    return [
        StorageMount(
            host_path=str(i.get("host_path", "")),
            container_path=str(i.get("container_path", "")),
            entry_name=str(i.get("entry_name", "")),
        )
        for i in items
    ]


def parse_storage_list_text(text: str) -> list[StorageMount]:
    """``-----> app volume bind-mounts:`` then ``       host:container[:options]``."""
    mounts = []
    for number, line in data_lines(text):
        if line.startswith("-----> "):
            continue
        host, _, rest = line.strip().partition(":")
        if not line.startswith("       ") or not host or not rest:
            raise unexpected_line("storage:list", text, number, line)
        mounts.append(StorageMount(host_path=host, container_path=rest.split(":")[0]))
    return mounts


# --------------------------------------------------------------------------- ps:scale
def parse_scale_json(text: str) -> dict[str, int]:
    items = _json_list(text, "ps:scale json")
    return {str(i["process_type"]): int(i["quantity"]) for i in items}


def parse_scale_text(text: str) -> dict[str, int]:
    """``proctype: qty`` table; note Dokku writes ``web:  2`` with two spaces."""
    scale = {}
    for number, line in data_lines(text):
        match = re.match(r"^([A-Za-z0-9_-]+):\s+(-?\d+)$", line)
        if match:
            scale[match.group(1)] = int(match.group(2))
        elif not SCALE_HEADER_RE.match(line):
            raise unexpected_line("ps:scale", text, number, line)
    return scale


# --------------------------------------------------------------------------- plugins
def parse_plugin_list_json(text: str) -> list[Plugin]:
    return [
        Plugin(
            name=str(i["name"]),
            version=str(i.get("version", "")),
            enabled=bool(i.get("enabled")),
            description=str(i.get("description", "")),
            core=bool(i.get("core")),
            source_url=str(i.get("source_url", "")),
        )
        for i in _json_list(text, "plugin:list json")
    ]


def parse_plugin_list_text(text: str) -> list[Plugin]:
    """``  name  version enabled  description`` (columns break on long names)."""
    plugins = []
    for number, line in data_lines(text):
        match = re.match(r"^\s*(\S+)\s+(\S+)\s+(enabled|disabled)\s+(.*)$", line)
        if not match:
            raise unexpected_line("plugin:list", text, number, line)
        name, version, state, description = match.groups()
        plugins.append(Plugin(name, version, state == "enabled", description.strip()))
    return plugins


# --------------------------------------------------------------------------- services
def parse_service_list(text: str) -> list[str]:
    """``<type>:list``: a ``=====>`` header then names (older plugins add columns)."""
    names = []
    for number, line in data_lines(text):
        if line.startswith("=====>"):
            continue
        first = line.split()[0]
        if first == "NAME":  # the column header of dokku-postgres < 1.30
            continue
        if not SERVICE_RE.match(first):
            raise unexpected_line("service list", text, number, line)
        names.append(first)
    return names


def _dash_empty(value: str) -> str:
    return "" if value.strip() == "-" else value.strip()


def parse_service_info(kind: str, name: str, text: str) -> ServiceInfo:
    """``<type>:info <name>``: rows padded as ``%-20s %-25s`` after 7 spaces."""
    blocks = parse_report_blocks(text)
    if len(blocks) != 1:
        raise ParseError(f"{kind}:info", text, f"expected one info block, found {len(blocks)}")
    data = blocks[0][1]
    known = {
        "config-dir", "config-options", "data-dir", "dsn", "exposed-ports", "id",
        "internal-ip", "links", "service-root", "status", "version",
    }  # fmt: skip
    return ServiceInfo(
        kind=kind,
        name=name,
        status=data.get("status", ""),
        version=data.get("version", ""),
        dsn=data.get("dsn", ""),
        links=_dash_empty(data.get("links", "")).split(),
        exposed_ports=_dash_empty(data.get("exposed-ports", "")),
        internal_ip=data.get("internal-ip", ""),
        id=data.get("id", ""),
        config_dir=data.get("config-dir", ""),
        data_dir=data.get("data-dir", ""),
        service_root=data.get("service-root", ""),
        extra={k: v for k, v in data.items() if k not in known},
    )


def parse_lines(
    text: str, what: str = "output", pattern: re.Pattern[str] | None = None
) -> list[str]:
    """Bare words one per line (``<type>:links``, ``urls``); each must match ``pattern``."""
    words = []
    for number, line in data_lines(text):
        word = line.strip()
        if pattern is not None and not pattern.match(word):
            raise unexpected_line(what, text, number, line)
        words.append(word)
    return words


# --------------------------------------------------------------------------- docker
DOKKU_LABELS = (
    "com.dokku.app-name",
    "com.dokku.process-type",
    "com.dokku.dyno",
    "com.dokku.container-type",
)


def parse_docker_labels(text: str) -> dict[str, str]:
    """``docker ps`` joins labels as ``k=v,k=v``; a value may itself hold commas."""
    labels: dict[str, str] = {}
    last = None
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if sep and re.match(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", key):
            labels[key] = value
            last = key
        elif last is not None:
            labels[last] += "," + part
    return labels


def docker_ps_items(text: str) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """``docker ps --format '{{json .}}'`` lines as ``(fields, labels)``; each has an ID."""
    items = []
    for item in parse_ndjson(text, "docker ps json"):
        if not isinstance(item.get("ID"), str) or not item["ID"]:
            raise ParseError("docker ps json", text, f"container without ID: {str(item)[:80]!r}")
        raw_labels = item.get("Labels", "")
        labels = raw_labels if isinstance(raw_labels, dict) else parse_docker_labels(raw_labels)
        items.append((item, labels))
    return items


def docker_state(item: dict[str, Any]) -> str:
    """docker's state of one ``ps`` line (``running``, ``exited`` …), for plugins."""
    return _docker_state(item)


def parse_docker_ps(text: str) -> list[Container]:
    """``docker ps -a --format '{{json .}}'``: one object per line, Dokku's containers only."""
    containers = []
    for item, labels in docker_ps_items(text):
        app = labels.get("com.dokku.app-name")
        if not app:
            continue
        containers.append(
            Container(
                id=str(item.get("ID", "")),
                name=str(item.get("Names", "")),
                app=app,
                process_type=labels.get("com.dokku.process-type", ""),
                dyno=labels.get("com.dokku.dyno", ""),
                container_type=labels.get("com.dokku.container-type", "deploy"),
                image=str(item.get("Image", "")),
                state=_docker_state(item),
                status=str(item.get("Status", "")),
                created_at=str(item.get("CreatedAt", "")),
            )
        )
    return containers


def _docker_state(item: dict[str, Any]) -> str:
    """docker's ``State``; older dockers only have ``Status`` (``Up 3 hours``, ``Exited (0)``)."""
    state = str(item.get("State", "")).lower()
    if state:
        return state
    status = str(item.get("Status", ""))
    if status.startswith("Up"):
        return "paused" if "(Paused)" in status else "running"
    return status.split(" ", 1)[0].lower() or "unknown"


def scheduler_by_app(text: str) -> dict[str, str]:
    """``scheduler:report`` for every app: each app's effective scheduler (``k3s`` …).

    Reads ``Scheduler computed selected`` (the app's own value, else the
    global one, else ``docker-local``).
    """
    found = {}
    for subject, values in parse_report_blocks(text):
        app = subject.split()[0] if subject else ""
        found[app] = (values.get("scheduler-computed-selected")
                      or values.get("scheduler-selected") or "docker-local")
    return found


def k3s_nodes(text: str) -> list[K3sNode]:
    """``scheduler-k3s:cluster-list --format json`` (Go's ``Node`` struct, no json tags)."""
    data = json.loads(text or "[]")
    if not isinstance(data, list):
        raise ParseError("scheduler-k3s:cluster-list", text, "expected a JSON list of nodes")
    return [K3sNode(str(n["Name"]), bool(n.get("Ready")), tuple(n.get("Roles") or ()),
                    str(n.get("Version") or ""), str(n.get("RemoteHost") or "")) for n in data]
# --------------------------------------------------------------------------- services, in bulk
SERVICE_COLUMNS = {"NAME": "name", "VERSION": "version", "STATUS": "status",
                   "EXPOSED PORTS": "exposed_ports", "LINKS": "links"}
SERVICE_CONTAINER_RE = re.compile(r"^dokku\.([a-z][a-z0-9-]*)\.([A-Za-z0-9_-]+?)(\.ambassador)?$")
LINK_OPTION_RE = re.compile(r"--link[ =]dokku\.([a-z][a-z0-9-]*)\.([A-Za-z0-9_-]+):\S+")


def parse_service_table(text: str) -> list[dict[str, str]]:
    """``<type>:list`` with its columns: ``{"name"}`` only (plugins >= 1.30 print names),
    or ``name, version, status, exposed_ports, links`` from an older plugin's table.

    The table is aligned by the header, so a column starts where its title does.
    """
    rows: list[dict[str, str]] = []
    starts: list[tuple[int, str]] = []
    for number, line in data_lines(text):
        if line.startswith("=====>"):
            continue
        if line.split()[0] == "NAME":
            starts = [(line.index(title), key) for title, key in SERVICE_COLUMNS.items()
                      if title in line]
            continue
        if not SERVICE_RE.match(line.split()[0]):
            raise unexpected_line("service list", text, number, line)
        if not starts:
            rows.append({"name": line.split()[0]})
            continue
        bounds = [*(s for s, _ in starts[1:]), len(line)]
        row = {key: _dash_empty(line[start:end]) for (start, key), end in zip(starts, bounds,
                                                                               strict=True)}
        row["name"] = line.split()[0]
        rows.append(row)
    return rows


def parse_service_containers(text: str) -> list[dict[str, str]]:
    """``docker ps -a --format '{{json .}}'``: the service plugins' containers.

    Each is ``dokku.<type>.<name>`` (role ``service``) or
    ``dokku.<type>.<name>.ambassador`` (``expose``'s port forwarder), labelled
    ``dokku=service`` / ``dokku=ambassador``; app containers are skipped.
    """
    found = []
    for item in parse_ndjson(text, "docker ps json"):
        raw_labels = item.get("Labels", "")
        labels = raw_labels if isinstance(raw_labels, dict) else parse_docker_labels(raw_labels)
        role = labels.get("dokku", "")
        match = SERVICE_CONTAINER_RE.match(str(item.get("Names", "")).lstrip("/"))
        if role not in ("service", "ambassador") or not match:
            continue
        if (role == "ambassador") != bool(match.group(3)):
            continue
        found.append({"kind": match.group(1), "name": match.group(2), "role": role,
                      "image": str(item.get("Image", "")), "state": docker_state(item),
                      "ports": str(item.get("Ports", ""))})
    return found


def parse_service_links(text: str) -> dict[tuple[str, str], list[str]]:
    """``docker-options:report`` of every app: ``{(type, name): [apps]}``.

    A service plugin links an app with ``docker-options:add APP build,deploy,run
    "--link dokku.<type>.<name>:dokku-<type>-<name>"``; the deploy phase is read.
    """
    links: dict[tuple[str, str], list[str]] = {}
    for app, data in parse_report_blocks(text):
        for kind, name in LINK_OPTION_RE.findall(data.get("docker-options-deploy", "")):
            apps = links.setdefault((kind, name), [])
            if app not in apps:
                apps.append(app)
    return links
