"""Normalise project footprints: CRS, axis order, web-map datums, validity.

Every footprint leaves this module in CGCS2000 longitude/latitude
(EPSG:4490), valid, non-empty and of a single dimension, or raises a
:class:`~zoning.errors.DataError` that says what is wrong.  What was assumed
or repaired is returned as warnings, never done silently.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS

from zoning.crs import CHINA_BBOX, bd09_to_wgs84, gcj02_to_wgs84
from zoning.engine.geometry import reproject_dense
from zoning.errors import CRSError, DataError

__all__ = ["normalise", "geometry_kind", "guess_crs", "COORD_SYSTEMS", "parse_coord_sys",
           "lonlat_undeclared"]

GEO = CRS.from_epsg(4490)
COORD_SYSTEMS = ("cgcs2000", "wgs84", "gcj02", "bd09")
#: words users write for a coordinate type (坐标类型), matched after removing spaces,
#: hyphens and underscores; a value containing one of the Chinese names also matches
_COORD_WORDS = {
    "gcj02": ("gcj02", "gcj", "高德", "腾讯", "火星", "amap", "gaode", "tencent", "qq"),
    "bd09": ("bd09", "bd09ll", "bd", "百度", "baidu"),
    "wgs84": ("wgs84", "wgs", "gps", "4326", "epsg4326"),
    "cgcs2000": ("cgcs2000", "cgcs", "2000", "国家2000", "2000国家大地坐标系", "天地图",
                 "4490", "epsg4490"),
}


def parse_coord_sys(value) -> str | None:
    """The coordinate type a user wrote (高德/腾讯/百度/WGS84/CGCS2000 …), or None if empty.

    >>> [parse_coord_sys(v) for v in ("高德", "腾讯地图", "百度", "WGS-84", "CGCS2000", None)]
    ['gcj02', 'gcj02', 'bd09', 'wgs84', 'cgcs2000', None]
    """
    if value is None or str(value).strip() == "":
        return None
    s = str(value).strip().lower()
    for ch in " -_:：（）()":
        s = s.replace(ch, "")
    for key, words in _COORD_WORDS.items():
        if s in words:
            return key
    for key, words in _COORD_WORDS.items():
        if any(w in s for w in words if not w.isascii()):
            return key
    raise DataError(f"unknown coordinate system (坐标类型) {value!r}; use 高德/腾讯 (GCJ-02), "
                    "百度 (BD-09), WGS84 or CGCS2000")


def geometry_kind(geom) -> str:
    """point | line | polygon; raises for empty or mixed-dimension geometry."""
    dims = {shapely.get_dimensions(p) for p in shapely.get_parts(geom) if not p.is_empty}
    if not dims:
        raise DataError("empty geometry")
    if len(dims) > 1:
        raise DataError("mixed geometry types (points, lines and polygons together); "
                        "split the footprint by type")
    return {0: "point", 1: "line", 2: "polygon"}[dims.pop()]


def _in_china(x0, y0, x1, y1) -> bool:
    c0, d0, c1, d1 = CHINA_BBOX
    return c0 <= x0 and x1 <= c1 and d0 <= y0 and y1 <= d1


def _swap(geom):
    return shapely.transform(geom, lambda xy: xy[:, ::-1])


def guess_crs(geom) -> tuple[CRS, list[str], bool]:
    """Infer the CRS of coordinates that came without one.

    Returns (crs, warnings, swapped).  Handles CGCS2000 lon/lat (either order)
    and Gauss–Krüger coordinates whose easting carries the zone prefix (either
    order).  Raises :class:`CRSError` when the coordinates do not say.
    """
    from zoning.crs import zone_from_easting

    x0, y0, x1, y1 = shapely.bounds(geom)
    if _in_china(x0, y0, x1, y1):
        return GEO, [], False  # documented default: CGCS2000 longitude/latitude
    if _in_china(y0, x0, y1, x1):
        return GEO, ["no CRS given: coordinates read as CGCS2000 latitude/longitude and "
                     "swapped to (lon, lat)"], True
    for east_lo, east_hi, north_lo, north_hi, swapped in ((x0, x1, y0, y1, False),
                                                          (y0, y1, x0, x1, True)):
        zone = zone_from_easting(east_lo)
        if zone is not None and zone == zone_from_easting(east_hi) and \
                1.0e6 <= north_lo and north_hi <= 6.5e6:
            if 25 <= zone <= 45:
                epsg, width = 4513 + zone - 25, 3
            elif 13 <= zone <= 23:
                epsg, width = 4491 + zone - 13, 6
            else:
                break
            w = [f"no CRS given: eastings carry zone prefix {zone}; read as CGCS2000 "
                 f"{width}° Gauss–Krüger zone {zone} (EPSG:{epsg})"]
            if swapped:
                w.append("columns were (easting, northing) reversed: swapped")
            return CRS.from_epsg(epsg), w, swapped
    raise CRSError(f"no CRS given and coordinates x [{x0:.6g}, {x1:.6g}], y [{y0:.6g}, "
                   f"{y1:.6g}] do not identify one (eastings without a zone prefix need "
                   "--crs, e.g. EPSG:4545)")


def lonlat_undeclared(geom, crs, coord_sys) -> bool:
    """Whether a footprint is longitude/latitude of no declared coordinate type.

    Such coordinates might have been picked in 高德/腾讯 (GCJ-02); the wiring checks
    them both ways (see :func:`zoning.screen.screen_projects`).
    """
    if parse_coord_sys(coord_sys) is not None:
        return False
    if crs is None:
        try:
            return guess_crs(geom)[0].is_geographic
        except (CRSError, DataError):
            return False
    try:
        return CRS.from_user_input(crs).is_geographic
    except Exception:
        return False


def normalise(geom, crs=None, coord_sys: str | None = None, where: str = ""):
    """Return ``(geom_in_EPSG4490, kind, warnings)`` for one footprint.

    ``crs`` is what the source declares (None if nothing).  ``coord_sys`` says
    the longitude/latitude are GCJ-02 or BD-09 web-map coordinates; they are
    converted only when it is given.
    """
    warnings: list[str] = []
    if geom is None or shapely.is_missing(geom) or shapely.is_empty(geom):
        raise DataError("empty or missing geometry")
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        raise DataError("geometry has NaN or infinite coordinates")
    coord_sys = parse_coord_sys(coord_sys)
    if crs is None:
        crs, w, swapped = guess_crs(geom)
        warnings += w
        if swapped:
            geom = _swap(geom)
    else:
        try:
            crs = CRS.from_user_input(crs)
        except Exception as e:
            raise CRSError(f"invalid CRS {crs!r}: {e}") from None
    x0, y0, x1, y1 = shapely.bounds(geom)
    if crs.is_geographic:
        if not _in_china(x0, y0, x1, y1) and _in_china(y0, x0, y1, x1):
            geom = _swap(geom)
            warnings.append("coordinates were (lat, lon): swapped to (lon, lat)")
        if not crs.equals(GEO, ignore_axis_order=True):
            geom = reproject_dense(geom, crs, GEO)
    else:
        if coord_sys in ("gcj02", "bd09"):
            raise DataError(f"{coord_sys} applies to longitude/latitude, not to projected "
                            f"coordinates in {crs.name}")
        # CGCS2000 GK coordinates given as (northing, easting): recognisable by magnitude
        epsg = crs.to_epsg() or 0
        prefixed = 4491 <= epsg <= 4501 or 4513 <= epsg <= 4533
        plain = 4502 <= epsg <= 4512 or 4534 <= epsg <= 4554
        if (prefixed and y0 >= 1e7 and x1 < 1e7) or (plain and x0 >= 1e6 and y1 < 1e6):
            geom = _swap(geom)
            warnings.append("columns were (northing, easting): swapped")
        # edges straight in the source CRS stay where they are (cut into 50 m pieces first)
        geom = reproject_dense(geom, crs, GEO)
    lon0, lat0, lon1, lat1 = shapely.bounds(geom)
    if not np.isfinite([lon0, lat0, lon1, lat1]).all() or not _in_china(lon0, lat0, lon1, lat1):
        raise CRSError(f"coordinates fall outside China (lon [{lon0:.4f}, {lon1:.4f}], lat "
                       f"[{lat0:.4f}, {lat1:.4f}] after reading as {crs.name}): wrong CRS, "
                       "a missing zone prefix or swapped axes?")
    geom = _from_web_map(geom, coord_sys, warnings)
    kind = geometry_kind(geom)
    if not shapely.is_valid(geom):
        geom = _repair(geom, kind, warnings)
    return geom, kind, warnings


def _from_web_map(geom, coord_sys: str | None, warnings: list[str]):
    """GCJ-02 / BD-09 lon/lat converted to WGS84/CGCS2000, when the user said so."""
    if coord_sys == "gcj02":
        warnings.append("converted from GCJ-02 (高德/腾讯) to WGS84/CGCS2000")
        return shapely.transform(geom, lambda xy: np.column_stack(
            gcj02_to_wgs84(xy[:, 0], xy[:, 1])))
    if coord_sys == "bd09":
        warnings.append("converted from BD-09 (百度) to WGS84/CGCS2000")
        return shapely.transform(geom, lambda xy: np.column_stack(
            bd09_to_wgs84(xy[:, 0], xy[:, 1])))
    return geom


def _repair(geom, kind: str, warnings: list[str]):
    reason = shapely.is_valid_reason(geom)
    fixed = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(shapely.get_parts(fixed))
             if shapely.get_dimensions(p) == {"point": 0, "line": 1, "polygon": 2}[kind]]
    if not parts:
        raise DataError(f"invalid geometry ({reason}) could not be repaired")
    warnings.append(f"invalid geometry ({reason}) repaired with make_valid")
    return shapely.union_all(parts) if kind != "point" else shapely.multipoints(parts)
