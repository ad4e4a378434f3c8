"""Pytest fixtures: sim (see pytest_plugin.py)."""
