"""What other plugins may use of ``pruvon_docker``: container and per-app usage.

:func:`container_usage` is one ``docker stats --no-stream`` read (cached
briefly by the Dokku client, shared with ``/docker``), ``{}`` where docker
cannot be run (an ssh transport); :func:`app_usage` sums it per Dokku app.
The apps plugin shows them on an app's page.  Everything here is a re-export.
"""

from __future__ import annotations

from pruvon_docker.host import AppUsage, app_usage, container_usage
from pruvon_docker.models import Usage
from pruvon_docker.text import human_size

__all__ = ["AppUsage", "Usage", "app_usage", "container_usage", "human_size"]
