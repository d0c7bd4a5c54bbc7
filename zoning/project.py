"""The project model: one footprint with its attributes, parsed once.

Readers (:mod:`zoning.io.projects`) and :func:`zoning.check` build
:class:`Project` objects; the engine takes them as they are and parses
nothing.  A project that could not be read keeps its row with
``status="error"`` and the reason, so rows in always equal rows out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from zoning.errors import DataError, InputError
from zoning.rules.industry import validate_industry
from zoning.rules.landuse import parse_declared

__all__ = ["Project", "ATTRIBUTES", "parse_attributes", "parse_bool", "clean"]

#: project attributes the rules read (see the README for their values)
ATTRIBUTES = ("industry", "nature", "takes_land", "activity", "major_project",
              "project_type", "energy_tce", "landuse_declared")

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


def parse_bool(v: Any, what: str = "value") -> bool | None:
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
    raise InputError(f"{what} {v!r} is not yes/no (是/否)")


def parse_energy(v: Any) -> float | None:
    """年综合能耗 in tce/year: a finite number ≥ 0, or None."""
    v = clean(v)
    if v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise InputError(f"energy_tce (年综合能耗) {v!r} is not a number") from None
    if not math.isfinite(x) or x < 0:
        raise InputError(f"energy_tce (年综合能耗) {v!r} must be a finite number ≥ 0")
    return x


def parse_attributes(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Parse the project attributes of one row: every key of :data:`ATTRIBUTES`.

    Raises :class:`~zoning.errors.InputError` naming the attribute when a
    value cannot be understood.

    Examples
    --------
    >>> parse_attributes({"industry": "c 2614", "takes_land": "否", "energy_tce": "12"})
    ... # doctest: +NORMALIZE_WHITESPACE
    {'industry': 'C2614', 'nature': None, 'takes_land': False, 'activity': None,
     'major_project': None, 'project_type': None, 'energy_tce': 12.0, 'landuse_declared': None}
    """
    out: dict[str, Any] = {}
    for a in ATTRIBUTES:
        v = clean(raw.get(a))
        if a == "takes_land":
            v = parse_bool(v, "takes_land (是否占地)")
        elif a == "energy_tce":
            v = parse_energy(v)
        elif a == "industry":
            v = validate_industry(v)
        elif a == "landuse_declared":
            v = parse_declared(raw.get(a))
        elif v is not None:
            v = str(v)
        out[a] = v
    return out


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
                    status, error = "error", "empty, missing or mixed footprint geometry"
        return cls(row=rec.get("row"), project_id=str(clean(rec.get("project_id")) or ""),
                   name=str(clean(rec.get("name")) or ""), geometry=geom, kind=str(kind or ""),
                   attrs=attrs, warnings=list(rec.get("warnings") or []), status=status,
                   error=error, source=str(rec.get("source") or ""))
