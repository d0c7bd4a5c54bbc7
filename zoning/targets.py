"""Indicator targets from the seed plans (``seeds/targets.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zoning.errors import DataError

__all__ = ["Target", "load_targets"]

_REQUIRED = ("region", "indicator", "value", "unit", "year", "source", "quote")
INDICATORS = {"forest_cover", "forest_grass_cover", "protected_area_share", "soil_conservation"}


@dataclass(frozen=True)
class Target:
    region: str
    scope: str
    indicator: str
    indicator_zh: str
    value: float
    unit: str
    comparison: str
    year: int | None
    source: str
    source_title: str
    quote: str
    note: str = ""


def load_targets(path=None) -> list[Target]:
    if path is None:
        from zoning.paths import seeds_dir

        path = seeds_dir() / "targets.yaml"
    path = Path(path)
    from zoning.io.yamlfile import load_yaml

    raw = load_yaml(path)
    titles = raw.get("sources", {})
    out = []
    for i, t in enumerate(raw.get("targets", [])):
        missing = [k for k in _REQUIRED if k not in t]
        if missing:
            raise DataError(f"target is missing {missing}", path=path, row=i + 1)
        if t["indicator"] not in INDICATORS:
            raise DataError(f"unknown indicator {t['indicator']!r}; known: {sorted(INDICATORS)}",
                            path=path, row=i + 1)
        if t.get("comparison", "gte") not in ("gte", "lte", "eq"):
            raise DataError(f"comparison must be gte, lte or eq, not {t['comparison']!r}",
                            path=path, row=i + 1)
        out.append(Target(
            region=str(t["region"]), scope=str(t.get("scope", t["region"])),
            indicator=t["indicator"], indicator_zh=str(t.get("indicator_zh", t["indicator"])),
            value=float(t["value"]), unit=str(t["unit"]), comparison=t.get("comparison", "gte"),
            year=None if t["year"] is None else int(t["year"]), source=str(t["source"]),
            source_title=str(titles.get(t["source"], "")), quote=str(t["quote"]),
            note=str(t.get("note", ""))))
    return out
