"""The check: footprints against indexed layers → per-layer results and verdicts.

Pure computation: it takes normalised frames (see :mod:`zoning.io.layers`) and
footprints in EPSG:4490, never paths.

How it works
------------
* Each layer is reprojected once into the region's *work CRS* (the CGCS2000
  3° Gauss–Krüger zone of the region, planar metres).  Polygons with more
  than ``subdivide_vertices`` vertices are cut into pieces (a quadtree of
  rectangles, as PostGIS ``ST_Subdivide`` does) and every piece remembers its
  feature.  One STRtree indexes the pieces.
* A chunk of footprints is bulk-queried against the tree; exact
  intersections are computed only for candidate pairs (vectorised shapely).
* Areas and lengths are reported either **ellipsoidal** (default: geodesic on
  the CGCS2000/GRS80 ellipsoid, as the national land survey computes 椭球面积)
  or **gk** (planar, in the 3° Gauss–Krüger zone of the footprint's own
  centroid).  Distances are planar in the work CRS (error < 0.1 % in zone).
* Touching is not overlapping: an intersection of area ≤ ``tolerance_m2``
  (or length ≤ ``tolerance_m`` for lines) counts as touching.  Overlaps
  smaller than ``min_report_m2`` are noted but do not trigger a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Geod

from zoning.catalog import KINDS, Catalog
from zoning.crs import gk3_epsg, reproject, transformer
from zoning.errors import DataError
from zoning.results import CheckResult, FeatureHit, LayerResult, State, most_severe
from zoning.rules.three_lines import Facts, RuleSet

__all__ = ["CheckOptions", "LayerIndex", "RegionIndex", "subdivide", "check_chunk"]

GEO = CRS.from_epsg(4490)
_GEOD = Geod(ellps="GRS80")  # the CGCS2000 ellipsoid (same a, f to 1e-10)
SCREEN_KINDS = ("eco_redline", "farmland", "urban_boundary", "protected_area", "control_unit",
                "shoreline")
_ZONE_FIELD = {"eco_redline": "pa_zone", "protected_area": "zone"}
_OVERLAPPING = {"protected_area"}  # designations overlap: totals are unions, not sums
_ATTR_FIELDS = {
    "eco_redline": ("name", "county", "type", "pa_name", "pa_zone"),
    "farmland": ("county", "land_class"),
    "urban_boundary": ("county", "partition"),
    "protected_area": ("name", "zone", "pa_type", "level"),
    "control_unit": ("name", "unit_class", "county"),
    "shoreline": ("river", "basin", "order", "bank"),
}


@dataclass
class CheckOptions:
    area_method: str = "ellipsoidal"  # ellipsoidal | gk
    tolerance_m2: float = 1e-4  # geometric: at or below this, polygons only touch
    tolerance_m: float = 1e-4  # the same for line overlap lengths
    min_report_m2: float = 0.0  # reporting threshold for overlap areas
    radius_m: float = 0.0  # list features within this distance (setback rules)
    subdivide_vertices: int = 256
    keep_geometry: bool = False  # keep overlap geometries (for the GeoPackage output)

    def __post_init__(self):
        if self.area_method not in ("ellipsoidal", "gk"):
            raise ValueError("area_method must be 'ellipsoidal' or 'gk'")
        if self.min_report_m2 < 0 or self.tolerance_m2 < 0 or self.radius_m < 0:
            raise ValueError("tolerances, thresholds and radius must be ≥ 0")


# --------------------------------------------------------------------------- geometry


_CUT = 0.5 + 1.0 / 7919.0  # off-centre cut position
_MAX_DEPTH = 24


def subdivide(geoms, max_vertices: int = 256):
    """Cut polygons into pieces of at most ``max_vertices`` vertices.

    Returns ``(pieces, parent)``: the pieces and, for each, the index of the
    input geometry it came from.  Pieces of one input do not overlap, so areas
    add up exactly.  Lines and small polygons pass through unchanged.
    """
    geoms = np.asarray(geoms, dtype=object)
    n = shapely.get_num_coordinates(geoms)
    small = np.flatnonzero(n <= max_vertices)
    out, parent = [], []
    stack = [(geoms[i], int(i), 0) for i in np.flatnonzero(n > max_vertices)]
    while stack:
        g, i, depth = stack.pop()
        if shapely.get_num_coordinates(g) <= max_vertices or shapely.get_dimensions(g) < 2 \
                or depth >= _MAX_DEPTH:
            out.append(g)
            parent.append(i)
            continue
        x0, y0, x1, y1 = g.bounds
        # cut slightly off the midpoint, so that cut lines practically never coincide
        # with real (often axis-aligned, round-numbered) footprint edges
        if x1 - x0 >= y1 - y0:
            xm = x0 + (x1 - x0) * _CUT
            boxes = [(x0, y0, xm, y1), (xm, y0, x1, y1)]
        else:
            ym = y0 + (y1 - y0) * _CUT
            boxes = [(x0, y0, x1, ym), (x0, ym, x1, y1)]
        for b in boxes:
            part = shapely.intersection(g, shapely.box(*b))
            part = _polygonal(part)
            if part is not None:
                stack.append((part, i, depth + 1))
    pieces = np.empty(len(small) + len(out), dtype=object)
    pieces[:len(small)] = geoms[small]
    pieces[len(small):] = out
    return pieces, np.concatenate([small, np.array(parent, dtype=np.int64)])


def _polygonal(g):
    if g is None or g.is_empty:
        return None
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")
             and not p.is_empty]
    if not parts:
        return None
    return shapely.union_all(parts)


def _to_geo(geoms, crs):
    return reproject(geoms, crs, GEO)


def _geod_length(g) -> float:
    if g is None or g.is_empty:
        return 0.0
    return float(_GEOD.geometry_length(g))


def _gk_zone_of(crs: CRS) -> int | None:
    """3° zone number of a CGCS2000 GK CRS (prefixed or not), else None."""
    epsg = crs.to_epsg() or 0
    if 4513 <= epsg <= 4533:
        return epsg - 4513 + 25
    if 4534 <= epsg <= 4554:
        return epsg - 4534 + 25
    return None


def measure(geoms, crs, method: str):
    """(area m², length m) of geometries in ``crs`` by the chosen method.

    ellipsoidal: areas in a Lambert azimuthal equal-area projection of the GRS80
    ellipsoid about the batch centre (exactly equal-area; edges densified to
    100 m so chord effects stay below 1e-6), lengths geodesic.
    gk: planar in the 3° Gauss–Krüger zone of each geometry's own centroid.
    """
    crs = CRS.from_user_input(crs)
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return np.zeros(0), np.zeros(0)
    dims = shapely.get_dimensions(geoms)
    area = np.zeros(len(geoms))
    length = np.zeros(len(geoms))
    if method == "ellipsoidal":
        poly = np.flatnonzero((dims == 2) & ~shapely.is_empty(geoms))
        if len(poly):
            # the projection centre is each geometry's own centroid snapped to a 0.5° grid,
            # so an area never depends on which other geometries share the batch
            cen = shapely.centroid(geoms[poly])
            lon, lat = transformer(crs, GEO).transform(shapely.get_x(cen), shapely.get_y(cen))
            keys = np.round(np.column_stack([lon, lat]) * 2) / 2
            step = 0.001 if crs.is_geographic else 100.0
            for lon0, lat0 in np.unique(keys, axis=0):
                sel = poly[(keys[:, 0] == lon0) & (keys[:, 1] == lat0)]
                laea = f"+proj=laea +lat_0={lat0} +lon_0={lon0} +ellps=GRS80 +units=m +no_defs"
                dense = shapely.segmentize(geoms[sel], step)
                area[sel] = shapely.area(reproject(dense, crs, laea))
        line = dims == 1
        if line.any():
            geo = _to_geo(geoms[line], crs)
            length[line] = [_geod_length(g) for g in geo]
        return area, length
    # gk: the zone of each geometry's centroid; no reprojection when it is the CRS's own zone
    live = np.flatnonzero(~shapely.is_empty(geoms))
    if not len(live):
        return area, length
    cen = shapely.centroid(geoms[live])
    lon, _ = transformer(crs, GEO).transform(shapely.get_x(cen), shapely.get_y(cen))
    zones = np.round(np.asarray(lon) / 3.0).astype(int)
    own = _gk_zone_of(crs)
    for zone in np.unique(zones):
        sel = live[zones == zone]
        if zone == own:
            g = geoms[sel]
        else:
            g = reproject(geoms[sel], crs, f"EPSG:{int(4534 + zone - 25)}")
        d = shapely.get_dimensions(g)
        area[sel] = np.where(d == 2, shapely.area(g), 0.0)
        length[sel] = np.where(d == 1, shapely.length(g), 0.0)
    return area, length


# --------------------------------------------------------------------------- index


@dataclass
class LayerIndex:
    name: str
    kind: str
    frame: gpd.GeoDataFrame  # in work CRS
    pieces: np.ndarray
    parent: np.ndarray
    tree: shapely.STRtree
    version: str = ""
    source: str = ""

    @classmethod
    def build(cls, name: str, kind: str, frame: gpd.GeoDataFrame, work_crs,
              max_vertices: int = 256, version: str = "", source: str = "") -> "LayerIndex":
        f = frame.to_crs(work_crs) if frame.crs and not CRS(frame.crs).equals(work_crs) \
            else frame
        f = f.reset_index(drop=True)
        geoms = np.asarray(f.geometry.values, dtype=object)
        if KINDS[kind].geometry == "polygon":
            odd = np.flatnonzero(~np.isin(shapely.get_type_id(geoms), (3, 6)))  # not polygonal
            if len(odd):
                geoms = geoms.copy()
                geoms[odd] = [_polygonal(g) or shapely.Polygon() for g in geoms[odd]]
                f = f.set_geometry(geoms)
        pieces, parent = subdivide(geoms, max_vertices) if max_vertices else \
            (geoms, np.arange(len(geoms)))
        return cls(name=name, kind=kind, frame=f, pieces=pieces, parent=parent,
                   tree=shapely.STRtree(pieces), version=version, source=source)

    def __post_init__(self):
        # plain arrays: per-feature pandas access is far too slow in the hot loop
        self.ids = np.asarray(self.frame["_id"].values, dtype=object)
        self.attr_arrays = {c: np.asarray(self.frame[c].values, dtype=object)
                            for c in _ATTR_FIELDS.get(self.kind, ()) if c in self.frame.columns}

    def feature_attrs(self, k: int) -> dict:
        out = {}
        for c, arr in self.attr_arrays.items():
            v = arr[k]
            out[c] = None if v is None else (v if isinstance(v, (int, float)) else str(v))
        return out


@dataclass
class RegionIndex:
    region: str
    region_name: str
    work_crs: CRS
    layers: dict  # kind -> [LayerIndex]
    coverage: object  # union of the district polygons in work CRS, or None
    coverage_geo: object
    rules: RuleSet
    missing: list = field(default_factory=list)  # screening kinds with no layer
    problems: list = field(default_factory=list)  # layers that could not be read
    access: object = None  # AccessRules (三线一单 准入清单), or None
    _shore_cache: dict = field(default_factory=dict)

    def shoreline_distance(self, fp_work, spatial: dict):
        """Distance (m) from a footprint to the shoreline features a rule selects, or None."""
        key = repr(sorted((k, v) for k, v in spatial.items() if k != "within_m"))
        if key not in self._shore_cache:
            parts = []
            for li in self.layers.get("shoreline", []):
                keep = np.ones(len(li.frame), dtype=bool)
                for want, col in (("basin", "basin"), ("river", "river"), ("order", "order")):
                    if spatial.get(want):
                        vals = li.attr_arrays.get(col)
                        if vals is None:
                            keep &= False
                        else:
                            keep &= np.isin(vals.astype(str), [str(x) for x in spatial[want]])
                parts.extend(li.frame.geometry.values[keep])
            self._shore_cache[key] = shapely.union_all(parts) if parts else None
        g = self._shore_cache[key]
        return None if g is None else float(shapely.distance(fp_work, g))

    remote: dict = field(default_factory=dict)  # kind -> [(spec, PostgisSource)]

    @classmethod
    def build(cls, catalog: Catalog, frames: dict, rules: RuleSet,
              options: CheckOptions | None = None, remote: dict | None = None
              ) -> "RegionIndex":
        """``frames``: layer name → normalised frame (see :func:`sources.read_layer`);
        ``remote``: layer name → a source that fetches features per chunk (PostGIS)."""
        opts = options or CheckOptions()
        remote = remote or {}
        districts = [frames[s.name] for s in catalog.by_kind("districts") if s.name in frames]
        coverage_geo = None
        if districts:
            coverage_geo = shapely.union_all(
                np.concatenate([d.to_crs(GEO).geometry.values for d in districts]))
            lon0 = shapely.centroid(coverage_geo).x
        else:
            any_frame = next(iter(frames.values()))
            lon0 = shapely.centroid(shapely.box(*any_frame.to_crs(GEO).total_bounds)).x
        work = CRS.from_epsg(gk3_epsg(lon0, prefix=True))
        layers: dict[str, list] = {}
        for spec in catalog.layers.values():
            if spec.kind not in SCREEN_KINDS or spec.name not in frames:
                continue
            layers.setdefault(spec.kind, []).append(LayerIndex.build(
                spec.name, spec.kind, frames[spec.name], work, opts.subdivide_vertices,
                spec.version, spec.source))
        coverage = None
        if coverage_geo is not None:
            coverage = reproject(coverage_geo, GEO, work)
            shapely.prepare(coverage)
        rem: dict = {}
        for name, src in remote.items():
            spec = catalog.layers[name]
            rem.setdefault(spec.kind, []).append((spec, src))
        missing = [k for k in SCREEN_KINDS if k not in layers and k not in rem
                   and k in rules.layers]
        return cls(region=catalog.region_id, region_name=catalog.region_name, work_crs=work,
                   layers=layers, coverage=coverage, coverage_geo=coverage_geo, rules=rules,
                   missing=missing, remote=rem)

    def chunk_layers(self, kind: str, footprints_geo, options: CheckOptions) -> list:
        """The layer indexes to check a chunk against: the in-memory ones, plus, for layers
        kept in a database, an index of the features near this chunk's footprints."""
        from zoning.io.layers import normalise_layer

        out = list(self.layers.get(kind, []))
        for spec, src in self.remote.get(kind, []):
            # features within the setback radius (touching included), plus the nearest
            # few of every footprint with none there: enough for hits, distances, radius
            frame = src.fetch(footprints_geo, options.radius_m)
            frame = normalise_layer(frame, spec)
            out.append(LayerIndex.build(spec.name, kind, frame, self.work_crs,
                                        options.subdivide_vertices, spec.version, spec.source))
        return out


# --------------------------------------------------------------------------- the check


@dataclass
class _Project:
    row: int | None
    project_id: str
    name: str
    geometry: object  # EPSG:4490
    kind: str
    attrs: dict
    warnings: list


def _project_facts(p: _Project, rules: RuleSet):
    """Validate project attributes against the rule vocabularies."""
    from zoning.rules.access import normalize_industry

    a = p.attrs
    if a.get("industry") is not None:
        a["industry"] = normalize_industry(a["industry"])
    if a.get("energy_tce") is not None:
        try:
            a["energy_tce"] = float(a["energy_tce"])
        except (TypeError, ValueError):
            raise ValueError(f"energy_tce {a['energy_tce']!r} is not a number") from None
    from zoning.io.projects import parse_bool

    takes = parse_bool(a.get("takes_land"), "takes_land (是否占地)") \
        if a.get("takes_land") is not None else None
    return dict(
        takes_land=True if takes is None else takes,
        activity=rules.check_value("activity", a.get("activity")),
        major_project=rules.check_value("major_project", a.get("major_project")),
        project_type=rules.check_value("project_type", a.get("project_type")),
    )


def check_chunk(index: RegionIndex, projects: list[_Project],
                options: CheckOptions | None = None) -> tuple[list[CheckResult], list[dict]]:
    """Check a chunk of valid projects against one region.  Independent of other chunks.

    Returns the results and, if ``options.keep_geometry``, overlap records
    (project id, layer, feature id, area, geometry in EPSG:4490).
    """
    opts = options or CheckOptions()
    n = len(projects)
    results = [CheckResult(row=p.row, project_id=p.project_id, name=p.name,
                           region=index.region, geometry_type=p.kind,
                           warnings=list(p.warnings), attributes=dict(p.attrs))
               for p in projects]
    overlaps: list[dict] = []
    if n == 0:
        return results, overlaps
    facts_base = []
    ok = np.ones(n, dtype=bool)
    for k, p in enumerate(projects):
        try:
            facts_base.append(_project_facts(p, index.rules))
        except (ValueError, DataError) as e:
            results[k].status, results[k].error = "error", str(e)
            facts_base.append(None)
            ok[k] = False
    geo = np.array([p.geometry for p in projects], dtype=object)
    fps = reproject(geo, GEO, index.work_crs)
    kinds = np.array([p.kind for p in projects])
    fp_area, fp_len = measure(fps, index.work_crs, opts.area_method)
    for k in range(n):
        results[k].area_m2 = float(fp_area[k])
        results[k].length_m = float(fp_len[k])
    if index.coverage is not None:
        covered = shapely.covers(index.coverage, fps)
        # allow sub-metre boundary noise: covered if less than 1 m² / 1 m falls outside
        out_area = np.array([shapely.area(shapely.difference(f, index.coverage))
                             if not c else 0.0 for f, c in zip(fps, covered)])
        out_len = np.array([shapely.length(shapely.difference(f, index.coverage))
                            if not c and kd == "line" else 0.0
                            for f, c, kd in zip(fps, covered, kinds)])
        inside = covered | ((kinds == "polygon") & (out_area <= 1.0)) | \
            ((kinds == "line") & (out_len <= 1.0))
    else:
        inside = np.ones(n, dtype=bool)
        for r in results:
            r.warnings.append("the catalog has no districts layer: data coverage is unknown")

    per_project_layers: list[list[LayerResult]] = [[] for _ in range(n)]
    for kind in SCREEN_KINDS:
        if kind not in index.rules.layers:
            continue
        kind_zh = KINDS[kind].zh
        if kind in index.missing:
            for k in range(n):
                per_project_layers[k].append(LayerResult(
                    layer=f"({kind})", kind=kind, kind_zh=kind_zh, state=State.DATA_MISSING,
                    basis=f"目录中没有可读取的{kind_zh}图层：按数据缺失处理，不能视为不涉及。",
                    rule="missing-layer", notes=list(index.problems)))
            continue
        for li in index.chunk_layers(kind, geo, opts):
            lrs = _check_layer(li, fps, kinds, fp_area, fp_len, index, opts, overlaps,
                               projects)
            for k in range(n):
                lr, zones = lrs[k]
                if not inside[k]:
                    lr.state = State.DATA_MISSING
                    lr.rule = "outside-coverage"
                    lr.basis = (f"项目超出{index.region_name}图层数据覆盖范围：范围外的部分不能判定，"
                                "按数据缺失处理。")
                elif ok[k]:
                    f = facts_base[k]
                    facts = Facts(relation=lr.relation, zones=zones,
                                  coverage="full" if lr.share >= 1 - 1e-6 else "partial",
                                  geometry=kinds[k], **f)
                    rule = index.rules.evaluate(kind, facts)
                    lr.state, lr.rule, lr.basis = rule.state, rule.id, rule.basis
                per_project_layers[k].append(lr)
    if index.access is not None:
        for k, p in enumerate(projects):
            if ok[k] and inside[k]:
                _apply_access(index, p, fps[k], results[k], per_project_layers[k])
    failed_rows = {projects[k].row for k in range(n) if not ok[k]}
    overlaps = [o for o in overlaps if o["row"] not in failed_rows]
    if overlaps:  # overlap geometries leave the engine in EPSG:4490
        geo = _to_geo(np.array([o["geometry"] for o in overlaps], dtype=object), index.work_crs)
        for o, g in zip(overlaps, geo):
            o["geometry"] = g
    for k, r in enumerate(results):
        r.layers = per_project_layers[k]
        if r.status != "ok":
            r.layers = []
            continue
        r.state = most_severe(lr.state for lr in r.layers if lr.kind != "shoreline")
        r.basis = [f"{lr.kind_zh}（{lr.layer}）：{lr.state.zh}。{lr.basis}" for lr in r.layers
                   if lr.state == r.state and lr.kind != "shoreline"]
        if not inside[k]:
            r.warnings.append(f"footprint extends outside the {index.region_name} catalog "
                              "coverage")
    return results, overlaps


def _apply_access(index: RegionIndex, p: _Project, fp_work, result: CheckResult,
                  layers: list[LayerResult]) -> None:
    """三线一单: evaluate the access lists of every unit the footprint falls in."""
    from zoning.rules.access import UNIT_CLASS_ZH, strictest, unit_class_of
    from zoning.rules.access import evaluate as evaluate_access

    unit_layers = [lr for lr in layers if lr.kind == "control_unit" and lr.hits]
    units = []
    for lr in unit_layers:
        for h in lr.hits:
            cls = unit_class_of(h.attributes.get("unit_class"))
            if cls is None:
                cls = unit_class_of(h.feature_id[8]) if len(h.feature_id) == 13 else None
            county = str(h.attributes.get("county") or "")
            if len(county) != 6 and len(h.feature_id) == 13:
                county = h.feature_id[2:8]
            units.append(dict(code=h.feature_id, name=h.attributes.get("name") or "",
                              unit_class=cls or "general", county=county, share=h.share))
    if not units:
        return
    findings = evaluate_access(index.access, units, p.attrs,
                               lambda sp: index.shoreline_distance(fp_work, sp))
    outcome = strictest(findings)
    result.access = {
        "units": [dict(u, unit_class_zh=UNIT_CLASS_ZH[u["unit_class"]]) for u in units],
        "outcome": outcome,
        "findings": [f.to_dict() for f in findings],
    }
    worst = [f for f in findings if f.outcome == outcome and outcome != "not_applicable"]
    for lr in unit_layers:
        if outcome == "prohibited":
            lr.state = State.PROHIBITED
            lr.rule = ",".join(sorted({f.rule_id for f in worst}))
            lr.basis = "生态环境准入清单：" + "；".join(
                f"{f.unit_code} {f.rule_id}：{f.clause}（{f.source}）" for f in worst)
        elif outcome in ("restricted", "review", "required"):
            lr.notes.append(f"准入清单：{len(worst)} 条条款结论为“{worst[0].outcome_zh}”，见符合性分析表")


def _check_layer(li: LayerIndex, fps, kinds, fp_area, fp_len, index: RegionIndex,
                 opts: CheckOptions, overlaps: list, projects):
    n = len(fps)
    line_layer = KINDS[li.kind].geometry == "line"
    ii, jj = li.tree.query(fps, predicate="intersects")
    parents = li.parent[jj]
    pair_inter = shapely.intersection(fps[ii], li.pieces[jj]) if len(ii) else \
        np.array([], dtype=object)
    pa = shapely.area(pair_inter) if len(ii) else np.zeros(0)
    pl = shapely.length(pair_inter) if len(ii) else np.zeros(0)
    fk = kinds[ii] if len(ii) else np.array([], dtype=str)
    if line_layer:
        real = np.ones(len(ii), dtype=bool)  # any contact with a line counts as crossing
    else:
        if len(ii) and (fk == "line").any():
            # a line running along a polygon's edge touches it: measure the interior part
            sel = np.flatnonzero(fk == "line")
            pair_inter = pair_inter.copy()
            pair_inter[sel] = shapely.difference(pair_inter[sel],
                                                 shapely.boundary(li.pieces[jj[sel]]))
            pl = shapely.length(pair_inter)
        point_in = np.zeros(len(ii), dtype=bool)
        if len(ii) and (fk == "point").any():
            sel = np.flatnonzero(fk == "point")
            point_in[sel] = shapely.contains(li.pieces[jj[sel]], fps[ii[sel]])
        real = np.where(fk == "polygon", pa > opts.tolerance_m2,
                        np.where(fk == "line", pl > opts.tolerance_m, point_in))
    touched = np.zeros(n, dtype=bool)
    touched[ii[~real]] = True
    ii, jj, parents, pair_inter = ii[real], jj[real], parents[real], pair_inter[real]
    # group pieces into (project, feature) pairs
    order = np.lexsort((parents, ii))
    ii, parents, pair_inter = ii[order], parents[order], pair_inter[order]
    key = ii.astype(np.int64) * (len(li.frame) + 1) + parents
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, int)
    groups = np.split(np.arange(len(key)), starts[1:]) if len(key) else []
    feat_geoms = np.array([pair_inter[g[0]] if len(g) == 1 else
                           shapely.union_all(pair_inter[g]) for g in groups], dtype=object)
    g_proj = ii[starts] if len(key) else np.zeros(0, int)
    g_feat = parents[starts] if len(key) else np.zeros(0, int)
    if line_layer:
        g_area = np.zeros(len(groups))
        g_len = np.zeros(len(groups))
    else:
        g_area, g_len = measure(feat_geoms, index.work_crs, opts.area_method)
    # nearest feature for every footprint that hits nothing (a hit is at distance 0)
    no_hit = np.setdiff1d(np.arange(n), g_proj)
    nearest = {}
    if len(li.pieces) and len(no_hit):
        near_idx, near_d = li.tree.query_nearest(fps[no_hit], return_distance=True,
                                                 all_matches=False)
        nearest = {int(no_hit[a]): (int(li.parent[b]), float(d)) for a, b, d in
                   zip(near_idx[0], near_idx[1], near_d)}
    within = {}
    if opts.radius_m > 0 and len(li.pieces):
        a, b = li.tree.query(fps, predicate="dwithin", distance=opts.radius_m)
        for x, y in zip(a, li.parent[b]):
            within.setdefault(int(x), set()).add(int(y))
    zone_arr = li.attr_arrays.get(_ZONE_FIELD.get(li.kind, "zone"))
    results = []
    ids = li.ids
    gi = 0
    for k in range(n):
        lr = LayerResult(layer=li.name, kind=li.kind, kind_zh=KINDS[li.kind].zh,
                         state=State.NOT_INTERSECTING, data_version=li.version,
                         source=li.source)
        zones: set = set()
        sel = []
        while gi < len(g_proj) and g_proj[gi] == k:
            sel.append(gi)
            gi += 1
        hits, below = [], []
        for g in sel:
            f = int(g_feat[g])
            area, length = float(g_area[g]), float(g_len[g])
            if kinds[k] == "polygon" and not line_layer and area < opts.min_report_m2:
                below.append((ids[f], area))
                continue
            share = (area / fp_area[k] if kinds[k] == "polygon" and fp_area[k] > 0 else
                     length / fp_len[k] if kinds[k] == "line" and fp_len[k] > 0 else
                     1.0 if kinds[k] == "point" else 0.0)
            hits.append(FeatureHit(feature_id=str(ids[f]), overlap_m2=area,
                                   overlap_length_m=length, share=min(share, 1.0),
                                   attributes=li.feature_attrs(f)))
            if zone_arr is not None and zone_arr[f]:
                zones.add(str(zone_arr[f]))
            if opts.keep_geometry:
                overlaps.append(dict(row=projects[k].row, project_id=projects[k].project_id,
                                     layer=li.name, kind=li.kind, feature_id=str(ids[f]),
                                     overlap_m2=area, overlap_length_m=length,
                                     geometry=feat_geoms[g]))
        lr.hits = hits
        if below:
            lr.notes.append("; ".join(f"{fid}: {a:.3f} m²" for fid, a in below) +
                            f" overlap below the reporting threshold {opts.min_report_m2:g} m²")
        if hits:
            if li.kind in _OVERLAPPING and len(hits) > 1 and kinds[k] == "polygon":
                u = shapely.union_all([feat_geoms[g] for g in sel
                                       if str(ids[int(g_feat[g])]) in {h.feature_id
                                                                         for h in hits}])
                a_u, l_u = measure([u], index.work_crs, opts.area_method)
                lr.overlap_m2, lr.overlap_length_m = float(a_u[0]), float(l_u[0])
            else:
                lr.overlap_m2 = float(sum(h.overlap_m2 for h in hits))
                lr.overlap_length_m = float(sum(h.overlap_length_m for h in hits))
            if kinds[k] == "polygon":
                lr.share = min(lr.overlap_m2 / fp_area[k], 1.0) if fp_area[k] > 0 else 0.0
            elif kinds[k] == "line":
                lr.share = min(lr.overlap_length_m / fp_len[k], 1.0) if fp_len[k] > 0 else 0.0
            else:
                lr.share = 1.0
            if line_layer:
                lr.relation = "crosses"
            elif kinds[k] == "point":
                lr.relation = "contains_point"
            elif lr.share >= 1 - 1e-9:
                lr.relation = "within"
            elif kinds[k] == "line":
                lr.relation = "crosses"
            else:
                lr.relation = "overlaps"
            lr.nearest_m = 0.0
            lr.nearest_id = hits[0].feature_id
        else:
            lr.relation = "touches" if (touched[k] or below) else "none"
            if k in nearest:
                f, d = nearest[k]
                lr.nearest_m, lr.nearest_id = d, str(ids[f])
        if k in within:
            lr.within_radius = sorted(str(ids[f]) for f in within[k])
        results.append((lr, zones))
    return results
