"""Coordinate helpers: CGCS2000 Gauss–Krüger zones, cached transformers, reprojection.

Web-map offsets (GCJ-02, BD-09) are in :mod:`zoning.gcj02`.  For area and overlay work CGCS2000 (EPSG:4490) and WGS84 are treated as the
same datum; the difference is below one metre in China.
"""

from __future__ import annotations

import functools

import numpy as np
import shapely
from pyproj import CRS, Transformer

from zoning.errors import CRSError

__all__ = [
    "in_china_bbox",
    "gk3_zone",
    "gk3_epsg",
    "zone_from_easting",
    "transformer",
    "reproject",
]

# Loose rectangle around China, as used by the published algorithm.
CHINA_BBOX = (72.004, 0.8293, 137.8347, 55.8271)


def in_china_bbox(lon, lat):
    """True where (lon, lat) falls in the rectangle the GCJ-02 algorithm uses."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    x0, y0, x1, y1 = CHINA_BBOX
    return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)


def gk3_zone(lon: float) -> int:
    """3-degree Gauss–Krüger zone number for a longitude (CM = 3 * zone)."""
    return int(round(lon / 3.0))


def gk3_epsg(lon: float, prefix: bool = True) -> int:
    """EPSG code of the CGCS2000 3° GK zone containing ``lon``.

    ``prefix=True`` gives the zone-prefixed easting family (EPSG 4513–4533),
    ``prefix=False`` the central-meridian family (EPSG 4534–4554).
    """
    zone = gk3_zone(lon)
    if not 25 <= zone <= 45:
        raise CRSError(f"longitude {lon} is outside the CGCS2000 3° zones 25–45")
    return (4513 if prefix else 4534) + zone - 25


def zone_from_easting(easting: float) -> int | None:
    """Zone number encoded in a prefixed easting (e.g. 39438683.6 → 39), else None."""
    if easting >= 13e6:
        return int(easting // 1e6)
    return None


@functools.lru_cache(maxsize=64)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst),
                                always_xy=True)


def transformer(src, dst) -> Transformer:
    """A cached always-xy Transformer (building one costs milliseconds)."""
    return _transformer(CRS.from_user_input(src).to_wkt(), CRS.from_user_input(dst).to_wkt())


def reproject(geoms, src, dst):
    """Geometries (one or an array) from CRS ``src`` to ``dst``, longitude/easting first."""
    t = transformer(src, dst)
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0],
                                                                           xy[:, 1])))
