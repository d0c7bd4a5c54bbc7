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
from typing import Any

from zoning.catalog import resolve_catalogs
from zoning.indicators import RegionIndicators, indicators
from zoning.io.projects import read_projects
from zoning.io.validate import LayerReport, validate_catalog
from zoning.io.write import write_json
from zoning.options import CheckOptions
from zoning.outputs import run_folder, save_map, write_project_maps, write_tables
from zoning.paths import seeds_dir
from zoning.report.maps import region_map
from zoning.screen import ScreenResult, screen

__all__ = ["run_demo", "DemoRun", "SAMPLE_LIST", "DEMO_OPTIONS"]

log = logging.getLogger(__name__)

#: the sample project list screened by the demo
SAMPLE_LIST = Path("projects") / "sample_projects.csv"
#: the demo lists layer features within 1 km of every project
DEMO_OPTIONS: dict[str, Any] = dict(area_method="ellipsoidal", radius_m=1000.0,
                                     min_report_m2=0.0, tolerance_m2=1e-4)


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


def indicator_files(cats) -> dict:
    """region id → (map page, JSON) file names of the demo's indicators."""
    return {c.region_id: (f"indicators-{c.region_id}.html", f"indicators-{c.region_id}.json")
            for c in cats}


def run_demo(out_dir, *, basemap: str = "osm", step: Callable[[str], None] | None = None
             ) -> DemoRun:
    """Run the demo into ``out_dir`` (replacing an earlier demo there).

    The whole run (tables, maps, indicators) is written into a staging folder
    and swapped in at once under the folder's lock (:func:`zoning.outputs.run_folder`):
    ``out_dir`` holds the whole previous demo or the whole new one, and a folder
    holding other files is refused (:class:`~zoning.errors.OutputExistsError`).
    """
    say = step or (lambda s: log.info("%s", s))
    out_dir = Path(out_dir)
    cats = resolve_catalogs()
    files = indicator_files(cats)
    with run_folder(out_dir, overwrite=True,
                    names=tuple(n for pair in files.values() for n in pair)) as stage:
        staged = stage.tmp
        run = _run(staged, cats, basemap, say)
    final = {k: out_dir / p.relative_to(staged) for k, p in run.outputs.items()}
    return DemoRun(out_dir=out_dir, reports=run.reports, screening=run.screening,
                   outputs=final, indicators=run.indicators,
                   indicator_maps=[(out_dir / p.relative_to(staged), n)
                                   for p, n in run.indicator_maps])


def _run(folder: Path, cats, basemap: str, say: Callable[[str], None]) -> DemoRun:
    """The demo, written into ``folder`` (the staging folder)."""
    say("validate")
    reports = [r for cat in cats for r in validate_catalog(cat)]
    say("screen")
    opts = CheckOptions(**DEMO_OPTIONS, keep_geometry=True)
    sample = seeds_dir() / SAMPLE_LIST
    table = read_projects(sample)
    res = screen(table, cats, options=opts)
    meta = {"input": str(sample), "catalogs": ", ".join(str(c.path) for c in cats),
            "engine": "local", "area_method": opts.area_label,
            "tolerance_m2": opts.tolerance_m2, "min_report_m2": opts.min_report_m2,
            "radius_m": opts.radius_m}
    outputs = write_tables(folder, res.results, res.overlaps, meta, res.counts, catalogs=cats)
    maps = write_project_maps(res.results, dict(zip(table["row"], table.geometry)), cats,
                              opts, folder / "maps", basemap=basemap)
    outputs["maps"] = maps["index"]
    run = DemoRun(out_dir=folder, reports=reports, screening=res, outputs=outputs)
    say("indicators")
    files = indicator_files(cats)
    for cat in cats:
        ind = indicators(cat)
        run.indicators.append(ind)
        page, data = files[cat.region_id]
        run.indicator_maps.append((folder / page,
                                   save_map(region_map(ind, basemap=basemap), folder / page)))
        write_json(folder / data, ind.to_dict())
    return run
