"""三线一单 生态环境准入清单: rules as data, and the 符合性分析 (compliance table).

Rules live in ``layers/access/*.yaml``, one file per jurisdiction (national →
province → city → unit).  For each 环境管控单元 a footprint falls in, every
rule of every level that covers the unit is evaluated against the project's
attributes; per unit and dimension the strictest outcome wins.
"""

from __future__ import annotations

import functools
import math
import operator
import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

from zoning.errors import CatalogError, RuleError
from zoning.rules.industry import industry_matches, normalize_industry

__all__ = ["normalize_industry", "AccessRules", "AccessRule", "Finding", "load_access_rules",
           "DIMENSIONS", "OUTCOMES", "UNIT_CLASS_ZH", "UNIT_CODE", "shore_selection", "clause_count",
           "BoundedDistance", "PartialDistance"]

DIMENSIONS = ("空间布局约束", "污染物排放管控", "环境风险防控", "资源开发效率要求")
EFFECTS = ("prohibit", "restrict", "require", "allow")
CONFIDENCE = ("auto", "hint", "human")
LEVELS = ("national", "province", "city", "unit")
UNIT_CLASSES = ("priority", "key", "general")
UNIT_CLASS_ZH = {"priority": "优先保护单元", "key": "重点管控单元", "general": "一般管控单元",
                 "unknown": "类别未能识别的管控单元"}
#: the class of a unit whose 管控单元分类 could not be read: a clause for any class may apply
UNKNOWN_CLASS = "unknown"
UNIT_CODE = re.compile(r"^ZH\d{6}[123]\d{4}$")

#: outcomes, most severe last
OUTCOMES = ("not_applicable", "allowed", "required", "review", "restricted", "prohibited")
OUTCOME_ZH = {"not_applicable": "不适用", "allowed": "符合（鼓励/允许）", "required": "需落实要求",
              "review": "需人工核查", "restricted": "限制（需论证）", "prohibited": "不符合（禁止）"}
_EFFECT_OUTCOME = {"prohibit": "prohibited", "restrict": "restricted", "require": "required",
                   "allow": "allowed"}
#: effects that can forbid a project: undecided, they fail closed (需补充信息)
_FORBIDDING = ("prohibit", "restrict")


#: the distance of a footprint to shorelines when the region has no shoreline data loaded
#: (no layer, or one that could not be read): unknown, never "no such shoreline"
NO_SHORE_DATA = float("nan")


class PartialDistance(float):
    """A distance to the shoreline features that could be read, while some shoreline data
    could not: a limit it is within is certain, a limit it is beyond is unknown."""


class BoundedDistance(float):
    """The distance to the shoreline features a clause certainly selects (``inf``: none),
    while nearer features lack a value it selects on (basin, river, order) and may be
    among them: ``bound`` is the distance to those.  A limit the distance is within is met;
    one the bound is beyond is not; one in between is unknown."""

    bound: float

    def __new__(cls, d: float, bound: float) -> BoundedDistance:
        obj = super().__new__(cls, d)
        obj.bound = float(bound)
        return obj

    def __getnewargs__(self) -> tuple[float, float]:  # pickle and copy make it again
        return float(self), self.bound


def shore_selection(spatial: dict) -> str:
    """The shoreline features a spatial condition selects, as a key: every item but the
    distance limit (a distance depends on the selection only, not on the limit)."""
    return repr(sorted((k, v) for k, v in spatial.items() if k != "within_m"))


def clause_count(rule_id: str) -> int:
    """How many clauses a row of the 符合性分析表 holds: undecided clauses of one unit and
    dimension share a row, their ids joined with "+" (see :meth:`AccessRules.joined`)."""
    return len(rule_id.split("+"))

@dataclass
class AccessRule:
    id: str
    level: str
    jurisdiction: str  # code
    jurisdiction_name: str
    dimension: str
    effect: str
    text: str
    source: dict
    confidence: str
    file: str
    industry: list | None = None
    nature: list | None = None
    two_high: bool | None = None
    energy_tce: dict | None = None
    unit_class: list | None = None
    units: list | None = None
    counties: list | None = None
    spatial: dict | None = None
    tailings: bool | None = None  # 涉及尾矿库: the rule applies to projects that have one
    exemptions: list = field(default_factory=list)  # [{when: {attr: [values]}, text}]
    parameters: dict = field(default_factory=dict)

    @functools.cached_property
    def real(self) -> bool:  # asked for every rule of every unit of every row: worked out once
        return bool(self.source.get("real"))

    @functools.cached_property
    def matchers(self) -> tuple:
        """The condition tests of this rule, in their order (those it sets): a batch tests
        every rule of every unit of every row."""
        return tuple(fn for attr, fn in _MATCHERS if getattr(self, attr) is not None)

    @functools.cached_property
    def spatial_label(self) -> str:
        """The shorelines the spatial condition selects, in words (长江（干流）, 岸线 …)."""
        sp = self.spatial or {}
        where = sp.get("river") or sp.get("basin") or ["岸线"]
        order = sp.get("order") or []
        return "/".join(where) + (f"（{'、'.join(order)}）" if order else "")

    @functools.cached_property
    def spatial_key(self) -> str:
        """The shoreline features the spatial condition selects, as a key (a project's
        distances are kept per selection, see :func:`shore_selection`)."""
        return shore_selection(self.spatial or {})


@dataclass
class Finding:
    """One row of the 符合性分析表."""

    unit_code: str
    unit_name: str
    unit_class: str
    unit_share: float
    dimension: str
    level: str
    jurisdiction: str
    rule_id: str
    clause: str
    source: str
    real: bool
    confidence: str
    applies: bool
    finding: str
    outcome: str
    #: the engine cannot clear this row of a prohibition or restriction: a clause that could
    #: prohibit or restrict waits for a project attribute not given, applies and needs a
    #: person to read it, or is a restriction that applies (its conditions are for a
    #: reviewer) — the control-unit verdict needs review (需补充信息), never 不涉及
    needs_info: bool = False

    @property
    def outcome_zh(self) -> str:
        return OUTCOME_ZH[self.outcome]

    def to_dict(self) -> dict:
        # every field is a plain value: a shallow dict equals ``asdict`` (which deep-copies,
        # and dominated a batch's access checks)
        d = dict(zip(_FINDING_FIELDS, _finding_values(self)))
        d["outcome_zh"] = self.outcome_zh
        d["unit_class_zh"] = UNIT_CLASS_ZH.get(self.unit_class, self.unit_class)
        return d


_FINDING_FIELDS = tuple(f.name for f in fields(Finding))
_finding_values = operator.attrgetter(*_FINDING_FIELDS)


@dataclass
class AccessRules:
    rules: list
    definitions: dict
    files: list
    #: (unit code, county, unit class) → the unit's rules (see :meth:`for_unit`)
    _by_unit: dict = field(default_factory=dict, repr=False, compare=False)
    _joined: dict = field(default_factory=dict, repr=False, compare=False)  # see joined()

    @property
    def two_high_codes(self) -> list:
        return list(self.definitions.get("two_high_industries", {}).get("codes", []))

    def for_unit(self, unit_code: str, county: str, unit_class: str) -> list:
        """Rules of every jurisdiction that covers a unit (national → unit order); worked
        out once per unit (a batch asks for the same few units again and again)."""
        key = (unit_code, county, unit_class)
        found = self._by_unit.get(key)
        if found is None:
            found = self._by_unit[key] = self._for_unit(unit_code, county, unit_class)
        return list(found)

    def joined(self, rs: list) -> tuple[str, str, str, str]:
        """(jurisdictions, rule ids, clauses, sources) of rules shown in one row, joined:
        the clauses in their own words, a demo clause tagged where a real one sits beside
        it.  Worked out once per set of rules and shared by every row that shows it."""
        key = tuple(r.id for r in rs)  # rule ids are unique in a set of access rules
        found = self._joined.get(key)
        if found is None:
            found = self._joined[key] = (
                sys.intern("、".join(dict.fromkeys(r.jurisdiction_name for r in rs))),
                sys.intern("+".join(r.id for r in rs)),
                sys.intern("；".join(f"{r.id}{'' if r.real else '〔示例〕'} {r.text}"
                                     for r in rs)),
                sys.intern("；".join(dict.fromkeys(r.source.get("doc", "") for r in rs))))
        return found

    def _for_unit(self, unit_code: str, county: str, unit_class: str) -> list:
        prov, city = county[:2] + "0000", county[:4] + "00"
        out = []
        for r in self.rules:
            if r.level == "national":
                applies_to = r.parameters.get("_applies_to")
                if applies_to and prov not in applies_to:
                    continue
            elif r.level == "province" and r.jurisdiction != prov:
                continue
            elif r.level == "city" and r.jurisdiction not in (city, county):
                continue
            elif r.level == "unit" and r.jurisdiction not in ("*", county, city, unit_code):
                continue
            if r.units and unit_code not in r.units:
                continue
            if r.counties and county not in r.counties:
                continue
            if r.unit_class and unit_class not in r.unit_class and unit_class != UNKNOWN_CLASS:
                continue
            out.append(r)
        return sorted(out, key=lambda r: (DIMENSIONS.index(r.dimension), LEVELS.index(r.level)))

    def parameter(self, name: str, county: str):
        """A threshold from the most specific jurisdiction that sets it."""
        prov, city = county[:2] + "0000", county[:4] + "00"
        found = None
        for level, code in (("national", "000000"), ("province", prov), ("city", city),
                            ("city", county)):
            for f in self.files:
                if f["level"] == level and f["code"] == code and name in f["parameters"]:
                    found = f["parameters"][name]
        return found


_RULE_KEYS = {"id", "dimension", "effect", "industry", "nature", "two_high", "energy_tce",
              "unit_class", "units", "counties", "spatial", "text", "source", "confidence",
              "tailings", "exemptions"}
_SPATIAL_KEYS = {"layer", "within_m", "basin", "river", "order"}
#: project attributes an exemption may test, and their values
_EXEMPT_KEYS = {"nature": None, "purpose": ("safety_eco",), "tailings": (True, False)}


def _check_kinds(raw: dict, err) -> None:
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise err(f"unknown key(s) {sorted(unknown)}")
    if raw.get("dimension") not in DIMENSIONS:
        raise err(f"dimension {raw.get('dimension')!r} is not one of {list(DIMENSIONS)}")
    if raw.get("effect") not in EFFECTS:
        raise err(f"effect {raw.get('effect')!r} is not one of {list(EFFECTS)}")
    if raw.get("confidence", "human") not in CONFIDENCE:
        raise err(f"confidence {raw.get('confidence')!r} is not one of {list(CONFIDENCE)}")
    if not raw.get("text"):
        raise err("'text' (the original clause) is required")
    src = raw.get("source")
    if not isinstance(src, dict) or not src.get("doc") or "real" not in src:
        raise err("'source' needs at least doc and real (true for a real document, false for "
                  "a demo rule)")
    if "tailings" in raw and not isinstance(raw["tailings"], bool):
        raise err("tailings must be true or false (涉及尾矿库)")


def _check_scope(raw: dict, err) -> None:
    units = raw.get("units")
    if units is not None:
        bad = [u for u in units if not UNIT_CODE.match(str(u))]
        if bad:
            raise err(f"malformed unit code(s) {bad}: expected ZH + 6-digit admin code + class "
                      "digit 1/2/3 + 4-digit serial (13 characters)")
    uc = raw.get("unit_class")
    if uc is not None and not set(uc) <= set(UNIT_CLASSES):
        raise err(f"unit_class must be among {list(UNIT_CLASSES)}")
    counties = raw.get("counties")
    if counties is not None and not all(re.fullmatch(r"\d{6}", str(c)) for c in counties):
        raise err("counties must be 6-digit 行政区划代码")


def _check_conditions(raw: dict, err) -> None:
    sp = raw.get("spatial")
    if sp is not None:
        if not isinstance(sp, dict) or "within_m" not in sp or sp.get("layer") != "shoreline":
            raise err("spatial needs {layer: shoreline, within_m: metres, basin/river/order: "
                      "[…]} (only shoreline distances are supported)")
        if set(sp) - _SPATIAL_KEYS:
            raise err(f"unknown spatial key(s) {sorted(set(sp) - _SPATIAL_KEYS)}")
    et = raw.get("energy_tce")
    if et is not None:
        if not isinstance(et, dict) or not set(et) <= {"gte", "lt"}:
            raise err("energy_tce must be {gte: N} or {lt: N} (N may be 'param:NAME')")
        for v in et.values():
            if isinstance(v, str) and not v.startswith("param:"):
                raise err(f"energy_tce threshold {v!r} must be a number or 'param:NAME'")
    for ex in raw.get("exemptions") or []:
        when = ex.get("when") if isinstance(ex, dict) else None
        if not isinstance(when, dict) or not when or not ex.get("text"):
            raise err("an exemption needs 'when' (project attributes) and 'text' (the clause)")
        bad = set(when) - set(_EXEMPT_KEYS)
        if bad:
            raise err(f"exemption conditions {sorted(bad)} are not among {sorted(_EXEMPT_KEYS)}")
        for k, v in when.items():
            allowed = _EXEMPT_KEYS[k]
            if allowed is not None and not set(v) <= set(allowed):
                raise err(f"exemption {k} values must be among {list(allowed)}")


def _check_rule(raw: dict, path: Path, i: int, meta: dict) -> AccessRule:
    rid = str(raw.get("id") or f"#{i + 1}")

    def err(msg):
        return CatalogError(f"rule {rid}: {msg}", path=path)

    _check_kinds(raw, err)
    _check_scope(raw, err)
    _check_conditions(raw, err)
    industry = None
    if raw.get("industry") is not None:
        try:
            industry = [normalize_industry(c) for c in raw["industry"]]
        except ValueError as e:
            raise err(str(e)) from None
    counties = raw.get("counties")
    return AccessRule(
        id=rid, level=meta["level"], jurisdiction=meta["code"], jurisdiction_name=meta["name"],
        dimension=raw["dimension"], effect=raw["effect"], text=str(raw["text"]).strip(),
        source=dict(raw["source"]), confidence=raw.get("confidence", "human"), file=path.name,
        industry=industry, nature=raw.get("nature"), two_high=raw.get("two_high"),
        energy_tce=raw.get("energy_tce"), unit_class=raw.get("unit_class"),
        units=raw.get("units"), counties=[str(c) for c in counties] if counties else None,
        spatial=raw.get("spatial"), tailings=raw.get("tailings"),
        exemptions=list(raw.get("exemptions") or []),
        parameters={"_applies_to": meta.get("applies_to")})


def load_access_rules(folder=None) -> AccessRules:
    """Load and check every ``*.yaml`` rule file of a folder (default: the bundled one)."""
    from zoning.io.yamlfile import load_yaml, yaml_files

    if folder is None:
        from zoning.paths import layers_dir

        folder = layers_dir() / "access"
    folder = Path(folder)
    files = [f for f in yaml_files(folder) if f.suffix in (".yaml", ".yml")]
    if not files or not files[0].exists():
        raise CatalogError("no access-rule files found", path=folder)
    rules, definitions, metas, ids = [], {}, [], {}
    for path in files:
        raw = load_yaml(path, error=RuleError, schema="access")
        if not isinstance(raw, dict) or raw.get("access_version") != 1:
            raise CatalogError("not an access-rule file (access_version: 1 expected)", path=path)
        j = raw.get("jurisdiction") or {}
        if j.get("level") not in LEVELS:
            raise CatalogError(f"jurisdiction.level must be one of {list(LEVELS)}", path=path)
        code = str(j.get("code", ""))
        if not (re.fullmatch(r"\d{6}", code) or (j["level"] == "unit" and
                                                  (code == "*" or UNIT_CODE.match(code)))):
            raise CatalogError(f"jurisdiction.code {code!r} must be a 6-digit 行政区划代码",
                               path=path)
        meta = {"level": j["level"], "code": code, "name": str(j.get("name", code)),
                "applies_to": [str(x) for x in raw.get("applies_to") or []] or None,
                "parameters": dict(raw.get("parameters") or {})}
        metas.append(meta)
        for k, v in (raw.get("definitions") or {}).items():
            definitions[k] = v
        for i, r in enumerate(raw.get("rules") or []):
            rule = _check_rule(r, path, i, meta)
            if rule.id in ids:
                raise CatalogError(f"rule {rule.id}: duplicate id (also in {ids[rule.id]})",
                                   path=path)
            ids[rule.id] = path.name
            rules.append(rule)
    if "two_high_industries" in definitions:
        try:
            definitions["two_high_industries"]["codes"] = [
                normalize_industry(c) for c in definitions["two_high_industries"]["codes"]]
        except ValueError as e:
            raise CatalogError(f"definitions.two_high_industries: {e}", path=folder) from None
    return AccessRules(rules=rules, definitions=definitions, files=metas)


# --------------------------------------------------------------------------- evaluation


def _threshold(v, rules: AccessRules, county: str):
    if isinstance(v, str) and v.startswith("param:"):
        return rules.parameter(v[6:], county)
    return v


def is_two_high(industry: str | None, energy: float | None, rules: AccessRules,
                county: str) -> tuple[bool | None, str]:
    """(两高?, why).  None when it depends on an energy figure that was not given."""
    if industry is None:
        return None, "未提供行业代码"
    if not industry_matches(industry, rules.two_high_codes):
        return False, f"行业 {industry} 不属于\"两高\"六大行业"
    floor = rules.parameter("two_high_min_energy_tce", county)
    if floor is None:
        return True, f"行业 {industry} 属于\"两高\"六大行业（环环评〔2021〕45号）"
    if energy is None:
        return None, f"行业 {industry} 属于\"两高\"行业，未提供年综合能耗（本地门槛 {floor:g} tce）"
    if energy >= floor:
        return True, f"行业 {industry}，年综合能耗 {energy:g} tce ≥ 本地门槛 {floor:g} tce"
    return False, f"年综合能耗 {energy:g} tce < 本地门槛 {floor:g} tce"


@dataclass
class _Match:
    """How one rule meets one project in one unit."""

    applies: bool = True
    reasons: list = field(default_factory=list)  # the conditions the project meets
    misses: list = field(default_factory=list)  # the condition it does not meet (why not)
    unknown: list = field(default_factory=list)
    exempt: str = ""


@dataclass
class _Project:
    industry: str | None
    nature: str | None
    energy: float | None
    tailings: bool | None
    purpose: str | None
    distance_fn: object
    dist_cache: dict = field(default_factory=dict)
    two_high: bool | None = None
    why_2h: str = ""


def _m_industry(r: AccessRule, p: _Project, m: _Match, rules: AccessRules, county: str):
    if p.industry is None:
        m.unknown.append("未提供行业代码")
    elif industry_matches(p.industry, r.industry):
        m.reasons.append(f"行业 {p.industry} 属于 {'/'.join(r.industry)}")
    else:
        m.applies = False
        m.misses.append(f"行业 {p.industry} 不属于 {'/'.join(r.industry)}")


def _m_nature(r: AccessRule, p: _Project, m: _Match, rules: AccessRules, county: str):
    if p.nature is None:
        m.unknown.append("未提供建设性质")
    elif p.nature in r.nature:
        m.reasons.append(f"建设性质为{p.nature}")
    else:
        m.applies = False
        m.misses.append(f"建设性质为{p.nature}，条款针对{'/'.join(r.nature)}")


def _m_two_high(r: AccessRule, p: _Project, m: _Match, rules: AccessRules, county: str):
    if p.two_high is None:
        m.unknown.append(p.why_2h)
    elif p.two_high == r.two_high:
        m.reasons.append(p.why_2h)
    else:
        m.applies = False
        m.misses.append(p.why_2h or ("属于" if p.two_high else "不属于") + "“两高”项目")


def _m_energy(r: AccessRule, p: _Project, m: _Match, rules: AccessRules, county: str):
    for op, v in r.energy_tce.items():
        thr = _threshold(v, rules, county)
        if thr is None:
            m.unknown.append(f"参数 {v} 未设定")
        elif p.energy is None:
            m.unknown.append("未提供年综合能耗")
        elif (op == "gte" and p.energy >= thr) or (op == "lt" and p.energy < thr):
            m.reasons.append(f"年综合能耗 {p.energy:g} tce {'≥' if op == 'gte' else '<'} "
                             f"{thr:g} tce")
        else:
            m.applies = False
            m.misses.append(f"年综合能耗 {p.energy:g} tce {'<' if op == 'gte' else '≥'} "
                            f"{thr:g} tce")


def _m_tailings(r: AccessRule, p: _Project, m: _Match, rules: AccessRules, county: str):
    """涉及尾矿库: yes/no from the project; unknown asks only where the industry may have one."""
    if p.tailings is None:
        may = rules.definitions.get("tailings_industries", {}).get("codes", [])
        if p.industry is not None and may and not industry_matches(p.industry, may):
            m.applies = False
            m.misses.append(f"行业 {p.industry} 不属于可能设尾矿库的行业（{'/'.join(may)}）")
        else:
            m.unknown.append("未说明是否涉及尾矿库")
    elif p.tailings == r.tailings:
        m.reasons.append("涉及尾矿库" if p.tailings else "不涉及尾矿库")
    else:
        m.applies = False
        m.misses.append("不涉及尾矿库" if not p.tailings else "涉及尾矿库")


def _m_spatial(r: AccessRule, p: _Project, m: _Match, rules: AccessRules, county: str):
    key = r.spatial_key
    if key not in p.dist_cache:
        p.dist_cache[key] = p.distance_fn(r.spatial)
    d = p.dist_cache[key]
    sel = r.spatial_label
    limit = r.spatial["within_m"]
    if d is not None and (math.isnan(d) or (isinstance(d, PartialDistance) and d >= limit)):
        m.unknown.append(f"岸线图层缺失或无法读取，距{sel}岸线的距离不能判定")
    elif d is None:
        m.applies = False
        m.misses.append(f"没有{sel}岸线")
    elif d < limit:
        m.reasons.append(f"距{sel}岸线 {_beside(d, limit)} m < {limit:,} m")
    elif isinstance(d, BoundedDistance) and d.bound < limit:
        m.unknown.append(f"距一条未标明流域、河流或等级的岸线 {_beside(d.bound, limit)} m < "
                         f"{limit:,} m，不能判定其是否属{sel}岸线")
    elif math.isinf(d):
        m.applies = False
        m.misses.append(f"没有可确认的{sel}岸线（未标明属性的岸线距项目 ≥ {limit:,} m）")
    else:
        m.applies = False
        m.misses.append(f"距{sel}岸线 {_beside(d, limit)} m ≥ {limit:,} m")


def _beside(d: float, limit: float) -> str:
    """A distance compared with ``limit``, in words that never read as the limit itself
    (999.6 m as "1,000 m < 1,000 m", 1,000.29 m as "1,000 m ≥ 1,000 m"): rounded to the
    metre unless that lands on the limit, then cut to the millimetre on its own side.

    Examples
    --------
    >>> _beside(812.4, 1000), _beside(999.9999999, 1000), _beside(1000.29, 1000)
    ('812', '999.999', '1,000.290')
    >>> _beside(1000.0, 1000), _beside(1500.4, 1000)
    ('1,000', '1,500')
    """
    if d < limit and round(d) >= limit:
        return f"{math.floor(d * 1000) / 1000:,.3f}"
    if d > limit and round(d) == limit:
        return f"{math.ceil(d * 1000) / 1000:,.3f}"
    return f"{d:,.0f}"


_MATCHERS = (("industry", _m_industry), ("nature", _m_nature), ("two_high", _m_two_high),
             ("energy_tce", _m_energy), ("tailings", _m_tailings), ("spatial", _m_spatial))


def _exempt(r: AccessRule, p: _Project, m: _Match) -> None:
    """Exemptions written as data: all conditions known and met → the rule does not apply."""
    have = {"nature": p.nature, "purpose": p.purpose, "tailings": p.tailings}
    for ex in r.exemptions:
        when = ex["when"]
        missing = [k for k in when if have[k] is None]
        if any(have[k] is not None and have[k] not in when[k] for k in when):
            continue
        if missing:
            names = {"nature": "建设性质", "purpose": "建设目的", "tailings": "是否涉及尾矿库"}
            m.unknown.append("未说明" + "、".join(names[k] for k in missing) +
                             f"（豁免条件：{ex['text']}）")
            continue
        m.applies = False
        m.exempt = str(ex["text"])
        return


def _match(r: AccessRule, u: dict, p: _Project, rules: AccessRules) -> _Match:
    m = _Match()
    for fn in r.matchers:
        fn(r, p, m, rules, u["county"])
        if not m.applies:
            break
    if m.applies and r.exemptions:
        _exempt(r, p, m)
    if m.applies and r.unit_class:
        if u["unit_class"] == UNKNOWN_CLASS:  # it applies if the unit is of its class
            m.unknown.append("管控单元分类未能识别（本条款仅适用于" +
                             "、".join(UNIT_CLASS_ZH[c] for c in r.unit_class) + "）")
        else:
            m.reasons.append(f"位于{UNIT_CLASS_ZH[u['unit_class']]}")
    return m


def _outcome(r: AccessRule, m: _Match) -> tuple[str, str]:
    """(outcome, finding text) of a rule that was decided."""
    if not m.applies:
        if m.exempt:
            return "not_applicable", "不适用（豁免）：" + m.exempt
        # why not: the condition the project fails, not those it meets
        return "not_applicable", "不适用" + ("：" + "；".join(m.misses) if m.misses else "")
    outcome = _EFFECT_OUTCOME[r.effect]
    finding = "适用：" + "；".join(m.reasons) if m.reasons else "适用（本单元普遍要求）"
    if r.confidence == "human" and outcome != "allowed":
        outcome = "review" if r.effect != "require" else "required"
        finding += "（条文需人工判读）"
    elif r.confidence == "hint":
        if outcome == "prohibited":
            outcome = "review"  # a hint never decides a prohibition on its own
        finding += "（提示性判定，需复核）"
    return outcome, finding


def _row(r: AccessRule, u: dict, outcome: str, finding: str, applies: bool) -> Finding:
    src = r.source
    # texts from the rules' small vocabulary are interned: a batch's rows share one copy
    # (each row had its own, and pickled it: most of a dask partition's bytes)
    return Finding(
        unit_code=u["code"], unit_name=u["name"], unit_class=u["unit_class"],
        unit_share=u["share"], dimension=r.dimension, level=r.level,
        jurisdiction=r.jurisdiction_name, rule_id=r.id, clause=r.text,
        source=sys.intern(f"{src.get('doc', '')} {src.get('number', '')}".strip()),
        real=r.real, confidence=r.confidence, applies=applies, finding=sys.intern(finding),
        outcome=outcome)


def _pending_rows(rules: AccessRules, pending: dict) -> list[Finding]:
    """One row per unit, dimension and kind of the clauses a missing attribute leaves
    undecided: those that could prohibit or restrict (需人工核查, and the unit's verdict fails
    closed) apart from requirements (需落实要求 if they apply: a note, not a conflict)."""
    rows = []
    for (code, dim, severe), p in pending.items():
        u, rs = p["unit"], p["rules"]
        jurisdiction, rule_id, clause, source = rules.joined(rs)
        rows.append(Finding(
            unit_code=code, unit_name=u["name"], unit_class=u["unit_class"],
            unit_share=u["share"], dimension=dim, level=rs[0].level,
            jurisdiction=jurisdiction, rule_id=rule_id, clause=clause, source=source,
            real=any(r.real for r in rs), confidence="human", applies=True,
            finding=sys.intern(("未能判定（可能禁止或限制），需补充：" if severe else
                                "如适用须落实，需补充：") + "；".join(p["why"])),
            outcome="review" if severe else "required", needs_info=severe))
    return rows


def evaluate(rules: AccessRules, units: list[dict], project: dict, distance_fn) -> list[Finding]:
    """The compliance table for one project.

    ``units``: dicts with code, name, unit_class (priority/key/general), county, share.
    ``project``: industry (normalised), nature, energy_tce, tailings (涉及尾矿库),
    purpose (建设目的).
    ``distance_fn(spatial) -> metres | None``: distance from the footprint to the
    shoreline features the spatial condition selects (None: no such feature).
    Rows whose outcome depends on a missing attribute are collapsed into one row per
    unit, dimension and kind: ``review`` with ``needs_info`` for clauses that could
    prohibit or restrict, ``required`` for requirements.  A ``hint`` rule never
    prohibits on its own (review).
    """
    rows = []
    pending: dict = {}
    p = _Project(industry=project.get("industry"), nature=project.get("nature"),
                 energy=project.get("energy_tce"), tailings=project.get("tailings"),
                 purpose=project.get("purpose"), distance_fn=distance_fn)
    for u in units:
        p.two_high, p.why_2h = is_two_high(p.industry, p.energy, rules, u["county"])
        for r in rules.for_unit(u["code"], u["county"], u["unit_class"]):
            m = _match(r, u, p, rules)
            severe = r.effect in _FORBIDDING
            if m.applies and m.unknown and r.effect != "allow":
                pend = pending.setdefault((u["code"], r.dimension, severe),
                                          {"unit": u, "rules": [], "why": []})
                pend["rules"].append(r)
                pend["why"].extend(w for w in m.unknown if w not in pend["why"])
                continue
            outcome, finding = _outcome(r, m)
            row = _row(r, u, outcome, finding, m.applies)
            # a restriction that applies is not cleared by the engine either: whether the
            # project meets its conditions (a park, a replacement plan …) is for a reviewer
            row.needs_info = (outcome == "review" and severe) or outcome == "restricted"
            rows.append(row)
    rows.extend(_pending_rows(rules, pending))
    rows.sort(key=lambda f: (f.unit_code, DIMENSIONS.index(f.dimension)))
    return rows


def unit_class_of(value) -> str | None:
    """Canonical unit class from the many spellings in real data (1/优先/优先保护单元 …)."""
    if value is None:
        return None
    s = str(value).strip().lower()
    for key, words in (("priority", ("1", "priority", "优先", "优先保护", "优先保护单元",
                                     "优先保护区", "优先保护类")),
                       ("key", ("2", "key", "重点", "重点管控", "重点管控单元", "重点管控区",
                                "重点管控类")),
                       ("general", ("3", "general", "一般", "一般管控", "一般管控单元",
                                    "一般管控区", "一般管控类"))):
        if s in words:
            return key
    return None


def strictest(findings) -> str:
    return max((f.outcome for f in findings), key=OUTCOMES.index, default="not_applicable")
