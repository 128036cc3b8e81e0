"""The print layout of a map, drawn on the server with matplotlib in Lambert-93 (a metric CRS: the scale bar
is true): title, subtitle with period and filters, legend with classes, scale bar, north arrow, sources and
edition, method parameters, date of production and audience level; A4 landscape or portrait at 300 dpi.

No internet is needed: the outlines come from PostGIS. Colours are colour-blind safe (viridis for counts,
ColorBrewer RdBu for hot and cold spots, Okabe–Ito for sources)."""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire import french
from observatoire.exports import audience as aud
from observatoire.exports.layers import L93, LayerData
from observatoire.exports.request import ExportRequest, period_label

A4 = (11.70, 8.27)  # inches, landscape: 3 510 × 2 481 px at 300 dpi (A4 is 3 508 × 2 480)
DPI = 300
BANNER = {aud.RESTREINT: "#b2182b", aud.PLENIER: "#2166ac"}


@dataclass
class Context:
    """What is drawn under the layers: the commune's outline and its IRIS, and the commune's name."""

    outlines: Any  # GeoDataFrame (EPSG:2154) with ``level``
    name: str


def context(engine: Engine, commune_code: str) -> Context:
    import geopandas as gpd

    with engine.connect() as conn:
        frame = gpd.read_postgis(
            sa.text("""
            SELECT code, level, name, ST_Transform(geom, 2154) AS geom FROM obs.territory
            WHERE geom IS NOT NULL AND (code = :c OR (level = 'iris' AND parent_code = :c))"""),
            conn,
            params={"c": commune_code},
            geom_col="geom",
        )
        name = conn.execute(
            sa.text("SELECT name FROM obs.territory WHERE code = :c"), {"c": commune_code}
        ).scalar()
    frame = frame.rename_geometry("geometry")
    if frame.crs is None:
        frame = frame.set_crs(L93)
    return Context(frame, name or commune_code)


def title_of(request: ExportRequest, layers: list[LayerData], ctx: Context) -> str:
    return request.title or f"{layers[0].title} — {ctx.name}"


def subtitle_of(request: ExportRequest) -> str:
    f = request.effective_filter()
    described = f.describe()
    parts = [f"Période : {period_label(f)}"]
    if f.categories:
        parts.append("catégories : " + ", ".join(described["categories"]))
    if f.families:
        parts.append("familles : " + ", ".join(described["familles"]))
    if f.hours:
        parts.append(described["heures"])
    if f.weekdays:
        parts.append(", ".join(described["jours"]))
    parts.append(", ".join(described["sources"]))
    if f.territory:
        parts.append(f"territoire : {f.territory}")
    if request.audience == aud.PLENIER:
        parts.append("hors catégories sensibles")
    return " · ".join(parts)


def method_lines(request: ExportRequest, layers: list[LayerData]) -> list[str]:
    lines = []
    for layer in layers:
        m = layer.method
        if "taille_cellule_m" in m:
            lines.append(f"Hexagones de {french.number(m['taille_cellule_m'])} m de côté")
        if "correction" in m:
            lines.append(
                "Gi* : contiguïté des 6 voisins, " + str(m.get("permutations", "")) + " permutations"
            )
            lines.append("Seuils de fausses découvertes (FDR) : " + m.get("niveaux_fdr", "1, 5 et 10 %"))
        if "largeur_de_bande_m" in m:
            lines.append(f"Largeur de bande : {french.number(m['largeur_de_bande_m'])} m")
        if "taux" in m:
            rate = str(m["taux"])
            lines.append("Taux " + rate if rate.startswith("pour") else rate[:1].upper() + rate[1:])
        if layer.key == "accidents":
            lines.append(
                f"Sites : au moins {m.get('min_accidents')} accidents à moins de {m.get('rayon_m')} m, "
                f"{'–'.join(str(y) for y in m.get('annees', []))}"
            )
        if layer.total is not None:
            lines.append(f"Total des événements comptés : {_total(layer.total)}")
        if layer.note:
            lines.append(layer.note)
    if request.audience == aud.PLENIER:
        lines.append(
            "Secret statistique : effectifs < 5 et leurs voisins masqués, aucun point, "
            "aucune catégorie sensible sous l'échelle de la commune"
        )
    return lines


def _total(value: Any) -> str:
    return french.number(value) if isinstance(value, int | float) else str(value)


def render(
    request: ExportRequest,
    layers: list[LayerData],
    ctx: Context,
    fmt: str = "png",
    *,
    produced: datetime | None = None,
    dpi: int = DPI,
) -> bytes:
    """The layout as PNG, PDF or SVG bytes."""
    from matplotlib.figure import Figure

    produced = produced or datetime.now(french.PARIS)
    portrait = request.orientation == "portrait"
    size = (A4[1], A4[0]) if portrait else A4
    fig = Figure(figsize=size, dpi=dpi)
    fig.patch.set_facecolor("white")
    if portrait:
        map_box, panel_box = (0.05, 0.36, 0.9, 0.52), (0.05, 0.07, 0.9, 0.27)
    else:
        map_box, panel_box = (0.03, 0.08, 0.64, 0.74), (0.69, 0.08, 0.29, 0.74)
    ax = fig.add_axes(map_box)
    _draw_map(ax, layers, ctx)
    _draw_furniture(ax)
    panel = fig.add_axes(panel_box)
    panel.set_axis_off()
    _draw_panel(panel, request, layers, portrait)
    width = 95 if portrait else 120
    title = "\n".join(textwrap.wrap(title_of(request, layers, ctx), 60 if portrait else 85)[:2])
    fig.text(0.03, 0.945, title, fontsize=16 if portrait else 17, weight="bold", va="top")
    fig.text(
        0.03,
        0.89 if portrait else 0.885,
        "\n".join(textwrap.wrap(subtitle_of(request), width)[:2]),
        fontsize=9.5,
        va="top",
        color="#333",
    )
    level = aud.AUDIENCES[request.audience]
    fig.text(
        0.97,
        0.978,
        "Diffusion : " + level.split(" — ")[0],
        ha="right",
        va="center",
        fontsize=10,
        weight="bold",
        color="white",
        bbox={"boxstyle": "round,pad=0.4", "facecolor": BANNER[request.audience], "edgecolor": "none"},
    )
    footer = (
        f"{level}. Produit le {french.moment(produced)} par {request.login or 'la ligne de commande'} "
        "avec l'Observatoire local de la tranquillité publique — fond : contours IGN/INSEE chargés dans "
        "l'observatoire, projection Lambert-93 (EPSG:2154)."
    )
    fig.text(
        0.03, 0.025, "\n".join(textwrap.wrap(footer, 150 if not portrait else 110)), fontsize=7, color="#444"
    )
    out = io.BytesIO()
    if fmt == "png":
        _save_png(fig, out, dpi, title_of(request, layers, ctx))
    else:
        fig.savefig(
            out, format=fmt, dpi=dpi, facecolor="white", metadata={"Title": title_of(request, layers, ctx)}
        )
    return out.getvalue()


def _save_png(fig: Any, out: io.BytesIO, dpi: int, title: str) -> None:
    """RGB (an opaque page needs no alpha) and light zlib compression: at 300 dpi, encoding the PNG is most of
    the time, and matplotlib's RGBA at the default level takes three times as long for a file 10 % smaller."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    info = PngInfo()
    info.add_text("Title", title)
    info.add_text("Software", "observatoire")
    # PIL drops the alpha in C; slicing the NumPy array would copy it element by element
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    image = image.convert("RGB")
    image.save(out, "png", compress_level=1, dpi=(dpi, dpi), pnginfo=info)


def _draw_map(ax: Any, layers: list[LayerData], ctx: Context) -> None:
    outlines = ctx.outlines
    iris = outlines[outlines["level"] == "iris"]
    commune = outlines[outlines["level"] != "iris"]
    # The commune frames the map; without its outline, the layers do (a stray event far away would
    # otherwise shrink the commune to a corner).
    bounds = (
        [outlines.total_bounds] if len(outlines) else [f.frame.total_bounds for f in layers if len(f.frame)]
    )
    for layer in layers:
        frame = layer.frame
        if not len(frame):
            continue
        if layer.kind == "points":
            ax.scatter(
                frame.geometry.x,
                frame.geometry.y,
                s=14 if len(frame) < 2000 else 3,
                c=list(frame["colour"]),
                edgecolors="white" if len(frame) < 2000 else "none",
                linewidths=0.3,
                zorder=4,
                marker="^" if layer.key == "accidents" else "o",
            )
        else:
            frame.plot(ax=ax, color=list(frame["colour"]), edgecolor="#6f6f6f", linewidth=0.15, zorder=2)
    if len(iris):
        iris.boundary.plot(ax=ax, color="#555555", linewidth=0.5, linestyle="--", zorder=3)
    if len(commune):
        commune.boundary.plot(ax=ax, color="#111111", linewidth=1.2, zorder=3)
    if bounds:
        import numpy as np

        b = np.array(bounds)
        x0, y0, x1, y1 = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
        pad = 0.04 * max(x1 - x0, y1 - y0, 500)
        x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
        # Widen the extent to the shape of the frame, so that metres are square without moving the frame.
        box = ax.get_position()
        fig_w, fig_h = ax.figure.get_size_inches()
        shape = (box.width * fig_w) / (box.height * fig_h)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        w, h = max(x1 - x0, (y1 - y0) * shape), max(y1 - y0, (x1 - x0) / shape)
        ax.set_xlim(cx - w / 2, cx + w / 2)
        ax.set_ylim(cy - h / 2, cy + h / 2)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for spine in ax.spines.values():
        spine.set_edgecolor("#999999")
        spine.set_linewidth(0.6)


def _draw_furniture(ax: Any) -> None:
    """Scale bar (true in Lambert-93, one unit = one metre) and north arrow (grid north, close to true north
    at a commune's scale)."""
    from matplotlib_scalebar.scalebar import ScaleBar

    ax.add_artist(
        ScaleBar(
            1, "m", location="lower left", box_alpha=0.8, font_properties={"size": 8}, length_fraction=0.25
        )
    )
    ax.annotate(
        "N",
        xy=(0.955, 0.95),
        xytext=(0.955, 0.85),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=12,
        weight="bold",
        arrowprops={
            "facecolor": "black",
            "edgecolor": "black",
            "width": 4,
            "headwidth": 11,
            "headlength": 10,
        },
    )


def _draw_panel(ax: Any, request: ExportRequest, layers: list[LayerData], portrait: bool) -> None:
    from matplotlib.patches import Rectangle

    y = 0.98
    step = 0.045 if not portrait else 0.075
    width = 48 if not portrait else 110
    columns_x = [0.0]
    for layer in layers:
        ax.text(0, y, layer.title, fontsize=10, weight="bold", va="top", transform=ax.transAxes)
        y -= step
        for label, colour in layer.legend:
            if layer.kind == "points":
                ax.scatter([0.025], [y - step * 0.3], s=40, c=colour, transform=ax.transAxes, clip_on=False)
            else:
                ax.add_patch(
                    Rectangle(
                        (0, y - step * 0.6),
                        0.05,
                        step * 0.55,
                        facecolor=colour,
                        edgecolor="#555",
                        linewidth=0.5,
                        transform=ax.transAxes,
                        clip_on=False,
                    )
                )
            ax.text(0.07, y - step * 0.3, label, fontsize=8.5, va="center", transform=ax.transAxes)
            y -= step * 0.75
        y -= step * 0.3
    del columns_x
    ax.text(0, y, "Méthode et sources", fontsize=10, weight="bold", va="top", transform=ax.transAxes)
    y -= step * 0.8
    lines = method_lines(request, layers) + sorted({layer.source for layer in layers if layer.source})
    text = "\n".join("\n".join(textwrap.wrap(line, width)) for line in lines)
    ax.text(0, y, text, fontsize=7.5, va="top", transform=ax.transAxes, linespacing=1.35, color="#222")
