"""The one configuration of every Plotly chart: French toolbar, no cloud service, no logo.

The French texts come from Plotly's own locale (``assets/plotly-locale-fr.js``, the ``dist`` file of the
plotly.js package of the same version as the bundled ``plotly.min.js``, served by this server like any asset:
no CDN, no inline script). It registers itself whether it loads before or after Plotly.
"""

from __future__ import annotations

from typing import Any

GRAPH_CONFIG: dict[str, Any] = {
    "locale": "fr",
    "displaylogo": False,
    # The product promises no third-party service: nothing offers to send a chart to Chart Studio.
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "showLink": False,
    "modeBarButtonsToRemove": ["sendDataToCloud", "editInChartStudio", "lasso2d", "select2d"],
    "toImageButtonOptions": {"filename": "observatoire", "scale": 2},
}
