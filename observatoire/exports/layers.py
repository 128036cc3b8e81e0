"""The layers an export may hold, in one registry: a key, a French label, whether it may appear in a plenary
export, and a builder giving a GeoDataFrame in Lambert-93 with the colour and legend class of each feature.

A module that adds a layer (cameras of the video-protection register, for instance) calls :func:`register`
with its own :class:`Layer`; every export format and the Exports page then offer it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from observatoire import disclosure
from observatoire.errors import InputFileError, PermissionDenied
from observatoire.exports import audience as aud

if TYPE_CHECKING:
    import geopandas as gpd

    from observatoire.exports.request import ExportRequest

L93 = "EPSG:2154"
# The dashboard's viridis ramp (dashboard/components/palette.py), light to dark, and its grey for masked counts.
SEQUENTIAL = ("#fde725", "#a0da39", "#4ac16d", "#1fa187", "#277f8e", "#365c8d", "#46327e")
MASKED = "#bdbdbd"
POINT_COLOURS = {"pn": "#0072B2", "pm": "#E69F00", "routes": "#009E73"}  # Okabe–Ito, as the map's sources


@dataclass
class LayerData:
    """One built layer: ``frame`` (EPSG:2154) with ``colour`` and ``classe`` columns, the ``legend``
    ((label, colour) in order), the ``method`` parameters, the ``source`` line and the ``total`` as shown."""

    key: str
    title: str
    frame: gpd.GeoDataFrame
    kind: str  # "polygons" | "points"
    legend: list[tuple[str, str]] = field(default_factory=list)
    method: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    total: Any = None
    note: str | None = None


@dataclass(frozen=True)
class Layer:
    key: str
    label: str
    build: Callable[[Engine, ExportRequest], LayerData]
    plenary: bool  # may appear in a plenary / public export (aggregated, protected)
    kind: str = "polygons"


REGISTRY: dict[str, Layer] = {}


def register(layer: Layer) -> Layer:
    REGISTRY[layer.key] = layer
    return layer


def get(key: str) -> Layer:
    try:
        return REGISTRY[key]
    except KeyError:
        raise InputFileError(
            f"Couche inconnue : « {key} ». Couches possibles : {', '.join(REGISTRY)}."
        ) from None


def build(engine: Engine, request: ExportRequest) -> list[LayerData]:
    """Every layer of the request, refused as a whole when one may not go to its audience."""
    chosen = [get(k) for k in request.layers]
    if request.audience == aud.PLENIER:
        refused = [layer.label for layer in chosen if not layer.plenary]
        if refused:
            raise PermissionDenied(
                f"La couche « {refused[0]} » ne peut pas figurer dans un export plénier / public : il ne "
                "contient que des chiffres agrégés, jamais de points."
            )
    return [layer.build(engine, request) for layer in chosen]


def _frame(features: list[dict[str, Any]], columns: list[str]) -> gpd.GeoDataFrame:
    import geopandas as gpd

    if not features:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=gpd.GeoSeries([], crs=L93), crs=L93)
    frame = gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")
    return frame.to_crs(L93)


def _cell(request: ExportRequest) -> float:
    from observatoire.exports.request import DEFAULT_CELL

    return request.cell or DEFAULT_CELL


def _figures(frame: pd.DataFrame, shown: np.ndarray | pd.Series, plenary: bool = False) -> pd.DataFrame:
    """``effectif`` (integer, empty when masked) and ``effectif_affiche`` (what a reader gets). In a plenary
    document no count under 5 is printed, zeros included: they read « < 5 » (0 to 4) like the masked ones."""
    if plenary and len(frame):
        zero = (
            np.asarray(shown, dtype=bool)
            & frame["count"].map(lambda v: not isinstance(v, str) and v == 0).to_numpy()
        )
        limit = disclosure.threshold_for(aud.PLENARY_ROLE) or 5
        frame["count"] = [
            disclosure.label(limit) if z else v for v, z in zip(frame["count"], zero, strict=True)
        ]
        shown = np.asarray(shown, dtype=bool) & ~zero
    raw = frame["count"]
    frame["effectif_affiche"] = raw.map(lambda v: v if isinstance(v, str) else str(int(v)))
    frame["effectif"] = pd.array([int(v) if ok else None for v, ok in zip(raw, shown, strict=True)], "Int64")
    return frame.drop(columns=["count"])


def _count_classes(frame: pd.DataFrame, values: pd.Series, unit: str) -> list[tuple[str, str]]:
    """Viridis classes (quantiles) on ``values``; masked features in grey."""
    from observatoire.events import choropleth

    present = values.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    classes = choropleth.classify(present, "quantiles", 5)
    steps = _ramp(classes["k"])
    frame["colour"] = [steps[b] if b is not None else MASKED for b in classes["bins"]]
    frame["classe"] = [classes["classes"][b]["label"] if b is not None else "masqué" for b in classes["bins"]]
    legend = [(f"{c['label']} {unit}", steps[k]) for k, c in enumerate(classes["classes"])]
    if np.isnan(present).any():
        legend.append(("moins de 5, ou non diffusé (secret statistique)", MASKED))
    return legend


def _ramp(k: int) -> list[str]:
    n = len(SEQUENTIAL)
    if k <= 1:
        return [SEQUENTIAL[n // 2]]
    return [SEQUENTIAL[round(i * (n - 1) / (k - 1))] for i in range(k)]


# --- plenary protection of hexagon cells ---------------------------------------------------------------------


def plenary_cells(engine: Engine, request: ExportRequest) -> pd.DataFrame:
    """``i``, ``j``, ``count`` (exact), ``state`` of the hexagons of a plenary export: the protection of the
    aggregate-only roles, then the neighbours of the small cells masked too (:func:`audience.suppress_neighbours`)."""
    from observatoire.events import hexgrid, hotspots

    f = request.effective_filter()
    limit = disclosure.threshold_for(aud.PLENARY_ROLE)
    assert limit is not None
    with engine.connect() as conn:
        cells = hexgrid.protected_cells(conn, f, _cell(request), limit).reset_index(drop=True)
    if cells.empty:
        return cells
    w = hotspots.hex_weights(cells["i"].to_numpy(), cells["j"].to_numpy())
    cells["state"] = aud.suppress_neighbours(
        cells["count"].to_numpy(), cells["state"].to_numpy(), lambda k: w.neighbors.get(k, []), limit
    )
    return cells


def _apply_cells(frame: pd.DataFrame, cells: pd.DataFrame) -> np.ndarray:
    """Masks ``frame``'s ``count`` by the states of ``cells`` (on ``i``, ``j``); returns which are shown."""
    limit = disclosure.threshold_for(aud.PLENARY_ROLE)
    states = (
        cells.set_index(["i", "j"])["state"]
        .reindex(pd.MultiIndex.from_frame(frame[["i", "j"]].astype(int)), fill_value=disclosure.SHOWN)
        .to_numpy()
    )
    exact = cells.set_index(["i", "j"])["count"].reindex(
        pd.MultiIndex.from_frame(frame[["i", "j"]].astype(int))
    )
    frame["count"] = [
        disclosure.shown_as(c, s, limit) if s != disclosure.SHOWN else int(c)
        for c, s in zip(exact.fillna(0).to_numpy(), states, strict=True)
    ]
    for col in ("z", "p"):
        if col in frame:
            frame[col] = np.where(states == disclosure.SHOWN, frame[col], np.nan)
    return states == disclosure.SHOWN


# --- builders ----------------------------------------------------------------------------------------------


def _hexagons(engine: Engine, request: ExportRequest) -> LayerData:
    from observatoire.events import hexgrid

    f = request.effective_filter()
    if request.audience == aud.PLENIER:
        cells = plenary_cells(engine, request)
        cells = cells[(cells["count"] > 0) | (cells["state"] != disclosure.SHOWN)].reset_index(drop=True)
        limit = disclosure.threshold_for(aud.PLENARY_ROLE)
        features = [
            {"type": "Feature", "geometry": g, "properties": {"i": int(r.i), "j": int(r.j), "count": 0}}
            for r, g in zip(cells.itertuples(), hexgrid.outlines(cells, _cell(request)), strict=True)
        ]
        frame = _frame(features, ["i", "j", "count"])
        shown = _apply_cells(frame, cells) if len(frame) else np.array([], dtype=bool)
        total = disclosure.total(cells["count"].to_numpy(), limit, cells["state"].to_numpy())
        method = hexgrid.method(_cell(request), f)
    else:
        result = hexgrid.hex_counts(engine, f, _cell(request), request.query_role)
        frame = _frame(result["features"], ["i", "j", "count"])
        shown = ~frame["masked"].to_numpy(dtype=bool) if len(frame) else np.array([], dtype=bool)
        frame = frame.drop(columns=["masked"], errors="ignore")
        total, method = result["total"], result["method"]
    frame = _figures(frame, shown, request.audience == aud.PLENIER)
    legend = _count_classes(frame, frame["effectif"], "événements")
    return LayerData(
        "hexagons", "Événements par hexagone", frame, "polygons", legend, method, _sources(f), total
    )


def _hotspots(engine: Engine, request: ExportRequest) -> LayerData:
    from observatoire.events import hotspots

    f = request.effective_filter()
    result = hotspots.getis_ord(
        engine, f, request.query_role, cell=_cell(request), permutations=request.permutations
    )
    frame = _frame(result["features"], ["i", "j", "count", "class", "class_label"])
    if request.audience == aud.PLENIER and len(frame):
        shown = _apply_cells(frame, plenary_cells(engine, request))
    else:
        shown = ~frame["masked"].to_numpy(dtype=bool) if len(frame) else np.array([], dtype=bool)
    frame = _figures(frame.drop(columns=["masked"], errors="ignore"), shown, request.audience == aud.PLENIER)
    colours = {c: colour for c, (_, colour) in hotspots.CLASSES.items()}
    frame["colour"] = frame["class"].map(colours) if len(frame) else []
    frame = frame.rename(columns={"class_label": "classe", "class": "classe_gi"})
    present = set(frame["classe_gi"]) if len(frame) else set()
    legend = [
        (label, colour)
        for c, (label, colour) in hotspots.CLASSES.items()
        if c in present or c == "non_significatif"
    ]
    method = {**result["method"], "niveaux_fdr": "1 %, 5 % et 10 % (confiance 99, 95 et 90 %)"}
    return LayerData(
        "hotspots",
        "Points chauds (Getis-Ord Gi*)",
        frame,
        "polygons",
        legend,
        method,
        _sources(f),
        result["method"].get("evenements"),
        result.get("message"),
    )


def _iris(engine: Engine, request: ExportRequest) -> LayerData:
    from observatoire.events import spatial

    f = request.effective_filter()
    result = spatial.zone_counts(engine, f, "iris", request.query_role, scheme=None)
    frame = _frame(result["features"], ["code", "name", "count"])
    shown = ~frame["masked"].to_numpy(dtype=bool) if len(frame) else np.array([], dtype=bool)
    if request.audience == aud.PLENIER and len(frame):
        exact = spatial.zone_counts(engine, f, "iris", None, scheme=None)
        counts = {feat["properties"]["code"]: feat["properties"]["count"] for feat in exact["features"]}
        limit = disclosure.threshold_for(aud.PLENARY_ROLE)
        assert limit is not None
        values = frame["code"].map(counts).to_numpy()
        states = np.where(shown, disclosure.SHOWN, disclosure.SECONDARY)
        touching = [np.flatnonzero(frame.geometry.buffer(1).intersects(g)).tolist() for g in frame.geometry]
        states = aud.suppress_neighbours(values, states, lambda k: [n for n in touching[k] if n != k], limit)
        newly = (states != disclosure.SHOWN) & shown
        frame.loc[newly, "count"] = disclosure.SECONDARY_LABEL
        for col in ("rate", "population", "population_year"):
            if col in frame:
                frame.loc[newly, col] = np.nan
        shown = states == disclosure.SHOWN
    frame = _figures(frame.drop(columns=["masked"], errors="ignore"), shown, request.audience == aud.PLENIER)
    frame = frame.rename(
        columns={"name": "nom", "rate": "taux_pour_1000", "population_year": "annee_population"}
    )
    with_rates = "taux_pour_1000" in frame and frame["taux_pour_1000"].notna().any()
    values = frame["taux_pour_1000"] if with_rates else frame["effectif"]
    legend = _count_classes(frame, values, "‰ habitants" if with_rates else "événements")
    return LayerData(
        "iris",
        "Événements par IRIS",
        frame,
        "polygons",
        legend,
        result["method"],
        _sources(f),
        result["total"],
    )


def _points(engine: Engine, request: ExportRequest) -> LayerData:
    from observatoire.events import spatial

    f = request.effective_filter()
    result = spatial.points(engine, f, request.query_role, limit=200_000)
    frame = _frame(result["features"], ["source", "category", "label", "date", "time"])
    frame["colour"] = frame["source"].map(POINT_COLOURS).fillna("#000000") if len(frame) else []
    frame["classe"] = frame["source"].map(_source_labels()) if len(frame) else []
    present = list(dict.fromkeys(frame["source"])) if len(frame) else []
    legend = [(_source_labels().get(s, s), POINT_COLOURS.get(s, "#000000")) for s in present]
    return LayerData(
        "points",
        "Événements (points, hors catégories sensibles)",
        frame,
        "points",
        legend,
        {
            "methode": "un point par événement géolocalisé ; catégories sensibles jamais en points",
            "filtres": f.describe(),
        },
        _sources(f),
        len(frame),
        "Affichage tronqué à 200 000 points." if result.get("truncated") else None,
    )


def _accident_sites(engine: Engine, request: ExportRequest) -> LayerData:
    from observatoire.road import sites
    from observatoire.settings import get_settings

    years = None
    f = request.filter
    if f.start and f.end:
        years = (f.start.year, f.end.year)
    result = sites.dangerous_sites(engine, f.territory or get_settings().commune_code, years)
    # One row per site; the list of its accidents stays in the road-safety page (a table, not a map layer).
    features = [
        {
            **feat,
            "properties": {
                **{k: v for k, v in feat["properties"].items() if k not in ("accidents_liste", "adresses")},
                "adresses": "; ".join(feat["properties"]["adresses"]),
            },
        }
        for feat in result["features"]
    ]
    frame = _frame(features, ["rang"])
    frame["colour"] = "#D55E00"
    frame["classe"] = "Site d'accidents répétés"
    return LayerData(
        "accidents",
        "Sites d'accidents répétés",
        frame,
        "points",
        [("Site d'accidents répétés (au moins 3 accidents à moins de 50 m)", "#D55E00")],
        {k: v for k, v in result["metadata"].items() if k != "source"},
        result["metadata"]["source"],
        len(frame),
    )


def _cameras(engine: Engine, request: ExportRequest) -> LayerData:
    import geopandas as gpd

    from observatoire.permissions import allowed
    from observatoire.videoprotection import inventory, labels

    # The command line (no role) exports everything; a role needs the right to see the register.
    if request.role is not None and not allowed(request.role, "video.voir"):
        raise PermissionDenied(
            "Les caméras ne sont exportées que pour les rôles qui voient la vidéoprotection."
        )
    f = request.effective_filter()
    cams = inventory.cameras(engine, on=f.end)
    frame = gpd.GeoDataFrame(
        {
            "code": cams["code"],
            "nom": cams["name"],
            "type": cams["kind"].map(labels.KIND_LABELS),
            "requisitions": cams["requisitions"],
            "portee_m": cams["reach_m"],
        },
        geometry=gpd.points_from_xy(cams["x"], cams["y"]),
        crs=L93,
    )
    colours = {"fixe": "#0072B2", "dome": "#CC79A7", "lapi": "#000000"}
    frame["colour"] = cams["kind"].map(colours).fillna("#0072B2").to_numpy()
    frame["classe"] = frame["type"]
    present = list(dict.fromkeys(cams["kind"]))
    return LayerData(
        "cameras",
        "Caméras de vidéoprotection",
        frame,
        "points",
        [(labels.KIND_LABELS.get(k, k), colours.get(k, "#0072B2")) for k in present],
        {"en service le": f.end.strftime("%d/%m/%Y") if f.end else "aujourd'hui"},
        "Source : inventaire des caméras tenu dans l'observatoire.",
        len(frame),
    )


def _source_labels() -> dict[str, str]:
    from observatoire.events.filter import SOURCES

    return SOURCES


def _sources(f: Any) -> str:
    labels = _source_labels()
    names = [labels.get(s, s) for s in f.sources] or list(labels.values())
    return "Sources : " + ", ".join(names) + "."


register(Layer("hotspots", "Points chauds (Gi*)", _hotspots, plenary=True))
register(Layer("hexagons", "Événements par hexagone", _hexagons, plenary=True))
register(Layer("iris", "Événements et taux par IRIS", _iris, plenary=True))
register(Layer("points", "Événements en points", _points, plenary=False, kind="points"))
register(Layer("accidents", "Sites d'accidents répétés", _accident_sites, plenary=False, kind="points"))
register(Layer("cameras", "Caméras de vidéoprotection", _cameras, plenary=False, kind="points"))


def plenary_safe(request: ExportRequest) -> ExportRequest:
    """The request limited to the layers a plenary export may hold (the Exports page's default for the council)."""
    return replace(request, layers=tuple(k for k in request.layers if REGISTRY[k].plenary))
