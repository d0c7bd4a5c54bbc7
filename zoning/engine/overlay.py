"""The check: footprints against indexed layers → per-layer results and verdicts.

Pure computation: it takes normalised frames (see :mod:`zoning.io.layers`) and
footprints in EPSG:4490, never paths.

How it works
------------
* Each layer is reprojected once into the region's *work CRS* (the CGCS2000
  3° Gauss–Krüger zone of the region, planar metres), its edges first cut
  into 50 m pieces in the layer's own CRS so that a long edge stays where the
  data puts it (footprints likewise).  Polygons with more than
  ``subdivide_vertices`` vertices are cut into pieces (a quadtree of
  rectangles, as PostGIS ``ST_Subdivide`` does) and every piece remembers its
  feature.  One STRtree indexes the pieces.
* A chunk of footprints is bulk-queried against the tree; exact
  intersections are computed only for candidate pairs (vectorised shapely)
  and grouped per (footprint, feature).
* Areas and lengths are reported either **ellipsoidal** (default: geodesic on
  the CGCS2000/GRS80 ellipsoid, as the national land survey computes 椭球面积)
  or **gk** (planar, in the 3° Gauss–Krüger zone of the footprint's own
  centroid).  Distances are planar in the work CRS (error < 0.1 % in zone).
* Boundaries: a point on a polygon's boundary is in it (``covers``); a line
  along the shared boundary of two control units lies in both.  A polygon
  overlap of area ≤ ``tolerance_m2``, or a sliver thinner than
  :data:`NOISE_M` (mean width 2·area/perimeter), only touches; so does a line
  overlap of length ≤ ``tolerance_m`` (a line along a non-partition polygon's
  edge touches it).
* Coverage: the part of a footprint outside the region's districts is
  reported as its own ``coverage`` row (数据缺失, with its area); the covered
  part is checked as usual, so a known 禁止 is never hidden.  Coverage and the
  control-unit gap test use the same predicate (:func:`uncovered`).
* Overlaps smaller than ``min_report_m2`` stay hits, flagged "低于报告阈值",
  unless ``min_area_drops`` is set.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace

import numpy as np
import shapely

from zoning.catalog import KINDS
from zoning.crs import reproject
from zoning.engine.constraints import constraint_layer_results, strip_geometry
from zoning.engine.geometry import (
    GEO,
    checked_split,
    checked_union,
    measure,
    polygonal,
    query_dwithin,
    reproject_dense,
    to_geo,
)
from zoning.engine.index import _OVERLAPPING, SCREEN_KINDS, LayerIndex, RegionIndex
from zoning.engine.landuse import landuse_breakdowns
from zoning.engine.shortcut import SHORTCUT_METHODS, full_groups, pair_intersections
from zoning.engine.verdict import apply_access, project_facts
from zoning.errors import DataError
from zoning.options import CheckOptions
from zoning.project import Project
from zoning.results import (
    M2_PER_MU,
    SEVERITY,
    CheckResult,
    FeatureHit,
    LayerResult,
    State,
    most_severe,
)
from zoning.rules.three_lines import (
    UNKNOWN_ZONE,
    ZONE_FIELD,
    ZONE_KEYS,
    ZONE_MAY_BE_EMPTY,
    Facts,
    canonical_zone,
    zone_fact,
)

__all__ = ["check_chunk", "uncovered", "coverage_row", "overall", "NOISE_M", "GAP_M2", "GAP_M",
           "COVERAGE_KIND"]

#: geometric noise width (m): an overlap thinner than this on average is a sliver
NOISE_M = 1e-3
#: coverage tolerance: less than this much of a footprint outside counts as covered
GAP_M2 = 1.0
GAP_M = 1.0
#: the kind of the row that reports the part of a footprint outside the data coverage
COVERAGE_KIND = "coverage"
COVERAGE_ZH = "数据覆盖范围"
#: the words of the warning on a footprint partly outside a region's data (merged results
#: of a footprint in several regions drop it for one of their own)
OUTSIDE_COVERAGE = "图层数据覆盖范围外"


def uncovered(fp, cover, kind: str) -> tuple[float, float, bool]:
    """(planar area, planar length, covered?) of the part of ``fp`` outside ``cover``.

    The one predicate for data coverage and control-unit gaps: a polygon is
    covered when at most :data:`GAP_M2` m² lies outside, a line when at most
    :data:`GAP_M` m, a point when every point is covered (boundary included).
    """
    rest = coverage_split(fp, cover)[0]
    if rest is None:
        return 0.0, 0.0, True
    return _gap(rest, kind)


def coverage_split(fp, cover) -> tuple:
    """``(outside, inside)`` of ``fp`` against ``cover``; ``(None, fp)`` when ``cover``
    covers it whole (the common case, without an overlay)."""
    if cover is None or shapely.is_empty(cover):
        return fp, None
    if shapely.covers(cover, fp):
        return None, fp
    return checked_split(fp, cover)


def _gap(rest, kind: str) -> tuple[float, float, bool]:
    a, ln = float(shapely.area(rest)), float(shapely.length(rest))
    if kind == "polygon":
        return a, 0.0, a <= GAP_M2
    if kind == "line":
        return 0.0, ln, ln <= GAP_M
    return 0.0, 0.0, bool(shapely.is_empty(rest))


@dataclass
class _Chunk:
    """The footprints of a chunk in the work CRS, clipped to the region's coverage."""

    fps: np.ndarray  # checked footprints (clipped where they leave the coverage)
    kinds: np.ndarray
    area: np.ndarray  # measures of the checked footprints
    length: np.ndarray
    full_area: np.ndarray  # measures of the whole footprints
    full_length: np.ndarray
    outside: list  # per project: None (covered) or (area m², length m, geometry)
    empty: np.ndarray  # nothing of the footprint inside the coverage
    work_crs: object = None


def check_chunk(index: RegionIndex, projects: list[Project],
                options: CheckOptions | None = None) -> tuple[list[CheckResult], list[dict]]:
    """Check a chunk of valid projects against one region.  Independent of other chunks.

    Returns the results and, if ``options.keep_geometry``, overlap records
    (project id, layer, feature id, area, geometry in EPSG:4490).
    """
    opts = options or CheckOptions()
    results = [CheckResult(row=p.row, project_id=p.project_id, name=p.name,
                           region=index.region, geometry_type=p.kind,
                           warnings=list(p.warnings), attributes=dict(p.attrs))
               for p in projects]
    overlaps: list[dict] = []
    if not projects:
        return results, overlaps
    facts_base, ok = _facts(index, projects, results)
    ch = _prepare(index, projects, opts, results)
    per_project = _check_kinds(index, projects, ch, opts, facts_base, ok, overlaps)
    geo = np.array([p.geometry for p in projects], dtype=object)
    inside = ~ch.empty  # partly outside: the covered part is checked (clipped)
    for k, extra in enumerate(constraint_layer_results(index, projects, geo, ch, inside,
                                                       facts_base, opts, overlaps)):
        per_project[k].extend(extra)
    if index.access is not None:
        for k, p in enumerate(projects):
            if ok[k] and inside[k]:
                apply_access(index, p, ch.fps[k], results[k], per_project[k])
    # 地类 of the covered part, shares of the whole footprint (a part outside is flagged)
    landuse_breakdowns(index, projects, geo, ch.fps, ch.full_area, inside, opts, results,
                       per_project)
    failed_rows = {projects[k].row for k in range(len(projects)) if not ok[k]}
    overlaps = strip_geometry(index, opts, [o for o in overlaps if o["row"] not in failed_rows])
    if overlaps:  # overlap geometries leave the engine in EPSG:4490
        geo = to_geo(np.array([o["geometry"] for o in overlaps], dtype=object), index.work_crs)
        for o, g in zip(overlaps, geo):
            o["geometry"] = g
    for k, r in enumerate(results):
        _finish(r, per_project[k], ch, k, index)
    return results, overlaps


#: a centreline that takes land: its overlaps have a length, but no area to count
LINE_TAKES_LAND = ("线状项目占地（未申报“不占地”），但只给出了中心线：重叠面积无法计算，"
                   "表中按 0 m² 列出、另给穿越长度；请提供用地范围（面），或给出宽度（--width）")


def _facts(index: RegionIndex, projects: list[Project], results: list[CheckResult]):
    facts_base: list[dict | None] = []
    ok = np.ones(len(projects), dtype=bool)
    for k, p in enumerate(projects):
        try:
            f = project_facts(p, index.rules)
        except (ValueError, DataError) as e:
            results[k].status, results[k].error = "error", str(e)
            facts_base.append(None)
            ok[k] = False
            continue
        inferred = f.pop("inferred", None)
        if inferred:
            results[k].warnings.append(inferred)
        if p.kind == "line" and f["takes_land"]:
            results[k].warnings.append(LINE_TAKES_LAND)
        facts_base.append(f)
    return facts_base, ok


def _prepare(index: RegionIndex, projects: list[Project], opts: CheckOptions,
             results: list[CheckResult]) -> _Chunk:
    n = len(projects)
    fps = footprints_in(projects, index.work_crs)
    kinds = np.array([p.kind for p in projects])
    full_area, full_len = measure(fps, index.work_crs, opts.area_method, opts.central_meridian)
    for k in range(n):
        results[k].area_m2 = float(full_area[k])
        results[k].length_m = float(full_len[k])
    outside: list = [None] * n
    empty = np.zeros(n, dtype=bool)
    if index.coverage is None:
        for r in results:
            r.warnings.append("the catalog has no districts layer: data coverage is unknown")
        return _Chunk(fps, kinds, full_area, full_len, full_area, full_len, outside, empty,
                      index.work_crs)
    clipped = fps.copy()
    for k in range(n):
        rest, part = coverage_split(fps[k], index.coverage)  # one split, used twice
        if rest is None or _gap(rest, kinds[k])[2]:
            continue
        part = _same_dim(part, kinds[k])
        ra, rl = measure(np.array([rest], dtype=object), index.work_crs, opts.area_method,
                         opts.central_meridian)
        outside[k] = (float(ra[0]), float(rl[0]), rest)
        if part is None:
            empty[k] = True
        else:
            clipped[k] = part
    area, length = full_area.copy(), full_len.copy()
    cut = np.flatnonzero([o is not None and not e for o, e in zip(outside, empty)])
    if len(cut):
        area[cut], length[cut] = measure(clipped[cut], index.work_crs, opts.area_method,
                                         opts.central_meridian)
    return _Chunk(clipped, kinds, area, length, full_area, full_len, outside, empty,
                  index.work_crs)


def footprints_in(projects: list[Project], work_crs) -> np.ndarray:
    """The footprints in the work CRS, each edge cut in the CRS where it is straight.

    A footprint's vertices are in EPSG:4490; its edges are straight in its source's
    CRS (``Project.edge_crs``, e.g. the 部标 TXT's Gauss–Krüger zone).  The vertices go
    back there (exactly), the edges are cut into short pieces, and only then moved.
    """
    geo = np.array([p.geometry for p in projects], dtype=object)
    edge = np.array([getattr(p, "edge_crs", "") or "EPSG:4490" for p in projects],
                    dtype=object)
    out = np.empty(len(projects), dtype=object)
    for crs in dict.fromkeys(edge):
        sel = np.flatnonzero(edge == crs)
        g = geo[sel] if crs == "EPSG:4490" else reproject(geo[sel], GEO, crs)
        out[sel] = reproject_dense(g, crs, work_crs)
    return out


def _same_dim(g, kind: str):
    """The parts of ``g`` of the footprint's dimension (None if there are none)."""
    if g is None or shapely.is_empty(g):
        return None
    if kind == "polygon":
        return polygonal(g)
    dim = 1 if kind == "line" else 0
    parts = [p for p in shapely.get_parts(g) if shapely.get_dimensions(p) == dim]
    return shapely.union_all(parts) if parts else None


def _check_kinds(index: RegionIndex, projects: list[Project], ch: _Chunk, opts: CheckOptions,
                 facts_base: list, ok: np.ndarray, overlaps: list) -> list[list[LayerResult]]:
    n = len(projects)
    per_project: list[list[LayerResult]] = [[] for _ in range(n)]
    geo = np.array([p.geometry for p in projects], dtype=object)
    for kind in SCREEN_KINDS:
        if kind not in index.rules.layers:
            continue
        if kind in index.missing:
            for k in range(n):
                per_project[k].append(_missing_layer(index, kind))
            continue
        wants_gap = index.rules.uses(kind, "coverage")
        zone_keys = index.rules.zone_keys(kind) if kind in ZONE_KEYS else None
        for li in index.chunk_layers(kind, geo, opts, ch.fps):
            lrs = _check_layer(li, ch, opts, overlaps, projects, wants_gap, zone_keys)
            for k in range(n):
                lr, zones, gap_ok = lrs[k]
                if ch.empty[k]:
                    _outside_layer(lr, index)
                elif ok[k]:
                    facts = Facts(relation=lr.relation, zones=zones,
                                  coverage="full" if gap_ok else "partial",
                                  geometry=ch.kinds[k], **(facts_base[k] or {}))
                    rule = index.rules.evaluate(kind, facts)
                    lr.state, lr.rule, lr.basis = rule.state, rule.id, rule.basis
                    lr.state_label = rule.label
                    if any(z.startswith(UNKNOWN_ZONE) for z in zones):
                        _unknown_zone(lr, index, kind, facts)
                per_project[k].append(lr)
    return per_project


def _unknown_zone(lr: LayerResult, index: RegionIndex, kind: str, facts: Facts) -> None:
    """A hit feature's zone is missing or not one the rules know: the verdict stands only
    if every zone it could be in gives the same state; else it needs review (需补充信息),
    never a weaker state than the zones allow (a verdict that all of them make at least
    as severe stays the least severe of them)."""
    known = {z for z in facts.zones if not z.startswith(UNKNOWN_ZONE)}
    odd = sorted(z[len(UNKNOWN_ZONE):] or "空值" for z in facts.zones
                 if z.startswith(UNKNOWN_ZONE))
    # the feature lies in one of the zones the rules know (or, where a feature may have
    # none, in none): the verdict is one of these
    zone_sets = [known | {z} for z in index.rules.zone_keys(kind)]
    if kind in ZONE_MAY_BE_EMPTY:
        zone_sets.insert(0, known)
    rules = [index.rules.evaluate(kind, replace(facts, zones=zs)) for zs in zone_sets]
    states = {r.state for r in rules}
    what = sys.intern(f"{lr.kind_zh}要素的分区属性缺失或无法识别（{'、'.join(odd)}）")
    if len(states) == 1:
        # the same verdict in every zone it could be in: the basis names them all (one
        # zone's rule alone would claim the zone, e.g. 核心保护区, for a feature of unknown
        # zone; the facts with the zone left out read an inside site as outside)
        seen = list({r.id: r for r in rules}.values())  # each rule once, in zone order
        labels = {r.label for r in seen}
        lr.rule = sys.intern("zone-unknown-agree")
        lr.state_label = labels.pop() if len(labels) == 1 else None
        lr.basis = sys.intern(what + "，按其可能所在的任一分区判定结论均为“" +
                              next(iter(states)).zh + "”：" +
                              "；".join(f"{r.id}：{r.basis}" for r in seen))
        return
    low = min(states, key=SEVERITY.__getitem__)
    lr.state = State.NEEDS_REVIEW if SEVERITY[low] < SEVERITY[State.NEEDS_REVIEW] else low
    lr.rule, lr.state_label = "zone-unknown", None
    lr.basis = sys.intern(
        what + "：按所在分区判定的结论不同（" +
        "、".join(s.zh for s in sorted(states, key=SEVERITY.__getitem__)) +
        "），须补充分区信息后判定，不能视为不涉及。")


def _missing_layer(index: RegionIndex, kind: str) -> LayerResult:
    kind_zh = KINDS[kind].zh
    return LayerResult(
        layer=f"({kind})", kind=kind, kind_zh=kind_zh, state=State.DATA_MISSING,
        basis=sys.intern(f"目录中没有可读取的{kind_zh}图层：按数据缺失处理，不能视为不涉及。"),
        rule="missing-layer", notes=list(index.problems))


def _outside_layer(lr: LayerResult, index: RegionIndex) -> None:
    lr.state = State.DATA_MISSING
    lr.rule = "outside-coverage"
    lr.basis = sys.intern(f"项目不在{index.region_name}图层数据覆盖范围内：不能判定，按数据缺失处理。")


def coverage_row(area_m2: float, length_m: float, share: float, where: str,
                 whole: bool = False) -> LayerResult:
    """The 数据缺失 row of the part of a footprint outside every region's data (``whole``:
    all of it)."""
    size = (f"{area_m2:,.2f} m²（{area_m2 / M2_PER_MU:,.3f} 亩）" if area_m2 > 0 else
            f"{length_m:,.2f} m" if length_m > 0 else "部分点位")
    basis = (f"项目全部{f'（{size}）' if area_m2 > 0 or length_m > 0 else ''}位于{where}图层数据覆盖范围外：无数据，不能判定（数据缺失）。"
             if whole else
             f"项目有 {size} 位于{where}图层数据覆盖范围外：该部分无数据，不能判定（数据缺失）；"
             "覆盖范围内部分的结论见各图层，禁止不因数据缺失而被掩盖。")
    return LayerResult(
        layer="(覆盖范围外)", kind=COVERAGE_KIND, kind_zh=COVERAGE_ZH, state=State.DATA_MISSING,
        rule="outside-coverage", overlap_m2=area_m2, overlap_length_m=length_m,
        share=min(share, 1.0), relation="overlaps", basis=basis)


def _finish(r: CheckResult, layers: list[LayerResult], ch: _Chunk, k: int,
            index: RegionIndex) -> None:
    if r.status != "ok":
        r.layers = []
        return
    out = ch.outside[k]
    if out is not None and not ch.empty[k]:
        _rescale(layers, ch, k)
    if out is not None:
        full = ch.full_area[k] if ch.kinds[k] == "polygon" else ch.full_length[k]
        part = out[0] if ch.kinds[k] == "polygon" else out[1]
        layers.append(coverage_row(out[0], out[1], part / full if full > 0 else 1.0,
                                   index.region_name, whole=bool(ch.empty[k])))
        r.warnings.append(f"项目范围{'全部' if ch.empty[k] else '有部分'}位于"
                          f"{index.region_name}{OUTSIDE_COVERAGE}")
    r.layers = layers
    r.state, r.basis = overall(layers)


def _rescale(layers: list[LayerResult], ch: _Chunk, k: int) -> None:
    """Shares of a clipped footprint's layers, as shares of the whole footprint."""
    if ch.kinds[k] == "polygon":
        f = ch.area[k] / ch.full_area[k] if ch.full_area[k] > 0 else 1.0
    elif ch.kinds[k] == "line":
        f = ch.length[k] / ch.full_length[k] if ch.full_length[k] > 0 else 1.0
    else:
        return
    for lr in layers:
        lr.share *= f
        for h in lr.hits:
            h.share *= f


def overall(layers: list[LayerResult]) -> tuple[State, list[str]]:
    """(overall state, basis lines): the most severe state; the shoreline only informs."""
    judged = [lr for lr in layers if lr.kind != "shoreline"]
    state = most_severe(lr.state for lr in judged)
    basis = [sys.intern(f"{lr.kind_zh}（{lr.layer}）：{lr.state_zh}。{lr.basis}")
             for lr in judged if lr.state == state]  # shared by rows with the same answer
    return state, basis


# --------------------------------------------------------------------------- one layer


@dataclass
class _Groups:
    """Intersections of footprints and features, one row per (footprint, feature)."""

    proj: np.ndarray
    feat: np.ndarray
    geoms: np.ndarray
    real: np.ndarray  # a hit (not a touch, not a sliver)
    area: np.ndarray  # reported measures (real groups only; 0 elsewhere)
    length: np.ndarray
    pieces: list  # per group: the indexes of the layer pieces it touches


def _pairs(li: LayerIndex, fps: np.ndarray, kinds: np.ndarray, partition: bool):
    """Candidate (footprint, piece) pairs and the intersections that measure them.

    Points and lines are matched within :data:`NOISE_M` (a point on a boundary, up
    to the noise of a reprojection, is on it).  A line is measured by its part
    away from a polygon's boundary, or, for a partition (control units), by its
    part within the noise of the unit, so a line along a shared boundary lies in both.
    """
    line_layer = KINDS[li.kind].geometry == "line"
    ii, jj = li.tree.query(fps, predicate="intersects")
    if not line_layer:
        small = np.flatnonzero(kinds != "polygon")
        if len(small):
            a, b = query_dwithin(li.tree, fps[small], NOISE_M)
            keep = kinds[ii] == "polygon"
            ii, jj = np.r_[ii[keep], small[a]], np.r_[jj[keep], b]
    if not len(ii):
        return ii, jj, np.array([], dtype=object), np.zeros(0, dtype=bool)
    # a piece inside a polygon footprint is its own intersection (the contains shortcut)
    inter, covered = pair_intersections(fps, li.pieces, ii, jj, kinds, line_layer)
    sel = np.flatnonzero(kinds[ii] == "line")
    if len(sel) and not line_layer:
        inter = inter.copy()
        piece = li.pieces[jj[sel]]
        if partition:
            inter[sel] = shapely.intersection(fps[ii[sel]], shapely.buffer(piece, NOISE_M))
        else:
            edge = shapely.buffer(shapely.boundary(piece), NOISE_M)
            inter[sel] = shapely.difference(inter[sel], edge)
    return ii, jj, inter, covered


def _group(li: LayerIndex, ii, jj, inter, covered):
    """(footprint, feature, intersection, pieces, full) per group of pairs; ``full``: the
    whole feature lies in the footprint (its intersection is the feature itself)."""
    parents = li.parent[jj]
    order = np.lexsort((jj, parents, ii))  # pieces in index order: unions independent of query order
    ii, jj, parents, inter = ii[order], jj[order], parents[order], inter[order]
    key = ii.astype(np.int64) * (len(li.frame) + 1) + parents
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    bounds = np.r_[starts, len(key)]
    feat = parents[starts]
    full = full_groups(covered[order], bounds, feat, np.asarray(li.npieces))
    whole = li.geometries
    geoms = np.array([inter[a] if b - a == 1 else whole[f] if ok else
                      _union_of_pieces(inter[a:b])
                      for a, b, f, ok in zip(bounds[:-1], bounds[1:], feat, full)],
                     dtype=object)
    pieces = [jj[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    return ii[starts], feat, geoms, pieces, full


def _union_of_pieces(parts):
    """One feature's overlap from its pieces' overlaps (they only touch): area-checked when
    polygonal (see :func:`~zoning.engine.geometry.checked_union`)."""
    if (shapely.get_dimensions(parts) == 2).any():  # areas to check (a touch adds none)
        return checked_union(parts, disjoint=True)
    return shapely.union_all(parts)


def _is_real(geoms, kinds, line_layer: bool, opts: CheckOptions) -> np.ndarray:
    """Which intersections are hits: not a touch, not a sliver below the noise."""
    if line_layer:
        return np.ones(len(geoms), dtype=bool)  # any contact with a line counts as crossing
    area = shapely.area(geoms)
    length = shapely.length(geoms)
    perim = np.where(kinds == "polygon", length, 0.0)
    thick = 2.0 * area >= NOISE_M * perim
    return np.where(kinds == "polygon", (area > opts.tolerance_m2) & thick,
                    np.where(kinds == "line", length > opts.tolerance_m, True))


def _groups(li: LayerIndex, ch: _Chunk, opts: CheckOptions) -> _Groups:
    partition = li.kind == "control_unit"
    ii, jj, inter, covered = _pairs(li, ch.fps, ch.kinds, partition)
    if not len(ii):
        z = np.zeros(0, dtype=np.int64)
        e = np.array([], dtype=object)
        return _Groups(z, z, e, np.zeros(0, dtype=bool), np.zeros(0), np.zeros(0), [])
    proj, feat, geoms, pieces, full = _group(li, ii, jj, inter, covered)
    line_layer = KINDS[li.kind].geometry == "line"
    real = _is_real(geoms, ch.kinds[proj], line_layer, opts)
    area, length = np.zeros(len(geoms)), np.zeros(len(geoms))
    if not line_layer:
        if opts.area_method in SHORTCUT_METHODS:  # whole features: their own area
            whole = np.flatnonzero(real & full)
            area[whole] = li.feature_areas(feat[whole], ch.work_crs, opts.area_method)
            real_rest = real & ~full
        else:
            real_rest = real
        sel = np.flatnonzero(real_rest)
        if len(sel):
            area[sel], length[sel] = measure(geoms[sel], ch.work_crs, opts.area_method,
                                             opts.central_meridian)
    return _Groups(proj, feat, geoms, real, area, length, pieces)


def _near(li: LayerIndex, fps: np.ndarray, hit: set, opts: CheckOptions):
    """Nearest feature of every footprint without a hit, and features within the radius."""
    n = len(fps)
    no_hit = np.array([k for k in range(n) if k not in hit], dtype=np.int64)
    nearest = li.nearest(fps, no_hit)
    within: dict = {}
    if opts.radius_m > 0 and len(li.pieces):
        a, b = query_dwithin(li.tree, fps, opts.radius_m)
        for x, y in zip(a, li.parent[b]):
            within.setdefault(int(x), set()).add(int(y))
    return nearest, within


def _check_layer(li: LayerIndex, ch: _Chunk, opts: CheckOptions, overlaps: list,
                 projects: list[Project], wants_gap: bool = False,
                 zone_keys: tuple | None = None) -> list:
    """(LayerResult, zones, covered-by-hits) per footprint of the chunk for one layer;
    ``zone_keys``: the zones the rules know (a three-lines layer's others are unknown)."""
    g = _groups(li, ch, opts)
    hit_projects = {int(p) for p, r in zip(g.proj, g.real) if r}
    nearest, within = _near(li, ch.fps, hit_projects, opts)
    zone_arr = li.attr_arrays.get(ZONE_FIELD.get(li.kind, "zone"))
    out = []
    bounds = np.searchsorted(g.proj, np.arange(len(ch.fps) + 1)).tolist()
    # plain lists, worked out for all groups at once: per-hit numpy scalar access and
    # per-hit lookups were the slow part of a batch's Python work
    cols = _Cols(li, g, ch)
    is_real = g.real.tolist()
    kind_zh = KINDS[li.kind].zh
    for k in range(len(ch.fps)):
        lo, hi = bounds[k], bounds[k + 1]
        lr = LayerResult(layer=li.name, kind=li.kind, kind_zh=kind_zh,
                         state=State.NOT_INTERSECTING, data_version=li.version,
                         source=li.source)
        real = [gi for gi in range(lo, hi) if is_real[gi]]
        zones = _hits(lr, li, g, cols, real, k, ch, opts, zone_arr, overlaps, projects,
                      zone_keys) if real else set()
        if real:
            _summarise(lr, li, g, cols, real, k, ch, opts)
            if li.kind in _MAY_OVERLAP and ch.kinds[k] == "line" and \
                    lr.relation == "crosses" and lr.share > 1 - 1e-3 and \
                    _gap_ok(li, g, real, k, ch):
                # a line is measured away from each feature's edge: one crossing from a
                # feature into the next lost 2 mm and read as partly outside the boundary
                lr.relation = "within"
        else:
            lr.relation = "touches" if hi > lo else "none"
            if k in nearest:
                f, d = nearest[k]
                lr.nearest_m, lr.nearest_id = d, str(li.ids[f])
        if k in within:
            lr.within_radius = sorted(str(li.ids[f]) for f in within[k])
        gap_ok = _gap_ok(li, g, real, k, ch) if wants_gap and not ch.empty[k] else len(real) > 0
        out.append((lr, zones, gap_ok))
    return out


class _Cols:
    """Per group of one layer and chunk, as plain lists: feature row and id, area, length,
    share of the footprint; attribute values per field (dicts are made per hit)."""

    __slots__ = ("feat", "fid", "area", "length", "share", "attr_names", "attr_rows")

    def __init__(self, li: LayerIndex, g: _Groups, ch: _Chunk):
        self.feat = g.feat.tolist()
        self.fid = [str(x) for x in li.ids[g.feat].tolist()]
        self.area = g.area.tolist()
        self.length = g.length.tolist()
        self.share = _shares(g.area, g.length, g.proj, ch).tolist()
        self.attr_names = list(li.attr_arrays)
        cols = [[_attr_value(v) for v in arr[g.feat].tolist()]
                for arr in li.attr_arrays.values()]
        self.attr_rows = list(zip(*cols)) if cols else None

    def attributes(self, gi: int) -> dict:
        """The attributes of group ``gi``'s feature: numbers as they are, other values as
        text (a dict of its own per hit)."""
        return {} if self.attr_rows is None else dict(zip(self.attr_names, self.attr_rows[gi]))


def _attr_value(v):
    # interned: a feature's name or county is the same text in every row that hits it
    if v is None or isinstance(v, (int, float)):
        return v
    s = str(v)
    return sys.intern(s) if type(s) is str else s  # (only plain str can be interned)


def _shares(area: np.ndarray, length: np.ndarray, proj: np.ndarray, ch: _Chunk) -> np.ndarray:
    """:func:`_share` of every group at once (the same divisions, element by element)."""
    kinds = ch.kinds[proj]
    whole_a, whole_l = ch.area[proj], ch.length[proj]
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(kinds == "polygon", np.where(whole_a > 0, area / whole_a, 0.0),
                     np.where(kinds == "line", np.where(whole_l > 0, length / whole_l, 0.0),
                              1.0))
    return np.minimum(s, 1.0)


def _hits(lr: LayerResult, li: LayerIndex, g: _Groups, cols: _Cols, real: list, k: int,
          ch: _Chunk, opts: CheckOptions, zone_arr, overlaps: list,
          projects: list[Project], zone_keys: tuple | None = None) -> set:
    """Fill ``lr.hits`` (below-threshold overlaps flagged or, if opted out, dropped)."""
    zones: set = set()
    below = []
    can_be_small = ch.kinds[k] == "polygon" and KINDS[li.kind].geometry != "line"
    for gi in real:
        f = cols.feat[gi]
        area, length, fid = cols.area[gi], cols.length[gi], cols.fid[gi]
        small = can_be_small and area < opts.min_report_m2
        if small:
            below.append((fid, area))
            if opts.min_area_drops:
                continue
        lr.hits.append(FeatureHit(fid, area, length, cols.share[gi], cols.attributes(gi),
                                  small))
        if li.kind in ZONE_KEYS:  # a zone the rules do not know is kept as unknown
            z = zone_fact(li.kind, None if zone_arr is None else zone_arr[f],
                          mapped=zone_arr is not None, known=zone_keys)
            if z is not None:
                zones.add(z)
        elif zone_arr is not None and zone_arr[f]:
            zones.add(canonical_zone(li.kind, zone_arr[f]))
        if opts.keep_geometry:
            p = projects[k]
            overlaps.append(dict(row=p.row, project_id=p.project_id, layer=li.name,
                                 kind=li.kind, feature_id=fid, overlap_m2=area,
                                 overlap_length_m=length, geometry=g.geoms[gi]))
    if below:
        what = "；".join(f"{fid} {a:.3f} m²" for fid, a in below)
        lr.notes.append(
            f"低于报告阈值（{opts.min_report_m2:g} m²）：{what}；" +
            ("按用户选择不计入判定。" if opts.min_area_drops else "仍计入判定。"))
    return zones


def _share(area: float, length: float, k: int, ch: _Chunk) -> float:
    kind = ch.kinds[k]
    if kind == "polygon":
        s = area / ch.area[k] if ch.area[k] > 0 else 0.0
    elif kind == "line":
        s = length / ch.length[k] if ch.length[k] > 0 else 0.0
    else:
        s = 1.0
    return min(s, 1.0)


def _summarise(lr: LayerResult, li: LayerIndex, g: _Groups, cols: _Cols, real, k: int,
               ch: _Chunk, opts: CheckOptions) -> None:
    """Totals, share and relation of a footprint's hits on one layer."""
    if not lr.hits:  # every overlap was below the threshold and dropped by choice
        lr.relation = "touches"
        return
    kept = {h.feature_id for h in lr.hits}
    sel = [gi for gi in real if cols.fid[gi] in kept]
    if li.kind in _OVERLAPPING and len(sel) > 1 and ch.kinds[k] == "polygon":
        lr.overlap_m2, lr.overlap_length_m = _union_totals(g, sel, ch, opts)
    else:
        lr.overlap_m2 = float(sum(h.overlap_m2 for h in lr.hits))
        lr.overlap_length_m = float(sum(h.overlap_length_m for h in lr.hits))
        if li.kind in _MAY_OVERLAP and len(sel) > 1 and ch.kinds[k] != "point" and \
                _share(lr.overlap_m2, lr.overlap_length_m, k, ch) >= 1 - 1e-9:
            # features that should tile the boundary sometimes overlap: counted twice, a
            # site half outside read as within it (符合).  Where the sum reaches the whole
            # site, overlaps are counted once; the sum stands where it is the union's area
            # (features that only touch)
            a_u, l_u = _union_totals(g, sel, ch, opts)
            tol = 1e-6
            if (a_u < lr.overlap_m2 * (1 - tol) - tol or
                    l_u < lr.overlap_length_m * (1 - tol) - tol):
                lr.overlap_m2, lr.overlap_length_m = a_u, l_u
    lr.share = _share(lr.overlap_m2, lr.overlap_length_m, k, ch)
    line_layer = KINDS[li.kind].geometry == "line"
    if line_layer:
        lr.relation = "crosses"
    elif ch.kinds[k] == "point":
        lr.relation = "contains_point"
    elif lr.share >= 1 - 1e-9:
        lr.relation = "within"
    elif ch.kinds[k] == "line":
        lr.relation = "crosses"
    else:
        lr.relation = "overlaps"
    lr.nearest_m = 0.0
    lr.nearest_id = lr.hits[0].feature_id


def _union_totals(g: _Groups, sel: list, ch: _Chunk, opts: CheckOptions) -> tuple[float, float]:
    """(area m², length m) of the union of a footprint's overlaps ``sel``: features
    counted once where they overlap."""
    a_u, l_u = measure([checked_union(g.geoms[sel], disjoint=False)], ch.work_crs,
                       opts.area_method, opts.central_meridian)
    return float(a_u[0]), float(l_u[0])


#: layer kinds whose features should not overlap but whose relation decides a verdict
#: (城镇开发边界: within is 符合): a footprint's total is checked against the union
_MAY_OVERLAP = frozenset({"urban_boundary"})


def _gap_ok(li: LayerIndex, g: _Groups, real, k: int, ch: _Chunk) -> bool:
    """Whether the hit features cover the footprint (the coverage predicate)."""
    if not len(real):
        return False
    idx = np.unique(np.concatenate([g.pieces[gi] for gi in real]))
    cover = shapely.union_all(li.pieces[idx]) if len(idx) > 1 else li.pieces[idx[0]]
    return uncovered(ch.fps[k], cover, ch.kinds[k])[2]
