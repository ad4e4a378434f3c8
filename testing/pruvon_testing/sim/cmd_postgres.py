"""``postgres:*``: the dokku-postgres 1.48.0 service plugin, simulated.

The commands are the shared service-plugin machinery (``services_commands``)
bound to the postgres data in ``services_types.POSTGRES``.
"""

from __future__ import annotations

from pruvon_testing.sim.services_commands import register
from pruvon_testing.sim.services_types import POSTGRES

register(POSTGRES)
