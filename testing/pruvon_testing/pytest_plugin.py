"""The ``pruvon`` pytest plugin (``pytest11`` entry point) for us and plugin authors.

Installing Pruvon makes these fixtures available in any test suite:
a fresh Dokku simulator, a Dokku client bound to it, and a config with users
of every role.  Each group of fixtures lives in its own module below.
"""

pytest_plugins = [
    "pruvon_testing.fixtures_sim",
    "pruvon_testing.fixtures_client",
    "pruvon_testing.fixtures_config",
    "pruvon_testing.fixtures_ssh",
]

try:  # the web fixtures need the optional "web" extra (Flask)
    import flask  # noqa: F401
except ImportError:  # pragma: no cover - depends on the installed extras
    pass
else:
    pytest_plugins.append("pruvon_testing.fixtures_web")
