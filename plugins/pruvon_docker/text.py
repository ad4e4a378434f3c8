"""Sizes as the docker CLI prints them (go-units ``HumanSize``: decimal units).

The ``/docker`` page and ``pruvon docker`` show the numbers an operator
compares with ``docker system df``, so they use docker's units, not the
binary ones of the dashboard's memory card.
"""

from __future__ import annotations

UNITS = ("B", "kB", "MB", "GB", "TB", "PB")


def human_size(value: float | None) -> str:
    """``146000000`` → ``146MB``; ``None`` (docker said N/A) → ``""``."""
    if value is None:
        return ""
    size, index = float(value), 0
    while size >= 1000 and index < len(UNITS) - 1:
        size /= 1000
        index += 1
    return f"{size:.4g}{UNITS[index]}"
