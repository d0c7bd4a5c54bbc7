"""The library's entry points: :func:`check` one footprint, :func:`screen` a project table.

This module wires the parts together: catalogs (:mod:`zoning.catalog`) are read
through :mod:`zoning.io`, indexed and checked by :mod:`zoning.engine`, and kept
warm in an :class:`IndexCache`.

>>> from shapely import box
>>> r = check(box(106.60, 26.40, 106.61, 26.41), industry="C2614")
>>> r.region, r.state in set(State)
('guiyang', True)
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from zoning.batch import run_chunks
from zoning.catalog import SCREENING_KINDS, Catalog, LayerSpec, resolve_catalogs
from zoning.engine.geometry import (
    GEO,
    OVERLAY_GRID,
    ThreadPrepared,
    checked_split,
    measure,
    reproject_dense,
)
from zoning.engine.index import EXTRA_KINDS, RegionIndex, work_crs_for
from zoning.engine.landuse import merge_breakdowns
from zoning.engine.overlay import (
    COVERAGE_KIND,
    GAP_M,
    GAP_M2,
    OUTSIDE_COVERAGE,
    check_chunk,
    coverage_row,
    overall,
)
from zoning.errors import DatabaseError, DataError, InputError, ZoningError
from zoning.footprints import edge_crs, lonlat_undeclared, normalise
from zoning.gcj02 import gcj02_to_wgs84
from zoning.options import CheckOptions
from zoning.project import ATTRIBUTES, Project
from zoning.results import SEVERITY, CheckResult, LayerResult, State

__all__ = ["check", "screen", "load_index", "ScreenResult", "CheckOptions", "IndexCache",
           "projects_from_table"]

log = logging.getLogger(__name__)

_INDEXED_KINDS = ("districts",) + tuple(SCREENING_KINDS) + ("shoreline",) + EXTRA_KINDS
#: PostGIS layers an index reads whole (small); the others are fetched per chunk
_PG_READ_WHOLE = ("districts", "shoreline")
#: districts frames an IndexCache keeps: every catalog's (region picking asks them all),
#: and older versions of a file or table until they are the least recently used
DISTRICT_FRAMES = 256


def _stamp(path: str | Path | None) -> tuple:
    """(path, mtime_ns, size) of a file or of every file in a folder; None parts if absent."""
    if path is None:
        return (None,)
    p = str(path)
    try:
        st = os.stat(p)  # one system call (this runs for every layer at every check)
        if stat.S_ISDIR(st.st_mode):
            q = Path(p)
            return tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size)
                         for f in sorted(q.iterdir()) if f.is_file())
        return (p, st.st_mtime_ns, st.st_size)
    except OSError:
        return (p, None, None)


_SIDECARS: dict[tuple, str] = {}


def _sidecar(spec: LayerSpec) -> str:
    """The prepared store's sidecar path of a file layer (remembered per file and layer)."""
    key = (str(spec.path), spec.layer)
    side = _SIDECARS.get(key)
    if side is None:
        from zoning.io.store import store_paths

        side = _SIDECARS[key] = str(store_paths(spec)[1])
    return side


def _spec_stamp(spec: LayerSpec) -> tuple:
    if not spec.path:
        if not spec.postgis:
            return (None,)
        from zoning.io.postgis import table_stamp

        # a re-imported or edited table refreshes the index: the tables read whole are
        # stamped by their rows, the ones fetched per chunk by their identity (columns,
        # CRS and helper tables are looked up once per source)
        return (repr(spec.postgis),
                table_stamp(spec.postgis, rows=spec.kind in _PG_READ_WHOLE))
    # a rebuilt prepared store (its sidecar is written last) refreshes the index too
    stamp = _stamp(spec.path) + _stamp(_sidecar(spec))
    if isinstance(spec.rules, Path):  # a constraint layer's own rule file
        stamp += _stamp(spec.rules)
    return stamp


class IndexCache:
    """Region indexes and coverage polygons kept warm, least recently used first out.

    Keys hold the catalog's path and the modification time and size of every
    layer, rule and access file, so an edited file is read again.  Evicted
    indexes close their remote sources (database connections).
    """

    def __init__(self, size: int = 3, near_reads: bool = False):
        self.size = size
        #: read big layers only near each chunk's footprints (GeoPackage R-tree, prepared
        #: stores of any size) instead of whole: for a process that checks once, cold
        self.near_reads = near_reads
        self._indexes: OrderedDict[tuple, RegionIndex] = OrderedDict()
        self._districts: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.RLock()

    def _key(self, cat: Catalog, options: CheckOptions) -> tuple:
        stamps = tuple(_spec_stamp(s) for s in cat.layers.values())
        return (str(cat.path), _stamp(cat.path), stamps, options.subdivide_vertices,
                _stamp(cat.rules), _stamp(cat.access_rules), self.near_reads)

    def clear(self) -> None:
        with self._lock:
            while self._indexes:
                _close(self._indexes.popitem(last=False)[1])
            self._districts.clear()

    def districts(self, cat: Catalog) -> tuple[Any, list[str]]:
        """(normalised districts frame or None, problems) of a catalog, read once per file."""
        from zoning.io.layers import read_layer

        specs = cat.by_kind("districts")
        if not specs:
            return None, []
        key = (str(cat.path), _spec_stamp(specs[0]))
        with self._lock:
            if key not in self._districts:
                try:
                    self._districts[key] = (read_layer(specs[0]), [])
                except ZoningError as e:
                    self._districts[key] = (None, [str(e)])
                while len(self._districts) > DISTRICT_FRAMES:  # least recently used out
                    self._districts.popitem(last=False)
            self._districts.move_to_end(key)
            return self._districts[key]

    def named_districts(self, cat: Catalog) -> list[tuple[str, Any]]:
        """(name, geometry in EPSG:4490) of each district of a catalog (its code where it
        has no name); [] without a readable districts layer."""
        frame, _ = self.districts(cat)
        if frame is None:
            return []
        geoms = np.asarray(frame.geometry.values, dtype=object)
        if frame.crs is not None:
            geoms = reproject_dense(geoms, frame.crs, GEO)
        names = frame["name"] if "name" in frame.columns else frame["_id"]
        return [(str(n), g) for n, g in zip(names, geoms)]

    def coverage(self, cat: Catalog):
        """Union of a catalog's district polygons in EPSG:4490, prepared for the calling thread
        (None if none)."""
        frame, _ = self.districts(cat)
        if frame is None:
            return None
        cov = frame.attrs.get("_coverage_geo")
        if cov is None:  # prepared per thread: the web service checks on several
            cov = ThreadPrepared(shapely.union_all(reproject_dense(
                np.asarray(frame.geometry.values, dtype=object), frame.crs, GEO)))
            frame.attrs["_coverage_geo"] = cov
        return cov.get()

    def load(self, catalog: Catalog, options: CheckOptions | None = None) -> RegionIndex:
        """Read and index a catalog's screening layers (see :func:`load_index`)."""
        opts = options or CheckOptions()
        key = self._key(catalog, opts)
        with self._lock:
            if key in self._indexes:
                self._indexes.move_to_end(key)
                return self._indexes[key]
            idx = _build_index(catalog, opts, self)
            while len(self._indexes) >= self.size:
                _close(self._indexes.popitem(last=False)[1])
            self._indexes[key] = idx
            return idx


def _close(idx: RegionIndex) -> None:
    for sources in idx.remote.values():
        for _spec, src in sources:
            close = getattr(src, "close", None)
            if close is not None:
                close()


def _build_index(catalog: Catalog, opts: CheckOptions, cache: IndexCache) -> RegionIndex:
    from zoning.io.layers import open_layer_source, read_layer
    from zoning.rules.access import load_access_rules
    from zoning.rules.three_lines import load_rules

    frames: dict[str, gpd.GeoDataFrame] = {}
    problems: list[str] = []
    remote: dict[str, Any] = {}
    cov = cache.coverage(catalog)
    work = work_crs_for(cov) if cov is not None else None
    for spec in catalog.layers.values():
        if spec.is_raster or spec.kind not in _INDEXED_KINDS:
            continue
        if spec.kind == "districts":
            frame, probs = cache.districts(catalog)
            problems.extend(probs)
            if frame is not None and spec is catalog.by_kind("districts")[0]:
                frames[spec.name] = frame
                continue
        try:
            if spec.postgis and spec.kind not in _PG_READ_WHOLE:
                # big layers stay in the database: features are fetched per chunk
                remote[spec.name] = open_layer_source(spec)
                continue
            near = _near_source(spec, work, opts)
            if near is None and cache.near_reads and _windowed(spec, work):
                from zoning.io.layers import WindowSource

                remote[spec.name] = WindowSource(spec, work)  # read near each chunk
            elif near is None:
                frames[spec.name] = read_layer(spec)
            elif near.meta.get("pieces", 0) <= STORE_IN_MEMORY and not cache.near_reads:
                # small: kept whole (warm checks are faster in memory)
                frames[spec.name] = near.load_all()
                near.close()
            else:  # a big prepared store: features are read per chunk
                remote[spec.name] = near
        except ZoningError as e:
            log.warning("layer %s of %s left out: %s", spec.name, catalog.region_id, e)
            problems.append(str(e))
    if not frames and not remote:
        raise DataError("图层目录中没有任何图层可以读取：" + "; ".join(problems),
                        path=catalog.path)
    log.info("indexing %s: %d layers", catalog.region_id, len(frames) + len(remote))
    rules = load_rules(catalog.rules)
    return RegionIndex.build(catalog, frames, rules, opts, remote=remote,
                             access=load_access_rules(catalog.access_rules), problems=problems,
                             constraint_rules=_constraint_rules(catalog, rules.vocabularies))


def _constraint_rules(catalog: Catalog, vocabularies: dict) -> dict:
    """The rule sets of a catalog's constraint layers (a bad rule set is a catalog error)."""
    from zoning.rules.constraints import load_constraint_rules

    return {spec.name: load_constraint_rules(spec.rules, vocabularies,
                                             where=dict(path=catalog.path, layer=spec.name))
            for spec in catalog.by_kind("constraint")}


#: prepared stores of at most this many pieces are read whole into memory (warm checks
#: are faster in memory); bigger ones are read per chunk, only near the footprints
STORE_IN_MEMORY = 200_000


def _windowed(spec: LayerSpec, work) -> bool:
    """Whether a file layer can be read per chunk through a spatial index (a GeoPackage
    R-tree) when the cache reads only near the footprints (see ``IndexCache.near_reads``)."""
    from zoning.prepare import STORE_KINDS

    return (work is not None and spec.path is not None and spec.kind in STORE_KINDS and
            spec.path.suffix.lower() == ".gpkg")


def _near_source(spec: LayerSpec, work, opts: CheckOptions):
    """A per-chunk source for a big file layer with a fresh prepared store, else None."""
    from zoning.prepare import STORE_KINDS

    if work is None or spec.path is None or spec.kind not in STORE_KINDS:
        return None
    from zoning.io.store import open_store

    return open_store(spec, work, opts.subdivide_vertices)


#: the process-wide cache used by :func:`check`, :func:`screen` and :func:`load_index`
INDEX_CACHE = IndexCache()
#: indexes for one-off checks, which read big layers only near the footprint (see
#: ``IndexCache.near_reads``), kept as well: a process that checks site after site this
#: way (a script calling the ``check`` command in-process, the tests) reads the small
#: layers, rules and districts of a catalog once
NEAR_CACHE = IndexCache(size=2, near_reads=True)


def load_index(catalog: Catalog, options: CheckOptions | None = None) -> RegionIndex:
    """Read and index a catalog's screening layers (cached per catalog and file times).

    A layer whose file is missing or unreadable is left out, so screening
    reports it as "data missing" (fail closed) rather than failing the batch.

    Examples
    --------
    >>> from zoning.catalog import resolve_catalogs
    >>> idx = load_index(resolve_catalogs(region="guiyang")[0])
    >>> idx.region, sorted(idx.layers)[:3]
    ('guiyang', ['constraint', 'control_unit', 'eco_redline'])
    """
    return INDEX_CACHE.load(catalog, options)


def _regions_of(geom, cats: list[Catalog], cache: IndexCache) -> list[Catalog]:
    """Every catalog whose coverage the footprint enters (by more than a boundary touch).

    One catalog is always returned as it is: its check reports any part outside its
    coverage.  A footprint inside one region (the common case, a prepared test) gets
    that region only.
    """
    if len(cats) == 1:
        return [cats[0]]
    for c in cats:
        cov = cache.coverage(c)
        if cov is not None and shapely.covers(cov, geom):
            return [c]
    out = []
    dim = shapely.get_dimensions(geom)
    for c in cats:
        cov = cache.coverage(c)
        if cov is None or not shapely.intersects(cov, geom):
            continue
        part = shapely.intersection(cov, geom)
        if dim == 0 or (dim == 1 and shapely.length(part) > 1e-8) or \
                (dim == 2 and shapely.area(part) > 1e-14):
            out.append(c)
    return out


def _merge_layers(parts: list[LayerResult]) -> LayerResult:
    """One layer's results from several regions (each checked on its own part)."""
    if len(parts) == 1:
        return parts[0]
    worst = max(parts, key=lambda lr: SEVERITY[lr.state])
    m = replace(worst, hits=[h for lr in parts for h in lr.hits],
                notes=list(dict.fromkeys(n for lr in parts for n in lr.notes)),
                within_radius=sorted({f for lr in parts for f in lr.within_radius}))
    m.rule = ",".join(dict.fromkeys(lr.rule for lr in parts if lr.state == worst.state))
    m.overlap_m2 = sum(lr.overlap_m2 for lr in parts)
    m.overlap_length_m = sum(lr.overlap_length_m for lr in parts)
    m.share = min(sum(lr.share for lr in parts), 1.0)
    rels = {lr.relation for lr in parts}
    if rels == {"within"}:
        m.relation = "within"
    elif rels - {"none", "touches"}:
        m.relation = next(r for r in ("crosses", "contains_point", "overlaps", "within")
                          if r in rels)
        m.relation = "overlaps" if m.relation == "within" else m.relation
    else:
        m.relation = "touches" if "touches" in rels else "none"
    near = [(lr.nearest_m, lr.nearest_id) for lr in parts if lr.nearest_m is not None]
    if near:
        m.nearest_m, m.nearest_id = min(near, key=lambda t: t[0])
    return m


def _merge_access(parts: list[dict | None]) -> dict | None:
    from zoning.rules.access import OUTCOMES

    have: list[dict] = [a for a in parts if a]
    if len(have) <= 1:
        return have[0] if have else None
    return {"units": [u for a in have for u in a["units"]],
            "outcome": max((a["outcome"] for a in have), key=OUTCOMES.index),
            "findings": [f for a in have for f in a["findings"]]}


def _merge_regions(p: Project, results: list[CheckResult], cats: list[Catalog],
                   cache: IndexCache, opts: CheckOptions) -> CheckResult:
    """A footprint checked in every region it touches: results merged per layer.

    The part outside every region's coverage is one 数据缺失 row with its area; the
    overall verdict is the most severe of all, so a known 禁止 is never hidden.
    """
    bad = [r for r in results if not r.ok]
    if bad:
        return bad[0]
    first = results[0]
    groups: dict[tuple, list[LayerResult]] = {}
    for r in results:
        for lr in r.layers:
            if lr.kind != COVERAGE_KIND:
                groups.setdefault((lr.kind, lr.layer), []).append(lr)
    layers = [_merge_layers(g) for g in groups.values()]
    names = [c.region_name for c in cats]
    covs = [cache.coverage(c) for c in cats]
    cover = shapely.union_all([c for c in covs if c is not None])
    rest = checked_split(p.geometry, cover, OVERLAY_GRID["deg"])[0]
    area, length = measure(np.array([rest], dtype=object), GEO, opts.area_method,
                           opts.central_meridian)
    a, ln = float(area[0]), float(length[0])
    outside = (a > GAP_M2 if p.kind == "polygon" else ln > GAP_M if p.kind == "line"
               else not shapely.is_empty(rest))
    warnings = list(dict.fromkeys(w for r in results for w in r.warnings
                                  if OUTSIDE_COVERAGE not in w))
    warnings.append("项目范围跨越多个区域：已分别在" + "、".join(names) + "检查")
    if outside:
        full = first.area_m2 if p.kind == "polygon" else first.length_m
        layers.append(coverage_row(a, ln, (a if p.kind == "polygon" else ln) / full
                                   if full > 0 else 1.0, "、".join(names)))
        warnings.append(f"项目范围有部分位于所有区域的{OUTSIDE_COVERAGE}")
    state, basis = overall(layers)
    return replace(first, region="+".join(c.region_id for c in cats), layers=layers,
                   warnings=warnings, state=state, basis=basis,
                   access=_merge_access([r.access for r in results]),
                   landuse=merge_breakdowns([r.landuse for r in results],
                                            p.attrs.get("landuse_declared")))


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
    """The results of a screening, one per input row, in input order.

    Iterating it gives the :class:`~zoning.results.CheckResult` objects.
    """

    results: list[CheckResult]
    overlaps: list[dict] = field(default_factory=list)

    def __iter__(self) -> Iterator[CheckResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, i: int) -> CheckResult:
        return self.results[i]

    @property
    def counts(self) -> dict:
        out = {"rows": len(self.results), "ok": sum(r.ok for r in self.results),
               "error": sum(not r.ok for r in self.results)}
        for s in State:
            out[s.value] = sum(r.state == s for r in self.results)
        return out

    def verdict_counts(self) -> list[tuple[str, str, int]]:
        """(words, state code, rows) per overall verdict as the rows read, mildest first:
        不涉及 and 未发现冲突 are counted apart though both are ``not_intersecting``."""
        from collections import Counter

        c = Counter((r.state, r.state_zh) for r in self.results if r.ok and r.state)
        return [(words, state.value, n) for (state, words), n in
                sorted(c.items(), key=lambda kv: (list(State).index(kv[0][0]), kv[0][1]))]


def projects_from_table(projects: gpd.GeoDataFrame) -> list[Project]:
    """The projects of a project table, footprints in EPSG:4490 (the table's CRS honoured)."""
    if projects.crs is not None and projects.crs.to_epsg() != 4490 and len(projects):
        geo = projects.to_crs("EPSG:4490")
    else:
        geo = projects
    geom_col = geo.geometry.name
    # rows as dicts from the columns' lists (Python values, as to_dict("records") gives,
    # in a fifth of its time: this runs before a batch is split over threads)
    names = [str(c) for c in geo.columns]
    if len(set(names)) < len(names):
        recs = geo.to_dict("records")
    else:
        cols = [geo[c].tolist() for c in geo.columns]
        recs = [dict(zip(names, vals)) for vals in zip(*cols)]
    return [Project.from_record(rec, geom_col) for rec in recs]


def check(footprint, catalog=None, *, crs=None, coord_sys: str | None = None,
          region: str | None = None, options: CheckOptions | None = None,
          project_id: str = "", name: str = "", **attributes) -> CheckResult:
    """Check one footprint against every screening layer of its region.

    Parameters
    ----------
    footprint : shapely geometry, GeoSeries or GeoDataFrame
        The site; a series or frame's features form one footprint.
    catalog : Catalog, path, list of catalogs, or None
        The layer catalogs (default: the bundled ones).
    crs : CRS-like, optional
        The footprint's CRS when it is a bare geometry (default EPSG:4490).
    coord_sys : {"cgcs2000", "wgs84", "gcj02", "bd09"}, optional
        Convert GCJ-02 (高德/腾讯) or BD-09 (百度) lon/lat; never automatic.
    **attributes
        ``takes_land`` (bool), ``activity`` (有限人为活动 category 1–10),
        ``major_project`` (e.g. ``"transport"``), ``project_type`` (e.g.
        ``"industrial_park"``), ``industry`` (GB/T 4754 code), ``nature``
        (新建/扩建), ``energy_tce``.

    Returns
    -------
    CheckResult
        Overall state, per-layer results with areas and legal basis.

    Raises
    ------
    InputError
        For an unknown attribute name or a value that cannot be parsed.

    Examples
    --------
    >>> from shapely import Point
    >>> r = check(Point(106.5, 26.9), region="guiyang")
    >>> r.geometry_type, r.region
    ('point', 'guiyang')
    """
    unknown = set(attributes) - set(ATTRIBUTES)
    if unknown:
        raise InputError(f"未知的项目属性 {sorted(unknown)}；可用的属性："
                         f"{list(ATTRIBUTES)}")
    if isinstance(footprint, (gpd.GeoDataFrame, gpd.GeoSeries)):
        crs = crs or footprint.crs
        geoms = np.asarray(footprint.geometry.values if isinstance(
            footprint, gpd.GeoDataFrame) else footprint.values)
        footprint = shapely.union_all(geoms) if len(geoms) > 1 else geoms[0]
    geom, kind, warnings = normalise(footprint, crs if crs is not None else "EPSG:4490",
                                     coord_sys)
    rec = dict(row=1, project_id=project_id or "1", name=name, geometry=geom, kind=kind,
               warnings=warnings, **{a: attributes.get(a) for a in ATTRIBUTES},
               lonlat_undeclared=lonlat_undeclared(
                   footprint, crs if crs is not None else "EPSG:4490", coord_sys),
               edge_crs=edge_crs(footprint, crs if crs is not None else "EPSG:4490"))
    project = Project.from_record(rec)
    if project.status != "ok":
        raise InputError(project.error)
    return screen_projects([project], catalog, region=region, options=options).results[0]


def screen(projects: gpd.GeoDataFrame, catalog=None, *, region: str | None = None,
           options: CheckOptions | None = None, chunk_size: int = 500,
           progress: Callable[[int], None] | None = None, threads: int = 1) -> ScreenResult:
    """Check every row of a project table (see :func:`zoning.io.projects.project_table`).

    Rows with ``status == "error"`` pass through with their reason.  Valid rows
    are grouped by region and checked in independent chunks of
    ``chunk_size`` (the unit of work a scale-out engine distributes).
    ``progress(n)`` is called after each chunk with the number of rows done.
    Footprints are chunked in spatial order; ``threads`` > 1 runs chunks on a
    thread pool (see :mod:`zoning.batch`).
    Row count in equals row count out, in input order.  A table in a projected
    CRS is converted to EPSG:4490 first.

    Examples
    --------
    >>> from zoning.io.projects import project_table
    >>> from shapely import Point
    >>> table = project_table([dict(row=1, project_id="A", geometry=Point(106.5, 26.9))])
    >>> [r.project_id for r in screen(table, region="guiyang")]
    ['A']
    """
    return screen_projects(projects_from_table(projects), catalog, region=region,
                           options=options, chunk_size=chunk_size, progress=progress,
                           threads=threads)


def _prevalidated(p: Project, plain: bool = False) -> Project:
    """The project with its footprint checked before any GEOS operation runs on it.

    Footprints from the readers are already normalised; a table built by hand
    may hold anything, and some broken geometries (an EMPTY part of a
    multipolygon) crash GEOS outright, killing the process or a dask worker.
    Raises :class:`DataError` for a footprint that cannot be checked.  ``plain``:
    :func:`~zoning.footprints.plain_footprints` found it a plain point or polygon that
    passes every check unchanged (a batch's common case, checked for all rows at once).
    """
    from dataclasses import replace

    from zoning.footprints import PLAIN_KINDS, check_measure, geometry_kind, validate_geometry

    if plain:
        kind = PLAIN_KINDS[int(shapely.get_type_id(p.geometry))]
        return p if kind == p.kind else replace(p, kind=kind)
    geom, warnings = validate_geometry(p.geometry)
    kind = geometry_kind(geom)
    if not shapely.is_valid(geom):
        raise DataError(f"项目范围的几何无效（{shapely.is_valid_reason(geom)}）")
    check_measure(geom, kind)
    if geom is p.geometry and not warnings and kind == p.kind:
        return p
    return replace(p, geometry=geom, kind=kind, warnings=list(p.warnings) + warnings)


def _error_result(p: Project, error: str) -> CheckResult:
    return CheckResult(row=p.row, project_id=p.project_id, name=p.name, status="error",
                       error=error, warnings=list(p.warnings))


def _reason(e: Exception) -> str:
    if isinstance(e, ZoningError):
        return str(e)
    return f"the check failed on this footprint ({type(e).__name__}: {str(e)[:200]})"


def _check_isolated(index: RegionIndex, chunk: list[Project], opts: CheckOptions,
                    overlaps: list[dict]) -> list[CheckResult]:
    """Check a chunk; if it raises, check its rows one by one so only a bad row fails.

    A row that still raises becomes an error row with the reason; its
    neighbours are checked as usual (rows in = rows out, always).
    """
    try:
        results, ov = check_chunk(index, chunk, opts)
    except Exception as e:
        if isinstance(e, (MemoryError, DatabaseError)):
            raise  # not a row's fault: the run stops with the message
        log.warning("a chunk of %d rows failed (%s); checking its rows one by one",
                    len(chunk), type(e).__name__)
    else:
        overlaps.extend(ov)
        return results
    out = []
    for p in chunk:
        try:
            results, ov = check_chunk(index, [p], opts)
        except (MemoryError, DatabaseError):
            raise
        except Exception as e:
            log.debug("row %s failed", p.row, exc_info=True)
            out.append(_error_result(p, _reason(e)))
        else:
            overlaps.extend(ov)
            out.extend(results)
    return out


def screen_projects(projects: Iterable[Project], catalog=None, *, region: str | None = None,
                    options: CheckOptions | None = None, chunk_size: int = 500,
                    progress: Callable[[int], None] | None = None,
                    cache: IndexCache | None = None, threads: int = 1) -> ScreenResult:
    """Check a list of :class:`~zoning.project.Project` objects (see :func:`screen`).

    A footprint is checked in every region whose coverage it enters; the
    results are merged per layer (see :func:`_merge_regions`).  Lon/lat inputs
    whose coordinate type was not declared are checked once more as GCJ-02
    (高德/腾讯) and warned about where the verdict or the features hit would differ.
    """
    opts = options or CheckOptions()
    cache = cache or INDEX_CACHE
    projects = list(projects)
    cats = _catalogs(catalog, region)
    out, overlaps = _run(projects, cats, cache, opts, chunk_size, progress, threads)
    _gcj02_hints(projects, out, cats, cache, opts, chunk_size)
    for r in out:
        r.area_method = opts.area_label
    return ScreenResult(results=out, overlaps=overlaps)


def _route(projects: list[Project], cats: list[Catalog], cache: IndexCache,
           out: list, progress) -> tuple[dict[str, list[int]], dict[int, list[Catalog]]]:
    """Positions per region, and the footprints that span several regions."""
    from zoning.footprints import plain_footprints

    by_region: dict[str, list[int]] = {}
    several: dict[int, list[Catalog]] = {}
    try:
        plain = plain_footprints([p.geometry if p.ok else None for p in projects])
    except Exception:  # noqa: BLE001 - every row then takes the per-footprint checks
        log.debug("batch pre-check failed; checking footprints one by one", exc_info=True)
        plain = np.zeros(len(projects), dtype=bool)
    for pos, p in enumerate(projects):
        if not p.ok:
            out[pos] = _error_result(p, p.error or "no footprint")
            continue
        try:
            projects[pos] = p = _prevalidated(p, bool(plain[pos]))
            touched = _regions_of(p.geometry, cats, cache)
        except Exception as e:  # a footprint GEOS cannot handle: this row only
            out[pos] = _error_result(p, _reason(e))
            continue
        if not touched:
            out[pos] = CheckResult(
                row=p.row, project_id=p.project_id, name=p.name, geometry_type=p.kind,
                state=State.DATA_MISSING, warnings=list(p.warnings),
                basis=["项目不在任何图层目录的覆盖范围内：无数据，不能判定（数据缺失）。"],
                attributes=dict(p.attrs))
            if progress:
                progress(1)
            continue
        for cat in touched:
            by_region.setdefault(cat.region_id, []).append(pos)
        if len(touched) > 1:
            several[pos] = touched
    return by_region, several


def _run(projects: list[Project], cats: list[Catalog], cache: IndexCache, opts: CheckOptions,
         chunk_size: int, progress, threads: int = 1) -> tuple[list[CheckResult], list[dict]]:
    out: list[CheckResult | None] = [None] * len(projects)
    overlaps: list[dict] = []
    by_region, several = _route(projects, cats, cache, out, progress)
    parts: dict[int, list[CheckResult]] = {}
    cat_by_id = {c.region_id: c for c in cats}
    for rid, positions in by_region.items():
        index = cache.load(cat_by_id[rid], opts)
        plist = [projects[i] for i in positions]

        def isolated(idx: RegionIndex, chunk: list[Project]) -> tuple[list, list]:
            ov: list[dict] = []
            return _check_isolated(idx, chunk, opts, ov), ov

        for sel, checked, ov in run_chunks(index, plist, opts, chunk_size, threads,
                                           check=isolated):
            overlaps.extend(ov)
            chunk = [positions[i] for i in sel]
            for i, r in zip(chunk, checked):
                if i in several:
                    parts.setdefault(i, []).append(r)
                else:
                    out[i] = r
            if progress:
                progress(sum(p not in several for p in chunk))
    for pos, touched in several.items():
        out[pos] = _merge_regions(projects[pos], parts[pos], touched, cache, opts)
        if progress:
            progress(1)
    done = [r for r in out if r is not None]
    if len(done) != len(out):  # pragma: no cover - a broken invariant, not bad data
        raise ZoningError("internal error: a row was lost in screening")
    return done, overlaps


def _gcj02_hints(projects: list[Project], out: list[CheckResult], cats: list[Catalog],
                 cache: IndexCache, opts: CheckOptions, chunk_size: int) -> None:
    """Check undeclared lon/lat once more as GCJ-02; warn where the answer would differ."""
    pos = [k for k, p in enumerate(projects) if p.ok and p.lonlat_undeclared and out[k].ok]
    if not pos:
        return
    alt = []
    for k in pos:
        p = projects[k]
        g = shapely.transform(p.geometry, lambda xy: np.column_stack(
            gcj02_to_wgs84(xy[:, 0], xy[:, 1])))
        alt.append(replace(p, geometry=g, warnings=[], lonlat_undeclared=False))
    alt_out, _ = _run(alt, cats, cache, replace(opts, keep_geometry=False), chunk_size, None)
    for k, r in zip(pos, alt_out):
        diff = _difference(out[k], r)
        if diff:
            out[k].warnings.append("若坐标取自高德/腾讯地图（GCJ-02），结论将不同：" + "；".join(diff) +
                                   "。请确认坐标类型（坐标类型列或 coord_sys）。")


def _ids(ids: list[str]) -> str:
    return ", ".join(ids[:5]) + (f" 等 {len(ids)} 个" if len(ids) > 5 else "")


def _hit_sets(r: CheckResult) -> dict[str, set[str]]:
    return {f"{lr.kind_zh}（{lr.layer}）": {h.feature_id for h in lr.hits} for lr in r.layers
            if lr.kind not in ("shoreline", COVERAGE_KIND)}


def _difference(r: CheckResult, alt: CheckResult) -> list[str]:
    """How the result of the GCJ-02 reading differs (verdict, then features hit)."""
    out: list[str] = []
    if not alt.ok:
        return out
    if r.state != alt.state:
        out.append(f"总体结论 {r.state_zh or '-'} → {alt.state_zh or '-'}")
    mine, theirs = _hit_sets(r), _hit_sets(alt)
    for layer in dict.fromkeys(list(mine) + list(theirs)):
        a, b = mine.get(layer, set()), theirs.get(layer, set())
        if a != b:
            more, fewer = sorted(b - a), sorted(a - b)
            out.append(f"{layer} " + "，".join(
                ([f"另涉及 {_ids(more)}"] if more else []) +
                ([f"不再涉及 {_ids(fewer)}"] if fewer else [])))
    return out
