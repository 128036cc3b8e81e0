"""Map building blocks shared by every map page: basemap, outlines, legend."""

from __future__ import annotations

import math
from typing import Any

import dash_leaflet as dl
from dash import html

from dashboard.components import markup
from dashboard.components.palette import OKABE_ITO, with_alpha
from observatoire.settings import Settings

# Colour-blind-safe outline colours (Okabe–Ito).
OUTLINE_STYLES = {
    "commune": {"color": OKABE_ITO["black"], "weight": 3, "fill": False},
    "iris": {
        "color": OKABE_ITO["blue"],
        "weight": 1.5,
        "fillColor": OKABE_ITO["blue"],
        "fillOpacity": 0.06,
        "dashArray": "4",
    },
    "qpv": {
        "color": OKABE_ITO["vermillion"],
        "weight": 2.5,
        "fillColor": OKABE_ITO["vermillion"],
        "fillOpacity": 0.18,
    },
}
LEVEL_LABELS = {"commune": "Limite communale", "iris": "IRIS", "qpv": "Quartier prioritaire (QPV)"}
LEVELS = tuple(OUTLINE_STYLES)  # drawn in this order: the commune under its zones
SWATCH_BORDER = "#333333"


def basemap(settings: Settings) -> list[Any]:
    """The tile layer, or nothing when tiles are off (offline): outlines are drawn either way."""
    if not settings.tiles_enabled:
        return []
    return [dl.TileLayer(url=settings.tiles_url, attribution=settings.tiles_attribution, maxZoom=19)]


# --- Tooltips ---------------------------------------------------------------------------------------------


def with_tooltip(feature: dict[str, Any], text: str) -> dict[str, Any]:
    """``feature`` with its hover text, the only way a page sets a GeoJSON feature's ``tooltip``: Leaflet
    inserts that property as HTML, so the text is escaped here (territory names, labels and sectors come from
    imported files)."""
    return {**feature, "properties": {**feature["properties"], "tooltip": markup.text(text)}}


# --- Territory outlines ---------------------------------------------------------------------------------


def levels_in(collection: dict[str, Any]) -> list[str]:
    """The outline levels that ``collection`` holds at least one feature of, in drawing order."""
    present = {f["properties"]["level"] for f in collection["features"]}
    return [level for level in LEVELS if level in present]


def _outline(collection: dict[str, Any], level: str, prefix: str, style: dict[str, Any]) -> dl.GeoJSON | None:
    features = [
        with_tooltip(f, f"{f['properties']['name']} ({f['properties']['code']})")
        for f in collection["features"]
        if f["properties"]["level"] == level
    ]
    if not features:
        return None
    return dl.GeoJSON(
        data={"type": "FeatureCollection", "features": features}, style=style, id=f"{prefix}-contours-{level}"
    )


def outline_layers(collection: dict[str, Any], prefix: str) -> list[dl.GeoJSON]:
    """Commune, IRIS and QPV outlines (``{prefix}-contours-{level}``), zones lightly filled."""
    layers = [_outline(collection, level, prefix, OUTLINE_STYLES[level]) for level in LEVELS]
    return [layer for layer in layers if layer is not None]


def outline_overlays(
    collection: dict[str, Any], prefix: str, hidden: tuple[str, ...] = ("iris",)
) -> list[dl.Overlay]:
    """The outlines as lines only, one overlay a level for a ``dl.LayersControl``, the ``hidden`` levels
    unticked: over classed cells a fill would change the cells' colours."""
    overlays = []
    for level in LEVELS:
        layer = _outline(
            collection, level, prefix, {**OUTLINE_STYLES[level], "fillOpacity": 0, "fill": False}
        )
        if layer is not None:
            overlays.append(overlay(layer, LEVEL_LABELS[level], checked=level not in hidden))
    return overlays


def overlay(layer: Any, name: str, checked: bool = True) -> dl.Overlay:
    """An entry of a ``dl.LayersControl``, whose name Leaflet inserts as HTML: escaped like a tooltip."""
    return dl.Overlay(layer, name=markup.text(name), checked=checked)


# --- Legend -----------------------------------------------------------------------------------------------


def swatch(colour: str, border: str = SWATCH_BORDER) -> html.Span:
    """A filled square: a class, a zone, a source."""
    return html.Span(className="obs-legende-symbole", style={"background": colour, "borderColor": border})


def outline_swatch(level: str) -> html.Span:
    """A square drawn like the outline of ``level``: its line, its dashes, its fill at the map's opacity (an
    opaque fill of the line's colour would hide the dashes and read as a filled zone)."""
    style = OUTLINE_STYLES[level]
    filled = style.get("fill", True) and "fillColor" in style
    return html.Span(
        className="obs-legende-symbole",
        style={
            "borderColor": style["color"],
            "borderWidth": f"{max(2, style['weight'])}px",
            "background": with_alpha(style["fillColor"], style.get("fillOpacity", 1))
            if filled
            else "transparent",
            "borderStyle": "dashed" if style.get("dashArray") else "solid",
        },
    )


def legend_item(symbol: Any, text: Any) -> html.Li:
    return html.Li([symbol, text])


def outline_items(levels: list[str]) -> list[html.Li]:
    return [legend_item(outline_swatch(level), LEVEL_LABELS[level]) for level in levels]


def legend_box(title: str, items: list[Any], source: str, box_id: str | None = None) -> html.Details:
    """The legend beside a map (never over it: it would hide part of the study area), folding under its
    title; ``assets/obs_cartes.js`` folds it when the screen is narrow."""
    extra = {"id": box_id} if box_id else {}
    return folding_legend(html.Strong(title), [html.Ul(items), html.Small(source)], **extra)


def folding_legend(title: Any, children: list[Any], className: str = "", **extra: Any) -> html.Details:
    """A legend that folds under its ``title`` (a ``<details>``), open at first."""
    return html.Details(
        [
            html.Summary(title, className="obs-legende-titre"),
            html.Div(children, className="obs-legende-corps"),
        ],
        open=True,
        className=f"obs-legende obs-legende-pliable {className}".strip(),
        **extra,
    )


def legend(levels: list[str], title: str, source: str) -> html.Details:
    """A legend of outlines only."""
    return legend_box(title, outline_items(levels), source)


def source_line(text: str, settings: Settings) -> str:
    """A map's source line, which says so when the basemap is off: a blank map is then not missing data."""
    return text + ("" if settings.tiles_enabled else " · fond de carte désactivé")


# --- Framing ----------------------------------------------------------------------------------------------


def view_of(
    bounds: list[list[float]] | None, width_px: int = 1100, height_px: int = 500
) -> tuple[list[float], int]:
    """Centre and zoom that fit ``bounds`` [[south, west], [north, east]] in a map of about that size.

    Computed on the server: handing Leaflet a ``bounds`` prop before it has laid the map out makes it
    compare against empty bounds and fail in the browser.
    """
    if not bounds:
        return [46.6, 2.4], 6
    (south, west), (north, east) = bounds
    lon_span = max(east - west, 1e-6)
    merc = lambda lat: math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))  # noqa: E731
    lat_span = max(merc(north) - merc(south), 1e-9)
    zoom_x = math.log2(width_px * 360 / (256 * lon_span))
    zoom_y = math.log2(height_px * 2 * math.pi / (256 * lat_span))
    return [(south + north) / 2, (west + east) / 2], max(1, min(18, math.floor(min(zoom_x, zoom_y))))


def scale_bar() -> dl.ScaleControl:
    """A metric scale bar, which every map carries."""
    return dl.ScaleControl(position="bottomleft", imperial=False)


def map_frame(
    children: list[Any], bounds: list[list[float]] | None, map_id: str, height: str = "520px"
) -> dl.Map:
    center, zoom = view_of(bounds, width_px=800, height_px=int(height.removesuffix("px")))
    return dl.Map(
        children=[*children, scale_bar()],
        id=map_id,
        center=center,
        zoom=zoom,
        style={"height": height, "width": "100%"},
        className="obs-carte",
        scrollWheelZoom=True,
    )
