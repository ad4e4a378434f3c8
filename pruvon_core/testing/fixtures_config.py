"""Pytest fixtures: config (see pytest_plugin.py)."""
