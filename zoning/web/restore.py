"""Rebuild :class:`~zoning.results.CheckResult` objects from their ``zoning.check/1`` JSON.

The web service keeps results as JSON in the job folder (any worker process
can read them) and renders the workbook or report from them on request.
"""

from __future__ import annotations

from typing import Any

from zoning.results import CheckResult, FeatureHit, LayerResult, State

__all__ = ["result_from_dict"]


def _hit(d: dict[str, Any]) -> FeatureHit:
    return FeatureHit(feature_id=str(d.get("feature_id", "")),
                      overlap_m2=float(d.get("overlap_m2") or 0.0),
                      overlap_length_m=float(d.get("overlap_length_m") or 0.0),
                      share=float(d.get("share") or 0.0),
                      attributes=dict(d.get("attributes") or {}))


def _layer(d: dict[str, Any]) -> LayerResult:
    return LayerResult(
        layer=d["layer"], kind=d["kind"], kind_zh=d.get("kind_zh", ""), state=State(d["state"]),
        basis=d.get("basis", ""), rule=d.get("rule", ""), relation=d.get("relation", "none"),
        hits=[_hit(h) for h in d.get("features") or []],
        overlap_m2=float((d.get("overlap") or {}).get("m2") or 0.0),
        overlap_length_m=float(d.get("overlap_length_m") or 0.0),
        share=float(d.get("share") or 0.0), nearest_m=d.get("nearest_m"),
        nearest_id=d.get("nearest_id"), within_radius=list(d.get("within_radius") or []),
        notes=list(d.get("notes") or []), data_version=d.get("data_version", ""),
        source=d.get("source", ""),
        state_label=d.get("state_zh") if d.get("state_zh") != State(d["state"]).zh else None)


def result_from_dict(d: dict[str, Any]) -> CheckResult:
    """The :class:`CheckResult` of a :meth:`CheckResult.to_dict` dict (areas to 0.01 m²)."""
    return CheckResult(
        row=d.get("row"), project_id=str(d.get("project_id", "")), name=d.get("name", ""),
        status=d.get("status", "ok"), error=d.get("error", ""), region=d.get("region", ""),
        geometry_type=d.get("geometry_type", ""),
        area_m2=float((d.get("area") or {}).get("m2") or 0.0),
        length_m=float(d.get("length_m") or 0.0),
        state=None if d.get("state") is None else State(d["state"]),
        basis=list(d.get("basis") or []), layers=[_layer(x) for x in d.get("layers") or []],
        warnings=list(d.get("warnings") or []), attributes=dict(d.get("attributes") or {}),
        access=d.get("access"))
