"""Verdicts: project facts against the rule set, and the 三线一单 access lists."""

from __future__ import annotations

import sys

from zoning.engine.index import RegionIndex
from zoning.project import Project
from zoning.results import SEVERITY, CheckResult, LayerResult, State
from zoning.rules.access import (
    UNIT_CLASS_ZH,
    UNKNOWN_CLASS,
    clause_count,
    strictest,
    unit_class_of,
)
from zoning.rules.access import evaluate as evaluate_access
from zoning.rules.three_lines import RuleSet

__all__ = ["project_facts", "apply_access"]


def project_facts(p: Project, rules: RuleSet) -> dict:
    """The rule-relevant facts of a project, its vocabulary values checked against the rules.

    Attributes were parsed when the project was built (:class:`~zoning.project.Project`);
    this only checks categories against the rule set's vocabularies.
    """
    a = p.attrs
    takes = a.get("takes_land")
    ptype = rules.check_value("project_type", a.get("project_type"))
    inferred = None
    if ptype is None:
        ptype, inferred = infer_project_type(a.get("industry"), rules)
    return dict(
        takes_land=True if takes is None else bool(takes),
        activity=rules.check_value("activity", a.get("activity")),
        major_project=rules.check_value("major_project", a.get("major_project")),
        project_type=ptype, inferred=inferred,
    )


#: GB/T 4754-2017 codes whose projects are industrial (工业): C 制造业 and D441 电力生产
#: (power plants).  Only these are inferred: the rest of section D (电力供应, 热力, 燃气, 水的
#: 生产和供应) is as often a supply line or network (a linear work) as a plant, and a B 采矿业
#: project or a service may well have a specific siting requirement; their type is left to
#: the user.
_INDUSTRIAL_CODES = ("C", "D441")


def infer_project_type(industry: str | None, rules: RuleSet) -> tuple[str | None, str | None]:
    """(project type, warning) inferred from the industry code where that is safe.

    A C-section or D441 (电力生产) code is an industrial project (``industrial``) when the
    rule set knows that type; anything else stays unknown (None).
    """
    if not industry or not industry.startswith(_INDUSTRIAL_CODES) or \
            "industrial" not in rules.vocabularies.get("project_type", {}):
        return None, None
    where = "D441 电力生产" if industry.startswith("D") else "C 门类 制造业"
    return "industrial", (f"未填写项目类型：按行业代码 {industry}（GB/T 4754 {where}）"
                          "推定为工业项目（industrial）")


def _nearest_shore(layers: list[LayerResult]) -> tuple | None:
    """(distance, {(layer, feature id), …}) of the nearest shoreline features the layer
    check found for a footprint (0 and the features it meets), or None if it found none."""
    best: tuple | None = None
    for lr in layers:
        if lr.kind != "shoreline":
            continue
        if lr.hits:
            d, ids = 0.0, {(lr.layer, h.feature_id) for h in lr.hits}
        elif lr.nearest_id is not None and lr.nearest_m is not None:
            d, ids = float(lr.nearest_m), {(lr.layer, lr.nearest_id)}
        else:
            continue
        if best is None or d < best[0]:
            best = (d, ids)
        elif d == best[0]:
            best[1].update(ids)
    return best


def apply_access(index: RegionIndex, p: Project, fp_work, result: CheckResult,
                 layers: list[LayerResult]) -> None:
    """三线一单: evaluate the access lists of every unit the footprint falls in."""
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
            # a class that cannot be read is unknown, never the mildest (一般管控): a clause
            # of any class may then apply
            units.append(dict(code=h.feature_id, name=h.attributes.get("name") or "",
                              unit_class=cls or UNKNOWN_CLASS, county=county, share=h.share))
    if not units or index.access is None:
        return
    memo: dict = {}  # this footprint's distances, per shoreline tree
    known = _nearest_shore(layers)
    findings = evaluate_access(index.access, units, p.attrs,
                               lambda sp: index.shoreline_distance(fp_work, sp, memo, known))
    outcome = strictest(findings)
    result.access = {
        "units": [dict(u, unit_class_zh=UNIT_CLASS_ZH[str(u["unit_class"])]) for u in units],
        "outcome": outcome,
        "findings": [f.to_dict() for f in findings],
    }
    worst = [f for f in findings if f.outcome == outcome and outcome != "not_applicable"]
    # a clause that could prohibit or restrict and that the engine cannot decide (it waits
    # for a project attribute, or needs a person to read it) fails closed: the layer needs
    # review (需补充信息) — unknown is never 不涉及
    unsure = [f for f in findings if f.needs_info]
    for lr in unit_layers:
        if outcome == "prohibited":
            lr.state = State.PROHIBITED
            # interned, as the findings' texts are: rows with the same answer share them
            lr.rule = sys.intern(",".join(sorted({f.rule_id for f in worst})))
            lr.basis = sys.intern("生态环境准入清单：" + "；".join(
                f"{f.unit_code} {f.rule_id}：{f.clause}（{f.source}）" for f in worst))
        elif unsure and SEVERITY[lr.state] < SEVERITY[State.NEEDS_REVIEW]:
            lr.state = State.NEEDS_REVIEW
            lr.rule = sys.intern(",".join(sorted({f.rule_id for f in unsure})))
            lr.basis = sys.intern("生态环境准入清单：" + "；".join(
                f"{f.unit_code} {f.rule_id}：{f.finding}" for f in unsure))
        if outcome in ("restricted", "review", "required"):
            clauses = sum(clause_count(f.rule_id) for f in worst)  # a row may hold several
            lr.notes.append(sys.intern(
                f"准入清单：{clauses} 条条款结论为“{worst[0].outcome_zh}”，见符合性分析表"))

