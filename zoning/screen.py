"""Library entry points: :func:`check` one footprint, :func:`screen` a project table.

>>> from shapely import box
>>> r = check(box(106.60, 26.40, 106.61, 26.41), industry="C2614", takes_land=True)
>>> r.state, r.layer("eco_redline").overlap_m2          # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import shapely

from zoning.catalog import Catalog, resolve_catalogs
from zoning.engine.overlay import CheckOptions, RegionIndex, _Project, check_chunk
from zoning.errors import DataError, ZoningError
from zoning.footprints import normalise
from zoning.results import CheckResult, State
from zoning.io.projects import ATTRIBUTES, _clean, project_table
from zoning.rules.three_lines import load_rules

__all__ = ["check", "screen", "load_index", "ScreenResult", "CheckOptions"]

_INDEX_CACHE: dict = {}
_INDEX_CACHE_SIZE = 3
_COVERAGE_CACHE: dict = {}


def _catalog_key(cat: Catalog, options: CheckOptions):
    stamps = []
    for s in cat.layers.values():
        try:
            stamps.append((str(s.path), s.path.stat().st_mtime_ns if s.path else
                           repr(s.postgis)))
        except OSError:
            stamps.append((str(s.path), None))
    return (str(cat.path), tuple(stamps), options.subdivide_vertices, str(cat.rules))


def load_index(catalog: Catalog, options: CheckOptions | None = None) -> RegionIndex:
    """Read and index a catalog's screening layers (cached per catalog and file times).

    A layer whose file is missing or unreadable is left out, so screening
    reports it as "data missing" (fail closed) rather than failing the batch.
    """
    from zoning.io.layers import read_layer

    opts = options or CheckOptions()
    key = _catalog_key(catalog, opts)
    if key in _INDEX_CACHE:
        return _INDEX_CACHE[key]
    frames, problems, remote = {}, [], {}
    for spec in catalog.layers.values():
        if spec.is_raster or spec.kind not in ("districts", "eco_redline", "farmland",
                                               "urban_boundary", "protected_area",
                                               "control_unit", "shoreline"):
            continue
        try:
            if spec.postgis and spec.kind not in ("districts", "shoreline"):
                # big layers stay in the database: features are fetched per chunk
                from zoning.io.postgis import PostgisSource

                remote[spec.name] = PostgisSource(spec)
            else:
                frames[spec.name] = read_layer(spec)
        except ZoningError as e:
            problems.append(str(e))
    if not frames and not remote:
        raise DataError("no layer of the catalog could be read: " + "; ".join(problems),
                        path=catalog.path)
    rules = load_rules(catalog.rules)
    idx = RegionIndex.build(catalog, frames, rules, opts, remote=remote)
    idx.problems = problems
    from zoning.rules.access import load_access_rules

    idx.access = load_access_rules(catalog.access_rules)
    while len(_INDEX_CACHE) >= _INDEX_CACHE_SIZE:  # keep a few regions' layers at a time
        _INDEX_CACHE.pop(next(iter(_INDEX_CACHE)))
    _INDEX_CACHE[key] = idx
    return idx


def _coverage(cat: Catalog):
    """Union of a catalog's district polygons in EPSG:4490 (None if it has none)."""
    if str(cat.path) in _COVERAGE_CACHE:
        return _COVERAGE_CACHE[str(cat.path)]
    from zoning.io.layers import read_layer

    cov = None
    specs = cat.by_kind("districts")
    if specs:
        try:
            g = read_layer(specs[0]).to_crs("EPSG:4490").geometry.values
            cov = shapely.union_all(g)
            shapely.prepare(cov)
        except ZoningError:
            cov = None
    _COVERAGE_CACHE[str(cat.path)] = cov
    return cov


def _pick_region(geom, cats: list[Catalog]) -> Catalog | None:
    if len(cats) == 1:
        return cats[0]  # the check itself reports any part outside its coverage
    for c in cats:  # the common case: inside one region (a prepared test, fast)
        cov = _coverage(c)
        if cov is not None and shapely.covers(cov, geom):
            return c
    best, best_score = None, 0.0
    for c in cats:
        cov = _coverage(c)
        if cov is None:
            continue
        if not shapely.intersects(cov, geom):
            continue
        score = shapely.area(shapely.intersection(cov, geom)) if shapely.get_dimensions(
            geom) == 2 else shapely.length(shapely.intersection(cov, geom)) + 1e-12
        if score > best_score or best is None:
            best, best_score = c, score
    return best


def _catalogs(catalog, region) -> list[Catalog]:
    if catalog is None:
        return resolve_catalogs(region=region)
    if isinstance(catalog, Catalog):
        return [catalog]
    if isinstance(catalog, (str, Path)):
        return resolve_catalogs([catalog], region=region)
    return list(catalog)


@dataclass
class ScreenResult:
    results: list[CheckResult]
    overlaps: list[dict] = field(default_factory=list)

    @property
    def counts(self) -> dict:
        out = {"rows": len(self.results), "ok": sum(r.ok for r in self.results),
               "error": sum(not r.ok for r in self.results)}
        for s in State:
            out[s.value] = sum(r.state == s for r in self.results)
        return out


def check(footprint, catalog=None, *, crs=None, coord_sys: str | None = None,
          region: str | None = None, options: CheckOptions | None = None,
          project_id: str = "", name: str = "", **attributes) -> CheckResult:
    """Check one footprint against every screening layer of its region.

    ``footprint``: a shapely geometry (``crs`` defaults to EPSG:4490), or a
    GeoSeries/GeoDataFrame (its features form one footprint).  Project
    attributes: ``takes_land`` (bool), ``activity`` (有限人为活动 category
    1–10), ``major_project`` (e.g. ``"transport"``), ``project_type`` (e.g.
    ``"industrial_park"``), ``industry`` (GB/T 4754 code), ``nature``
    (新建/扩建), ``energy_tce``.
    """
    unknown = set(attributes) - set(ATTRIBUTES)
    if unknown:
        raise TypeError(f"unknown project attribute(s) {sorted(unknown)}; known: {ATTRIBUTES}")
    if isinstance(footprint, (gpd.GeoDataFrame, gpd.GeoSeries)):
        crs = crs or footprint.crs
        geoms = np.asarray(footprint.geometry.values if isinstance(
            footprint, gpd.GeoDataFrame) else footprint.values)
        footprint = shapely.union_all(geoms) if len(geoms) > 1 else geoms[0]
    geom, kind, warnings = normalise(footprint, crs if crs is not None else "EPSG:4490",
                                     coord_sys)
    row = dict(row=1, project_id=project_id or "1", name=name, geometry=geom, kind=kind,
               warnings=warnings, **{a: attributes.get(a) for a in ATTRIBUTES})
    res = screen(project_table([row]), catalog, region=region, options=options)
    return res.results[0]


def screen(projects: gpd.GeoDataFrame, catalog=None, *, region: str | None = None,
           options: CheckOptions | None = None, chunk_size: int = 500,
           progress: Callable[[int], None] | None = None) -> ScreenResult:
    """Check every row of a project table (see :func:`zoning.io.projects.project_table`).

    Rows with ``status == "error"`` pass through with their reason.  Valid rows
    are grouped by region and checked in independent chunks of
    ``chunk_size`` (the unit of work a scale-out engine distributes).
    ``progress(n)`` is called after each chunk with the number of rows done.
    Row count in equals row count out, in input order.
    """
    opts = options or CheckOptions()
    cats = _catalogs(catalog, region)
    out: list[CheckResult | None] = [None] * len(projects)
    overlaps: list[dict] = []
    by_region: dict[str, list[int]] = {}
    cat_by_id = {c.region_id: c for c in cats}
    recs = projects.to_dict("records")
    geom_col = projects.geometry.name
    for pos, rec in enumerate(recs):
        if rec.get("status", "ok") != "ok" or rec.get(geom_col) is None:
            out[pos] = CheckResult(row=rec.get("row"), project_id=str(rec.get("project_id", "")),
                                   name=str(rec.get("name", "") or ""), status="error",
                                   error=str(rec.get("error") or "no footprint"),
                                   warnings=list(rec.get("warnings") or []))
            continue
        cat = _pick_region(rec[geom_col], cats)
        if cat is None:
            out[pos] = CheckResult(
                row=rec.get("row"), project_id=str(rec.get("project_id", "")),
                name=str(rec.get("name", "") or ""), geometry_type=rec.get("kind") or "",
                state=State.DATA_MISSING, warnings=list(rec.get("warnings") or []),
                basis=["项目不在任何图层目录的覆盖范围内：无数据，不能判定（数据缺失）。"],
                attributes={a: _clean(rec.get(a)) for a in ATTRIBUTES})
            if progress:
                progress(1)
            continue
        by_region.setdefault(cat.region_id, []).append(pos)
    for rid, positions in by_region.items():
        index = load_index(cat_by_id[rid], opts)
        for start in range(0, len(positions), chunk_size):
            chunk = positions[start:start + chunk_size]
            projs = [_Project(row=recs[p].get("row"), project_id=str(recs[p].get("project_id")),
                              name=str(recs[p].get("name") or ""), geometry=recs[p][geom_col],
                              kind=recs[p].get("kind") or _kind(recs[p][geom_col]),
                              attrs={a: _clean(recs[p].get(a)) for a in ATTRIBUTES},
                              warnings=list(recs[p].get("warnings") or []))
                     for p in chunk]
            results, ov = check_chunk(index, projs, opts)
            for p, r in zip(chunk, results):
                out[p] = r
            overlaps.extend(ov)
            if progress:
                progress(len(chunk))
    assert all(r is not None for r in out)
    return ScreenResult(results=out, overlaps=overlaps)


def _kind(geom) -> str:
    from zoning.footprints import geometry_kind

    return geometry_kind(geom)



@dataclass
class RegionIndicators:
    region: str
    region_name: str
    districts: gpd.GeoDataFrame  # EPSG:4490, one row per district with indicator columns
    values: dict  # region-level percentages by indicator
    comparisons: list
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        cols = [c for c in self.districts.columns if c != "geometry"]
        return {"schema": "zoning.indicators/1", "region": self.region,
                "region_name": self.region_name, "values": self.values,
                "districts": self.districts[cols].to_dict("records"),
                "comparisons": [c.to_dict() for c in self.comparisons], "notes": self.notes}


def indicators(catalog: Catalog, targets=None) -> RegionIndicators:
    """Forest cover, 林草覆盖率 and protected-area share per district and for the region."""
    import pandas as pd

    from zoning.indicators import INDICATOR_GROUPS, compare_targets, landcover_shares, protected_share
    from zoning.io.layers import read_layer
    from zoning.targets import load_targets

    dspec = catalog.by_kind("districts")
    if not dspec:
        raise DataError("the catalog has no districts layer: indicators need district "
                        "boundaries", path=catalog.path)
    d = read_layer(dspec[0]).to_crs("EPSG:4490")
    d = d.rename(columns={"_id": "code"})
    table = d[["code", "name", "geometry"]].copy() if "name" in d.columns else \
        d.assign(name=d["code"])[["code", "name", "geometry"]]
    notes, values = [], {}
    lc = catalog.by_kind("landcover")
    if lc:
        spec = lc[0]
        shares = landcover_shares(str(spec.path), table, "code", spec.classes)
        table = table.merge(shares.rename(columns={"id": "code", "area_m2": "lc_area_m2"}),
                            on="code", how="left")
        for ind, groups in INDICATOR_GROUPS.items():
            if all(g in spec.classes for g in groups):
                table[ind] = 100 * sum(table[f"{g}_share"] for g in groups)
                tot = table["lc_area_m2"].sum()
                values[ind] = 100 * sum(table[f"{g}_m2"].sum() for g in groups) / tot
    else:
        notes.append("no landcover layer: forest cover not computed")
    pa = catalog.by_kind("protected_area")
    if pa:
        frames = [read_layer(s) for s in pa]
        pa_all = gpd.GeoDataFrame(pd.concat([f.to_crs("EPSG:4490") for f in frames]),
                                  crs="EPSG:4490")
        ps = protected_share(pa_all, table, "code")
        table = table.merge(ps.rename(columns={"id": "code", "area_m2": "district_m2"}),
                            on="code", how="left")
        table["protected_area_share"] = 100 * table["protected_share"]
        region_ps = protected_share(pa_all, gpd.GeoDataFrame(
            {"code": ["region"]}, geometry=[shapely.union_all(table.geometry.values)],
            crs="EPSG:4490"), "code")
        values["protected_area_share"] = 100 * float(region_ps.protected_share.iloc[0])
    else:
        notes.append("no protected_area layer: protected-area share not computed")
    targets = load_targets() if targets is None else targets
    comps = compare_targets(values, targets, catalog.region_id, catalog.region_name)
    return RegionIndicators(region=catalog.region_id, region_name=catalog.region_name,
                            districts=gpd.GeoDataFrame(table, geometry="geometry",
                                                       crs="EPSG:4490"),
                            values={k: round(v, 3) for k, v in values.items()},
                            comparisons=comps, notes=notes)
