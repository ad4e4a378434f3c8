"""``<kind>:*`` of every simulated dokku service plugin (postgres, redis, mysql,
mariadb, mongo).

The real plugins are one template with different ``config``/``functions``; here
the commands are the shared machinery of ``services_commands`` bound to each
kind's facts in ``services_types.TYPES`` (one table, not one module per kind).
"""

from __future__ import annotations

from pruvon_testing.sim.services_commands import register
from pruvon_testing.sim.services_types import TYPES

for _stype in TYPES.values():
    register(_stype)
