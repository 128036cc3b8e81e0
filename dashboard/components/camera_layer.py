"""The cameras as a layer of a map (the Carte page): for the roles that may see where they stand."""

from __future__ import annotations

from datetime import date
from typing import Any

import dash_leaflet as dl

from dashboard.components.maps import overlay
from dashboard.components.palette import OKABE_ITO
from dashboard.context import engine, settings
from observatoire.videoprotection import inventory, labels


def camera_overlays(role: str | None) -> list[Any]:
    """An overlay (off by default) of the cameras in service, or nothing when ``role`` may not see them or
    there is none. Cameras are equipment, not events: they are never counted with the events."""
    if not inventory.positions_visible(role, settings().video_cameras_public):
        return []
    cams = inventory.cameras(engine(), on=date.today())
    if cams.empty:
        return []
    markers = [
        dl.CircleMarker(
            center=[r.lat, r.lon],
            radius=5,
            color="#ffffff",
            weight=1,
            fillColor=OKABE_ITO["blue"],
            fillOpacity=0.9,
            children=dl.Tooltip(f"Caméra {r.code} – {r.name} ({labels.KIND_LABELS.get(r.kind, r.kind)})"),
        )
        for r in cams.itertuples()
    ]
    return [overlay(dl.LayerGroup(markers, id="carte-cameras"), "Caméras de vidéoprotection", checked=False)]
