"""The main job on the bundled data, as the ``zoning demo`` command runs it.

Validate every bundled catalog, screen the sample project list (workbook,
JSON, overlaps, one map per project), and compute the indicators against the
plan targets, with a choropleth per region.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from zoning.catalog import resolve_catalogs
from zoning.indicators import RegionIndicators, indicators
from zoning.io.projects import read_projects
from zoning.io.validate import LayerReport, validate_catalog
from zoning.io.write import write_json
from zoning.options import CheckOptions
from zoning.outputs import save_map, write_outputs, write_project_maps
from zoning.paths import seeds_dir
from zoning.report.maps import region_map
from zoning.screen import ScreenResult, screen

__all__ = ["run_demo", "DemoRun", "SAMPLE_LIST", "DEMO_OPTIONS"]

log = logging.getLogger(__name__)

#: the sample project list screened by the demo
SAMPLE_LIST = Path("projects") / "sample_projects.csv"
#: the demo lists layer features within 1 km of every project
DEMO_OPTIONS = dict(area_method="ellipsoidal", radius_m=1000.0, min_report_m2=0.0,
                    tolerance_m2=1e-4)


@dataclass
class DemoRun:
    out_dir: Path
    reports: list[LayerReport]
    screening: ScreenResult
    outputs: dict
    indicators: list[RegionIndicators] = field(default_factory=list)
    indicator_maps: list[tuple[Path, int]] = field(default_factory=list)

    @property
    def bad_layers(self) -> list[LayerReport]:
        return [r for r in self.reports if r.status == "error"]


def run_demo(out_dir, *, basemap: str = "osm", step: Callable[[str], None] | None = None
             ) -> DemoRun:
    """Run the demo into ``out_dir`` (replacing an earlier demo there)."""
    say = step or (lambda s: log.info("%s", s))
    out_dir = Path(out_dir)
    cats = resolve_catalogs()
    say("validate")
    reports = [r for cat in cats for r in validate_catalog(cat)]
    say("screen")
    opts = CheckOptions(**DEMO_OPTIONS, keep_geometry=True)
    sample = seeds_dir() / SAMPLE_LIST
    table = read_projects(sample)
    res = screen(table, cats, options=opts)
    meta = {"input": str(sample), "catalogs": ", ".join(str(c.path) for c in cats),
            "engine": "local", "area_method": opts.area_method,
            "tolerance_m2": opts.tolerance_m2, "min_report_m2": opts.min_report_m2,
            "radius_m": opts.radius_m}
    outputs = write_outputs(out_dir, res.results, res.overlaps, meta, res.counts,
                            overwrite=True, catalogs=cats)
    maps = write_project_maps(res.results, dict(zip(table["row"], table.geometry)), cats,
                              opts, out_dir / "maps", basemap=basemap)
    outputs["maps"] = maps["index"]
    run = DemoRun(out_dir=out_dir, reports=reports, screening=res, outputs=outputs)
    say("indicators")
    for cat in cats:
        ind = indicators(cat)
        run.indicators.append(ind)
        target = out_dir / f"indicators-{cat.region_id}.html"
        run.indicator_maps.append((target, save_map(region_map(ind, basemap=basemap), target)))
        write_json(out_dir / f"indicators-{cat.region_id}.json", ind.to_dict())
    return run
