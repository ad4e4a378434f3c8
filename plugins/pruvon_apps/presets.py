"""App templates: the create wizard's presets, shipped as data files, extended by plugins.

The apps plugin declares its shipped ``presets/*.json`` through the
``pruvon_app_templates`` hook like any plugin would; the wizard lists what
:func:`pruvon_core.registry.app_templates` keeps (checked, first of a name).
A template fills the wizard's fields; ``{app}`` in them stands for the new
app's name until the form is sent (``service.substitute_app``).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from pruvon_core.registry import AppTemplate

PRESETS = Path(__file__).with_name("presets")


@functools.cache
def shipped() -> list[AppTemplate]:
    """The data files under ``presets/`` (read once per process)."""
    return [AppTemplate.from_dict(json.loads(path.read_text(encoding="utf-8")))
            for path in sorted(PRESETS.glob("*.json"))]


def form_fields(template: AppTemplate) -> dict[str, str]:
    """The wizard's fields as the template fills them (``{app}`` replaced on submit)."""
    return {
        "image": template.image,
        "ports": " ".join(template.ports),
        "env": "\n".join(f"{k}={v}" for k, v in template.env.items()),
        "services": " ".join(f"+{kind}:{{app}}-{kind}" for kind in template.services),
        "mounts": "\n".join(f"{{app}}:{path}" for path in template.mounts),
        "template": template.name,
    }


def templates(pruvon: Any) -> list[AppTemplate]:
    from pruvon_core.registry import app_templates

    return app_templates(pruvon)


def find(pruvon: Any, name: str) -> AppTemplate | None:
    return next((t for t in templates(pruvon) if t.name == name), None)
