"""Verdicts: project facts against the rule set, and the 三线一单 access lists."""

from __future__ import annotations

from zoning.engine.index import RegionIndex
from zoning.project import Project
from zoning.results import CheckResult, LayerResult, State
from zoning.rules.access import UNIT_CLASS_ZH, strictest, unit_class_of
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
    return dict(
        takes_land=True if takes is None else bool(takes),
        activity=rules.check_value("activity", a.get("activity")),
        major_project=rules.check_value("major_project", a.get("major_project")),
        project_type=rules.check_value("project_type", a.get("project_type")),
    )


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
            units.append(dict(code=h.feature_id, name=h.attributes.get("name") or "",
                              unit_class=cls or "general", county=county, share=h.share))
    if not units or index.access is None:
        return
    findings = evaluate_access(index.access, units, p.attrs,
                               lambda sp: index.shoreline_distance(fp_work, sp))
    outcome = strictest(findings)
    result.access = {
        "units": [dict(u, unit_class_zh=UNIT_CLASS_ZH[str(u["unit_class"])]) for u in units],
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

