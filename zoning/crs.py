"""Coordinate helpers: CGCS2000 Gauss–Krüger zones, cached transformers, reprojection.

Web-map offsets (GCJ-02, BD-09) are in :mod:`zoning.gcj02`.  For area and overlay work CGCS2000 (EPSG:4490) and WGS84 are treated as the
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
        raise CRSError(f"经度 {lon} 不在 CGCS2000 3° 带 25–45 的范围内")
    return (4513 if prefix else 4534) + zone - 25


def zone_from_easting(easting: float) -> int | None:
    """Zone number encoded in a prefixed easting (e.g. 39438683.6 → 39), else None."""
    if easting >= 13e6:
        return int(easting // 1e6)
    return None


@functools.lru_cache(maxsize=256)
def _transformer(src, dst) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst),
                                always_xy=True)


def _crs_key(c):
    """A cheap cache key that rebuilds the same CRS: the text or code it was given as
    (writing a CRS out as WKT costs more than the reprojection of a footprint)."""
    if isinstance(c, (str, int)):
        return c
    if isinstance(c, CRS) and c.srs:
        return c.srs
    return CRS.from_user_input(c).to_wkt()


def transformer(src, dst) -> Transformer:
    """A cached always-xy Transformer (building one costs milliseconds)."""
    return _transformer(_crs_key(src), _crs_key(dst))


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
    "{name} 没有转换参数，无法转换为 CGCS2000：两者之间没有精确的公开转换方法（国家格网未公开，"
    "各地的基准差异可达数十米），凭猜测转换会让红线位置悄然偏移。请提供项目所在区域的 7 参数"
    "（ΔX、ΔY、ΔZ 以米计，旋转以角秒计，尺度以 ppm 计，与部标 TXT 中转换参数的写法相同），"
    "或先将文件转换为 2000国家大地坐标系")


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
        raise CRSError(f"转换参数 {value!r} 含有非数字的值") from None
    if len(nums) not in (3, 7) or not all(math.isfinite(v) for v in nums):
        raise CRSError(f"转换参数 {value!r} 应为 3 个（ΔX,ΔY,ΔZ）或 7 个"
                       "（ΔX,ΔY,ΔZ,rX,rY,rZ,尺度）有限数值")
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
