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

import numpy as np
import shapely

from zoning.catalog import KINDS
from zoning.crs import reproject
from zoning.engine.constraints import constraint_layer_results, strip_geometry
from zoning.engine.geometry import GEO, measure, to_geo
from zoning.engine.index import _OVERLAPPING, _ZONE_FIELD, SCREEN_KINDS, LayerIndex, RegionIndex
from zoning.engine.landuse import landuse_breakdowns
from zoning.engine.shortcut import group_measures, pair_intersections
from zoning.engine.verdict import apply_access, project_facts
from zoning.errors import DataError
from zoning.options import CheckOptions
from zoning.project import Project
from zoning.results import CheckResult, FeatureHit, LayerResult, State, most_severe
from zoning.rules.three_lines import Facts

__all__ = ["check_chunk"]


def check_chunk(index: RegionIndex, projects: list[Project],
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
    facts_base: list[dict | None] = []
    ok = np.ones(n, dtype=bool)
    for k, p in enumerate(projects):
        try:
            facts_base.append(project_facts(p, index.rules))
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
                    f = facts_base[k] or {}
                    facts = Facts(relation=lr.relation, zones=zones,
                                  coverage="full" if lr.share >= 1 - 1e-6 else "partial",
                                  geometry=kinds[k], **f)
                    rule = index.rules.evaluate(kind, facts)
                    lr.state, lr.rule, lr.basis = rule.state, rule.id, rule.basis
                per_project_layers[k].append(lr)
    for k, extra in enumerate(constraint_layer_results(
            index, projects, geo, fps, kinds, fp_area, fp_len, inside, facts_base, opts,
            overlaps)):
        per_project_layers[k].extend(extra)
    if index.access is not None:
        for k, p in enumerate(projects):
            if ok[k] and inside[k]:
                apply_access(index, p, fps[k], results[k], per_project_layers[k])
    landuse_breakdowns(index, projects, geo, fps, fp_area, inside, opts, results,
                       per_project_layers)
    failed_rows = {projects[k].row for k in range(n) if not ok[k]}
    overlaps = strip_geometry(index, opts, [o for o in overlaps if o["row"] not in failed_rows])
    if overlaps:  # overlap geometries leave the engine in EPSG:4490
        geo = to_geo(np.array([o["geometry"] for o in overlaps], dtype=object), index.work_crs)
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



def _check_layer(li: LayerIndex, fps, kinds, fp_area, fp_len, index: RegionIndex,
                 opts: CheckOptions, overlaps: list, projects):
    n = len(fps)
    line_layer = KINDS[li.kind].geometry == "line"
    ii, jj = li.tree.query(fps, predicate="intersects")
    parents = li.parent[jj]
    pair_inter, covered = pair_intersections(fps, li.pieces, ii, jj, kinds, line_layer)
    pa = shapely.area(pair_inter) if len(ii) else np.zeros(0)
    pl = shapely.length(pair_inter) if len(ii) else np.zeros(0)
    fk = kinds[ii] if len(ii) else np.array([], dtype=str)
    if line_layer:
        real = np.ones(len(ii), dtype=bool)  # any contact with a line counts as crossing
    else:
        if len(ii) and (fk == "line").any():
            # a line running along a polygon's edge touches it: measure the interior part
            lsel = np.flatnonzero(fk == "line")
            pair_inter = pair_inter.copy()
            pair_inter[lsel] = shapely.difference(pair_inter[lsel],
                                                  shapely.boundary(li.pieces[jj[lsel]]))
            pl = shapely.length(pair_inter)
        point_in = np.zeros(len(ii), dtype=bool)
        if len(ii) and (fk == "point").any():
            psel = np.flatnonzero(fk == "point")
            point_in[psel] = shapely.contains(li.pieces[jj[psel]], fps[ii[psel]])
        real = np.where(fk == "polygon", pa > opts.tolerance_m2,
                        np.where(fk == "line", pl > opts.tolerance_m, point_in))
    touched = np.zeros(n, dtype=bool)
    touched[ii[~real]] = True
    ii, jj, parents, pair_inter = ii[real], jj[real], parents[real], pair_inter[real]
    # group pieces into (project, feature) pairs
    order = np.lexsort((parents, ii))
    ii, parents, pair_inter = ii[order], parents[order], pair_inter[order]
    covered = covered[real][order]
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
    else:  # whole features inside a footprint take their own (precomputed) area
        g_area, g_len = group_measures(li, feat_geoms, starts, covered, g_feat,
                                       index.work_crs, opts.area_method)
    # nearest feature for every footprint that hits nothing (a hit is at distance 0)
    no_hit = np.setdiff1d(np.arange(n), g_proj)
    nearest = li.nearest(fps, no_hit)
    within: dict[int, set[int]] = {}
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
        sel: list[int] = []
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

