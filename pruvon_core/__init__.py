"""Pruvon core: the plugin framework every Pruvon feature is built on.

No feature lives here; features are plugins under ``plugins/`` registered
through the ``pruvon`` entry-point group, exactly like third-party plugins.
"""

__version__ = "0.1.0"
