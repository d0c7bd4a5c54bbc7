"""Verdict rules as data (``layers/rules/*.yaml``): load, check, evaluate."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from zoning.errors import CatalogError, InputError, RuleError
from zoning.results import State

__all__ = ["RuleSet", "Facts", "load_rules", "default_rules_path", "canonical_zone",
           "zone_fact", "ZONE_KEYS", "ZONE_FIELD", "ZONE_MAY_BE_EMPTY", "UNKNOWN_ZONE",
           "is_missing"]

#: 城镇开发边界 planning partitions (GHFQMC), 自然资发〔2023〕193号 and the 划定指南
_PARTITIONS = (("集中建设", "concentrated"), ("弹性发展", "flexible"), ("特别用途", "special"))


def canonical_zone(kind: str, value) -> str:
    """The zone key rules test: 城镇开发边界 partitions by name, others as mapped by the catalog.

    >>> canonical_zone("urban_boundary", "城镇弹性发展区")
    'flexible'
    """
    s = str(value).strip()
    if kind == "urban_boundary":
        for word, key in _PARTITIONS:
            if word in s:
                return key
    return s

#: the zones the three-lines rules know, per layer kind (a catalog maps a layer's own values
#: onto them, e.g. ``values: {pa_zone: {核心保护区: core, 一般控制区: general}}``).  Any other
#: value, or none where every feature lies in a zone, is unknown: the verdict may not
#: depend on it (domain.md §1.2: "Without that attribute the checker cannot tell
#: 'prohibited' from 'limited activity possible'.")
ZONE_KEYS = {"eco_redline": ("core", "general"), "protected_area": ("core", "general"),
             "urban_boundary": ("concentrated", "flexible", "special")}
#: the canonical catalog field holding each of those kinds' zone
ZONE_FIELD = {"eco_redline": "pa_zone", "protected_area": "zone",
              "urban_boundary": "partition"}
#: a red-line polygon outside every protected area has no protected-area zone: no value
#: there is a known "none", not an unknown
ZONE_MAY_BE_EMPTY = frozenset({"eco_redline"})
#: prefix of an unknown zone in :attr:`Facts.zones` (never a rule's zone value)
UNKNOWN_ZONE = "?"
_NULLS = frozenset({"", "none", "nan", "null", "<na>"})


def is_missing(value) -> bool:
    """Whether an attribute value is missing: None, NaN, empty, or a null's text ("None" …,
    as a mapped column holds it).

    >>> [is_missing(v) for v in (None, float("nan"), " ", "None", "<NA>", "长江", 0)]
    [True, True, True, True, True, False, False]
    """
    return value is None or str(value).strip().lower() in _NULLS


def zone_fact(kind: str, value, mapped: bool = True, known=None) -> str | None:
    """The zone a feature of a three-lines layer kind adds to :attr:`Facts.zones`: its
    canonical key, None (no zone, where a feature may have none), or :data:`UNKNOWN_ZONE`
    followed by the value the catalog left unmapped ("" for a missing one).  ``mapped``:
    whether the catalog maps the layer's zone field at all; ``known``: the zones the rules
    know (:meth:`RuleSet.zone_keys`; default :data:`ZONE_KEYS`).

    >>> zone_fact("protected_area", "core"), zone_fact("protected_area", "缓冲区")
    ('core', '?缓冲区')
    >>> zone_fact("eco_redline", None), zone_fact("protected_area", None)
    (None, '?')
    >>> zone_fact("urban_boundary", "城镇弹性发展区"), zone_fact("urban_boundary", "03")
    ('flexible', '?03')
    """
    if not mapped:
        return UNKNOWN_ZONE
    if is_missing(value):
        return None if kind in ZONE_MAY_BE_EMPTY else UNKNOWN_ZONE
    s = str(value).strip()
    z = canonical_zone(kind, s)
    return z if z in (ZONE_KEYS.get(kind, (z,)) if known is None else known) \
        else UNKNOWN_ZONE + s


_CONDITIONS = {"relation", "zone", "coverage", "takes_land", "activity", "major_project",
               "project_type", "geometry"}
_RELATIONS = {"none", "touches", "overlaps", "within", "crosses", "contains_point"}


def default_rules_path() -> Path:
    from zoning.paths import layers_dir

    return layers_dir() / "rules" / "three_lines.yaml"


@dataclass
class Facts:
    """What the rules can test about one footprint against one layer."""

    relation: str
    zones: set = field(default_factory=set)
    coverage: str = "partial"
    takes_land: bool = True
    activity: str | None = None
    major_project: str | None = None
    project_type: str | None = None
    geometry: str = "polygon"


@dataclass
class Rule:
    id: str
    state: State
    basis: str
    when: dict
    source: str = ""  # the sentence of the domain notes the rule's scope rests on
    label: str | None = None  # words shown for a not_intersecting verdict (e.g. 符合)


@dataclass
class RuleSet:
    path: Path
    name: str
    version: str
    vocabularies: dict
    layers: dict  # kind -> [Rule]

    def evaluate(self, kind: str, facts: Facts) -> Rule:
        for rule in self.layers[kind]:
            if _matches(rule.when, facts):
                return rule
        raise RuleError(f"no catch-all rule for {kind}", path=self.path)  # checked at load

    def zone_keys(self, kind: str) -> tuple:
        """The zones of a layer kind the rules know: the canonical ones (:data:`ZONE_KEYS`)
        and any a rule names (a province's rule file may add its own, e.g. ``buffer``)."""
        known = list(ZONE_KEYS.get(kind, ()))
        for r in self.layers.get(kind, []):
            known.extend(z for z in r.when.get("zone", ()) if z not in known)
        return tuple(known)

    def uses(self, kind: str, condition: str) -> bool:
        """Whether any rule of a layer kind tests a condition (e.g. ``coverage``)."""
        return any(condition in r.when for r in self.layers.get(kind, []))

    def check_value(self, vocab: str, value):
        """Normalise a project attribute against a vocabulary; InputError if unknown."""
        if value is None or value == "" or (isinstance(value, float) and value != value):
            return None
        value = str(value).strip()
        voc = self.vocabularies.get(vocab, {})
        if value in voc:
            return value
        for k, text in voc.items():  # accept the Chinese description's start too
            if value and str(text).startswith(value):
                return k
        raise InputError(f"unknown {vocab} {value!r}; known: {', '.join(map(str, voc))}")


def _matches(when: dict, f: Facts) -> bool:
    for key, want in when.items():
        if key == "relation" and f.relation not in want:
            return False
        if key == "zone" and not (f.zones & set(want)):
            return False
        if key == "coverage" and f.coverage != want:
            return False
        if key == "takes_land" and f.takes_land != bool(want):
            return False
        if key == "geometry" and f.geometry not in want:
            return False
        if key in ("activity", "major_project", "project_type"):
            have = getattr(f, key)
            if want == "any":
                if have is None:
                    return False
            elif "missing" in want and have is None:
                continue
            elif have not in want:
                return False
    return True


def _parse_rule(r: dict, i: int, kind: str, vocab: dict, path: Path) -> Rule:
    rid = str(r.get("id") or f"{kind}#{i + 1}")

    def err(msg):
        return CatalogError(f"rule {rid}: {msg}", path=path, layer=kind)

    try:
        state = State(r.get("state"))
    except ValueError:
        raise err(f"state {r.get('state')!r} is not one of "
                  f"{[s.value for s in State]}") from None
    when = dict(r.get("when") or {})
    bad = set(when) - _CONDITIONS
    if bad:
        raise err(f"unknown condition(s) {sorted(bad)}; allowed {sorted(_CONDITIONS)}")
    if "relation" in when and not set(when["relation"]) <= _RELATIONS:
        raise err(f"relation must be among {sorted(_RELATIONS)}")
    for key in ("activity", "major_project", "project_type"):
        if key in when and when[key] != "any":
            unknown = set(map(str, when[key])) - set(vocab.get(key, {})) - {"missing"}
            if unknown:
                raise err(f"{key} values {sorted(unknown)} are not in vocabularies.{key}")
            when[key] = [str(x) for x in when[key]]
    if not r.get("basis"):
        raise err("every rule needs its legal 'basis' text")
    unknown_keys = set(r) - {"id", "when", "state", "basis", "source", "label"}
    if unknown_keys:
        raise err(f"unknown key(s) {sorted(unknown_keys)}")
    return Rule(id=rid, state=state, basis=str(r["basis"]).strip(), when=when,
                source=str(r.get("source") or ""), label=rule_label(r.get("label"), state, err))


def rule_label(value, state: State, err) -> str | None:
    """A rule's ``label``: the words shown for its verdict instead of the state's (符合,
    见准入清单 …).  Only for ``not_intersecting``, 1–12 characters and never another
    state's words: a label words a clear verdict and must never dress up one that
    restricts.  ``err(message)`` makes the exception to raise."""
    if value is None:
        return None
    label = str(value).strip()
    if state is not State.NOT_INTERSECTING:
        raise err(f"a label is only for state not_intersecting, not {state.value}")
    if not label or len(label) > 12 or label in {s.zh for s in State} - {state.zh}:
        raise err(f"label {label!r} must be 1–12 characters and not another state's words")
    return label


def _read(path: Path) -> dict:
    from zoning.io.yamlfile import load_yaml

    if not path.exists():
        raise RuleError("rule file not found", path=path)
    raw = load_yaml(path, error=RuleError, schema="rules")
    if not isinstance(raw, dict) or raw.get("rules_version") != 1:
        raise CatalogError("not a rule file (rules_version: 1 expected)", path=path)
    return raw


def load_rules(path=None) -> RuleSet:
    """Load and check a verdict rule file (default: ``layers/rules/three_lines.yaml``)."""
    path = Path(path) if path else default_rules_path()
    raw = _read(path)
    vocab = {k: {str(a): b for a, b in (v or {}).items()}
             for k, v in (raw.get("vocabularies") or {}).items()}
    layers = {}
    for kind, rules in (raw.get("layers") or {}).items():
        parsed = [_parse_rule(r, i, kind, vocab, path) for i, r in enumerate(rules or [])]
        if not parsed or parsed[-1].when:
            raise CatalogError(f"the rules for {kind} must end with a catch-all case "
                               "(one without 'when')", path=path, layer=kind)
        layers[str(kind)] = parsed
    return RuleSet(path=path, name=str(raw.get("name", path.stem)),
                   version=str(raw.get("version", "")), vocabularies=vocab, layers=layers)
