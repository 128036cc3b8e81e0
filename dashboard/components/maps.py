"""Map building blocks shared by every map page: basemap, outlines, legend."""

from __future__ import annotations

import math
from typing import Any

import dash_leaflet as dl
from dash import html

from observatoire.settings import Settings

# Colour-blind-safe outline colours (Okabe–Ito).
OUTLINE_STYLES = {
    "commune": {"color": "#000000", "weight": 3, "fill": False},
    "iris": {
        "color": "#0072B2",
        "weight": 1.5,
        "fillColor": "#0072B2",
        "fillOpacity": 0.06,
        "dashArray": "4",
    },
    "qpv": {"color": "#D55E00", "weight": 2.5, "fillColor": "#D55E00", "fillOpacity": 0.18},
}
LEVEL_LABELS = {"commune": "Limite communale", "iris": "IRIS", "qpv": "Quartier prioritaire (QPV)"}


def basemap(settings: Settings) -> list[Any]:
    """The tile layer, or nothing when tiles are off (offline): outlines are drawn either way."""
    if not settings.tiles_enabled:
        return []
    return [dl.TileLayer(url=settings.tiles_url, attribution=settings.tiles_attribution, maxZoom=19)]


def outline_layers(collection: dict[str, Any], prefix: str) -> list[Any]:
    layers = []
    for level in ("commune", "iris", "qpv"):
        features = [
            {
                **f,
                "properties": {
                    **f["properties"],
                    "tooltip": f"{f['properties']['name']} ({f['properties']['code']})",
                },
            }
            for f in collection["features"]
            if f["properties"]["level"] == level
        ]
        if features:
            layers.append(
                dl.GeoJSON(
                    data={"type": "FeatureCollection", "features": features},
                    style=OUTLINE_STYLES[level],
                    id=f"{prefix}-contours-{level}",
                )
            )
    return layers


def legend(levels: list[str], title: str, source: str) -> html.Div:
    items = []
    for level in levels:
        style = OUTLINE_STYLES[level]
        swatch = {
            "borderColor": style["color"],
            "borderWidth": f"{max(2, style['weight'])}px",
            "background": style.get("fillColor", "transparent") if style.get("fill", True) else "transparent",
            "borderStyle": "dashed" if style.get("dashArray") else "solid",
        }
        items.append(html.Li([html.Span(className="obs-legende-symbole", style=swatch), LEVEL_LABELS[level]]))
    return html.Div([html.Strong(title), html.Ul(items), html.Small(source)], className="obs-legende")


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


def map_frame(
    children: list[Any], bounds: list[list[float]] | None, map_id: str, height: str = "520px"
) -> dl.Map:
    center, zoom = view_of(bounds)
    return dl.Map(
        children=children,
        id=map_id,
        center=center,
        zoom=zoom,
        style={"height": height, "width": "100%"},
        className="obs-carte",
        scrollWheelZoom=True,
    )
