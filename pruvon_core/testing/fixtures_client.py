"""Pytest fixtures: client (see pytest_plugin.py)."""
