"""Coordinates written as text: decimal degrees, 度分秒 and bare ``经度,纬度`` pairs.

Accepted angle forms (all with an optional hemisphere, before or after):

* decimal degrees: ``106.62``, ``106.62E``, ``东经106.62``;
* degrees, minutes, seconds with symbols: ``106°37'12.5"E``, ``106°37′12.5″``,
  ``106º37'12.5''``;
* letters: ``106d37m12.5s``; Chinese: ``106度37分12.5秒``;
* colons: ``106:37:12.5``.

A hemisphere letter (E/W/N/S) or word (东经/西经/北纬/南纬) fixes which value
is the longitude; without one, a pair is read as longitude, latitude (the
footprint reader swaps a latitude-first pair with a warning).
"""

from __future__ import annotations

import math
import re

import shapely

from zoning.errors import InputError

__all__ = ["parse_angle", "parse_lonlat", "parse_coordinates", "looks_like_coordinates"]

_HEMI = {"e": ("lon", 1), "w": ("lon", -1), "n": ("lat", 1), "s": ("lat", -1),
         "东经": ("lon", 1), "西经": ("lon", -1), "北纬": ("lat", 1), "南纬": ("lat", -1),
         "东": ("lon", 1), "西": ("lon", -1), "北": ("lat", 1), "南": ("lat", -1)}
_HEMI_RE = r"(?P<{}>东经|西经|北纬|南纬|[东西南北]|[EWNSewns])"
_NUM = r"\d+(?:\.\d*)?|\.\d+"
_ANGLE = re.compile(
    rf"^\s*{_HEMI_RE.format('pre')}?\s*(?P<sign>[-+])?\s*(?P<d>{_NUM})\s*"
    r"(?:(?:°|º|˚|度|d|D|:)\s*"
    rf"(?:(?P<m>{_NUM})\s*(?:'|′|’|分|m|M|:)?\s*"
    rf"(?:(?P<s>{_NUM})\s*(?:\"|″|''|′′|”|秒|s|S)?)?)?)?"
    rf"\s*{_HEMI_RE.format('post')}?\s*$")


def parse_angle(text: str) -> tuple[float, str | None]:
    """An angle in degrees and the axis its hemisphere names ("lon", "lat" or None).

    Examples
    --------
    >>> parse_angle("106°37'12.5\\"E")
    (106.62013888888889, 'lon')
    >>> parse_angle("26d34m48s")
    (26.58, None)
    >>> parse_angle("北纬26度34分48秒")
    (26.58, 'lat')
    """
    s = str(text).strip()
    m = _ANGLE.match(s)
    if not m:
        raise InputError(f"{text!r} is not an angle (decimal degrees or 度分秒 such as "
                         "106°37'12.5\"E or 106d37m12.5s)")
    hemis = [h for h in (m.group("pre"), m.group("post")) if h]
    deg = float(m.group("d"))
    mins = float(m.group("m") or 0.0)
    secs = float(m.group("s") or 0.0)
    if mins >= 60 or secs >= 60:
        raise InputError(f"{text!r}: minutes and seconds must be below 60")
    if (m.group("m") or m.group("s")) and "." in m.group("d"):
        raise InputError(f"{text!r}: decimal degrees cannot carry minutes or seconds")
    value = deg + mins / 60.0 + secs / 3600.0
    if m.group("sign") == "-":
        value = -value
    axis = None
    if hemis:
        if len(hemis) > 1:
            raise InputError(f"{text!r} names two hemispheres")
        axis, sign = _HEMI[hemis[0].lower() if hemis[0].isascii() else hemis[0]]
        value *= sign
    return value, axis


_SPLIT = re.compile(r"\s*[,，;；]\s*")


def parse_lonlat(text: str) -> tuple[float, float]:
    """(longitude, latitude) from a pair such as ``106.62,26.58`` or ``26°34'48"N 106°37'E``.

    Without hemispheres the order is longitude, latitude.
    """
    parts = [p for p in _SPLIT.split(str(text).strip()) if p]
    if len(parts) == 1:
        parts = str(text).split()
    if len(parts) != 2:
        raise InputError(f"{text!r} is not a 经度,纬度 pair")
    (a, ax), (b, bx) = parse_angle(parts[0]), parse_angle(parts[1])
    if ax == "lat" or bx == "lon":
        if ax == bx:
            raise InputError(f"{text!r}: both values are on the same axis")
        a, b = b, a
    elif ax is not None and ax == bx:
        raise InputError(f"{text!r}: both values are longitudes")
    if not (math.isfinite(a) and math.isfinite(b)) or abs(b) > 90 or abs(a) > 180:
        raise InputError(f"{text!r}: longitude {a:g} or latitude {b:g} out of range")
    return a, b


def parse_coordinates(text: str):
    """A point, line or polygon (EPSG:4490 lon/lat) from ``lon,lat`` pairs separated by ``;``.

    One pair is a point; several are a line; a closed sequence of at least
    four pairs (last = first) is a polygon.

    Examples
    --------
    >>> parse_coordinates("106.62,26.58").wkt
    'POINT (106.62 26.58)'
    >>> parse_coordinates("106.6,26.5; 106.7,26.6").geom_type
    'LineString'
    """
    groups = [g for g in re.split(r"\s*[;；|]\s*", str(text).strip()) if g]
    pts = [parse_lonlat(g) for g in groups]
    if not pts:
        raise InputError("no coordinates given")
    if len(pts) == 1:
        return shapely.Point(pts[0])
    if len(pts) >= 4 and pts[0] == pts[-1]:
        return shapely.Polygon(pts)
    return shapely.LineString(pts)


def looks_like_coordinates(text: str) -> bool:
    """True if ``text`` parses as coordinates (used to tell them from a file name)."""
    try:
        parse_coordinates(text)
    except InputError:
        return False
    return True
