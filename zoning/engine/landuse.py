"""国土调查 (三调) 地类 breakdown: the occupied area of each footprint by GB/T 21010 class.

For every footprint the pieces inside each 地类图斑 are measured with the
check's area method (so the classes add up to the footprint's own area where
the survey layer covers it), and summed by 二级类, 一级类 and 三大类.  耕地
(一级类 01) and 永久基本农田 (the farmland layers' overlap) are reported side by
side, and declared 地类 areas (the project attribute ``landuse_declared``) are
compared with the measured ones: a difference above 1 % is flagged.
"""

from __future__ import annotations

from collections import defaultdict

import shapely

from zoning.engine.geometry import measure
from zoning.engine.index import RegionIndex
from zoning.options import CheckOptions
from zoning.project import Project
from zoning.results import CheckResult, LayerResult, area_units
from zoning.rules.landuse import GROUPS, LEVEL1, LEVEL2, group_of, level1_of, name_of

__all__ = ["landuse_breakdowns", "TOLERANCE"]

#: relative difference between declared and measured 地类 areas that is flagged
TOLERANCE = 0.01


def _measure_pairs(index: RegionIndex, geo, fps, opts: CheckOptions):
    """Per footprint: {二级类 code: [area, length, name]} and the layers read."""
    acc: list[dict] = [defaultdict(lambda: [0.0, 0.0, ""]) for _ in range(len(fps))]
    layers = []
    for li in index.chunk_layers("landuse", geo, opts):
        layers.append(li)
        ii, jj = li.tree.query(fps, predicate="intersects")
        if not len(ii):
            continue
        inter = shapely.intersection(fps[ii], li.pieces[jj])
        area, length = measure(inter, index.work_crs, opts.area_method)
        points = shapely.get_type_id(fps[ii]) == 0
        codes = li.attr_arrays["code"][li.parent[jj]]
        names = li.attr_arrays.get("name")
        for t, (k, f) in enumerate(zip(ii, li.parent[jj])):
            cell = acc[int(k)][str(codes[t]).strip()]
            cell[0] += float(area[t])
            cell[1] += float(length[t]) + (1.0 if points[t] else 0.0)  # a point: its class
            if names is not None and not cell[2] and names[f] is not None:
                cell[2] = str(names[f])
    return acc, layers


def _entries(totals: dict, fp_area: float, names: dict | None = None) -> list[dict]:
    out = []
    for code in sorted(totals):
        a, length = totals[code]
        out.append({"code": code, "name": (names or {}).get(code) or name_of(code) or "未知地类",
                    "area": area_units(a), "length_m": round(length, 2),
                    "share": round(a / fp_area, 6) if fp_area > 0 else 0.0})
    return out


def _summaries(cells: dict, fp_area: float) -> dict:
    lvl2: dict[str, list] = {}
    lvl1: dict[str, list] = defaultdict(lambda: [0.0, 0.0])
    grp: dict[str, list] = defaultdict(lambda: [0.0, 0.0])
    names: dict[str, str] = {}
    for code, (a, length, name) in cells.items():
        lvl2[code] = [a, length]
        names[code] = LEVEL2.get(code) or name
        for table, key in ((lvl1, level1_of(code)), (grp, group_of(code) or "未知")):
            table[key][0] += a
            table[key][1] += length
    level2 = _entries(lvl2, fp_area, names)
    for e in level2:
        e["level1"] = level1_of(e["code"])
        e["group"] = group_of(e["code"])
    return {"level1": _entries(dict(lvl1), fp_area, LEVEL1),
            "level2": level2,
            "groups": [dict(e, name=e["code"]) for e in _entries(dict(grp), fp_area)
                       if e["code"] in GROUPS or e["area"]["m2"] > 0],
            "_m2": {**{c: v[0] for c, v in lvl2.items()}, **{c: v[0] for c, v in lvl1.items()},
                    **{c: v[0] for c, v in grp.items()}}}


def _covered_by(decl: dict, level1: str) -> bool:
    """Whether a declaration speaks about a measured 一级类."""
    for key in decl:
        if key == level1 or (len(key) == 4 and level1_of(key) == level1):
            return True
        if key in GROUPS and any(group_of(c) == key for c in LEVEL2 if level1_of(c) == level1):
            return True
    return False


def compare_declared(decl: dict, measured: dict, level1_m2: dict, fp_area: float):
    """Declared vs measured per declared class; flags above :data:`TOLERANCE`."""
    rows, flags = [], []
    for key, want in decl.items():
        got = float(measured.get(key, 0.0))
        diff = got - want
        rel = diff / want if want > 0 else (float("inf") if got > 0 else 0.0)
        bad = abs(diff) > TOLERANCE * want if want > 0 else got > TOLERANCE * fp_area
        rows.append({"key": key, "name": name_of(key) or key, "declared": area_units(want),
                     "measured": area_units(got), "difference": area_units(diff),
                     "relative": None if rel == float("inf") else round(rel, 6), "flag": bad})
        if bad:
            flags.append(f"{name_of(key) or key}：申报 {want / 10000:.4f} 公顷，三调 "
                         f"{got / 10000:.4f} 公顷，差异 {diff / 10000:+.4f} 公顷"
                         + ("" if want <= 0 else f"（{rel:+.2%}）") + "，超过 1%")
    for code, a in sorted(level1_m2.items()):
        if fp_area > 0 and a > TOLERANCE * fp_area and not _covered_by(decl, code):
            flags.append(f"{LEVEL1.get(code, code)}：三调 {a / 10000:.4f} 公顷"
                         f"（占 {a / fp_area:.2%}）未在申报地类中")
    return rows, flags


def _farmland_m2(layers: list[LayerResult]) -> float | None:
    farm = [lr for lr in layers if lr.kind == "farmland"]
    if not farm or any(lr.rule in ("missing-layer", "outside-coverage") for lr in farm):
        return None
    return float(sum(lr.overlap_m2 for lr in farm))


def _breakdown(cells: dict, fp_area: float, project: Project, layers: list[LayerResult],
               meta: dict) -> dict:
    s = _summaries(cells, fp_area)
    m2 = s.pop("_m2")
    total = float(sum(v[0] for v in cells.values()))
    out = dict(meta, status="ok", footprint=area_units(fp_area), total=area_units(total),
               coverage=round(total / fp_area, 6) if fp_area > 0 else None, **s)
    farm = _farmland_m2(layers)
    out["cultivated"] = area_units(m2.get("01", 0.0))
    out["permanent_farmland"] = None if farm is None else area_units(farm)
    flags = []
    if fp_area > 0 and total < fp_area * (1 - 1e-4):
        flags.append(f"三调图层只覆盖项目范围的 {total / fp_area:.4%}：缺少的部分没有地类")
    decl = project.attrs.get("landuse_declared")
    out["declared"] = None
    if decl:
        lvl1 = {e["code"]: e["area"]["m2"] for e in s["level1"]}
        out["declared"], more = compare_declared(decl, m2, lvl1, fp_area)
        flags += more
    out["flags"] = flags
    return out


def landuse_breakdowns(index: RegionIndex, projects: list[Project], geo, fps, fp_area,
                       inside, opts: CheckOptions, results: list[CheckResult],
                       layers: list[list[LayerResult]]) -> None:
    """Set ``results[k].landuse`` for every project when the region has a 地类 layer.

    A footprint outside the catalog's coverage, or a declared layer that could not
    be read, gets a breakdown with ``status`` ``outside_coverage`` / ``data_missing``
    and no classes (never an empty breakdown that looks like nothing was taken).
    """
    from zoning.catalog import KINDS

    if not index.landuse_layers:
        return
    cells, read = _measure_pairs(index, geo, fps, opts)
    titles = dict(index.landuse_layers)
    meta = {"layer": ", ".join(li.name for li in read) or "(landuse)",
            "kind_zh": "、".join(dict.fromkeys(titles.get(li.name) or KINDS["landuse"].zh
                                               for li in read)) or KINDS["landuse"].zh,
            "area_method": opts.area_method,
            "data_version": "; ".join(sorted({li.version for li in read if li.version})),
            "tolerance": TOLERANCE}
    for k, p in enumerate(projects):
        if results[k].status != "ok":
            continue
        if not read:
            results[k].landuse = dict(meta, status="data_missing",
                                      notes=list(index.problems))
        elif not inside[k]:
            results[k].landuse = dict(meta, status="outside_coverage")
        else:
            bd = _breakdown(cells[k], float(fp_area[k]), p, layers[k], meta)
            results[k].landuse = bd
            if bd["flags"]:
                results[k].warnings.append("三调地类：" + "；".join(bd["flags"]))
