"""``redis:*``: the dokku-redis 1.43.0 service plugin, simulated.

The commands are the shared service-plugin machinery (``services_commands``)
bound to the redis data in ``services_types.REDIS``.
"""

from __future__ import annotations

from pruvon_testing.sim.services_commands import register
from pruvon_testing.sim.services_types import REDIS

register(REDIS)
