"""What other plugins may use of ``pruvon_services``: its documented public API.

* Kinds: :class:`ServiceKind`, :func:`kind_facts`, :func:`available_kinds`.
* Reads: :class:`ServiceRow`, :func:`list_services` (constant Dokku calls per
  kind), :class:`ServiceDetail`, :func:`service_detail`, :data:`DATASTORES`,
  :func:`installed_types`, :func:`linked_services`.
* Data: :func:`export_stream` (a Stream, never buffered whole),
  :func:`import_stream` (stdin fed in chunks, with progress), :func:`check_dump`.
* Operations: the specs ``CREATE`` … ``UPGRADE``, :class:`ServicesDeps`,
  :func:`runner`, :func:`target`, :func:`split_target`.
* :class:`ServicesError`: bad input (an :class:`~pruvon_core.errors.InputError`).
"""

from __future__ import annotations

from pruvon_services.kinds import ServiceKind, available_kinds, kind_facts
from pruvon_services.operations import (
    CLONE,
    CREATE,
    DESTROY,
    EXPOSE,
    LINK,
    RESTART,
    SPECS,
    START,
    STOP,
    UNEXPOSE,
    UNLINK,
    UPGRADE,
    ServicesDeps,
    cancel_action,
    runner,
    split_target,
    target,
)
from pruvon_services.service import (
    DATASTORES,
    ServiceDetail,
    ServiceRow,
    ServicesError,
    check_dump,
    export_stream,
    import_stream,
    installed_types,
    linked_services,
    list_services,
    mask_dsn,
    require_kind,
    service_detail,
)

__all__ = [
    "CLONE", "CREATE", "DATASTORES", "DESTROY", "EXPOSE", "LINK", "RESTART", "SPECS", "START",
    "STOP", "UNEXPOSE", "UNLINK", "UPGRADE", "ServiceDetail", "ServiceKind", "ServiceRow",
    "ServicesDeps", "ServicesError", "available_kinds", "cancel_action", "check_dump",
    "export_stream", "import_stream", "installed_types", "kind_facts", "linked_services",
    "list_services", "mask_dsn", "require_kind", "runner", "service_detail", "split_target",
    "target",
]
