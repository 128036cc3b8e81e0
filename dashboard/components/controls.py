"""Form controls in French (Dash's own texts are English)."""

from __future__ import annotations

from typing import Any

from dash import dcc

DROPDOWN_LABELS = {
    "select_all": "Tout sélectionner",
    "deselect_all": "Tout désélectionner",
    "selected_count": "{num_selected} choisi(s)",
    "search": "Rechercher",
    "clear_search": "Effacer la recherche",
    "clear_selection": "Tout effacer",
    "no_options_found": "Aucun choix ne correspond",
}


def dropdown(**kwargs: Any) -> dcc.Dropdown:
    kwargs.setdefault("placeholder", "Choisir…")
    return dcc.Dropdown(labels=DROPDOWN_LABELS, **kwargs)
