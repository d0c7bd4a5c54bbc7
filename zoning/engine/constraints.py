"""Generic constraint layers: the same measures as the fixed kinds, verdicts from their rules.

Every layer of kind ``constraint`` is checked like the others — features hit,
overlap areas and lengths, share, nearest feature and features within the
radius — by :func:`zoning.engine.overlay._check_layer`; its state then comes
from the layer's own rule set (:mod:`zoning.rules.constraints`).  A declared
layer that could not be read is reported as data missing, never as 不涉及.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from zoning.engine.index import RegionIndex
from zoning.options import CheckOptions
from zoning.project import Project
from zoning.results import LayerResult, State
from zoning.rules.constraints import ConstraintFacts, ConstraintRules

__all__ = ["constraint_layer_results", "strip_geometry"]


def _facts(lr: LayerResult, zones: set, geometry: str, base: dict,
           project: Project) -> ConstraintFacts:
    features: dict[str, set] = {}
    for h in lr.hits:
        for k, v in h.attributes.items():
            if v is not None and v != "":
                features.setdefault(k, set()).add(str(v))
    return ConstraintFacts(
        relation=lr.relation, zones=set(zones), features=features,
        nearest_m=0.0 if lr.hits else lr.nearest_m,
        coverage="full" if lr.share >= 1 - 1e-6 else "partial", geometry=geometry,
        takes_land=base["takes_land"], activity=base["activity"],
        major_project=base["major_project"], project_type=base["project_type"],
        industry=project.attrs.get("industry"), nature=project.attrs.get("nature"))


def _missing(name: str, title: str, notes: list) -> LayerResult:
    return LayerResult(layer=name, kind="constraint", kind_zh=title, state=State.DATA_MISSING,
                       basis=f"目录中的{title}图层无法读取：按数据缺失处理，不能视为不涉及。",
                       rule="missing-layer", notes=list(notes))


def _judge(lr: LayerResult, rules: ConstraintRules | None, facts: ConstraintFacts | None,
           inside: bool, region_name: str) -> None:
    if not inside:
        lr.state, lr.rule = State.DATA_MISSING, "outside-coverage"
        lr.basis = (f"项目超出{region_name}图层数据覆盖范围：范围外的部分不能判定，"
                    "按数据缺失处理。")
    elif facts is not None and rules is not None:
        case = rules.evaluate(facts)
        lr.state, lr.rule, lr.basis = case.state, case.id, rules.basis(case)
        lr.state_label = case.label


def constraint_layer_results(index: RegionIndex, projects: list[Project], geo, ch, inside,
                             facts_base: list, opts: CheckOptions,
                             overlaps: list) -> list[list[LayerResult]]:
    """Per project, one result for every constraint layer of the region, in catalog order.

    ``facts_base[k]`` is the project's rule facts (see
    :func:`zoning.engine.verdict.project_facts`) or None when its attributes failed;
    ``ch`` the chunk's footprints in the work CRS (clipped to the coverage, see
    :mod:`zoning.engine.overlay`); ``inside[k]`` whether any of the footprint lies
    within the catalog's coverage.
    Overlap records are appended to ``overlaps`` (unless the layer is statistics-only).
    """
    from zoning.engine.overlay import _check_layer

    n = len(projects)
    out: list[list[LayerResult]] = [[] for _ in range(n)]
    if not index.constraints:
        return out
    by_name: dict[str, list] = {}
    for li in index.chunk_layers("constraint", geo, opts):
        by_name.setdefault(li.name, []).append(li)
    for name, title in index.constraints:
        rules = index.constraint_rules.get(name)
        if name not in by_name:
            for k in range(n):
                out[k].append(_missing(name, title, index.problems))
            continue
        lopts = replace(opts, keep_geometry=False) if name in index.statistics_only else opts
        for li in by_name[name]:
            lrs = _check_layer(li, ch, lopts, overlaps, projects)
            for k in range(n):
                lr, zones, _covered = lrs[k]
                lr.kind_zh = title
                facts = None if facts_base[k] is None else _facts(
                    lr, zones, str(ch.kinds[k]), facts_base[k], projects[k])
                _judge(lr, rules, facts, bool(inside[k]), index.region_name)
                out[k].append(lr)
    return out


def strip_geometry(index: RegionIndex, opts: CheckOptions, overlaps: list) -> list:
    """The overlap records that may leave the engine: none in statistics-only mode, and
    never those of a layer the catalog marks ``statistics_only``."""
    if getattr(opts, "no_geometry", False):
        return []
    if not index.statistics_only:
        return overlaps
    keep = np.array([o["layer"] not in index.statistics_only for o in overlaps], dtype=bool)
    return [o for o, k in zip(overlaps, keep) if k]
