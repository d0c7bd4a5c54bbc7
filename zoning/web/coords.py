"""Pasted coordinates: one point a line, decimal degrees or 度分秒.

>>> g = parse_coordinates("106.70, 26.55\\n106.71 26.55\\n106°42'36\\" 26°33'36\\"", "polygon")
>>> g.geom_type, round(g.area, 6)
('Polygon', 5e-05)
"""

from __future__ import annotations

import re

import shapely

from zoning.errors import InputError, ResourceLimitError

__all__ = ["parse_coordinates", "parse_dms", "SHAPES"]

SHAPES = ("polygon", "line", "point")

_NUM = r"\d+(?:\.\d+)?"
_TOKEN = re.compile(
    rf"(?P<h0>[NSEWnsew东西南北])?\s*(?P<neg>-)?(?P<d>{_NUM})\s*"
    rf"(?:[°度]\s*(?:(?P<m>{_NUM})\s*['′’分]\s*)?(?:(?P<s>{_NUM})\s*(?:\"|″|”|''|′′|秒)\s*)?)?"
    r"(?P<h1>[NSEWnsew东西南北])?")
_LAT_HEMI = set("NSns南北")
_NEG_HEMI = set("SWsw南西")


def parse_dms(token: str) -> float:
    """One coordinate written in decimal degrees or 度分秒, in decimal degrees.

    >>> round(parse_dms("106°42'30\\"E"), 6), parse_dms("26度33分"), parse_dms("106.5")
    (106.708333, 26.55, 106.5)
    """
    m = _TOKEN.fullmatch(token.strip())
    if not m:
        raise InputError(f"{token!r} is not a coordinate (decimal degrees or 度分秒)")
    return _value(m)[0]


def _value(m: re.Match) -> tuple[float, bool]:
    """(decimal degrees, is a latitude by its hemisphere letter) of one token match."""
    d = float(m.group("d"))
    mins = float(m.group("m") or 0)
    secs = float(m.group("s") or 0)
    if mins >= 60 or secs >= 60:
        raise InputError(f"{m.group(0).strip()!r}: minutes and seconds must be below 60")
    v = d + mins / 60 + secs / 3600
    hemi = m.group("h0") or m.group("h1") or ""
    if m.group("neg") or (hemi and hemi in _NEG_HEMI):
        v = -v
    return v, bool(hemi and hemi in _LAT_HEMI)


def _line_point(line: str, lineno: int) -> tuple[float, float]:
    tokens = [m for m in _TOKEN.finditer(line) if m.group("d")]
    rest = _TOKEN.sub(" ", line)
    if len(tokens) != 2 or re.search(r"[^\s,，;；/]", rest):
        raise InputError(f"第 {lineno} 行 {line.strip()[:60]!r}: 每行应为一个点的经度和纬度"
                         "（如 106.70, 26.55 或 106°42′00″ 26°33′00″）")
    (a, a_lat), (b, b_lat) = (_value(t) for t in tokens)
    if a_lat and not b_lat:
        a, b = b, a  # written latitude first, said so by its N/S letter
    return a, b


def parse_coordinates(text: str, shape: str = "polygon", max_points: int = 100_000):
    """A point, line or polygon from pasted text, one ``lon lat`` pair a line.

    Separators may be spaces, commas (also ，) or semicolons; blank lines and
    lines starting with ``#`` are skipped.  The coordinates are returned as
    given: CRS handling (axis order, GCJ-02/BD-09) is the footprint
    normaliser's job.  Raises :class:`~zoning.errors.InputError` naming the line.
    """
    if shape not in SHAPES:
        raise InputError(f"shape must be one of {', '.join(SHAPES)}, not {shape!r}")
    pts = []
    for lineno, line in enumerate(str(text).splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pts.append(_line_point(line, lineno))
        if len(pts) > max_points:
            raise ResourceLimitError(f"more than {max_points} points")
    if not pts:
        raise InputError("no coordinates given")
    if shape == "point":
        return shapely.Point(pts[0]) if len(pts) == 1 else shapely.MultiPoint(pts)
    if shape == "line":
        if len(pts) < 2:
            raise InputError("a line needs at least 2 points")
        return shapely.LineString(pts)
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts = pts[:-1]
    if len(set(pts)) < 3:
        raise InputError("a polygon needs at least 3 different points")
    return shapely.Polygon(pts + [pts[0]])
