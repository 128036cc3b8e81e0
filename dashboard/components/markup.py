"""Data made plain text for the libraries that read strings as markup.

React writes text nodes: the children of ``html.*`` components, table cells, dropdown labels and the children
of ``dl.Tooltip`` and ``dl.Popup`` need nothing. Two libraries read strings as markup instead:

- Leaflet inserts the ``tooltip`` and ``popup`` properties of a GeoJSON feature (dash-leaflet binds them with
  ``bindTooltip``/``bindPopup``) and the names of a layers control with ``innerHTML``;
- Plotly reads titles, trace names, tick labels and hover text as a subset of HTML (``<b>``, ``<a href>``,
  ``<span style>``…).

Territory names, nomenclature labels, sectors and addresses come from imported files: a name written like a
tag must read as those characters. Inside an element escaping ``&``, ``<`` and ``>`` is enough, and both
libraries turn the entities back into the characters (Plotly knows ``&amp;``, ``&lt;`` and ``&gt;``, not
``&quot;``: quotes are left as they are).
"""

from __future__ import annotations

import html


def text(value: object) -> str:
    """``value`` as a string that Leaflet or Plotly show as these very characters."""
    return html.escape(str(value), quote=False)
