"""Fire Dokku plugin triggers at the plugins installed in the simulator.

Real Dokku runs ``plugn trigger NAME ARGS`` which executes the executable
file ``NAME`` in every enabled plugin directory.  The simulator does the same
for plugins installed under ``<root>/plugins/enabled`` - that is how our real
``dokku-plugin/`` shim receives ``post-create``, ``post-deploy`` and friends.
"""

from __future__ import annotations

import os
import subprocess

from pruvon_testing.sim.core import Ctx
from pruvon_testing.sim.plugin_user import as_dokku_user


def fire(ctx: Ctx, name: str, *args: str, timeout: float = 60) -> int:
    """Run trigger ``name`` in every installed plugin; return the first non-zero exit.

    Output of the trigger scripts goes to the command's own streams, as in Dokku.
    """
    base = ctx.state.plugins_dir
    if not base.is_dir():
        return 0
    env = dict(ctx.env)
    env.setdefault("PLUGIN_ENABLED_PATH", str(base))
    env.setdefault("DOKKU_ROOT", str(ctx.state.home))
    env, credentials = as_dokku_user(env)
    status = 0
    for plugin in sorted(p for p in base.iterdir() if p.is_dir()):
        script = plugin / name
        if not (script.is_file() and os.access(script, os.X_OK)):
            continue
        proc = subprocess.run(
            [str(script), *args],
            capture_output=True,
            env=env,
            timeout=timeout,
            check=False,
            **credentials,
        )
        ctx.stdout.write(proc.stdout)
        ctx.stderr.write(proc.stderr)
        if proc.returncode and not status:
            status = proc.returncode
    return status
