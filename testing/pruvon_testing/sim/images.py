"""Docker images known to the simulated host, and the build cache.

The reference host was offline: ``example/web:1`` (busybox httpd on port 5000)
and ``localbusybox:latest`` (no ``CMD``) existed locally, every other image had
to be pulled and the pull failed.  The simulator starts with those two images;
tests and the demo add more with :func:`register_image` (a stand-in for
``docker pull`` / ``docker load``), stored in ``<root>/images.json``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from pruvon_testing.sim.core import SimState, write_atomic
from pruvon_testing.sim.routing import locked


@dataclass(frozen=True)
class Image:
    """What a deploy needs to know about an image."""

    ref: str
    id: str  # full sha256 hex (64)
    cmd: list[str] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)  # EXPOSEd tcp ports
    files: dict[str, str] = field(default_factory=dict)  # Procfile / app.json in its workdir

    @property
    def short_id(self) -> str:
        return self.id[:12]


def _fake_id(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


BUILTIN: dict[str, Image] = {
    "example/web:1": Image(
        ref="example/web:1",
        id="2c060b4fb050" + _fake_id("example/web:1")[12:],
        cmd=["httpd", "-f", "-v", "-p", "5000", "-h", "/www"],
        ports=[5000],
    ),
    "localbusybox:latest": Image(
        ref="localbusybox:latest",
        id="4bc9c15e9236" + _fake_id("localbusybox:latest")[12:],
        cmd=[],
        ports=[],
    ),
}


def _registry_path(state: SimState):
    return state.root / "images.json"


def _registered(state: SimState) -> dict[str, dict]:
    try:
        data = json.loads(_registry_path(state).read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def register_image(
    state: SimState, ref: str, *, cmd: list[str] | None = None, ports: list[int] | None = None,
    files: dict[str, str] | None = None,
) -> Image:
    """Make ``ref`` exist on the simulated host (as if pulled); returns it.

    ``files``: the ``Procfile`` / ``app.json`` a deploy of it extracts.
    """
    if not ref or ref.startswith("-") or any(ch.isspace() for ch in ref):
        raise ValueError(f"invalid image reference: {ref!r}")
    image = Image(ref=ref, id=_fake_id(f"image:{ref}"), cmd=list(cmd or []),
                  ports=list(ports or []), files=dict(files or {}))
    with locked(state):
        data = _registered(state)
        data[ref] = asdict(image)
        write_atomic(_registry_path(state), json.dumps(data, indent=2, sort_keys=True))
        if ref in removed(state):
            write_atomic(_removed_path(state), json.dumps(sorted(removed(state) - {ref})))
    return image


def _removed_path(state: SimState):
    return state.root / "images-removed.json"


def removed(state: SimState) -> set[str]:
    """Refs ``docker image rm``/``system prune -a`` took off the host (built-ins included)."""
    try:
        data = json.loads(_removed_path(state).read_text())
    except (FileNotFoundError, ValueError):
        return set()
    return set(data) if isinstance(data, list) else set()


def forget(state: SimState, ref: str) -> None:
    """Remove ``ref`` from the host: lookups miss it until it is registered again."""
    with locked(state):
        data = _registered(state)
        if data.pop(ref, None) is not None:
            write_atomic(_registry_path(state), json.dumps(data, indent=2, sort_keys=True))
        write_atomic(_removed_path(state), json.dumps(sorted(removed(state) | {ref})))


def lookup(state: SimState, ref: str) -> Image | None:
    """The local image named exactly ``ref`` (docker does not alias ``docker.io/``
    when checking for a local image, so neither does the simulator)."""
    if ref in removed(state):
        return None
    data = _registered(state).get(ref)
    if data:
        return Image(**data)
    return BUILTIN.get(ref)


# -- build cache (docker's layer cache of the Dokku Dockerfile build) ------------------


def _cache_path(state: SimState):
    return state.root / "images" / "build-cache.json"


def cached_layer(state: SimState, key: str) -> str | None:
    try:
        return json.loads(_cache_path(state).read_text()).get(key)
    except (FileNotFoundError, ValueError):
        return None


def store_layer(state: SimState, key: str, layer: str) -> None:
    """Remember a built layer (caller holds ``state.lock()``)."""
    try:
        data = json.loads(_cache_path(state).read_text())
    except (FileNotFoundError, ValueError):
        data = {}
    data[key] = layer
    write_atomic(_cache_path(state), json.dumps(data, indent=2, sort_keys=True))


# -- the image an app currently runs ---------------------------------------------------


def app_image(state: SimState, app: str) -> Image | None:
    """The image built for ``app`` (``dokku/<app>:latest``), or None before any build."""
    raw = state.prop_get("sim-image", app, "image")
    if not raw:
        return None
    try:
        return Image(**json.loads(raw))
    except (ValueError, TypeError):
        return None


def set_app_image(state: SimState, app: str, image: Image) -> None:
    state.prop_set("sim-image", app, "image", json.dumps(asdict(image), sort_keys=True))
