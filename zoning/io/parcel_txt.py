"""Parser for the 自然资源部 部标 coordinate TXT (建设用地报批/预审 电子报盘格式).

::

    [属性描述]
    坐标系=2000国家大地坐标系
    几度分带=3
    带号=36
    [地块坐标]
    5,0.1,1,地块1,面,,,,@
    J1,1,2940000.000,36371000.000
    ...

Column 3 is X = northing, column 4 is Y = easting (usually with the zone
number prefixed).  Files in the wild swap the columns, drop the prefix, use
full-width punctuation or GBK; this parser detects the column order from the
magnitudes, the CRS from the prefix or the ``带号`` header, assigns rings to
shells or holes by containment (not by ring number), and checks the header
area (公顷) against the computed one.  See domain reference §5.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import shapely

from zoning.errors import DataError

__all__ = ["TxtParcel", "TxtDocument", "parse_txt", "decode_txt", "txt_datum"]

_POINT = re.compile(r"^\s*([^,]*),\s*(\d+)\s*,\s*([-+]?\d+(?:\.\d*)?)\s*,\s*([-+]?\d+(?:\.\d*)?)\s*,?\s*$")
_M2_PER_MU = 10000.0 / 15.0


@dataclass
class TxtParcel:
    number: str
    name: str
    kind: str  # 面 | 线 | 点
    use: str
    land_class: str
    header_area_ha: float | None
    n_points_declared: int | None
    line: int  # line number of the parcel header
    geometry: object = None
    area_m2: float = 0.0
    warnings: list[str] = field(default_factory=list)
    error: str = ""  # why the parcel could not be built (geometry is None then)


@dataclass
class TxtDocument:
    header: dict
    epsg: int  # the EPSG code of the file's own CRS (西安80/北京54 codes for old datums)
    zone: int | None
    swapped: bool
    parcels: list[TxtParcel]
    warnings: list[str] = field(default_factory=list)
    #: the CRS to read the coordinates in: "EPSG:n", or for 西安80/北京54 a CRS bound to
    #: WGS84/CGCS2000 by the 转换参数 (``+towgs84``), as WKT
    crs: str = ""
    datum: str = "cgcs2000"  # cgcs2000 | xian80 | beijing54
    project_info: dict = field(default_factory=dict)  # the [项目信息] section, key → value

    def __post_init__(self) -> None:
        if not self.crs:
            self.crs = f"EPSG:{self.epsg}"


def decode_txt(data: bytes) -> tuple[str, str]:
    """Decode TXT bytes: UTF-8 (with or without BOM) first, then GB18030 (⊃ GBK)."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise DataError("文本编码既不是 UTF-8，也不是 GBK/GB18030")


_LINE_END = re.compile(r"\r\n|\r|\n")


def _norm(text: str) -> str:
    table = str.maketrans({"，": ",", "【": "[", "】": "]", "＝": "=", "：": ":", "＠": "@",
                           "\u3000": " "})
    return text.translate(table)


def _num(s: str):
    """A finite number from a header cell ("12.5", "12.5公顷"), else None."""
    s = s.strip().replace("公顷", "").replace("亩", "")
    try:
        x = float(s)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def _int_header(header: dict, key: str, source: str, lo: int, hi: int) -> int | None:
    """An integer header value in [lo, hi], None when absent; DataError when unusable."""
    raw = header.get(key, "")
    if not raw:
        return None
    x = _num(raw)
    if x is None or x != int(x) or not lo <= x <= hi:
        raise DataError(f"[属性描述]中的{key}不是 {lo}–{hi} 之间的整数", path=source or None)
    return int(x)


def _parcel_header(line: str, no: int, count: int) -> TxtParcel:
    f = [x.strip() for x in line[:-1].split(",")]
    f += [""] * (9 - len(f))
    n = _num(f[0])
    declared = int(n) if n is not None and 0 <= n < 1e9 and n == int(n) else None
    return TxtParcel(number=f[2] or str(count + 1), name=f[3], kind=f[4] or "面", use=f[6],
                     land_class=f[7], header_area_ha=_num(f[1]), n_points_declared=declared,
                     line=no)


def _read_sections(lines: list[str], source: str):
    """(header, parcels, points per parcel, [项目信息]) of the text; raises for lines out
    of place.

    Messages name the line number, never the line's text (which may be anything).
    """
    header: dict[str, str] = {}
    info: dict[str, str] = {}
    parcels: list[TxtParcel] = []
    points: list[list[tuple[int, float, float, int]]] = []
    section = None
    for no, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section in ("属性描述", "项目信息"):
            if "=" in line:
                k, v = line.split("=", 1)
                (header if section == "属性描述" else info)[k.strip()] = v.strip()
        elif section != "地块坐标":
            raise DataError("既不是部标文件的属性行、节名，也不是坐标行"
                            "（文件应包含 [属性描述] 和 [地块坐标] 两节）", path=source or None,
                            row=no)
        elif line.endswith("@"):
            parcels.append(_parcel_header(line, no, len(parcels)))
            points.append([])
        else:
            m = _POINT.match(line)
            if not m:
                raise DataError("不是坐标行（应为“点号,圈号,X,Y”）",
                                path=source or None, row=no)
            if not parcels:
                raise DataError("坐标出现在第一个地块头行（以“@”结尾的行）之前",
                                path=source or None, row=no)
            pt = (int(m.group(2)), float(m.group(3)), float(m.group(4)), no)
            if not (math.isfinite(pt[1]) and math.isfinite(pt[2])):
                raise DataError("坐标不是有限数值",
                                path=source or None, row=no)
            points[-1].append(pt)
    if not parcels:
        raise DataError("[地块坐标] 中没有找到地块", path=source or None)
    return header, parcels, points, info


def _check_header(header: dict, source: str) -> list[str]:
    crs_name = header.get("坐标系", "")
    warnings = []
    if not crs_name:
        warnings.append("[属性描述]中没有坐标系：按 2000国家大地坐标系 读取")
    unit = header.get("计量单位", "米")
    if unit and unit not in ("米", "m", "M"):
        raise DataError("计量单位不是米（只能读取以米为单位的坐标）", path=source or None)
    return warnings


def _axes(allpts: np.ndarray, source: str) -> tuple[bool, bool]:
    """(swapped, prefixed): which column holds the easting and whether it has a zone prefix."""
    a_mean, b_mean = allpts[:, 0].mean(), allpts[:, 1].mean()
    if b_mean >= 1e7 and a_mean < 1e7:
        return False, True
    if a_mean >= 1e7 and b_mean < 1e7:
        return True, True
    if 1.0e6 <= a_mean <= 6.5e6 and 1e5 <= b_mean < 1e6:
        return False, False
    if 1.0e6 <= b_mean <= 6.5e6 and 1e5 <= a_mean < 1e6:
        return True, False
    raise DataError(f"无法分辨北坐标与东坐标（第 3 列均值 {a_mean:.1f}，第 4 列均值 "
                    f"{b_mean:.1f}）：坐标可能不是以米为单位的高斯-克吕格坐标",
                    path=source or None)


def _zone_epsg(header: dict, east: np.ndarray, prefixed: bool, source: str,
               warnings: list[str]) -> tuple[int, int]:
    """(zone, EPSG code) from the eastings' prefix or the 带号/几度分带 header."""
    width_hdr = _int_header(header, "几度分带", source, 1, 6)
    zone_hdr = _int_header(header, "带号", source, 1, 60)
    if prefixed:
        zones = np.unique(np.floor(east / 1e6).astype(np.int64))
        if len(zones) > 1:
            raise DataError(f"东坐标带有多个不同的带号前缀 {zones[:5].tolist()}",
                            path=source or None)
        zone = int(zones[0])
        if zone_hdr is not None and zone_hdr != zone:
            warnings.append(f"[属性描述]中带号={zone_hdr}，但东坐标的带号前缀为 {zone}："
                            "以坐标为准")
        width = 3 if 25 <= zone <= 45 else 6 if 13 <= zone <= 23 else None
        if width is None:
            raise DataError(f"带号前缀 {zone} 不是 CGCS2000 的 3° 带（25–45）或 6° 带（13–23）",
                            path=source or None)
        if width_hdr is not None and width_hdr != width:
            warnings.append(f"几度分带={width_hdr}，但带号 {zone} 属于 {width}° 带")
        return zone, 4513 + zone - 25 if width == 3 else 4491 + zone - 13
    if zone_hdr is None:
        raise DataError("东坐标没有带号前缀，[属性描述]中也没有带号：无法确定中央子午线",
                        path=source or None)
    zone = zone_hdr
    width = width_hdr if width_hdr is not None else (3 if zone >= 24 else 6)
    if width == 3 and 25 <= zone <= 45:
        return zone, 4534 + zone - 25
    if width == 6 and 13 <= zone <= 23:
        return zone, 4502 + zone - 13
    raise DataError(f"带号={zone}、几度分带={width} 不对应 CGCS2000 的任何投影带",
                    path=source or None)


def _fill_parcel(p: TxtParcel, pts: list, swapped: bool, source: str) -> None:
    """Build one parcel's geometry; a parcel that cannot be built keeps its reason in
    ``p.error`` (the other parcels of the file are still read)."""
    if not pts:
        p.error = f"地块 {p.number}（第 {p.line} 行）没有坐标"
        return
    rings: dict[int, list] = {}
    for ring_no, a, b, _ in pts:
        x, y = (a, b) if swapped else (b, a)
        rings.setdefault(ring_no, []).append((x, y))
    try:
        p.geometry = _build(p, rings, source)
    except DataError as e:
        p.error = e.message
        return
    except shapely.errors.GEOSException:
        p.error = f"地块 {p.number}（第 {p.line} 行）：各圈无法构成多边形"
        return
    if shapely.get_dimensions(p.geometry) == 2:
        p.area_m2 = float(shapely.area(p.geometry))
        _check_area(p)
    n = len(pts)
    if p.n_points_declared is not None and p.n_points_declared not in (n, n - len(rings)):
        p.warnings.append(f"界址点数={p.n_points_declared}，但实际列出 {n} 个点")


def parse_txt(data, source: str = "", towgs84=None) -> TxtDocument:
    """Parse a 部标 TXT (bytes or str) into parcels with projected geometry.

    A file in 1980西安坐标系 or 1954北京坐标系 is read with its 转换参数 (7
    Helmert parameters) or, taking precedence, ``towgs84``; without either it
    is refused (see :data:`zoning.crs.NO_TRANSFORMATION`).  A ``[项目信息]``
    section is kept in ``project_info``.

    A problem with the whole file (no parcels, an unknown zone …) raises
    :class:`~zoning.errors.DataError`; a parcel that cannot be built gets
    ``geometry=None`` and its reason in ``error``.  Messages give line
    numbers, never the text of a line.
    """
    if isinstance(data, bytes):
        text, _ = decode_txt(data)
    else:
        text = data
    # lines end at CR/LF only: str.splitlines() would also break a line at a \v, \f,
    # \x1c–\x1e, \x85 or U+2028/9 inside a parcel name and refuse a valid file
    header, parcels, points, info = _read_sections(_LINE_END.split(_norm(text)), source)
    if not any(points):
        raise DataError("所有地块都没有坐标", path=source or None)
    warnings = _check_header(header, source)
    datum, params = txt_datum(header, towgs84, source)
    allpts = np.array([(a, b) for ps in points for _, a, b, _ in ps])
    swapped, prefixed = _axes(allpts, source)
    if swapped:
        warnings.append("第 3、4 列为（东坐标，北坐标），与标准的（X=北坐标，Y=东坐标）相反："
                        "已交换")
    east = allpts[:, 0] if swapped else allpts[:, 1]
    zone, epsg = _zone_epsg(header, east, prefixed, source, warnings)
    for p, pts in zip(parcels, points):
        _fill_parcel(p, pts, swapped, source)
    crs = f"EPSG:{epsg}"
    if datum != "cgcs2000":
        epsg, crs = _old_datum_crs(epsg, datum, params)
        warnings.append(f"坐标系={header.get('坐标系', '')}：已用 {len(params)} 参数 "
                        f"{','.join(f'{v:g}' for v in params)} 转换为 CGCS2000")
    return TxtDocument(header=header, epsg=epsg, zone=zone, swapped=swapped, parcels=parcels,
                       warnings=warnings, crs=crs, datum=datum, project_info=info)


def _old_datum_crs(epsg: int, datum: str, params: tuple) -> tuple[int, str]:
    """(EPSG of the 西安80/北京54 twin zone, that CRS bound by the parameters as WKT)."""
    from zoning.crs import bind_towgs84, old_gk_epsg

    old = old_gk_epsg(epsg, datum)
    return old, bind_towgs84(f"EPSG:{old}", params).to_wkt()


_OLD_NAMES = {"xian80": ("西安", "1980", "80国家", "80坐标", "xian"),
              "beijing54": ("北京", "1954", "54坐标", "beijing")}


def txt_datum(header: dict, towgs84=None, source: str = "") -> tuple[str, tuple]:
    """(datum, transformation parameters) of a TXT header's 坐标系 and 转换参数.

    ``datum`` is cgcs2000, xian80 or beijing54.  For an old datum the
    parameters come from ``towgs84`` if given, else from 转换参数; with
    neither, a :class:`~zoning.errors.CRSError` explains why none is assumed.

    Examples
    --------
    >>> txt_datum({"坐标系": "2000国家大地坐标系"})
    ('cgcs2000', ())
    >>> txt_datum({"坐标系": "1980西安坐标系", "转换参数": "1,2,3,0,0,0,0"})
    ('xian80', (1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 0.0))
    """
    from zoning.crs import NO_TRANSFORMATION, parse_towgs84
    from zoning.errors import CRSError

    name = header.get("坐标系", "")
    low = name.lower()
    datum = "cgcs2000"
    if "2000" not in low and "cgcs" not in low:
        datum = next((d for d, keys in _OLD_NAMES.items() if any(k in low for k in keys)),
                     "cgcs2000")
    if datum == "cgcs2000":
        return datum, ()
    if towgs84 is not None:
        return datum, parse_towgs84(towgs84)
    raw = header.get("转换参数", "").strip()
    if raw.replace(",", "").replace("，", "").strip():
        try:
            return datum, parse_towgs84(raw)
        except CRSError as e:
            raise CRSError(f"[属性描述]中的{e.message}", path=source or None) from None
    raise CRSError(NO_TRANSFORMATION.format(name=f"坐标系={name}"), path=source or None)


def _build(p: TxtParcel, rings: dict, source: str):
    if p.kind.startswith("点"):
        return shapely.multipoints([pt for r in rings.values() for pt in r])
    if p.kind.startswith("线"):
        lines = [shapely.LineString(r) for r in rings.values() if len(set(r)) >= 2]
        if not lines:
            raise DataError(f"线状地块 {p.number} 没有任何一段含 2 个不同的点",
                            path=source or None, row=p.line)
        return shapely.multilinestrings(lines) if len(lines) > 1 else lines[0]
    lrs = []
    for ring_no, pts in sorted(rings.items()):
        if len(pts) > 1 and pts[0] == pts[-1]:
            pts = pts[:-1]
        if len(set(pts)) < 3:
            raise DataError(f"地块 {p.number} 第 {ring_no} 圈上不同的点不足 3 个",
                            path=source or None, row=p.line)
        lrs.append(shapely.Polygon(pts))
    # shells and holes by containment depth (even = shell, odd = hole)
    lrs.sort(key=lambda g: -abs(g.area))
    parents: list[int | None] = []
    depth: list[int] = []
    for k, g in enumerate(lrs):
        rp = g.exterior.coords[0]
        container = None
        for j in range(k - 1, -1, -1):
            if lrs[j].contains(shapely.Point(rp)) or lrs[j].covers(g):
                container = j
                break
        parents.append(container)
        depth.append(0 if container is None else depth[container] + 1)
    polys = []
    for k, g in enumerate(lrs):
        if depth[k] % 2 == 0:
            holes = [lrs[h].exterior for h in range(len(lrs)) if parents[h] == k]
            polys.append(shapely.Polygon(g.exterior, holes))
    if len(lrs) > 1 and any(d % 2 for d in depth):
        p.warnings.append(f"{sum(d % 2 for d in depth)} 个圈按包含关系判定为内环（洞）")
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _check_area(p: TxtParcel) -> None:
    h = p.header_area_ha
    if not h or p.area_m2 <= 0:
        return
    computed_ha = p.area_m2 / 1e4
    rel = abs(h - computed_ha) / computed_ha
    if rel <= 0.01:
        return
    if abs(h - p.area_m2) / p.area_m2 <= 0.01:
        p.warnings.append(f"地块面积={h:g} 像是以 m² 填写的，而不是公顷"
                          f"（按坐标计算为 {computed_ha:.4f} 公顷）")
    elif abs(h * _M2_PER_MU - p.area_m2) / p.area_m2 <= 0.01:
        p.warnings.append(f"地块面积={h:g} 像是以亩填写的，而不是公顷"
                          f"（按坐标计算为 {computed_ha:.4f} 公顷）")
    else:
        p.warnings.append(f"地块面积={h:g} 公顷与按坐标计算的 {computed_ha:.4f} 公顷"
                          f"相差 {rel:.1%}")
