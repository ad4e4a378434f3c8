"""Typed errors above the Dokku layer, which every front end maps the same way.

A feature's own bad-input error subclasses :class:`InputError` (the apps
plugin's ``AppsError``), so the web app's one error handler answers it with
the page message or ``{"error": …}`` and ``400``, and the CLI with exit 2,
without knowing the feature.  Permission refusals are
:class:`pruvon_core.permissions.PermissionDenied`, operation refusals
:class:`pruvon_core.operations.OperationError`; Dokku's are in
:mod:`pruvon_core.dokku.errors`.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input to an operation; the message says exactly what is wrong and how to fix it."""
