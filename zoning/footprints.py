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

from zoning.crs import CHINA_BBOX, bd09_to_wgs84, gcj02_to_wgs84, reproject
from zoning.errors import CRSError, DataError

__all__ = ["normalise", "geometry_kind", "guess_crs", "widen", "COORD_SYSTEMS"]

GEO = CRS.from_epsg(4490)
COORD_SYSTEMS = ("cgcs2000", "wgs84", "gcj02", "bd09")


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


def _web_datum(geom, coord_sys: str | None, warnings: list[str]):
    """GCJ-02 / BD-09 longitude/latitude converted to WGS84/CGCS2000 (only when declared)."""
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
    """A valid geometry of the same dimension (make_valid, with a warning), or DataError."""
    if shapely.is_valid(geom):
        return geom
    reason = shapely.is_valid_reason(geom)
    fixed = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(shapely.get_parts(fixed))
             if shapely.get_dimensions(p) == {"point": 0, "line": 1, "polygon": 2}[kind]]
    if not parts:
        raise DataError(f"invalid geometry ({reason}) could not be repaired")
    warnings.append(f"invalid geometry ({reason}) repaired with make_valid")
    return shapely.union_all(parts) if kind != "point" else shapely.multipoints(parts)


def _refuse_old_datum(crs: CRS) -> None:
    """Raise for a 西安80/北京54 CRS without transformation parameters (see crs.old_datum)."""
    from zoning.crs import NO_TRANSFORMATION, old_datum

    name = old_datum(crs)
    if name is not None:
        raise CRSError(NO_TRANSFORMATION.format(name=f"{name} ({crs.name})"))


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
    coord_sys = (coord_sys or "").lower().replace("-", "").replace("_", "") or None
    if coord_sys and coord_sys not in COORD_SYSTEMS:
        raise DataError(f"unknown coordinate system {coord_sys!r}; use one of "
                        f"{', '.join(COORD_SYSTEMS)}")
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
        _refuse_old_datum(crs)
    # a CRS bound by +towgs84 (西安80/北京54 with parameters) goes through WGS84, which is
    # CGCS2000 at this precision; PROJ would otherwise take a "ballpark" (no shift) route
    target = "EPSG:4326" if crs.is_bound else GEO
    x0, y0, x1, y1 = shapely.bounds(geom)
    if crs.is_geographic:
        if not _in_china(x0, y0, x1, y1) and _in_china(y0, x0, y1, x1):
            geom = _swap(geom)
            warnings.append("coordinates were (lat, lon): swapped to (lon, lat)")
        if not crs.equals(GEO, ignore_axis_order=True):
            geom = reproject(geom, crs, target)
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
        geom = reproject(geom, crs, target)
    lon0, lat0, lon1, lat1 = shapely.bounds(geom)
    if not np.isfinite([lon0, lat0, lon1, lat1]).all() or not _in_china(lon0, lat0, lon1, lat1):
        raise CRSError(f"coordinates fall outside China (lon [{lon0:.4f}, {lon1:.4f}], lat "
                       f"[{lat0:.4f}, {lat1:.4f}] after reading as {crs.name}): wrong CRS, "
                       "a missing zone prefix or swapped axes?")
    geom = _web_datum(geom, coord_sys, warnings)
    kind = geometry_kind(geom)
    geom = _repair(geom, kind, warnings)
    return geom, kind, warnings


def widen(geom, width_m: float) -> tuple:
    """Buffer a centreline (or point) footprint in EPSG:4490 into a corridor ``width_m`` wide.

    Each side gets ``width_m / 2``; line ends are cut square (a road ends where
    its centreline ends), bends are rounded, a point becomes a disc of
    diameter ``width_m``.  The buffer is computed in a transverse Mercator
    projection of the CGCS2000 ellipsoid centred on the footprint (scale error
    d²/2R², under 1e-4 within 90 km east or west of the centre), so widths are
    true ground distances rather than degrees.

    Returns ``(polygon_in_EPSG4490, "polygon", warnings)``; a polygon footprint
    is returned unchanged with a warning.
    """
    try:
        w = float(width_m)
    except (TypeError, ValueError):
        raise DataError(f"width {width_m!r} is not a number") from None
    if not np.isfinite(w) or w <= 0:
        raise DataError(f"width must be a positive number of metres, not {width_m!r}")
    kind = geometry_kind(geom)
    if kind == "polygon":
        return geom, kind, [f"a width of {w:g} m applies to centrelines and points; the "
                            "polygon footprint is used as drawn"]
    c = shapely.centroid(geom)
    local = (f"+proj=tmerc +lat_0={c.y:.8f} +lon_0={c.x:.8f} +k=1 +x_0=0 +y_0=0 "
             "+ellps=GRS80 +units=m +no_defs")
    g = reproject(shapely.segmentize(geom, 0.001) if kind == "line" else geom, GEO, local)
    buf = shapely.buffer(g, w / 2.0, quad_segs=16,
                         cap_style="flat" if kind == "line" else "round", join_style="round")
    out = reproject(shapely.segmentize(buf, 100.0), local, GEO)
    x0, _, x1, _ = shapely.bounds(g)
    warnings = [f"{'centreline' if kind == 'line' else 'point'} widened to a {w:g} m corridor "
                f"({w / 2:g} m each side, on the CGCS2000 ellipsoid)"]
    if max(abs(x0), abs(x1)) > 150_000:
        warnings.append("the line reaches more than 150 km east or west of its centre: widths "
                        "at its ends are up to "
                        f"{(max(abs(x0), abs(x1)) / 6_371_000) ** 2 / 2:.2%} too wide")
    return out, "polygon", warnings
