"""pruvon-testing: the Dokku simulator and the ``pruvon`` pytest plugin.

A distribution of its own (``testing/`` in Pruvon's repository) so that a
production install of Pruvon carries no simulator code.  Plugin authors get
the same fixtures Pruvon's tests use (``pytest11`` entry point ``pruvon``), so
their tests run against the same faithful stand-in for Dokku.
"""

__version__ = "0.1.0"  # released together with pruvon; a test keeps them equal
