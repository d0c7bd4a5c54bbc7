"""Typed results of a check.  ``to_dict`` gives the documented JSON schema."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

SCHEMA_VERSION = "zoning.check/1"

M2_PER_MU = 10000.0 / 15.0  # 1 亩 = 666.67 m²
M2_PER_HA = 10000.0
M2_PER_KM2 = 1.0e6


class State(str, Enum):
    """Verdict states, from least to most severe (see :data:`SEVERITY`)."""

    NOT_INTERSECTING = "not_intersecting"
    CROSSING_NO_LAND_USE = "crossing_no_land_use"
    LIMITED_ACTIVITY = "needs_limited_activity_certification"
    MAJOR_PROJECT = "needs_major_project_approval"
    NEEDS_REVIEW = "needs_review"
    DATA_MISSING = "data_missing"
    PROHIBITED = "prohibited"

    @property
    def zh(self) -> str:
        return STATE_ZH[self]


STATE_ZH = {
    State.NOT_INTERSECTING: "不涉及",
    State.CROSSING_NO_LAND_USE: "穿越不占地",
    State.LIMITED_ACTIVITY: "需有限人为活动认定",
    State.MAJOR_PROJECT: "需重大项目不可避让论证及批准",
    State.NEEDS_REVIEW: "需补充信息（需人工核查）",
    State.DATA_MISSING: "数据缺失（不能判定）",
    State.PROHIBITED: "禁止",
}

#: Overall verdict = the most severe layer state.  A prohibition decides the
#: project whatever else is missing; otherwise missing data blocks clearance;
#: then a result that needs more project information (needs review) comes
#: before the conditional states, which all assume the information given is complete.
SEVERITY = {s: i for i, s in enumerate(State)}


def most_severe(states) -> State:
    states = list(states)
    return max(states, key=SEVERITY.__getitem__) if states else State.NOT_INTERSECTING


def area_units(m2: float) -> dict:
    return {"m2": round(m2, 2), "ha": round(m2 / M2_PER_HA, 4), "mu": round(m2 / M2_PER_MU, 3),
            "km2": round(m2 / M2_PER_KM2, 6)}


@dataclass(slots=True)  # a batch holds millions of hits: no per-hit __dict__
class FeatureHit:
    feature_id: str
    overlap_m2: float = 0.0
    overlap_length_m: float = 0.0
    share: float = 0.0  # of the footprint's area (polygons) or length (lines)
    attributes: dict = field(default_factory=dict)
    below_threshold: bool = False  # overlap below the reporting threshold (低于报告阈值)

    def __reduce__(self):
        # slots=True gives a Python-level __getstate__/__setstate__ (15 µs a hit); a batch's
        # results travel between processes (dask) with hundreds of thousands of hits
        return (FeatureHit, (self.feature_id, self.overlap_m2, self.overlap_length_m,
                             self.share, self.attributes, self.below_threshold))

    def to_dict(self) -> dict:
        # the attributes are plain values: a shallow copy is what asdict's deep copy gives
        d = {"feature_id": self.feature_id, "overlap_m2": self.overlap_m2,
             "overlap_length_m": self.overlap_length_m, "share": self.share,
             "attributes": dict(self.attributes), "below_threshold": self.below_threshold}
        d.update({"overlap_ha": round(self.overlap_m2 / M2_PER_HA, 4),
                  "overlap_mu": round(self.overlap_m2 / M2_PER_MU, 3)})
        return d


@dataclass
class LayerResult:
    layer: str
    kind: str
    kind_zh: str
    state: State
    basis: str = ""
    rule: str = ""
    relation: str = "none"  # none | touches | overlaps | within | crosses | contains_point
    hits: list[FeatureHit] = field(default_factory=list)
    overlap_m2: float = 0.0
    overlap_length_m: float = 0.0
    share: float = 0.0
    nearest_m: float | None = None
    nearest_id: str | None = None
    within_radius: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data_version: str = ""
    source: str = ""
    #: the deciding rule's own words for a state with no restriction (城镇开发边界内:
    #: 符合), shown instead of 不涉及; never for any other state
    state_label: str | None = None

    @property
    def state_zh(self) -> str:
        """The layer's verdict in Chinese: the rule's label where it has one, else the
        state's (a label never stands for a state that restricts, fails or lacks data)."""
        if self.state_label and self.state is State.NOT_INTERSECTING:
            return self.state_label
        return self.state.zh

    def to_dict(self) -> dict:
        return {
            "layer": self.layer, "kind": self.kind, "kind_zh": self.kind_zh,
            "state": self.state.value, "state_zh": self.state_zh, "basis": self.basis,
            "rule": self.rule, "relation": self.relation,
            "overlap": area_units(self.overlap_m2),
            "overlap_length_m": round(self.overlap_length_m, 2),
            "share": round(self.share, 6),
            "nearest_m": None if self.nearest_m is None else round(self.nearest_m, 2),
            "nearest_id": self.nearest_id, "within_radius": self.within_radius,
            "features": [h.to_dict() for h in self.hits], "notes": self.notes,
            "data_version": self.data_version, "source": self.source,
        }


#: the overall words for a site inside layers whose rules find nothing against it
OVERALL_CLEAR = "未发现冲突"


@dataclass
class CheckResult:
    row: int | None
    project_id: str
    name: str = ""
    status: str = "ok"  # ok | error
    error: str = ""
    region: str = ""
    geometry_type: str = ""
    area_m2: float = 0.0
    length_m: float = 0.0
    state: State | None = None
    basis: list[str] = field(default_factory=list)
    layers: list[LayerResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    attributes: dict = field(default_factory=dict)
    access: dict | None = None  # 准入清单符合性分析: units, findings, outcome
    area_method: str = ""  # how the areas were computed (CheckOptions.area_label)
    landuse: dict | None = None  # 国土调查地类: areas by GB/T 21010 class (None: no layer)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def state_zh(self) -> str:
        """The overall verdict in Chinese ("" for a row that failed).  A site that lies inside
        a layer whose rule words a clear verdict (城镇开发边界内：符合, a 管控单元：见准入清单 …)
        and meets nothing worse reads :data:`OVERALL_CLEAR`, not 不涉及 (not involved)."""
        if self.state is None:
            return ""
        if self.state is State.NOT_INTERSECTING and \
                any(lr.state_label and lr.hits for lr in self.layers):
            return OVERALL_CLEAR
        return self.state.zh

    def layer(self, name_or_kind: str) -> LayerResult:
        for lr in self.layers:
            if name_or_kind in (lr.layer, lr.kind):
                return lr
        raise KeyError(name_or_kind)

    def to_dict(self) -> dict:
        return {
            "schema": SCHEMA_VERSION, "row": self.row, "project_id": self.project_id,
            "name": self.name, "status": self.status, "error": self.error,
            "region": self.region, "geometry_type": self.geometry_type,
            "area": area_units(self.area_m2), "area_method": self.area_method,
            "length_m": round(self.length_m, 2),
            "state": None if self.state is None else self.state.value,
            "state_zh": None if self.state is None else self.state_zh,
            "basis": self.basis, "attributes": self.attributes, "warnings": self.warnings,
            "layers": [lr.to_dict() for lr in self.layers],
            "access": self.access,
            "landuse": self.landuse,
        }
