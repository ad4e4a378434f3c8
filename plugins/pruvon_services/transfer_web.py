"""Export downloads and import uploads of a service, for the pages (and scripts).

``GET /services/<type>/<name>/export`` streams ``<type>:export`` to the browser
as ``<name>.<ext>`` chunk by chunk (never buffered whole); the first chunk is
read before the response starts, so a service that cannot export (stopped,
missing) gets a proper error page instead of an empty download.

``POST /services/<type>/<name>/import`` takes the file as the raw request body
(``Content-Type: application/octet-stream``, the CSRF token in the
``X-CSRF-Token`` header, the file name in ``X-Filename``): a multipart form
would be parsed - and the CSRF field looked up - before the view could
stream it.  It answers ``202 {"task": id, "ws": "/ws/services/import/<id>"}``
once the file is on disk and the import operation started.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, jsonify, request, stream_with_context
from pruvon_web.public import error_message, error_status, json_error, web_state

from pruvon_services import operations, transfer
from pruvon_services.operations import target
from pruvon_services.service import ServicesError, export_stream
from pruvon_services.web import client, guard, readable, require_idle, runner, visible

FILENAME_RE = re.compile(r"[^A-Za-z0-9._-]")


def extension(kind: Any) -> str:
    """The kind's export extension, safe in a header (a plugin-declared kind names its own)."""
    return re.sub(r"[^A-Za-z0-9]", "", kind.export_ext)[:16] or "export"


def export_download(kind: str, name: str) -> Any:
    facts, name = visible(kind, name, "services.export")
    stream = export_stream(client(), facts, name)
    check = guard()
    where = target(facts.name, name)
    try:
        first = next(iter(stream.chunks()), b"")
    except Exception as exc:
        stream.close()
        check.record("services.export", where, "failed", error=str(exc)[:500])
        raise
    check.record("services.export", where, "ok", phase="started")

    def body() -> Iterator[bytes]:
        sent = len(first)
        try:
            yield first
            for chunk in stream.chunks():
                sent += len(chunk)
                yield chunk
        except Exception as exc:
            check.record("services.export", where, "failed", bytes=sent, error=str(exc)[:500])
            raise
        finally:
            stream.close()
        check.record("services.export", where, "ok", bytes=sent)

    return Response(stream_with_context(body()), mimetype="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{name}.{extension(facts)}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def import_upload(kind: str, name: str) -> Any:
    """:func:`start_import`, its refusals as ``{"error": …}`` with their status (a script's
    or the page's fetch reads JSON, not an error page)."""
    try:
        return start_import(kind, name)
    except Exception as exc:
        status = error_status(exc)
        if status is None:
            raise
        return json_error(error_message(exc), status)


def start_import(kind: str, name: str) -> Any:
    """Spool the body to disk, check it, start the import; the task's socket URL."""
    facts, name = readable(kind, name, "services.import")
    size = request.content_length
    if size is None:
        raise ServicesError("send the file with a Content-Length (the progress bar needs it)")
    transfer.check_room(transfer.imports_dir(web_state().state_dir), size)
    visible(facts.name, name, "services.import")
    require_idle(facts.name, name)
    request.max_content_length = transfer.MAX_UPLOAD
    source = transfer.detach(transfer.receive(request.stream, facts, web_state().state_dir, size))
    filename = FILENAME_RE.sub("_", request.headers.get("X-Filename", ""))[:120]
    try:
        op = runner().start(operations.IMPORT, target(facts.name, name),
                            {"source": source, "size": size, "filename": filename})
    except BaseException:
        source.close()
        raise
    base = request.script_root  # ``/h/<host>`` on another host: the links stay on it
    return jsonify({"task": op.id, "ws": f"{base}/ws/services/import/{op.id}",
                    "operation": f"{base}/services/{facts.name}/{name}/operations/{op.id}"}), 202


def register(bp: Blueprint) -> None:
    one = "/services/<kind>/<name>"
    bp.add_url_rule(f"{one}/export", endpoint="export_download", view_func=export_download,
                    methods=["GET"])
    bp.add_url_rule(f"{one}/import", endpoint="import_upload", view_func=import_upload,
                    methods=["POST"])
