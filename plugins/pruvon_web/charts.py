"""Small charts drawn on the server as inline SVG (no script, no CDN, CSP-clean).

A sparkline is a ``<polyline>`` over a fixed scale, with a ``<title>`` naming
the newest value for screen readers and tooltips.  Only numbers reach the
markup; the title text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 240
HEIGHT = 48


def sparkline(values: Sequence[float | None], top: float, label: str, element_id: str,
              css_class: str = "spark") -> Markup:
    """``values`` (oldest first; None = no reading) scaled to ``0..top``, as an SVG."""
    top = top if top > 0 else 1.0
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    step = WIDTH / max(1, len(values) - 1)
    if len(known) == 1:  # one reading: a level, drawn across
        known = [(0, known[0][1]), (len(values) - 1 or 1, known[0][1])]
        step = WIDTH / max(1, known[1][0])
    points = " ".join(f"{i * step:.1f},{HEIGHT - min(v, top) / top * (HEIGHT - 2) - 1:.1f}"
                      for i, v in known)
    last = known[-1][1] if known else None
    count = len([v for v in values if v is not None])
    title = f"{label}: {last:.1f}" if last is not None else f"{label}: no reading yet"
    return Markup(  # noqa: S704 - only numbers and the escaped title are interpolated
        f'<svg class="{escape(css_class)}" id="{escape(element_id)}" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'preserveAspectRatio="none" data-points="{count}">'
        f"<title>{escape(title)}</title>"
        f'<line x1="0" y1="{HEIGHT - 1}" x2="{WIDTH}" y2="{HEIGHT - 1}" class="spark-axis"/>'
        f'<polyline points="{points}" fill="none" class="spark-line"/></svg>'
    )
