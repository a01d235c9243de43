"""A self-contained HTML chart of a model's match weights.

One horizontal bar per comparison level: to the right (green) the levels that
are evidence *for* a match, to the left (red) the evidence *against*, in bits
(``log2(m/u)``). It answers the reviewer's first question about a model — "what
does agreeing on this field count for?" — without any plotting dependency.
"""

from __future__ import annotations

import html
from pathlib import Path

from linkage.match.model import FellegiSunterModel

__all__ = ["write_weights_chart"]

_ROW, _LABEL, _HALF = 18, 330, 260


def write_weights_chart(model: FellegiSunterModel, path: Path) -> None:
    """Write the match-weights chart of ``model`` to ``path`` (HTML with inline SVG)."""
    rows: list[tuple[str, float, float, float]] = []  # label, weight, m, u
    for comp, m, u, w in zip(
        model.comparisons, model.m, model.u_random, model.level_weights(), strict=True
    ):
        for i, label in enumerate(comp.levels[1:], start=1):
            rows.append((f"{comp.name}: {label}", float(w[i]), float(m[i]), float(u[i])))
    scale = _HALF / max([1.0, *(abs(r[1]) for r in rows)])
    bars = []
    for k, (label, weight, m_prob, u_prob) in enumerate(rows):
        y = 30 + k * _ROW
        width = abs(weight) * scale
        x = _LABEL + _HALF - (width if weight < 0 else 0)
        colour = "#2e7d32" if weight >= 0 else "#c62828"
        tip = f"{label}: match weight {weight:+.2f} bits (m={m_prob:.4f}, u={u_prob:.6f})"
        bars.append(
            f'<text x="{_LABEL - 6}" y="{y + 12}" text-anchor="end">{html.escape(label)}</text>'
            f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{_ROW - 4}" fill="{colour}">'
            f"<title>{html.escape(tip)}</title></rect>"
            f'<text x="{_LABEL + 2 * _HALF + 6}" y="{y + 12}">{weight:+.1f}</text>'
        )
    height = 40 + len(rows) * _ROW
    axis = _LABEL + _HALF
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_LABEL + 2 * _HALF + 60}" '
        f'height="{height}" font-family="sans-serif" font-size="12">'
        f'<line x1="{axis}" y1="20" x2="{axis}" y2="{height}" stroke="#555"/>'
        + "".join(bars)
        + "</svg>"
    )
    page = (
        "<!doctype html><meta charset='utf-8'><title>Crosswalk match weights</title>"
        "<h1>Match weights (bits of evidence, log2 m/u)</h1>"
        f"<p>Schema {html.escape(model.schema_version)}, key {html.escape(model.key_id)}; "
        f"λ (probability two random records match) = "
        f"{model.probability_two_random_records_match:.3g}.</p>{svg}"
    )
    path.write_text(page, encoding="utf-8")
