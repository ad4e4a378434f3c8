"""Test support shipped with Pruvon: the Dokku simulator and a pytest plugin.

Plugin authors get the same fixtures we use (``pytest11`` entry point
``pruvon``), so their tests run against the same faithful stand-in for Dokku.
"""
