"""Lambert-93 (EPSG:2154), where distances and cells are computed, to WGS84 (EPSG:4326), where points are
stored and drawn. Building a PROJ transformer costs milliseconds: one is kept for the process."""

from __future__ import annotations

import functools

LAMBERT93, WGS84 = 2154, 4326


@functools.cache
def to_wgs84():
    """The transformer from Lambert-93 metres to longitude/latitude (``always_xy``)."""
    from pyproj import Transformer

    return Transformer.from_crs(LAMBERT93, WGS84, always_xy=True)
