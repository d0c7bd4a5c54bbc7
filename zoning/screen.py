"""The library's entry points: :func:`check` one footprint, :func:`screen` a project table.

This module wires the parts together: catalogs (:mod:`zoning.catalog`) are read
through :mod:`zoning.io`, indexed and checked by :mod:`zoning.engine`, and kept
warm in an :class:`IndexCache`.

>>> from shapely import box
>>> r = check(box(106.60, 26.40, 106.61, 26.41), industry="C2614")
>>> r.state.value in {"prohibited", "data_missing", "not_intersecting",
...                   "crossing_no_land_use", "needs_limited_activity_certification",
...                   "needs_major_project_approval"}
True
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from zoning.batch import run_chunks
from zoning.catalog import SCREENING_KINDS, Catalog, LayerSpec, resolve_catalogs
from zoning.engine.index import EXTRA_KINDS, RegionIndex, work_crs_for
from zoning.engine.overlay import check_chunk
from zoning.errors import DatabaseError, DataError, InputError, ZoningError
from zoning.footprints import normalise
from zoning.options import CheckOptions
from zoning.project import ATTRIBUTES, Project
from zoning.results import CheckResult, State

__all__ = ["check", "screen", "load_index", "ScreenResult", "CheckOptions", "IndexCache",
           "projects_from_table"]

log = logging.getLogger(__name__)

_INDEXED_KINDS = ("districts",) + tuple(SCREENING_KINDS) + ("shoreline",) + EXTRA_KINDS


def _stamp(path: Path | None) -> tuple:
    """(path, mtime_ns, size) of a file or of every file in a folder; None parts if absent."""
    if path is None:
        return (None,)
    p = Path(path)
    try:
        if p.is_dir():
            return tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size)
                         for f in sorted(p.iterdir()) if f.is_file())
        st = p.stat()
        return (str(p), st.st_mtime_ns, st.st_size)
    except OSError:
        return (str(p), None, None)


def _spec_stamp(spec: LayerSpec) -> tuple:
    if not spec.path:
        return (repr(spec.postgis),)
    from zoning.io.store import store_paths

    # a rebuilt prepared store (its sidecar is written last) refreshes the index too
    stamp = _stamp(spec.path) + _stamp(store_paths(spec)[1])
    if isinstance(spec.rules, Path):  # a constraint layer's own rule file
        stamp += _stamp(spec.rules)
    return stamp


class IndexCache:
    """Region indexes and coverage polygons kept warm, least recently used first out.

    Keys hold the catalog's path and the modification time and size of every
    layer, rule and access file, so an edited file is read again.  Evicted
    indexes close their remote sources (database connections).
    """

    def __init__(self, size: int = 3):
        self.size = size
        self._indexes: OrderedDict[tuple, RegionIndex] = OrderedDict()
        self._districts: dict[tuple, Any] = {}
        self._lock = threading.RLock()

    def _key(self, cat: Catalog, options: CheckOptions) -> tuple:
        stamps = tuple(_spec_stamp(s) for s in cat.layers.values())
        return (str(cat.path), _stamp(cat.path), stamps, options.subdivide_vertices,
                _stamp(cat.rules), _stamp(cat.access_rules))

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
            return self._districts[key]

    def coverage(self, cat: Catalog):
        """Union of a catalog's district polygons in EPSG:4490, prepared (None if none)."""
        frame, _ = self.districts(cat)
        if frame is None:
            return None
        cov = frame.attrs.get("_coverage_geo")
        if cov is None:
            cov = shapely.union_all(frame.to_crs("EPSG:4490").geometry.values)
            shapely.prepare(cov)
            frame.attrs["_coverage_geo"] = cov
        return cov

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
            if spec.postgis and spec.kind not in ("districts", "shoreline"):
                # big layers stay in the database: features are fetched per chunk
                remote[spec.name] = open_layer_source(spec)
                continue
            near = _near_source(spec, work, opts)
            if near is None:
                frames[spec.name] = read_layer(spec)
            elif near.meta.get("pieces", 0) <= STORE_IN_MEMORY:  # small: kept whole
                frames[spec.name] = near.load_all()
                near.close()
            else:  # a big prepared store: features are read per chunk
                remote[spec.name] = near
        except ZoningError as e:
            log.warning("layer %s of %s left out: %s", spec.name, catalog.region_id, e)
            problems.append(str(e))
    if not frames and not remote:
        raise DataError("no layer of the catalog could be read: " + "; ".join(problems),
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


def _near_source(spec: LayerSpec, work, opts: CheckOptions):
    """A per-chunk source for a big file layer with a fresh prepared store, else None."""
    from zoning.prepare import STORE_KINDS

    if work is None or spec.path is None or spec.kind not in STORE_KINDS:
        return None
    from zoning.io.store import open_store

    return open_store(spec, work, opts.subdivide_vertices)


#: the process-wide cache used by :func:`check`, :func:`screen` and :func:`load_index`
INDEX_CACHE = IndexCache()


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


def _pick_region(geom, cats: list[Catalog], cache: IndexCache) -> Catalog | None:
    if len(cats) == 1:
        return cats[0]  # the check itself reports any part outside its coverage
    for c in cats:  # the common case: inside one region (a prepared test, fast)
        cov = cache.coverage(c)
        if cov is not None and shapely.covers(cov, geom):
            return c
    best, best_score = None, 0.0
    for c in cats:
        cov = cache.coverage(c)
        if cov is None or not shapely.intersects(cov, geom):
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


def projects_from_table(projects: gpd.GeoDataFrame) -> list[Project]:
    """The projects of a project table, footprints in EPSG:4490 (the table's CRS honoured)."""
    if projects.crs is not None and projects.crs.to_epsg() != 4490 and len(projects):
        geo = projects.to_crs("EPSG:4490")
    else:
        geo = projects
    geom_col = geo.geometry.name
    recs = geo.to_dict("records")
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
        raise InputError(f"unknown project attribute(s) {sorted(unknown)}; known: "
                         f"{list(ATTRIBUTES)}")
    if isinstance(footprint, (gpd.GeoDataFrame, gpd.GeoSeries)):
        crs = crs or footprint.crs
        geoms = np.asarray(footprint.geometry.values if isinstance(
            footprint, gpd.GeoDataFrame) else footprint.values)
        footprint = shapely.union_all(geoms) if len(geoms) > 1 else geoms[0]
    geom, kind, warnings = normalise(footprint, crs if crs is not None else "EPSG:4490",
                                     coord_sys)
    rec = dict(row=1, project_id=project_id or "1", name=name, geometry=geom, kind=kind,
               warnings=warnings, **{a: attributes.get(a) for a in ATTRIBUTES})
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


def _prevalidated(p: Project) -> Project:
    """The project with its footprint checked before any GEOS operation runs on it.

    Footprints from the readers are already normalised; a table built by hand
    may hold anything, and some broken geometries (an EMPTY part of a
    multipolygon) crash GEOS outright, killing the process or a dask worker.
    Raises :class:`DataError` for a footprint that cannot be checked.
    """
    from dataclasses import replace

    from zoning.footprints import check_measure, geometry_kind, validate_geometry

    geom, warnings = validate_geometry(p.geometry)
    kind = geometry_kind(geom)
    if not shapely.is_valid(geom):
        raise DataError(f"invalid footprint geometry ({shapely.is_valid_reason(geom)})")
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
    """Check a list of :class:`~zoning.project.Project` objects (see :func:`screen`)."""
    opts = options or CheckOptions()
    cache = cache or INDEX_CACHE
    projects = list(projects)
    cats = _catalogs(catalog, region)
    out: list[CheckResult | None] = [None] * len(projects)
    overlaps: list[dict] = []
    by_region: dict[str, list[int]] = {}
    cat_by_id = {c.region_id: c for c in cats}
    for pos, p in enumerate(projects):
        if not p.ok:
            out[pos] = _error_result(p, p.error or "no footprint")
            continue
        try:
            projects[pos] = p = _prevalidated(p)
            cat = _pick_region(p.geometry, cats, cache)
        except Exception as e:  # a footprint GEOS cannot handle: this row only
            out[pos] = _error_result(p, _reason(e))
            continue
        if cat is None:
            out[pos] = CheckResult(
                row=p.row, project_id=p.project_id, name=p.name, geometry_type=p.kind,
                state=State.DATA_MISSING, warnings=list(p.warnings),
                basis=["项目不在任何图层目录的覆盖范围内：无数据，不能判定（数据缺失）。"],
                attributes=dict(p.attrs))
            if progress:
                progress(1)
            continue
        by_region.setdefault(cat.region_id, []).append(pos)
    for rid, positions in by_region.items():
        index = cache.load(cat_by_id[rid], opts)
        plist = [projects[i] for i in positions]

        def isolated(idx: RegionIndex, chunk: list[Project]) -> tuple[list, list]:
            ov: list[dict] = []
            return _check_isolated(idx, chunk, opts, ov), ov

        for sel, results, ov in run_chunks(index, plist, opts, chunk_size, threads,
                                           progress, check=isolated):
            for i, r in zip(sel, results):
                out[positions[i]] = r
            overlaps.extend(ov)
    done = [r for r in out if r is not None]
    if len(done) != len(out):  # pragma: no cover - a broken invariant, not bad data
        raise ZoningError("internal error: a row was lost in screening")
    return ScreenResult(results=done, overlaps=overlaps)
