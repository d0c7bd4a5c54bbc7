"""Coordinate helpers: CGCS2000 Gauss–Krüger zones and web-map obfuscations.

GCJ-02 (高德/腾讯) and BD-09 (百度) are not coordinate reference systems that
PROJ knows about: they are deliberate, non-linear offsets of WGS84 of a few
hundred metres.  This module converts them explicitly.  Nothing in `zoning`
calls these functions implicitly; an input is converted only when the user
says it is in GCJ-02 or BD-09.

The forward transform is the published algorithm (Krasovsky constants); the
inverse ``gcj02_to_wgs84`` is solved by fixed-point iteration to better than
1e-7 degrees (about 1 cm), so a round trip is lossless at survey precision.

For area and overlay work CGCS2000 (EPSG:4490) and WGS84 are treated as the
same datum; the difference is below one metre in China.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import shapely
from pyproj import CRS, Transformer

from zoning.errors import CRSError

__all__ = [
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "in_china_bbox",
    "gk3_zone",
    "gk3_epsg",
    "zone_from_easting",
    "transformer",
    "reproject",
    "old_datum",
    "parse_towgs84",
    "bind_towgs84",
    "old_gk_epsg",
]

_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

# Loose rectangle around China, as used by the published algorithm.
CHINA_BBOX = (72.004, 0.8293, 137.8347, 55.8271)


def in_china_bbox(lon, lat):
    """True where (lon, lat) falls in the rectangle the GCJ-02 algorithm uses."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    x0, y0, x1, y1 = CHINA_BBOX
    return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)


def _tlat(x, y):
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    r += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return r


def _tlon(x, y):
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    r += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return r


def _offset(lon, lat):
    dlat = _tlat(lon - 105.0, lat - 35.0)
    dlon = _tlon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon, lat):
    """WGS84 → GCJ-02. Points outside the China rectangle are returned unchanged."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _offset(lon, lat)
    inside = in_china_bbox(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(lon, lat, tol: float = 1e-9, max_iter: int = 30):
    """GCJ-02 → WGS84 by fixed-point iteration of the forward transform.

    Converges to ``tol`` degrees (default 1e-9°, well under a millimetre) in a
    handful of iterations because the offset field is smooth.
    """
    glon = np.asarray(lon, dtype=float)
    glat = np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon = wlon - elon
        wlat = wlat - elat
        if np.all(np.abs(elon) < tol) and np.all(np.abs(elat) < tol):
            break
    return wlon, wlat


def gcj02_to_bd09(lon, lat):
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat):
    x = np.asarray(lon, dtype=float) - 0.0065
    y = np.asarray(lat, dtype=float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_wgs84(lon, lat):
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


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


# --------------------------------------------------------------------------- old datums

#: the pre-2000 Chinese datums (PROJ datum name → Chinese name)
OLD_DATUMS = {"Xian 1980": "1980西安坐标系", "Beijing 1954": "1954北京坐标系",
              "New Beijing": "新1954北京坐标系"}

#: CGCS2000 GK EPSG family base → the same family in 西安80 and 北京54
#: (3° prefixed, 3° CM, 6° prefixed, 6° CM)
_GK_FAMILIES = {4513: {"xian80": 2349, "beijing54": 2401},
                4534: {"xian80": 2370, "beijing54": 2422},
                4491: {"xian80": 2327, "beijing54": 21413},
                4502: {"xian80": 2338, "beijing54": 21453}}

NO_TRANSFORMATION = (
    "{name} cannot be converted to CGCS2000 without parameters: there is no exact public "
    "transformation between them (the national grids are not published, and the datum "
    "shift varies by tens of metres across China), so a guess would silently move the red "
    "line.  Give the 7 parameters of the project area (ΔX, ΔY, ΔZ in m, rotations in "
    "arc-seconds, scale in ppm), as the 转换参数 of a 部标 TXT carry them, or convert the "
    "file to 2000国家大地坐标系 first")


def old_datum(crs) -> str | None:
    """Chinese name of the old datum (西安80/北京54) of an unbound CRS, else None.

    A CRS bound to WGS84/CGCS2000 by ``+towgs84`` parameters returns None: it
    can be converted.
    """
    crs = CRS.from_user_input(crs)
    if crs.is_bound:
        return None
    datum = crs.datum
    name = datum.name if datum is not None else ""
    return next((zh for key, zh in OLD_DATUMS.items() if name.startswith(key)), None)


def parse_towgs84(value) -> tuple[float, ...]:
    """3 or 7 Helmert parameters from text ("dx,dy,dz,rx,ry,rz,s") or a sequence.

    Translations in metres, rotations in arc-seconds, scale in ppm (the
    position-vector convention of PROJ's ``+towgs84``).  A scale written as a
    factor near 1 (e.g. ``1.0000041``) is converted to ppm.
    """
    from zoning.errors import CRSError

    if isinstance(value, str):
        parts = [p.strip() for p in value.replace("，", ",").split(",")]
    else:
        parts = [str(p).strip() for p in value]
    try:
        nums = tuple(float(p) for p in parts)
    except ValueError:
        raise CRSError(f"transformation parameters {value!r} are not numbers") from None
    if len(nums) not in (3, 7) or not all(math.isfinite(v) for v in nums):
        raise CRSError(f"transformation parameters {value!r}: need 3 (ΔX,ΔY,ΔZ) or 7 "
                       "(ΔX,ΔY,ΔZ,rX,rY,rZ,scale) numbers")
    if len(nums) == 7 and 0.99 < nums[6] < 1.01:
        nums = nums[:6] + ((nums[6] - 1.0) * 1e6,)
    return nums


def bind_towgs84(crs, params) -> CRS:
    """``crs`` with ``+towgs84`` parameters, so that PROJ converts it exactly with them."""
    import warnings

    crs = CRS.from_user_input(crs)
    with warnings.catch_warnings():  # PROJ strings lose names and axis order: both unused here
        warnings.simplefilter("ignore", UserWarning)
        proj4 = " ".join(t for t in crs.to_proj4().split()
                         if not t.startswith(("+towgs84", "+type", "+nadgrids")))
    values = ",".join(f"{v:.10g}" for v in parse_towgs84(params))
    return CRS.from_proj4(f"{proj4} +towgs84={values}")


def old_gk_epsg(cgcs2000_epsg: int, datum: str) -> int:
    """The 西安80 (``xian80``) or 北京54 (``beijing54``) twin of a CGCS2000 GK EPSG code."""
    for base, twins in _GK_FAMILIES.items():
        if base <= cgcs2000_epsg <= base + 20:
            return twins[datum] + cgcs2000_epsg - base
    raise ValueError(f"EPSG:{cgcs2000_epsg} is not a CGCS2000 Gauss–Krüger code")
