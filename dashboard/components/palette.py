"""The dashboard's colours, in one place: every page takes its shades from here.

- ``SEQUENTIAL``: the one ramp for "how many" (choropleth classes, the weekday × hour table), viridis from
  light to dark, read by colour-blind people and in grey scale; :func:`sequential` spreads ``k`` classes over it.
- ``MASKED``: the grey of a count hidden under the small-count threshold (« < 5 »), on maps and in tables.
- ``OKABE_ITO``: the colour-blind-safe qualitative colours (Okabe & Ito, 2008) of families, series, outlines
  and accident gravity.

The colours of the sources' points come from :mod:`observatoire.sources`, those of hot and cold spots and of
density levels from the library's result (:mod:`observatoire.events.hotspots`, :mod:`observatoire.events.density`).
"""

from __future__ import annotations

# Viridis, seven steps. Seven because the weekday × hour table uses seven classes; maps take fewer, spread out.
SEQUENTIAL = ("#fde725", "#a0da39", "#4ac16d", "#1fa187", "#277f8e", "#365c8d", "#46327e")
# From this step on the fill is dark enough for white text (contrast ≥ 4.5:1); before it, dark text.
DARK_FROM = 4
TEXT_ON_LIGHT = "#161616"
TEXT_ON_DARK = "#ffffff"
# Apart from the ramp's lightest yellow, from an empty (white) zone and from the near-white "not significant"
# hot-spot class; dark text on it reads at 9.6:1.
MASKED = "#bdbdbd"
EMPTY = "#ffffff"

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
}

# Plotly charts: white background, light grid.
CHART_BACKGROUND = "#ffffff"
CHART_GRID = "#e5e5e5"


def sequential(k: int) -> list[str]:
    """``k`` steps of the ramp, light to dark, evenly spread so that few classes stay far apart.

    One class takes the middle step. Up to ``len(SEQUENTIAL)`` classes the steps are all different.
    """
    n = len(SEQUENTIAL)
    if k <= 1:
        return [SEQUENTIAL[n // 2]]
    return [SEQUENTIAL[round(i * (n - 1) / (k - 1))] for i in range(k)]


def with_alpha(colour: str, alpha: float) -> str:
    """``#0072B2`` at 0.18 → ``rgba(0, 114, 178, 0.18)``: a fill drawn as the map draws it."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha:g})"


def text_on(fill: str) -> str:
    """The text colour that reads on ``fill``, a step of the ramp (dark text on anything else)."""
    return TEXT_ON_DARK if fill in SEQUENTIAL[DARK_FROM:] else TEXT_ON_LIGHT
