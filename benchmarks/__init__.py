"""Reproducible performance measurements; the figures quoted in the README come from here.

Each ``bench_*.py`` module exposes ``run_all() -> (title, markdown_table)`` and
can also be run on its own (``python -m benchmarks.bench_app_list``).
``python -m benchmarks`` runs them all and prints every table.
"""
