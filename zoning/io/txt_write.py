"""Write footprints as a 部标 coordinate TXT (建设用地报批/预审 电子报盘格式).

The inverse of :mod:`zoning.io.parcel_txt`::

    [项目信息]              (only when project fields are given)
    项目名称=…
    [属性描述]
    格式版本号=1.01
    …
    坐标系=2000国家大地坐标系
    几度分带=3
    投影类型=高斯克吕格
    计量单位=米
    带号=36
    精度=0.001
    转换参数=,,,,,,
    [地块坐标]
    11,1.0000,1,地块1,面,,,,@
    J1,1,2940000.000,36371000.000
    …

Coordinates are CGCS2000 Gauss–Krüger: column 3 X = northing, column 4 Y =
easting with the zone number prefixed (unless ``prefix=False``), to the
millimetre.  Each footprint is one parcel; its polygons' outer rings and
holes are numbered 1, 2, … (圈号), every ring repeats its first point at the
end, outer rings run clockwise and holes anticlockwise (as seen on a map).
The 地块面积 is the planar area in the output zone, in 公顷, as the filing
systems compute it.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely

from zoning.crs import reproject
from zoning.errors import DataError

__all__ = ["TxtParcelOut", "format_txt", "write_txt", "txt_zone"]


@dataclass
class TxtParcelOut:
    """One parcel to write: geometry in EPSG:4490 and its header fields."""

    geometry: object
    number: str = ""
    name: str = ""
    use: str = ""  # 地块用途
    land_class: str = ""  # 地类编码
    sheet: str = ""  # 图幅号
    extra: dict = field(default_factory=dict)


def txt_zone(lon: float, width: int = 3) -> int:
    """The Gauss–Krüger zone of a longitude: 3° zone round(λ/3), 6° zone ⌊λ/6⌋+1."""
    if width == 3:
        return int(math.floor(lon / 3.0 + 0.5))
    if width == 6:
        return int(math.floor(lon / 6.0)) + 1
    raise DataError(f"分带宽度应为 3 或 6，而不是 {width!r}")


def _epsg(zone: int, width: int, prefix: bool) -> int:
    if width == 3 and 25 <= zone <= 45:
        return (4513 if prefix else 4534) + zone - 25
    if width == 6 and 13 <= zone <= 23:
        return (4491 if prefix else 4502) + zone - 13
    raise DataError(f"带号 {zone} 不是 CGCS2000 {width}° 高斯-克吕格投影带"
                    "（3° 带：25–45，6° 带：13–23）")


def _rings(geom, kind: str) -> list[np.ndarray]:
    """Coordinate arrays (x east, y north) in writing order, each ring closed."""
    out = []
    for part in shapely.get_parts(geom):
        if kind == "polygon":
            part = shapely.orient_polygons(part, exterior_cw=True)
            out.append(np.asarray(part.exterior.coords))
            out += [np.asarray(r.coords) for r in part.interiors]
        else:
            out.append(np.asarray(part.coords))
    return out


def _kind(geom) -> str:
    from zoning.footprints import geometry_kind

    return geometry_kind(geom)


def _parcel_lines(p: TxtParcelOut, index: int, epsg: int, digits: int) -> list[str]:
    kind = _kind(p.geometry)
    g = reproject(p.geometry, "EPSG:4490", f"EPSG:{epsg}")
    rings = _rings(g, kind)
    lines = []
    n = 0
    for ring_no, xy in enumerate(rings, start=1):
        closed = kind == "polygon"
        body = xy[:-1] if closed else xy
        first = n + 1
        for x, y in body:
            n += 1
            lines.append(f"J{n},{ring_no if kind != 'point' else 1},{y:.{digits}f},"
                         f"{x:.{digits}f}")
        if closed:
            x, y = body[0]
            lines.append(f"J{first},{ring_no},{y:.{digits}f},{x:.{digits}f}")
    area_ha = float(shapely.area(g)) / 1e4 if kind == "polygon" else 0.0
    zh_kind = {"polygon": "面", "line": "线", "point": "点"}[kind]
    head = [str(len(lines)), f"{area_ha:.4f}", _field(p.number or str(index)),
            _field(p.name), zh_kind, _field(p.sheet), _field(p.use), _field(p.land_class)]
    return [",".join(head) + ",@"] + lines


def _field(v) -> str:
    """A header field: no commas, @ or line breaks (they would break the format)."""
    s = "" if v is None else str(v)
    for ch in (",", "，", "@", "\r", "\n"):
        s = s.replace(ch, " ")
    return s.strip()


def format_txt(parcels: Sequence[TxtParcelOut], *, zone_width: int = 3,
               zone: int | None = None, prefix: bool = True,
               project_info: Mapping[str, object] | None = None, producer: str = "",
               date: str | None = None, digits: int = 3) -> str:
    """The text of a 部标 TXT holding ``parcels`` (geometries in EPSG:4490).

    Parameters
    ----------
    parcels : sequence of TxtParcelOut
    zone_width : {3, 6}
        Gauss–Krüger zone width (几度分带).
    zone : int, optional
        Zone number (带号); default: the zone of the parcels' centre.
    prefix : bool
        Prefix eastings with the zone number (the usual 部标 form).
    project_info : mapping, optional
        Fields of a ``[项目信息]`` section (e.g. 项目名称), written first.
    producer, date : str
        数据产生单位 and 数据产生日期 (default: today).
    digits : int
        Decimals of the coordinates (3 = millimetres, 精度=0.001).

    Returns
    -------
    str
        The file's text, lines ending in CRLF.
    """
    if not parcels:
        raise DataError("没有可写出的地块")
    geoms = [p.geometry for p in parcels]
    if zone is None:
        c = shapely.centroid(shapely.union_all(geoms))
        zone = txt_zone(c.x, zone_width)
    epsg = _epsg(zone, zone_width, prefix)
    out = []
    if project_info:
        out.append("[项目信息]")
        out += [f"{_field(k)}={_field(v)}" for k, v in project_info.items() if v is not None]
    out += ["[属性描述]", "格式版本号=1.01", f"数据产生单位={_field(producer)}",
            f"数据产生日期={date or _dt.date.today().isoformat()}",
            "坐标系=2000国家大地坐标系", f"几度分带={zone_width}", "投影类型=高斯克吕格",
            "计量单位=米", f"带号={zone}", f"精度={10.0 ** -digits:g}", "转换参数=,,,,,,",
            "[地块坐标]"]
    for i, p in enumerate(parcels, start=1):
        out += _parcel_lines(p, i, epsg, digits)
    return "\r\n".join(out) + "\r\n"


def write_txt(path, parcels: Sequence[TxtParcelOut], *, encoding: str = "gb18030",
              overwrite: bool = True, **kw) -> str:
    """Write :func:`format_txt` to ``path`` atomically (GBK-compatible GB18030 by default).

    Returns the text written.
    """
    from zoning.io.write import write_bytes

    text = format_txt(parcels, **kw)
    write_bytes(path, text.encode(encoding), overwrite=overwrite)
    return text
