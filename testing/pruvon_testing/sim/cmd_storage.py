"""Simulated ``storage:*`` (Dokku 0.38.27 storage entries + attachments).

A legacy ``host:container`` mount synthesizes an entry ``legacy-<sha1(host)[:10]>`` and an
attachment, exactly as Dokku does, so the captured names (``legacy-4b101fcc80``) come out
the same.  Entries are global (``<root>/storage/entries/<name>.json``); an app's attachments
are the property ``storage/<app>/attachments`` (JSON), readable by other commands.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from pruvon_testing.sim import routing
from pruvon_testing.sim.core import (
    Ctx,
    Flag,
    SimState,
    command,
    parse_flags,
)
from pruvon_testing.sim.core import write_atomic as _write

STORAGE_DIR = "/var/lib/dokku/data/storage"
DEFAULT_PROCESS = "_default_"
CHOWN_IDS = {
    "herokuish": "32767",
    "heroku": "1000",
    "paketo": "2000",
    "packeto": "2000",
    "root": "0",
}


# -- entries and attachments -------------------------------------------------------------------


def _entries_dir(state: SimState) -> Path:
    return state.root / "storage" / "entries"


def load_entry(state: SimState, name: str) -> dict | None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name or ""):
        return None
    try:
        return json.loads((_entries_dir(state) / f"{name}.json").read_text())
    except (FileNotFoundError, ValueError):
        return None


def list_entries(state: SimState) -> list[dict]:
    base = _entries_dir(state)
    if not base.is_dir():
        return []
    return [e for p in sorted(base.glob("*.json")) if (e := load_entry(state, p.stem))]


def save_entry(state: SimState, entry: dict) -> None:
    _write(_entries_dir(state) / f"{entry['name']}.json", json.dumps(entry, indent=2))


def attachments(state: SimState, app: str) -> list[dict]:
    text = state.prop_get("storage", app, "attachments")
    return json.loads(text) if text else []


def save_attachments(state: SimState, app: str, items: list[dict]) -> None:
    if items:
        state.prop_set("storage", app, "attachments", json.dumps(items, indent=2))
    else:
        state.prop_delete("storage", app, "attachments")


def legacy_entry(mount: str) -> dict:
    """``LegacyMountToEntry``: a deterministic name from the host part of the mount."""
    host = mount.split(":", 2)[0]
    digest = hashlib.sha1((host if host.startswith("/") else f"vol:{host}").encode()).hexdigest()  # noqa: S324 - Dokku's naming, not security
    return {
        "name": f"legacy-{digest[:10]}",
        "scheduler": "docker-local",
        "host_path": host,
        "schema_version": 1,
    }


def verify_paths(mount: str) -> str:
    """Dokku's ``VerifyPaths``: the error text, or empty when the mount string is valid."""
    if mount.startswith("/"):
        if not re.match(r"^/.*:/", mount):
            return "Storage path must be two valid paths divided by colon."
    elif not re.match(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+:/", mount):
        return (
            "Volume name must be two characters or more. Volume name must not contain invalid "
            "characters. Storage path must be two valid paths divided by colon."
        )
    return ""


def _parse_mount(mount: str) -> tuple[str, bool, str]:
    """``ParseMountPath``: container path, readonly flag, other volume options."""
    parts = mount.split(":", 2)
    container = parts[1] if len(parts) > 1 else ""
    options = [t for t in (parts[2].split(",") if len(parts) > 2 and parts[2] else [])]
    readonly = "ro" in options
    return container, readonly, ",".join(t for t in options if t != "ro")


def mount_string(entry: dict, attachment: dict) -> str:
    """The legacy colon form shown by ``storage:list`` (``host:container[:ro,opts]``)."""
    host = entry.get("host_path") or entry["name"]
    options = ",".join(
        o
        for o in (["ro"] if attachment.get("readonly") else [])
        + [attachment.get("volume_options", "")]
        if o
    )
    base = f"{host}:{attachment['container_path']}"
    return f"{base}:{options}" if options else base


def phase_mounts(state: SimState, app: str, phase: str) -> list[tuple[dict, dict]]:
    result = []
    for attachment in attachments(state, app):
        entry = load_entry(state, attachment["entry_name"])
        if entry and phase in attachment.get("phases", []):
            result.append((entry, attachment))
    return result


def app_mounts(state: SimState, app: str, phase: str = "deploy") -> list[str]:
    """The app's bind mounts for a phase as ``host:container[:options]`` (what ``-v`` gets);
    the docker view and deploys use this to show containers' mounts."""
    return [
        mount_string(entry, attachment) for entry, attachment in phase_mounts(state, app, phase)
    ]


# -- commands ----------------------------------------------------------------------------------

FORMAT_FLAG = Flag("format", "string", "text", "format: [ text | json ]")


@command("storage:list")
def storage_list(ctx: Ctx) -> int:
    values, rest = parse_flags(ctx, "storage:list", ctx.args, [FORMAT_FLAG])
    app = ctx.verify_app(rest[0] if rest else "")
    fmt = values["format"]
    if fmt not in ("text", "json"):
        ctx.fail("Invalid --format value specified")
    rows = phase_mounts(ctx.state, app, "deploy")
    if fmt == "json":
        data = []
        for entry, attachment in rows:
            row: dict[str, object] = {
                "entry_name": entry["name"],
                "host_path": entry.get("host_path") or entry["name"],
                "container_path": attachment["container_path"],
            }
            if attachment.get("readonly"):
                row["readonly"] = True
            if attachment.get("volume_options"):
                row["volume_options"] = attachment["volume_options"]
            data.append(row)
        ctx.out(json.dumps(data, separators=(",", ":")))
        return 0
    ctx.info1_quiet(f"{app} volume bind-mounts:")
    for entry, attachment in rows:
        line = mount_string(entry, attachment)
        if ctx.quiet:
            ctx.out(line)
        else:
            ctx.verbose(line)
    return 0


@command("storage:mount")
def storage_mount(ctx: Ctx) -> int:
    """Legacy ``host:container`` form (silent success) or a named entry with --container-dir."""
    values, rest = parse_flags(
        ctx,
        "storage:mount",
        ctx.args,
        [
            Flag("container-dir", "string", "", "container directory"),
            Flag("readonly", "bool", "false", "mount read-only"),
        ],
    )
    app = ctx.verify_app(rest[0] if rest else "")
    target = rest[1] if len(rest) > 1 else ""
    with routing.locked(ctx.state):
        if ":" in target:
            return _mount_legacy(ctx, app, target)
        entry = load_entry(ctx.state, target)
        if not entry:
            ctx.fail(
                f'storage entry "{target}" does not exist; create it first with `dokku storage:create`'
            )
        if not values["container-dir"]:
            ctx.fail("--container-dir is required when mounting a named storage entry")
        return _attach(ctx, app, entry, str(values["container-dir"]), bool(values["readonly"]), "")


def _legacy_mount(ctx: Ctx, mount: str) -> tuple[str, bool, str]:
    """A valid ``host:container[:options]`` argument as (container, readonly, options)."""
    error = verify_paths(mount)
    container, readonly, options = _parse_mount(mount)
    if error or not container:
        ctx.fail(error or "Storage path must be two valid paths divided by colon.")
    return container, readonly, options


def _mount_legacy(ctx: Ctx, app: str, mount: str) -> int:
    container, readonly, options = _legacy_mount(ctx, mount)
    entry = legacy_entry(mount)
    if not load_entry(ctx.state, entry["name"]):
        save_entry(ctx.state, entry)
    items = attachments(ctx.state, app)
    if any(a["entry_name"] == entry["name"] and a["container_path"] == container for a in items):
        ctx.fail("Mount path already exists.")
    items.append(_attachment(entry["name"], container, readonly, options))
    save_attachments(ctx.state, app, items)
    return 0


def _attachment(name: str, container: str, readonly: bool, options: str) -> dict:
    return {
        "entry_name": name,
        "container_path": container,
        "phases": ["deploy", "run"],
        "process_type": DEFAULT_PROCESS,
        "readonly": readonly,
        "subpath": "",
        "volume_options": options,
        "volume_chown": "",
    }


def _attach(ctx: Ctx, app: str, entry: dict, container: str, readonly: bool, options: str) -> int:
    items = attachments(ctx.state, app)
    new = _attachment(entry["name"], container, readonly, options)
    for index, item in enumerate(items):
        if item["entry_name"] == entry["name"] and item["container_path"] == container:
            items[index] = new
            save_attachments(ctx.state, app, items)
            ctx.info1(f"Storage entry {entry['name']} mount at {container} on {app} updated")
            return 0
    save_attachments(ctx.state, app, [*items, new])
    ctx.info1(f"Storage entry {entry['name']} mounted at {container} on {app}")
    return 0


@command("storage:unmount")
def storage_unmount(ctx: Ctx) -> int:
    values, rest = parse_flags(
        ctx,
        "storage:unmount",
        ctx.args,
        [
            Flag("container-dir", "string", "", "container directory"),
        ],
    )
    app = ctx.verify_app(rest[0] if rest else "")
    target = rest[1] if len(rest) > 1 else ""
    with routing.locked(ctx.state):
        if ":" in target:
            container = _legacy_mount(ctx, target)[0]
            name, missing = legacy_entry(target)["name"], "Mount path does not exist."
        else:
            name, container = target, str(values["container-dir"])
            missing = f'storage entry "{name}" is not mounted on {app}'
        items = attachments(ctx.state, app)
        keep = [
            a
            for a in items
            if not (a["entry_name"] == name and (not container or a["container_path"] == container))
        ]
        if len(keep) == len(items):
            ctx.fail(missing)
        save_attachments(ctx.state, app, keep)
    return 0


def _collect(ctx: Ctx, app: str) -> dict[str, str]:
    flags: dict[str, str] = {}
    for index, attachment in enumerate(attachments(ctx.state, app), start=1):
        entry = load_entry(ctx.state, attachment["entry_name"]) or {}
        base = f"--storage-attachment.{index}."
        flags.update(
            {
                f"{base}container-path": attachment["container_path"],
                f"{base}entry-name": attachment["entry_name"],
                f"{base}host-path": entry.get("host_path", ""),
                f"{base}phases": ",".join(attachment.get("phases", [])),
                f"{base}process-type": attachment.get("process_type", DEFAULT_PROCESS),
                f"{base}readonly": "true" if attachment.get("readonly") else "false",
                f"{base}subpath": attachment.get("subpath", ""),
                f"{base}volume-chown": attachment.get("volume_chown", ""),
                f"{base}volume-options": attachment.get("volume_options", ""),
            }
        )
    for phase in ("build", "deploy", "run"):
        mounts = [f"-v {mount_string(e, a)}" for e, a in phase_mounts(ctx.state, app, phase)]
        flags[f"--storage-{phase}-mounts"] = " ".join(mounts)
    return flags


@command("storage:report")
def storage_report(ctx: Ctx) -> int:
    """Per-app attachment report; ``--global`` lists every entry and who mounts it."""
    if "--global" in ctx.args:
        args = routing.parse_report_args(ctx, "storage", ctx.args)
        return _report_global(ctx, args.format)
    return routing.report_command(ctx, "storage", lambda app: _collect(ctx, app))


def _report_global(ctx: Ctx, fmt: str) -> int:
    rows = [
        {
            "entry": entry,
            "mounted_by": [
                app
                for app in ctx.state.apps()
                if any(a["entry_name"] == entry["name"] for a in attachments(ctx.state, app))
            ],
        }
        for entry in list_entries(ctx.state)
    ]
    if fmt == "json":
        ctx.out(json.dumps(rows, indent=2))
        return 0
    if not rows:
        ctx.info1_quiet("No storage entries registered")
        return 0
    ctx.info1_quiet("Storage report (global):")
    for row in rows:
        users = ", ".join(row["mounted_by"]) or "\u2014"
        ctx.verbose(f"{row['entry']['name']}\t{row['entry']['scheduler']}\tmounted by: {users}")
    return 0


@command("storage:ensure-directory")
def storage_ensure_directory(ctx: Ctx) -> int:
    """Deprecated but working: creates ``<storage dir>/<name>`` owned by 32767 by default."""
    values, rest = parse_flags(
        ctx,
        "storage:ensure-directory",
        ctx.args,
        [
            Flag("chown", "string", "herokuish", "chown option"),
        ],
    )
    ctx.warn("Deprecated: please use 'storage:create' instead of 'storage:ensure-directory'")
    directory = rest[0] if rest else ""
    if not directory:
        ctx.fail("Please specify a directory to create")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", directory):
        ctx.fail("Directory can only contain the following set of characters: [A-Za-z0-9_-]")
    chown = str(values["chown"])
    owner = CHOWN_IDS.get(chown, chown)
    if chown != "false" and not (owner.isdigit() and int(owner) < 65536):
        ctx.fail("Unsupported chown permissions")
    ctx.info1(f"Ensuring {STORAGE_DIR}/{directory} exists")
    (ctx.state.root / "data" / "storage" / directory).mkdir(parents=True, exist_ok=True)
    if chown != "false" and not ctx.quiet:
        ctx.verbose(f"Setting directory ownership to {owner}:{owner}")
    if not ctx.quiet:
        ctx.verbose("Directory ready for mounting")
    return 0


@command("storage:list-entries")
def storage_list_entries(ctx: Ctx) -> int:
    """Text is tab-separated; JSON is pretty-printed (unlike ``storage:list``)."""
    values, _ = parse_flags(
        ctx,
        "storage:list-entries",
        ctx.args,
        [
            FORMAT_FLAG,
            Flag("scheduler", "string", "", "scheduler"),
        ],
    )
    entries = [
        e
        for e in list_entries(ctx.state)
        if not values["scheduler"] or e["scheduler"] == values["scheduler"]
    ]
    if values["format"] == "json":
        ctx.out(json.dumps(entries, indent=2))
        return 0
    if not entries:
        ctx.info1_quiet("No storage entries registered")
        return 0
    ctx.info1_quiet("Storage entries:")
    for entry in entries:
        ctx.verbose(f"{entry['name']}\t{entry['scheduler']}\t{entry.get('host_path', '')}")
    return 0


ENTRY_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def validate_entry_name(ctx: Ctx, name: str) -> None:
    """Dokku's ``ValidateEntryName`` (a DNS-1123 label, ``legacy-`` reserved)."""
    if not name:
        ctx.fail("storage entry name is required")
    if len(name) > 45:
        ctx.fail(
            f'storage entry name "{name}" is too long (max 45 characters); '
            "helm release names cap our budget"
        )
    if not ENTRY_NAME_RE.match(name):
        ctx.fail(
            f'storage entry name "{name}" must be a DNS-1123 label (lowercase letters, '
            "digits, and dashes; cannot start or end with a dash)"
        )
    if name.startswith("legacy-"):
        ctx.fail(f'storage entry name "{name}" must not start with reserved prefix "legacy-"')


@command("storage:create")
def storage_create(ctx: Ctx) -> int:
    """Register a docker-local entry (default path ``<storage dir>/<name>``)."""
    values, rest = parse_flags(
        ctx,
        "storage:create",
        ctx.args,
        [
            Flag("scheduler", "string", "", "scheduler"),
            Flag("chown", "string", "", "chown option"),
        ],
    )
    name = rest[0] if rest else ""
    validate_entry_name(ctx, name)
    scheduler = str(values["scheduler"] or "docker-local")
    if scheduler != "docker-local":
        ctx.fail(f'storage entry "{name}" uses scheduler "{scheduler}", not simulated')
    host_path = rest[1] if len(rest) > 1 else f"{STORAGE_DIR}/{name}"
    if not host_path.startswith("/"):
        ctx.fail(f'storage entry "{name}" host_path must be absolute, got "{host_path}"')
    entry: dict[str, object] = {"name": name, "scheduler": scheduler, "host_path": host_path}
    if values["chown"]:
        entry["chown"] = values["chown"]
    entry["schema_version"] = 1
    with routing.locked(ctx.state):
        if load_entry(ctx.state, name):
            ctx.info1_quiet(f"Storage entry {name} already exists, leaving in place")
        save_entry(ctx.state, entry)
    ctx.info1(f"Storage entry {name} created")
    return 0


def _existing_entry(ctx: Ctx, rest: list[str]) -> tuple[str, dict]:
    """The entry named by the first positional argument (required, must exist)."""
    name = rest[0] if rest else ""
    if not name:
        ctx.fail("storage entry name is required")
    entry = load_entry(ctx.state, name)
    if not entry:
        ctx.fail(f'storage entry "{name}" does not exist')
    return name, entry


@command("storage:info")
def storage_info(ctx: Ctx) -> int:
    values, rest = parse_flags(ctx, "storage:info", ctx.args, [FORMAT_FLAG])
    _, entry = _existing_entry(ctx, rest)
    if values["format"] == "json":
        ctx.out(json.dumps(entry, indent=2))
        return 0
    ctx.info1_quiet(f"Storage entry {entry['name']}")
    ctx.verbose(f"Scheduler:        {entry['scheduler']}")
    if entry.get("host_path"):
        ctx.verbose(f"Host path:        {entry['host_path']}")
    if entry.get("chown"):
        ctx.verbose(f"Chown:            {entry['chown']}")
    return 0


@command("storage:destroy")
def storage_destroy(ctx: Ctx) -> int:
    values, rest = parse_flags(
        ctx,
        "storage:destroy",
        ctx.args,
        [
            Flag("force", "bool", "false", "skip confirmation"),
            Flag("destroy-host-dir", "bool", "false", "also remove the host directory"),
        ],
    )
    name, entry = _existing_entry(ctx, rest)
    users = [
        a
        for a in ctx.state.apps()
        if any(x["entry_name"] == name for x in attachments(ctx.state, a))
    ]
    if users:
        ctx.fail(f'storage entry "{name}" is still mounted by app(s): {", ".join(users)}')
    default_path = f"{STORAGE_DIR}/{name}"
    if values["destroy-host-dir"] and entry.get("host_path") != default_path:
        ctx.fail(
            "--destroy-host-dir is only supported when the storage entry uses the default host "
            f"path ({default_path}); omit --destroy-host-dir and manage {entry.get('host_path')} manually"
        )
    if not values["force"] and ctx.env.get("DOKKU_APPS_FORCE_DELETE") != "1":
        if values["destroy-host-dir"]:
            ctx.warn(
                f"Storage entry {name} is backed by {entry.get('host_path')}, which will be "
                "removed along with its contents."
            )
        ctx.confirm_destructive(name, "storage entry")
    with routing.locked(ctx.state):
        (_entries_dir(ctx.state) / f"{name}.json").unlink(missing_ok=True)
        if values["destroy-host-dir"]:
            ctx.verbose(f"Removed {entry.get('host_path')}")
    ctx.info1(f"Storage entry {name} destroyed")
    return 0


routing.register_property_plugin("storage")


HELP = [
    (
        "storage:annotations:report [<name>] [<flag>]",
        "Displays annotations for one or more storage entries",
    ),
    (
        "storage:annotations:set <name> <key> [<value>]",
        "Set or clear an annotation on a storage entry",
    ),
    ("storage:create <name> [<path>] [flags]", "Register a named storage entry"),
    (
        "storage:destroy <name> [--force] [--destroy-host-dir]",
        "Remove a named storage entry (must be unmounted from every app first)",
    ),
    (
        "storage:ensure-directory [--chown option] <directory>",
        "[DEPRECATED] use storage:create instead",
    ),
    (
        "storage:exec <name> [-- <cmd>...]",
        "Run a command (or shell) in a temporary container that mounts the entry",
    ),
    ("storage:info <name> [--format text|json]", "Show details for one storage entry"),
    ("storage:labels:report [<name>] [<flag>]", "Displays labels for one or more storage entries"),
    ("storage:labels:set <name> <key> [<value>]", "Set or clear a label on a storage entry"),
    (
        "storage:list <app> [--format text|json]",
        "List bind mounts for app's container(s) (host:container)",
    ),
    (
        "storage:list-entries [--scheduler s] [--format text|json]",
        "List registered storage entries",
    ),
    (
        "storage:migrate [<app>|--all]",
        "Re-run the legacy -v to attachment migration for an app",
    ),
    ("storage:mount <app> <host-dir:container-dir>", "Create a new bind mount"),
    ("storage:report [<app>] [<flag>]", "Displays a storage report for one or more apps"),
    ("storage:set <name> <property> [<value>]", "Update a storage entry in place"),
    ("storage:unmount <app> <host-dir:container-dir>", "Remove an existing bind mount"),
    ("storage:wait <name>", "Wait for a storage entry's PVC to be bound (k3s)"),
]


routing.help_commands("storage", "Manage mounted volumes", HELP)
