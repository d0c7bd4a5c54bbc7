"""Verdict rules of generic constraint layers, as data (``layers/rules/constraints/*.yaml``).

A constraint layer (饮用水水源保护区, 公益林, 压覆矿产 …) is declared in a catalog
with ``kind: constraint`` (or any other kind name) and ``rules:`` — a rule file
or the same content inline.  A rule set lists *cases*, tried in order; the first
whose ``when`` holds decides the layer's state, and the list must end with a case
without ``when``.  Conditions (all must hold):

``relation``      none | touches | overlaps | within | crosses | contains_point
``zone``          any hit feature's canonical ``zone`` value is listed
``feature``       ``{field: [values]}``: any hit feature has one of the values
``within_m``      the footprint is within this distance (m) of a feature (a hit is 0 m)
``coverage``      full | partial: whether the hit features cover the footprint
``takes_land``    true | false
``activity`` / ``major_project`` / ``project_type``
                  keys of the verdict rules' vocabularies, ``any``, or ``missing``
``industry``      GB/T 4754 code prefixes (``C26``); ``missing`` = not given
``nature``        建设性质 values (新建 / 扩建 / 改建); ``missing`` = not given
``geometry``      point | line | polygon

Every case needs its legal ``basis``.  A rule set is marked ``status: real``
(it cites a real law's article) or ``demo`` (written for the synthetic seed
data); ``verify:`` notes what is not yet checked against the official text
(待核实).  Both marks reach the basis text of every verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoning.errors import CatalogError, RuleError, finite_nonnegative
from zoning.results import State
from zoning.rules.three_lines import rule_label

__all__ = ["ConstraintRules", "ConstraintFacts", "ConstraintRule", "load_constraint_rules",
           "constraint_rules_dir"]

_CONDITIONS = {"relation", "zone", "feature", "within_m", "coverage", "takes_land", "activity",
               "major_project", "project_type", "industry", "nature", "geometry"}
_RELATIONS = {"none", "touches", "overlaps", "within", "crosses", "contains_point"}
_VOCAB_KEYS = ("activity", "major_project", "project_type")
_TOP_KEYS = {"constraint_rules_version", "id", "title", "law", "status", "verify", "fields",
             "cases", "notes"}


def constraint_rules_dir() -> Path:
    """The folder of the bundled constraint rule templates."""
    from zoning.paths import layers_dir

    return layers_dir() / "rules" / "constraints"


@dataclass
class ConstraintFacts:
    """What constraint rules can test about one footprint against one layer."""

    relation: str
    zones: set = field(default_factory=set)
    features: dict = field(default_factory=dict)  # canonical field -> set of hit values
    nearest_m: float | None = None
    coverage: str = "partial"
    geometry: str = "polygon"
    takes_land: bool = True
    activity: str | None = None
    major_project: str | None = None
    project_type: str | None = None
    industry: str | None = None
    nature: str | None = None


@dataclass
class ConstraintRule:
    id: str
    state: State
    basis: str
    when: dict
    label: str | None = None  # words for a not_intersecting verdict (see three_lines.rule_label)


@dataclass
class ConstraintRules:
    """One constraint layer's rule set."""

    id: str
    title: str
    law: str
    real: bool
    verify: str
    cases: list[ConstraintRule]
    origin: str  # the rule file, or "inline (<catalog>)"

    def evaluate(self, facts: ConstraintFacts) -> ConstraintRule:
        """The first case whose conditions hold (the last case always does)."""
        for case in self.cases:
            if _matches(case.when, facts):
                return case
        raise AssertionError(f"{self.origin}: no catch-all case")  # checked at load

    def basis(self, case: ConstraintRule) -> str:
        """The case's basis with the set's real/demo and 待核实 marks."""
        text = case.basis
        if not self.real:
            text = "〔示例规则〕" + text
        if self.verify:
            text += f"（待核实：{self.verify}）"
        return text


def _in(want, have) -> bool:
    """A project-attribute condition: ``any``, ``missing`` or a list of values."""
    if want == "any":
        return have is not None
    if have is None:
        return "missing" in want
    return have in want


def _matches(when: dict, f: ConstraintFacts) -> bool:
    for key, want in when.items():
        if key == "relation":
            ok = f.relation in want
        elif key == "zone":
            ok = bool(f.zones & set(want))
        elif key == "feature":
            ok = all(bool(f.features.get(k, set()) & set(v)) for k, v in want.items())
        elif key == "within_m":
            ok = f.nearest_m is not None and f.nearest_m <= want
        elif key == "coverage":
            ok = f.coverage == want
        elif key == "takes_land":
            ok = f.takes_land == bool(want)
        elif key == "geometry":
            ok = f.geometry in want
        elif key == "industry":
            ok = ("missing" in want) if f.industry is None else any(
                f.industry.startswith(p) for p in want if p != "missing")
        else:  # activity, major_project, project_type, nature
            ok = _in(want, getattr(f, key))
        if not ok:
            return False
    return True


def _text_list(v, what: str, err) -> list[str]:
    if isinstance(v, (str, int)):
        v = [v]
    if not isinstance(v, list) or not v:
        raise err(f"{what} must be a value or a non-empty list of values")
    return [str(x) for x in v]


def _parse_condition(key: str, want: Any, vocab: dict, err) -> Any:
    if key == "within_m":
        return finite_nonnegative(want, "within_m（以米计的距离）", err)
    if key == "coverage":
        if want not in ("full", "partial"):
            raise err("coverage must be full or partial")
        return want
    if key == "takes_land":
        return bool(want)
    if key == "feature":
        if not isinstance(want, dict) or not want:
            raise err("feature must map canonical field names to values")
        return {str(k): set(_text_list(v, f"feature.{k}", err)) for k, v in want.items()}
    if key in _VOCAB_KEYS and want == "any":
        return "any"
    vals = _text_list(want, key, err)
    allowed = {"relation": _RELATIONS, "geometry": {"point", "line", "polygon"}}.get(key)
    if allowed and not set(vals) <= allowed:
        raise err(f"{key} must be among {sorted(allowed)}")
    if key in _VOCAB_KEYS and vocab.get(key):
        unknown = set(vals) - set(vocab[key]) - {"missing"}
        if unknown:
            raise err(f"{key} values {sorted(unknown)} are not in the verdict rules' "
                      f"vocabularies.{key}")
    return vals


def _parse_when(when: Any, vocab: dict, err) -> dict:
    if not isinstance(when, dict):
        raise err("'when' must be a mapping of conditions")
    bad = set(when) - _CONDITIONS
    if bad:
        raise err(f"unknown condition(s) {sorted(bad)}; allowed {sorted(_CONDITIONS)}")
    return {key: _parse_condition(key, want, vocab, err) for key, want in when.items()}


def _state(value, err) -> State:
    try:
        return State(value)
    except ValueError:
        raise err(f"state {value!r} is not one of {[s.value for s in State]}") from None


def _parse_cases(raw_cases: Any, rid: str, vocab: dict, where: dict) -> list[ConstraintRule]:
    if not isinstance(raw_cases, list) or not raw_cases:
        raise CatalogError(f"rule set {rid}: 'cases' must be a non-empty list", **where)
    cases = []
    for i, r in enumerate(raw_cases):
        cid = str((r or {}).get("id") or f"{rid}#{i + 1}") if isinstance(r, dict) \
            else f"{rid}#{i + 1}"

        def err(msg, cid=cid):
            return CatalogError(f"rule {cid}: {msg}", **where)

        if not isinstance(r, dict):
            raise err("a case must be a mapping with state, basis and optionally when")
        keys = {"id", "when", "state", "basis", "note", "label"}
        if set(r) - keys:
            raise err(f"unknown key(s) {sorted(set(r) - keys)}")
        if not r.get("basis"):
            raise err("every case needs its legal 'basis' text")
        state = _state(r.get("state"), err)
        cases.append(ConstraintRule(id=cid, state=state, basis=str(r["basis"]).strip(),
                                    when=_parse_when(r.get("when") or {}, vocab, err),
                                    label=rule_label(r.get("label"), state, err)))
    if cases[-1].when:
        raise CatalogError(f"rule set {rid}: the cases must end with a catch-all case (one "
                           "without 'when')", **where)
    return cases


def load_constraint_rules(source, vocabularies: dict | None = None,
                          where: dict | None = None) -> ConstraintRules:
    """Read a constraint rule set from a file path or an inline mapping.

    Parameters
    ----------
    source : path or mapping
        A rule file (``constraint_rules_version: 1``) or the same content inline.
    vocabularies : dict, optional
        The verdict rules' vocabularies (activity, major_project, project_type) that
        the cases' values are checked against.
    where : dict, optional
        ``path``/``layer`` for error messages of inline rules.

    Raises
    ------
    CatalogError
        For a missing or malformed rule set, naming the file and the case.
    """
    where = dict(where or {})
    if isinstance(source, dict):
        raw = source
        origin = f"inline ({where.get('path', '')})"
    else:
        from zoning.io.yamlfile import load_yaml

        path = Path(source)
        where["path"] = path
        if not path.exists():
            raise RuleError("constraint rule file not found", **where)
        raw = load_yaml(path, error=RuleError)
        if not isinstance(raw, dict) or raw.get("constraint_rules_version") != 1:
            raise CatalogError("not a constraint rule file (constraint_rules_version: 1 "
                               "expected)", **where)
        origin = str(path)
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise CatalogError(f"unknown key(s) {sorted(unknown)} in constraint rules; allowed: "
                           f"{sorted(_TOP_KEYS)}", **where)
    status = str(raw.get("status", "demo"))
    if status not in ("real", "demo"):
        raise CatalogError("status must be real (cites a real law) or demo", **where)
    rid = str(raw.get("id") or where.get("layer") or "constraint")
    cases = _parse_cases(raw.get("cases"), rid, vocabularies or {}, where)
    return ConstraintRules(id=rid, title=str(raw.get("title") or rid),
                           law=str(raw.get("law") or ""), real=status == "real",
                           verify=str(raw.get("verify") or "").strip(), cases=cases,
                           origin=origin)
