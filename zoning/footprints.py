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
from pyproj.exceptions import ProjError

from zoning.crs import CHINA_BBOX, reproject
from zoning.errors import CRSError, DataError, ResourceLimitError
from zoning.gcj02 import bd09_to_wgs84, gcj02_to_wgs84
from zoning.limits import LIMITS

__all__ = ["normalise", "geometry_kind", "guess_crs", "validate_geometry", "check_measure",
           "parse_coord_sys", "lonlat_undeclared", "edge_crs", "widen",
           "COORD_SYSTEMS"]

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
    raise DataError(f"无法识别的坐标类型 {value!r}：应为高德/腾讯（GCJ-02）、百度（BD-09）、"
                    "WGS84 或 CGCS2000")



_CURVED = {8: "CIRCULARSTRING", 9: "COMPOUNDCURVE", 10: "CURVEPOLYGON", 11: "MULTICURVE",
           12: "MULTISURFACE"}


def _flat_parts(geom) -> list:
    """The simple parts (points, lines, polygons) of a geometry, collections opened."""
    out = []
    for p in shapely.get_parts(geom):
        if shapely.get_type_id(p) >= 4:  # a nested multi-part or collection
            out.extend(_flat_parts(p))
        else:
            out.append(p)
    return out


def _has_distinct(coords: np.ndarray, k: int) -> bool:
    """Whether ``coords`` hold at least ``k`` distinct points (stops as soon as they do:
    this runs for every ring of every footprint of a batch)."""
    if len(coords) < k:
        return False
    seen: set = set()
    for xy in map(tuple, coords.tolist()):
        seen.add(xy)
        if len(seen) >= k:
            return True
    return False


def _check_part(p, k: int) -> None:
    """Raise for a line with < 2 or a polygon ring with < 3 distinct points."""
    tid = shapely.get_type_id(p)
    if tid in (1, 2) and not _has_distinct(shapely.get_coordinates(p), 2):
        raise DataError(f"线（第 {k} 部分）上不同的点不足 2 个")
    if tid == 3:
        rings = [p.exterior, *p.interiors]
        for j, ring in enumerate(rings):
            if not _has_distinct(shapely.get_coordinates(ring), 3):
                what = "外环" if j == 0 else f"第 {j} 个内环"
                raise DataError(f"多边形（第 {k} 部分）的{what}上不同的点不足 3 个")


def _rebuild(parts: list):
    if len(parts) == 1:
        return parts[0]
    types = {shapely.get_type_id(p) for p in parts}
    if types == {0}:
        return shapely.multipoints(parts)
    if types <= {1, 2}:
        return shapely.multilinestrings(parts)
    if types == {3}:
        return shapely.multipolygons(parts)
    return shapely.geometrycollections(parts)


def validate_geometry(geom) -> tuple[object, list[str]]:
    """Check a geometry before any GEOS operation runs on it; return ``(geom, warnings)``.

    Refused with :class:`DataError`: a missing, empty or non-geometry value;
    curved types (CIRCULARSTRING, CURVEPOLYGON …); NaN or infinite
    coordinates; a line with fewer than 2 or a polygon ring with fewer than 3
    distinct points.  :class:`ResourceLimitError` above the vertex limit.
    Repaired with a warning: Z/M values are dropped, empty parts are removed.

    Examples
    --------
    >>> g, w = validate_geometry(shapely.from_wkt("MULTIPOINT Z ((1 2 3), EMPTY)"))
    >>> g.wkt, w
    ('POINT (1 2)', ['已去除 Z/M 值（只按二维检查）', '已去除 1 个空的组成部分'])
    """
    if geom is None or not isinstance(geom, shapely.Geometry):
        raise DataError("几何为空或缺失")
    tid = int(shapely.get_type_id(geom))
    if tid in _CURVED:
        raise DataError(f"不支持曲线几何（{_CURVED[tid]}）：请先转为折线"
                        "（例如用 ST_CurveToLine）")
    if tid not in range(8) or shapely.is_empty(geom):
        raise DataError("几何为空或缺失")
    n = int(shapely.get_num_coordinates(geom))
    if n > LIMITS.max_vertices:
        raise ResourceLimitError(f"项目范围有 {n:,} 个顶点（上限 "
                                 f"{LIMITS.max_vertices:,}）")
    warnings: list[str] = []
    if shapely.has_z(geom) or shapely.has_m(geom):
        geom = shapely.force_2d(geom)
        warnings.append("已去除 Z/M 值（只按二维检查）")
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        raise DataError("几何含有 NaN 或无穷大的坐标")
    parts = _flat_parts(geom)
    if any(shapely.get_type_id(p) in _CURVED for p in parts):
        raise DataError("不支持曲线几何的组成部分：请先转为折线")
    keep = [p for p in parts if not shapely.is_empty(p)]
    if not keep:
        raise DataError("几何为空或缺失")
    for k, p in enumerate(keep, start=1):
        _check_part(p, k)
    if len(keep) < len(parts):
        warnings.append(f"已去除 {len(parts) - len(keep)} 个空的组成部分")
        geom = _rebuild(keep)
    elif tid == 7:
        geom = _rebuild(keep)
    return geom, warnings


#: footprint kind of each geometry type id a batch may pass without per-row checks
PLAIN_KINDS = {0: "point", 4: "point", 1: "line", 5: "line", 3: "polygon", 6: "polygon"}


def plain_footprints(geoms) -> np.ndarray:
    """Which footprints :func:`validate_geometry` and :func:`check_measure` would pass
    unchanged, with no warning: one vectorised pass for a batch.

    A True row is a non-empty 2-D point, line or polygon (or multi-part one, every part
    non-empty) with finite coordinates and at most the vertex limit; a line valid with
    every part of non-zero length (so at least 2 distinct points); a polygon valid with
    every ring of non-zero area (so at least 3 distinct points) and an approximate area
    inside the limits.  Its kind is ``PLAIN_KINDS[type id]``.  Every other row (False)
    takes the per-footprint checks, which say what is wrong.

    Examples
    --------
    >>> g = [shapely.box(106.6, 26.5, 106.61, 26.51), shapely.Point(106.6, 26.5),
    ...      shapely.from_wkt("POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))"), None,
    ...      shapely.from_wkt("MULTIPOINT ((106.6 26.5), EMPTY)")]
    >>> plain_footprints(g).tolist()
    [True, True, False, False, False]
    """
    geoms = np.asarray(geoms, dtype=object)
    ok = np.zeros(len(geoms), dtype=bool)
    if not len(geoms):
        return ok
    with np.errstate(all="ignore"):  # huge coordinates overflow to inf: not plain, that's all
        return _plain(geoms, ok)


def _plain(geoms: np.ndarray, ok: np.ndarray) -> np.ndarray:
    is_geom = np.fromiter((isinstance(g, shapely.Geometry) for g in geoms), bool, len(geoms))
    tid = np.where(is_geom, shapely.get_type_id(np.where(is_geom, geoms, None)), -1)
    cand = np.flatnonzero(np.isin(tid, list(PLAIN_KINDS)) & is_geom)
    if not len(cand):
        return ok
    g, t = geoms[cand], tid[cand]
    good = ~shapely.is_empty(g) & ~shapely.has_z(g) & ~shapely.has_m(g) & \
        (shapely.get_num_coordinates(g) <= LIMITS.max_vertices)
    xy, which = shapely.get_coordinates(g, return_index=True)
    good[which[~np.isfinite(xy).all(axis=1)]] = False
    # every part non-empty: a multi-part footprint with an EMPTY part is repaired (warned)
    parts, owner = shapely.get_parts(g, return_index=True)
    good[owner[shapely.is_empty(parts)]] = False
    line = np.isin(t, (1, 5))
    good[line] &= shapely.is_valid(g[line])
    li = np.flatnonzero(line[owner] & good[owner])  # parts of lines still in the running
    good[owner[li[~(shapely.length(parts[li]) > 0)]]] = False
    poly = good & np.isin(t, (3, 6))
    pi = np.flatnonzero(poly)
    if len(pi):
        pg = g[pi]
        fine = shapely.is_valid(pg)
        sub, sub_owner = shapely.get_parts(pg, return_index=True)
        rings, ring_part = shapely.get_rings(sub, return_index=True)
        flat = np.zeros(len(pg), dtype=bool)
        flat[sub_owner[ring_part[~(shapely.area(shapely.polygons(rings)) > 0)]]] = True
        m2 = approx_m2(pg)
        fine &= ~flat & (m2 > _MIN_AREA_M2) & ~(m2 > LIMITS.max_footprint_km2 * 1e6)
        good[pi] = fine
    ok[cand] = good
    return ok


def geometry_kind(geom) -> str:
    """point | line | polygon; raises for empty or mixed-dimension geometry."""
    dims = {shapely.get_dimensions(p) for p in shapely.get_parts(geom) if not p.is_empty}
    if not dims:
        raise DataError("几何为空")
    if len(dims) > 1:
        raise DataError("几何类型混杂（点、线、面混在一起）：请按类型拆分项目范围")
    return {0: "point", 1: "line", 2: "polygon"}[dims.pop()]


def in_degrees(x0, y0, x1, y1) -> bool:
    """Whether bounds lie within ±180° longitude and ±90° latitude (could be lon/lat)."""
    return -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90


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
        return GEO, ["未指定坐标系：坐标按 CGCS2000（纬度，经度）读取，"
                     "已交换为（经度，纬度）"], True
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
            w = [f"未指定坐标系：东坐标带有带号前缀 {zone}，按 CGCS2000 {width}° "
                 f"高斯-克吕格投影第 {zone} 带（EPSG:{epsg}）读取"]
            if swapped:
                w.append("坐标列为（北坐标，东坐标）顺序：已交换为（东坐标，北坐标）")
            return CRS.from_epsg(epsg), w, swapped
    raise CRSError(f"未指定坐标系，且从坐标 x [{x0:.6g}, {x1:.6g}]、y [{y0:.6g}, "
                   f"{y1:.6g}] 无法判断坐标系（东坐标不带带号前缀时须指定坐标系，"
                   "例如 EPSG:4545）")


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


def edge_crs(geom, crs=None) -> str:
    """The CRS in which a footprint's edges are straight: the one its source declares or
    the one its coordinates reveal (as :func:`normalise` reads them).

    :func:`normalise` moves the vertices to EPSG:4490 one by one, so a footprint's
    vertices stay the surveyed ones (界址点); the engine cuts its edges in this CRS
    before any reprojection, so a long edge stays where the source puts it.
    """
    try:
        c = guess_crs(geom)[0] if crs is None else CRS.from_user_input(crs)
    except Exception:
        return "EPSG:4490"
    if c.is_bound:  # 西安80/北京54 with +towgs84: its projection is what makes edges straight
        c = c.source_crs
    if c is None or c.is_geographic:
        return "EPSG:4490"
    epsg = c.to_epsg()
    return f"EPSG:{epsg}" if epsg else c.to_wkt()


def normalise(geom, crs=None, coord_sys: str | None = None, where: str = ""):
    """Return ``(geom_in_EPSG4490, kind, warnings)`` for one footprint.

    ``crs`` is what the source declares (None if nothing).  ``coord_sys`` says
    the longitude/latitude are GCJ-02 or BD-09 web-map coordinates; they are
    converted only when it is given.
    """
    geom, warnings = validate_geometry(geom)
    coord_sys = parse_coord_sys(coord_sys)
    if crs is None:
        crs, w, swapped = guess_crs(geom)
        warnings += w
        if swapped:
            geom = _swap(geom)
    else:
        crs = _parse_crs(crs)
        _refuse_old_datum(crs)
    try:
        geom = _to_geo(geom, crs, coord_sys, warnings)
    except (ProjError, ValueError, shapely.errors.GEOSException) as e:
        if isinstance(e, DataError):
            raise
        raise CRSError(f"坐标无法从 {_crs_label(crs)} 转换："
                       f"{str(e)[:200]}") from None
    _check_in_china(geom, crs)
    geom = _web_datum(geom, coord_sys, warnings)
    kind = geometry_kind(geom)
    if not shapely.is_valid(geom):
        geom = _repair(geom, kind, warnings)
    check_measure(geom, kind)
    return geom, kind, warnings


def _crs_label(crs) -> str:
    try:
        return str(crs.name)[:80]
    except Exception:  # pragma: no cover - a CRS without a name
        return "所给坐标系"


def _parse_crs(crs) -> CRS:
    if isinstance(crs, str) and len(crs) > 20_000:
        raise CRSError("坐标系文本超过 20,000 个字符")
    try:
        return CRS.from_user_input(crs)
    except Exception as e:
        label = str(crs) if len(str(crs)) <= 60 else str(crs)[:60] + "…"
        raise CRSError(f"无效的坐标系 {label!r}：{str(e)[:200]}") from None


def _to_geo(geom, crs: CRS, coord_sys: str | None, warnings: list[str]):
    """Swap axes where the magnitudes say so, then reproject to EPSG:4490."""
    x0, y0, x1, y1 = shapely.bounds(geom)
    if crs.is_geographic:
        if not _in_china(x0, y0, x1, y1) and _in_china(y0, x0, y1, x1):
            geom = _swap(geom)
            warnings.append("坐标为（纬度，经度）顺序：已交换为（经度，纬度）")
        if not crs.equals(GEO, ignore_axis_order=True):
            geom = reproject(geom, crs, _target(crs))
        return geom
    if coord_sys in ("gcj02", "bd09"):
        raise DataError(f"{coord_sys} 只适用于经纬度，不适用于 {_crs_label(crs)} "
                        "的投影坐标")
    # CGCS2000 GK coordinates given as (northing, easting): recognisable by magnitude
    epsg = crs.to_epsg() or 0
    prefixed = 4491 <= epsg <= 4501 or 4513 <= epsg <= 4533
    plain = 4502 <= epsg <= 4512 or 4534 <= epsg <= 4554
    if (prefixed and y0 >= 1e7 and x1 < 1e7) or (plain and x0 >= 1e6 and y1 < 1e6):
        geom = _swap(geom)
        warnings.append("坐标列为（北坐标，东坐标）顺序：已交换为（东坐标，北坐标）")
    # vertices one by one (the surveyed 界址点 stay); the engine cuts the edges in
    # the source CRS (edge_crs) before any reprojection
    return reproject(geom, crs, _target(crs))


def _target(crs: CRS):
    """EPSG:4490, or WGS84 for a CRS bound by +towgs84 (西安80/北京54 with parameters).

    PROJ applies ``+towgs84`` only on the way to WGS84; towards CGCS2000 it would take a
    "ballpark" route without the shift.  WGS84 is CGCS2000 at this precision.
    """
    return "EPSG:4326" if crs.is_bound else GEO


def _refuse_old_datum(crs: CRS) -> None:
    """Raise for a 西安80/北京54 CRS without transformation parameters (see crs.old_datum)."""
    from zoning.crs import NO_TRANSFORMATION, old_datum

    name = old_datum(crs)
    if name is not None:
        raise CRSError(NO_TRANSFORMATION.format(name=f"{name}（{crs.name}）"))


def _check_in_china(geom, crs: CRS) -> None:
    lon0, lat0, lon1, lat1 = shapely.bounds(geom)
    finite = np.isfinite(shapely.get_coordinates(geom)).all()
    if finite and crs.is_geographic and not in_degrees(lon0, lat0, lon1, lat1):
        raise CRSError(f"坐标值不是经纬度（x [{lon0:.6g}, {lon1:.6g}]，y [{lat0:.6g}, {lat1:.6g}]，"
                       f"超出 ±180°/±90°），却按 {_crs_label(crs)} 读取：这多半是以米为单位的"
                       "投影坐标（如高斯-克吕格），请声明其坐标系（GeoJSON 按规范总是经纬度）")
    if not finite or not _in_china(lon0, lat0, lon1, lat1):
        raise CRSError(f"坐标落在中国境外（按 {_crs_label(crs)} 读取后经度 [{lon0:.4f}, "
                       f"{lon1:.4f}]，纬度 [{lat0:.4f}, {lat1:.4f}]）：坐标系是否有误、"
                       "是否缺少带号前缀或坐标轴颠倒？")


def _web_datum(geom, coord_sys: str | None, warnings: list[str]):
    if coord_sys == "gcj02":
        warnings.append("已按 GCJ-02（高德/腾讯）坐标转换为 WGS84/CGCS2000")
        return shapely.transform(geom, lambda xy: np.column_stack(
            gcj02_to_wgs84(xy[:, 0], xy[:, 1])))
    if coord_sys == "bd09":
        warnings.append("已按 BD-09（百度）坐标转换为 WGS84/CGCS2000")
        return shapely.transform(geom, lambda xy: np.column_stack(
            bd09_to_wgs84(xy[:, 0], xy[:, 1])))
    return geom


def _repair(geom, kind: str, warnings: list[str]):
    reason = shapely.is_valid_reason(geom)
    fixed = shapely.make_valid(geom)
    dim = {"point": 0, "line": 1, "polygon": 2}[kind]
    parts = [p for p in _flat_parts(fixed) if shapely.get_dimensions(p) == dim]
    if not parts:
        raise DataError(f"几何无效（{reason}），无法修复")
    warnings.append(f"几何无效（{reason}），已用 make_valid 修复")
    return shapely.union_all(parts) if kind != "point" else shapely.multipoints(parts)


#: a polygon footprint smaller than this (about 10 cm × 10 cm) is degenerate, not a site
_MIN_AREA_M2 = 0.01


def approx_m2(geoms) -> np.ndarray:
    """Areas of lon/lat geometries in m², approximately (enough to tell a sliver)."""
    geoms = np.asarray(geoms, dtype=object)
    lat = np.radians(shapely.bounds(geoms)[:, [1, 3]].mean(axis=1))
    return shapely.area(geoms) * 111_320.0 ** 2 * np.maximum(np.cos(lat), 1e-6)


def check_measure(geom, kind: str) -> None:
    """A polygon of zero area or a line of zero length is not what it claims to be."""
    m2 = float(approx_m2([geom])[0]) if kind == "polygon" else 0.0
    if kind == "polygon" and m2 > LIMITS.max_footprint_km2 * 1e6:
        raise ResourceLimitError(f"项目范围面积约 {m2 / 1e6:,.0f} km²"
                                 f"（上限 {LIMITS.max_footprint_km2:,.0f} km²）："
                                 "不是一个项目的用地范围")
    if kind == "polygon" and not m2 > _MIN_AREA_M2:
        raise DataError("多边形面积为零（各点共线或重复，或面积不足 0.01 m²）："
                        "如果项目范围实际是线或点，请按线或点提供")
    if kind == "line" and not shapely.length(geom) > 0:
        raise DataError("线的长度为零：请按点提供项目范围")


def widen(geom, width_m: float) -> tuple:
    """Buffer a centreline (or point) footprint in EPSG:4490 into a corridor ``width_m`` wide.

    Each side gets ``width_m / 2``; line ends are cut square (a road ends where
    its centreline ends), bends are rounded, a point becomes a disc of
    diameter ``width_m``.  The buffer is computed in a transverse Mercator
    projection of the CGCS2000 ellipsoid centred on the footprint (scale error
    d²/2R², under 1e-4 within 90 km east or west of the centre), so widths are
    true ground distances rather than degrees.

    Parameters
    ----------
    geom : shapely geometry
        A line or point footprint in EPSG:4490.
    width_m : float
        Total corridor width in metres.

    Returns
    -------
    (geometry, str, list of str)
        The corridor polygon in EPSG:4490, ``"polygon"`` and warnings; a
        polygon footprint is returned unchanged with a warning.

    Examples
    --------
    >>> from shapely import LineString
    >>> g, kind, _ = widen(LineString([(108.0, 30.0), (108.0, 30.01)]), 20)
    >>> kind, g.geom_type
    ('polygon', 'Polygon')
    """
    try:
        w = float(width_m)
    except (TypeError, ValueError):
        raise DataError(f"宽度 {width_m!r} 不是数字") from None
    if not np.isfinite(w) or w <= 0:
        raise DataError(f"宽度应为正数（单位：米），而不是 {width_m!r}")
    kind = geometry_kind(geom)
    if kind == "polygon":
        return geom, kind, [f"{w:g} m 的宽度只适用于中心线和点；面状项目范围按原样使用"]
    c = shapely.centroid(geom)
    local = (f"+proj=tmerc +lat_0={c.y:.8f} +lon_0={c.x:.8f} +k=1 +x_0=0 +y_0=0 "
             "+ellps=GRS80 +units=m +no_defs")
    g = reproject(shapely.segmentize(geom, 0.001) if kind == "line" else geom, GEO, local)
    buf = shapely.buffer(g, w / 2.0, quad_segs=16,
                         cap_style="flat" if kind == "line" else "round", join_style="round")
    out = reproject(shapely.segmentize(buf, 100.0), local, GEO)
    x0, _, x1, _ = shapely.bounds(g)
    warnings = [f"{'中心线' if kind == 'line' else '点'}已按 {w:g} m 宽度加宽"
                f"（每侧 {w / 2:g} m，按 CGCS2000 椭球计算）"]
    if max(abs(x0), abs(x1)) > 150_000:
        warnings.append("线路向东或向西延伸到距中心 150 km 以外：两端的宽度最多偏大 "
                        f"{(max(abs(x0), abs(x1)) / 6_371_000) ** 2 / 2:.2%}")
    return out, "polygon", warnings
