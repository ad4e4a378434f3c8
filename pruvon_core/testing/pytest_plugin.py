"""The ``pruvon`` pytest plugin (``pytest11`` entry point) for us and plugin authors.

Installing Pruvon makes these fixtures available in any test suite:
a fresh Dokku simulator, a Dokku client bound to it, and a config with users
of every role.  Each group of fixtures lives in its own module below.
"""

pytest_plugins = [
    "pruvon_core.testing.fixtures_sim",
    "pruvon_core.testing.fixtures_client",
    "pruvon_core.testing.fixtures_config",
]
