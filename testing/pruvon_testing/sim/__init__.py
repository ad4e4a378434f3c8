"""A stateful, byte-faithful stand-in for Dokku 0.38.27 (and docker).

State lives in a directory (``PRUVON_SIM_ROOT``) laid out like a Dokku host,
so several processes - the web server, the CLI, tests - share it safely.
Command modules register themselves with :func:`core.command`.
"""
