"""The project model: one footprint with its attributes, parsed once.

Readers (:mod:`zoning.io.projects`) and :func:`zoning.check` build
:class:`Project` objects; the engine takes them as they are and parses
nothing.  A project that could not be read keeps its row with
``status="error"`` and the reason, so rows in always equal rows out.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from zoning.errors import DataError, InputError, finite_nonnegative
from zoning.rules.industry import validate_industry
from zoning.rules.landuse import parse_declared

__all__ = ["Project", "ATTRIBUTES", "parse_attributes", "parse_bool", "clean"]

#: project attributes the rules read (see the README for their values)
ATTRIBUTES = ("industry", "nature", "takes_land", "activity", "major_project",
              "project_type", "energy_tce", "landuse_declared", "tailings", "purpose")

#: 建设目的 words that mean "to raise the safety or environmental-protection level"
#: (《长江保护法》: 以提升安全、生态环境保护水平为目的的改建)
_SAFETY_ECO = ("提升安全", "安全", "生态环境保护", "环境保护", "环保", "safety", "eco",
               "safety_eco")


def parse_purpose(v: Any) -> str | None:
    """建设目的: ``safety_eco`` for a safety or environmental-protection upgrade, else ``other``."""
    v = clean(v)
    if v is None:
        return None
    s = str(v).lower()
    return "safety_eco" if any(w in s for w in _SAFETY_ECO) else "other"

_TRUE = {"1", "true", "yes", "y", "是", "占地", "用地", "t"}
_FALSE = {"0", "false", "no", "n", "否", "不占地", "不用地", "f"}


def clean(v: Any) -> Any:
    """None for empty cells and NaN; stripped text otherwise."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, str):
        v = v.strip()
        return v or None
    return v


def parse_bool(v: Any, what: str = "取值") -> bool | None:
    """是/否, yes/no, 1/0, 占地/不占地 … as a bool; None when empty."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or v == "":
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    s = str(v).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise InputError(f"{what}应为“是”或“否”（也可写 yes/no、1/0），而不是 {v!r}")


def parse_energy(v: Any) -> float | None:
    """年综合能耗 in tce/year: a finite number ≥ 0, or None."""
    v = clean(v)
    if v is None:
        return None
    return finite_nonnegative(v, "年综合能耗（energy_tce）", InputError)


def parse_attributes(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Parse the project attributes of one row: every key of :data:`ATTRIBUTES`.

    Raises :class:`~zoning.errors.InputError` naming the attribute when a
    value cannot be understood.

    Examples
    --------
    >>> parse_attributes({"industry": "c 2614", "takes_land": "否", "energy_tce": "12"})
    ... # doctest: +NORMALIZE_WHITESPACE
    {'industry': 'C2614', 'nature': None, 'takes_land': False, 'activity': None,
     'major_project': None, 'project_type': None, 'energy_tce': 12.0, 'landuse_declared': None,
     'tailings': None, 'purpose': None}
    """
    out: dict[str, Any] = {}
    for a in ATTRIBUTES:
        v = clean(raw.get(a))
        if a == "takes_land":
            v = parse_bool(v, "是否占地（takes_land）")
        elif a == "tailings":
            v = parse_bool(v, "是否涉及尾矿库（tailings）")
        elif a == "purpose":
            v = parse_purpose(v)
        elif a == "energy_tce":
            v = parse_energy(v)
        elif a == "industry":
            v = validate_industry(v)
        elif a == "landuse_declared":
            v = parse_declared(raw.get(a))
        elif v is not None:
            v = parse_choice(a, str(v))
        out[a] = v
    return out


_ZH = {"activity": "有限人为活动类别", "major_project": "重大项目类别", "project_type": "项目类型",
       "nature": "建设性质"}
#: 建设性质 of a construction project (建设项目环境影响评价分类管理名录 usage)
NATURES = frozenset({"新建", "扩建", "改建", "迁建", "改扩建", "技术改造"})


def parse_choice(attr: str, v: str) -> str:
    """A categorical attribute checked against the national vocabulary of the bundled rules
    (``activity`` 1–10 of 自然资发〔2022〕142号, ``major_project``, ``project_type``);
    other attributes pass as text.  An unknown value is an :class:`InputError`: a
    made-up category must never pass for a legal one."""
    if attr not in _ZH:
        return v
    if attr == "activity":
        v = v.removeprefix("第").removesuffix("类")
    known = NATURES if attr == "nature" else _vocabulary(attr)
    if known and v not in known:
        shown = v if len(v) <= 30 else v[:30] + "…"
        raise InputError(f"无法识别的{_ZH[attr]} {shown!r}（{attr}）：可选值为 "
                         f"{', '.join(sorted(known, key=lambda k: (len(k), k)))}")
    return v


@functools.cache
def _vocabulary(attr: str) -> frozenset[str]:
    from zoning.rules.three_lines import load_rules

    return frozenset(str(k) for k in load_rules().vocabularies.get(attr, {}))


@dataclass
class Project:
    """One project: its footprint in EPSG:4490, its kind and its parsed attributes."""

    row: int | None
    project_id: str
    name: str = ""
    geometry: Any = None  # shapely geometry in EPSG:4490, or None when unreadable
    kind: str = ""  # polygon | line | point
    attrs: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    status: str = "ok"  # ok | error
    error: str = ""
    source: str = ""
    #: lon/lat given without a coordinate type: might be GCJ-02 (checked both ways)
    lonlat_undeclared: bool = False
    #: the CRS in which the footprint's edges are straight (its source's); the vertices
    #: were moved to EPSG:4490 one by one, the engine cuts the edges in this CRS first
    edge_crs: str = "EPSG:4490"

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.geometry is not None

    @classmethod
    def from_record(cls, rec: Mapping[str, Any], geom_col: str = "geometry") -> Project:
        """A project from one row of a project table; attributes are parsed here, once.

        A row whose attributes cannot be parsed becomes an error project with
        the reason; it never raises for bad data.
        """
        from zoning.footprints import geometry_kind

        geom = rec.get(geom_col)
        status = str(clean(rec.get("status")) or "ok")
        error = str(clean(rec.get("error")) or "")
        attrs = {a: clean(rec.get(a)) for a in ATTRIBUTES}
        if status == "ok":
            try:
                attrs = parse_attributes(rec)
            except InputError as e:
                status, error = "error", str(e)
        kind = clean(rec.get("kind"))  # a missing cell may be None, NaN or pd.NA
        if kind not in ("point", "line", "polygon"):
            kind = ""
            if geom is not None and status == "ok":
                try:
                    kind = geometry_kind(geom)
                except (DataError, TypeError, AttributeError):
                    status, error = "error", "项目范围的几何为空、缺失或类型混杂"
        return cls(row=rec.get("row"), project_id=str(clean(rec.get("project_id")) or ""),
                   name=str(clean(rec.get("name")) or ""), geometry=geom, kind=str(kind or ""),
                   attrs=attrs, warnings=list(rec.get("warnings") or []), status=status,
                   error=error, source=str(rec.get("source") or ""),
                   lonlat_undeclared=bool(rec.get("lonlat_undeclared") or False),
                   edge_crs=str(clean(rec.get("edge_crs")) or "EPSG:4490"))
