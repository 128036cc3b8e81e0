"""The standalone interactive map: a folium file that works offline. Folium's page loads Leaflet, jQuery,
Bootstrap and Font Awesome from CDNs; only Leaflet is needed for polygons, points, tooltips and the layer
control, so the page keeps Leaflet alone, inlined from the copy shipped in ``assets/`` (Leaflet 1.9.4 from
the npm registry). Any other remote script or style left in the page is an error, not a silent blank map."""

from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from observatoire import french
from observatoire.errors import ObservatoireError
from observatoire.exports import audience as aud
from observatoire.exports.layers import LayerData
from observatoire.exports.request import ExportRequest
from observatoire.exports.snapshot import Context, method_lines, subtitle_of, title_of

ASSETS = Path(__file__).resolve().parent / "assets"
_REMOTE = re.compile(
    r"""<(script|link)\b[^>]*\b(?:src|href)\s*=\s*["']?(https?:)?//[^>]*>(?:</script>)?""", re.I
)


def _inline_assets(page: str) -> str:
    js = (ASSETS / "leaflet.js").read_text(encoding="utf-8")
    css = (ASSETS / "leaflet.css").read_text(encoding="utf-8")

    def swap(match: re.Match[str]) -> str:
        tag = match.group(0)
        if "leaflet.js" in tag:
            return "<script>" + js.replace("</script", "<\\/script") + "</script>"
        if "leaflet.css" in tag:
            return "<style>" + css + "</style>"
        return ""  # jQuery, Bootstrap, fonts: not used by this map

    page = _REMOTE.sub(swap, page)
    if _REMOTE.search(page):
        raise ObservatoireError("La carte HTML chargerait encore une ressource en ligne : export interrompu.")
    return page


def _popup_fields(layer: LayerData) -> list[str]:
    wanted = [
        "nom",
        "code",
        "effectif_affiche",
        "classe",
        "taux_pour_1000",
        "z",
        "p",
        "label",
        "date",
        "rang",
        "accidents",
    ]
    return [c for c in wanted if c in layer.frame.columns]


_ALIASES = {
    "nom": "Nom",
    "code": "Code",
    "effectif_affiche": "Événements",
    "classe": "Classe",
    "taux_pour_1000": "Taux ‰",
    "z": "z",
    "p": "p",
    "label": "Catégorie",
    "date": "Date",
    "rang": "Rang",
    "accidents": "Accidents",
}


def render(
    request: ExportRequest, layers: list[LayerData], ctx: Context, *, produced: datetime | None = None
) -> bytes:
    import folium

    produced = produced or datetime.now(french.PARIS)
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=False, zoom_control=True)
    # Only Leaflet: folium's other defaults (jQuery, Bootstrap, Font Awesome, awesome-markers) serve markers
    # with icons, which this map does not draw.
    fmap.default_js = [("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js")]
    fmap.default_css = [("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css")]
    outlines = ctx.outlines.to_crs("EPSG:4326")
    if len(outlines):
        folium.GeoJson(
            _escaped(outlines[["level", "name", "geometry"]]).to_json(),
            name="Contours (commune, IRIS)",
            style_function=lambda feat: {
                "color": "#111111" if feat["properties"]["level"] != "iris" else "#555555",
                "weight": 2.5 if feat["properties"]["level"] != "iris" else 1,
                "dashArray": None if feat["properties"]["level"] != "iris" else "4 4",
                "fill": False,
            },
        ).add_to(fmap)
    for layer in layers:
        frame = layer.frame.to_crs("EPSG:4326")
        if not len(frame):
            continue
        fields = _popup_fields(layer)
        keep = [*fields, "colour", "geometry"]
        data = _escaped(frame[keep]).to_json(na="null")
        tooltip = (
            folium.GeoJsonTooltip(fields=fields, aliases=[_ALIASES[f] for f in fields]) if fields else None
        )
        if layer.kind == "points":
            group = folium.FeatureGroup(name=html.escape(layer.title))
            for row in frame.itertuples():
                folium.CircleMarker(
                    (row.geometry.y, row.geometry.x),
                    radius=4,
                    color="#ffffff",
                    weight=0.5,
                    fill=True,
                    fill_color=row.colour,
                    fill_opacity=0.9,
                    tooltip=" · ".join(html.escape(str(getattr(row, f))) for f in fields),
                ).add_to(group)
            group.add_to(fmap)
        else:
            folium.GeoJson(
                data,
                name=html.escape(layer.title),
                style_function=lambda feat: {
                    "fillColor": feat["properties"]["colour"],
                    "color": "#6f6f6f",
                    "weight": 0.4,
                    "fillOpacity": 0.8,
                },
                tooltip=tooltip,
            ).add_to(fmap)
    bounds = outlines.total_bounds if len(outlines) else layers[0].frame.to_crs("EPSG:4326").total_bounds
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    folium.LayerControl(collapsed=False).add_to(fmap)
    root: Any = fmap.get_root()
    root.header.add_child(folium.Element(_header_css()))
    root.html.add_child(folium.Element(_panel(request, layers, ctx, produced)))
    root.title = title_of(request, layers, ctx)
    page = root.render()
    page = page.replace("<html>", '<html lang="fr">', 1)
    return _inline_assets(page).encode("utf-8")


def _escaped(frame: Any) -> Any:
    """Text from imported files is shown as HTML by Leaflet's tooltips: escape it once here."""
    frame = frame.copy()
    for col in frame.columns:
        if col != "geometry" and frame[col].dtype == object:
            frame[col] = frame[col].map(lambda v: html.escape(v) if isinstance(v, str) else v)
    return frame


def _header_css() -> str:
    return """<style>
    .obs-panel{position:absolute;z-index:1000;top:10px;left:54px;max-width:380px;background:#fff;padding:8px 12px;
      border:1px solid #888;border-radius:4px;font:13px/1.35 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)}
    .obs-panel h1{font-size:16px;margin:0 0 4px}.obs-panel p{margin:2px 0}
    .obs-legend{position:absolute;z-index:1000;bottom:24px;right:10px;max-width:330px;background:#fff;
      padding:8px 12px;border:1px solid #888;border-radius:4px;font:12px/1.35 sans-serif}
    .obs-legend i{display:inline-block;width:14px;height:12px;margin-right:6px;border:1px solid #555;vertical-align:-2px}
    .obs-level{display:inline-block;color:#fff;padding:1px 6px;border-radius:3px;font-weight:bold}
    </style>"""


def _panel(request: ExportRequest, layers: list[LayerData], ctx: Context, produced: datetime) -> str:
    e = html.escape
    colour = "#b2182b" if request.audience == aud.RESTREINT else "#2166ac"
    level = aud.AUDIENCES[request.audience]
    legend = []
    for layer in layers:
        legend.append(f"<b>{e(layer.title)}</b><br>")
        legend += [f'<i style="background:{c}"></i>{e(label)}<br>' for label, c in layer.legend]
    method = "".join(f"<p>{e(line)}</p>" for line in method_lines(request, layers))
    sources = " ".join(sorted({e(layer.source) for layer in layers}))
    return (
        f'<div class="obs-panel" id="obs-panel"><h1>{e(title_of(request, layers, ctx))}</h1>'
        f"<p>{e(subtitle_of(request))}</p>"
        f'<p><span class="obs-level" style="background:{colour}">Diffusion : {e(level)}</span></p>'
        f"<p>Produit le {e(french.moment(produced))} par {e(request.login or 'la ligne de commande')}.</p>"
        f"</div>"
        f'<div class="obs-legend" id="obs-legend">{"".join(legend)}<hr>{method}<p>{sources}</p></div>'
    )
