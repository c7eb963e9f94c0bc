"""Small deterministic SVG charts (no plotting library needed by the grader)."""
from __future__ import annotations

import base64
from html import escape


def data_uri(svg: str) -> str:
    """``svg`` as a base64 ``data:image/svg+xml`` URI, for an ``<img src>`` in the self-contained HTML reports."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def histogram(values: list[float], maximum: float, bins: int = 20, width: int = 640, height: int = 220,
              title: str = "") -> str:
    """Histogram of ``values`` on [0, maximum] as an SVG document."""
    counts = [0] * bins
    for v in values:
        i = min(bins - 1, max(0, int(v / maximum * bins))) if maximum > 0 else 0
        counts[i] += 1
    top = max(counts) if counts and max(counts) > 0 else 1
    left, bottom, right, top_pad = 40, 30, 10, 24
    pw, ph = width - left - right, height - bottom - top_pad
    bw = pw / bins
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
             f'<text x="{width / 2:.1f}" y="14" text-anchor="middle" font-size="13">{escape(title)}</text>']
    for i, c in enumerate(counts):
        h = ph * c / top
        x = left + i * bw
        y = top_pad + ph - h
        lo, hi = maximum * i / bins, maximum * (i + 1) / bins
        parts.append(f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" fill="#4c72b0">'
                     f'<title>{lo:g}–{hi:g}: {c}</title></rect>')
    parts.append(f'<line x1="{left}" y1="{top_pad + ph}" x2="{left + pw}" y2="{top_pad + ph}" stroke="#333"/>')
    for k in range(0, 11):
        v = maximum * k / 10
        x = left + pw * k / 10
        parts.append(f'<text x="{x:.1f}" y="{top_pad + ph + 14}" text-anchor="middle">{v:g}</text>')
    parts.append(f'<text x="{left - 6}" y="{top_pad + 8}" text-anchor="end">{top}</text>')
    parts.append(f'<text x="{left - 6}" y="{top_pad + ph}" text-anchor="end">0</text>')
    parts.append("</svg>")
    return "".join(parts)


def option_bars(rows: list[tuple[str, float, float, float, bool]], width: int = 360) -> str:
    """Horizontal bars per option: (letter, share all, share top 27 %, share bottom 27 %, keyed correct)."""
    bar_h, gap, left = 9, 6, 28
    height = len(rows) * (3 * bar_h + gap) + 16
    pw = width - left - 44
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10">']
    y = 4
    for letter, share, up, lo, ok in rows:
        colour = "#2a9d8f" if ok else "#b0b0b0"
        parts.append(f'<text x="4" y="{y + 2 * bar_h - 2}" font-weight="bold">'
                     f'{escape(letter)}{"✓" if ok else ""}</text>')
        for j, (v, shade, label) in enumerate(((share, colour, "all"), (up, "#264653", "top"),
                                               (lo, "#e76f51", "bottom"))):
            parts.append(f'<rect x="{left}" y="{y + j * bar_h}" width="{pw * v:.1f}" height="{bar_h - 1}" '
                         f'fill="{shade}"><title>{label}: {v:.0%}</title></rect>')
        parts.append(f'<text x="{left + pw + 4}" y="{y + bar_h - 1}">{share:.0%}</text>')
        y += 3 * bar_h + gap
    parts.append(f'<text x="{left}" y="{height - 3}" fill="#555">bars: all · top 27 % · bottom 27 %</text>')
    parts.append("</svg>")
    return "".join(parts)
